#include "iostream/read_buffer.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace tornado::detail {

std::span<char> ReadBuffer::prepare(std::size_t n) {
  if (capacity_ - end_ < n) {
    std::size_t live = size();
    if (begin_ >= live && capacity_ - live >= n) {
      // Slide down: the copy is no larger than what was consumed since the last one.
      std::memmove(data_.get(), data_.get() + begin_, live);
    } else {
      std::size_t capacity = std::max(capacity_ * 2, live + n);
      auto grown = std::make_unique_for_overwrite<char[]>(capacity);
      if (live != 0) std::memcpy(grown.get(), data_.get() + begin_, live);
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    begin_ = 0;
    end_ = live;
  }
  return {data_.get() + end_, capacity_ - end_};
}

std::string ReadBuffer::take(std::size_t n) {
  assert(n <= size() && "take past the end of the read buffer");
  std::string out(data_.get() + begin_, n);
  consumed(n);
  return out;
}

void ReadBuffer::take_into(std::span<char> out) {
  assert(out.size() <= size() && "take past the end of the read buffer");
  if (!out.empty()) std::memcpy(out.data(), data_.get() + begin_, out.size());
  consumed(out.size());
}

void ReadBuffer::consumed(std::size_t n) noexcept {
  begin_ += n;
  if (begin_ == end_) {
    data_.reset();
    capacity_ = begin_ = end_ = 0;
  }
}

}  // namespace tornado::detail
