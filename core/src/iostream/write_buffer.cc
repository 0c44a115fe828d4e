#include "iostream/write_buffer.h"

#include <cassert>
#include <utility>

namespace tornado::detail {

void WriteBuffer::append(std::string&& data) {
  if (data.size() <= kSmallWrite) return append_copy(data);
  size_ += data.size();
  chunks_.push_back(Chunk{std::move(data), nullptr, 0, false});
}

void WriteBuffer::append_copy(std::string_view data) {
  if (data.empty()) return;
  size_ += data.size();
  if (head_ < chunks_.size() && chunks_.back().shared) {
    chunks_.back().owned.append(data);
  } else {
    chunks_.push_back(Chunk{std::string(data), nullptr, 0, true});
  }
}

void WriteBuffer::append_borrowed(std::string_view data) {
  if (data.empty()) return;
  size_ += data.size();
  chunks_.push_back(Chunk{{}, data.data(), data.size(), false});
}

void WriteBuffer::own_borrowed() {
  if (head_ == chunks_.size() || chunks_.back().borrowed == nullptr) return;
  Chunk& last = chunks_.back();
  std::size_t skip = head_ == chunks_.size() - 1 ? offset_ : 0;
  last.owned.assign(last.borrowed + skip, last.borrowed_size - skip);
  last.borrowed = nullptr;
  if (skip != 0) offset_ = 0;
}

std::size_t WriteBuffer::fill(iovec* out, std::size_t max) const noexcept {
  std::size_t n = 0;
  for (std::size_t i = head_; i < chunks_.size() && n < max; ++i, ++n) {
    std::size_t skip = i == head_ ? offset_ : 0;
    out[n].iov_base = const_cast<char*>(chunks_[i].data() + skip);
    out[n].iov_len = chunks_[i].length() - skip;
  }
  return n;
}

void WriteBuffer::advance(std::size_t n) noexcept {
  assert(n <= size_ && "advance past the end of the write buffer");
  size_ -= n;
  while (n != 0) {
    std::size_t rest = chunks_[head_].length() - offset_;
    if (n < rest) {
      offset_ += n;
      return;
    }
    n -= rest;
    chunks_[head_] = Chunk{};
    ++head_;
    offset_ = 0;
  }
  if (head_ == chunks_.size()) {
    clear();
  } else if (head_ >= 16 && head_ * 2 >= chunks_.size()) {
    chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void WriteBuffer::clear() noexcept {
  std::vector<Chunk>().swap(chunks_);  // an idle stream keeps no chunk array
  head_ = offset_ = size_ = 0;
}

}  // namespace tornado::detail
