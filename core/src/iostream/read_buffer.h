// The bytes a stream has received and not yet handed out: one contiguous
// block with a consumed prefix, so a delimiter or regex search sees the data
// whole. Consumed space is reclaimed by sliding the data down only once the
// dead prefix is at least as large as the live data, which keeps the cost
// linear in the bytes received. An emptied buffer frees its block, so an
// idle stream holds no buffer memory.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace tornado::detail {

class ReadBuffer {
 public:
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  std::string_view view() const noexcept { return {data_.get() + begin_, size()}; }

  /// At least `n` writable bytes after the data; commit() what was filled.
  std::span<char> prepare(std::size_t n);
  void commit(std::size_t n) noexcept { end_ += n; }

  /// Frees the block if it holds no data, e.g. after prepare() for a read
  /// that found nothing, so an idle stream holds no buffer memory.
  void release_if_empty() noexcept {
    if (empty()) consumed(0);
  }

  /// Removes the first n bytes and returns them.
  std::string take(std::size_t n);
  /// Removes the first out.size() bytes into `out`.
  void take_into(std::span<char> out);

 private:
  void consumed(std::size_t n) noexcept;

  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace tornado::detail
