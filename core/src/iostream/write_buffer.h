// The bytes a stream has been asked to write and has not yet sent: a queue
// of chunks handed to writev(2)/sendmsg(2) as iovecs. A large std::string is
// queued by moving it in (no copy); a large string_view is first borrowed
// for the inline send and copied (once, only its unsent rest) by
// own_borrowed() before write() returns. Small writes are appended to one
// chunk of the buffer's own, so many tiny writes do not become many iovecs.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tornado::detail {

class WriteBuffer {
 public:
  /// Writes up to this size are copied into a shared chunk.
  static constexpr std::size_t kSmallWrite = 2048;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  void append(std::string&& data);
  void append_copy(std::string_view data);
  /// Queues `data` without copying; own_borrowed() must follow before the
  /// caller's memory goes away.
  void append_borrowed(std::string_view data);
  /// Copies the unsent rest of a borrowed chunk into the buffer.
  void own_borrowed();

  /// Fills up to `max` iovecs with the queued bytes, oldest first.
  std::size_t fill(iovec* out, std::size_t max) const noexcept;
  /// Drops the first n bytes (they were sent).
  void advance(std::size_t n) noexcept;
  void clear() noexcept;

 private:
  struct Chunk {
    std::string owned;
    const char* borrowed = nullptr;  // when set, the chunk's bytes live there
    std::size_t borrowed_size = 0;
    bool shared = false;  // ours to append small writes to
    const char* data() const noexcept { return borrowed ? borrowed : owned.data(); }
    std::size_t length() const noexcept { return borrowed ? borrowed_size : owned.size(); }
  };

  std::vector<Chunk> chunks_;
  std::size_t head_ = 0;    // first unsent chunk
  std::size_t offset_ = 0;  // bytes of chunks_[head_] already sent
  std::size_t size_ = 0;
};

}  // namespace tornado::detail
