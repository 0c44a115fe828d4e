// A fixed-capacity history: pushing onto a full ring forgets the oldest item,
// so a live session's histories stay bounded however long it runs.
#pragma once

#include <cstddef>
#include <vector>

namespace tornado::viz {

template <class T>
class Ring {
 public:
  explicit Ring(std::size_t capacity = 64) : capacity_(capacity == 0 ? 1 : capacity) {}

  void push(T item) {
    if (items_.size() < capacity_) {
      items_.push_back(std::move(item));
      return;
    }
    items_[head_] = std::move(item);
    head_ = (head_ + 1) % capacity_;
  }
  /// Oldest first: [0] is the oldest kept, [size() - 1] the newest.
  const T& operator[](std::size_t i) const { return items_[(head_ + i) % items_.size()]; }
  T& operator[](std::size_t i) { return items_[(head_ + i) % items_.size()]; }
  const T& back() const { return (*this)[items_.size() - 1]; }
  T& back() { return (*this)[items_.size() - 1]; }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  std::size_t capacity() const noexcept { return capacity_; }
  void clear() {
    items_.clear();
    head_ = 0;
  }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;  // index of the oldest item once full
  std::size_t capacity_;
};

}  // namespace tornado::viz
