// The registered fds, indexed by fd number. Each registration gets a fresh
// generation, packed with the fd into the poller token, so an event for a
// handler that was removed (or replaced) earlier in the same poll batch is
// recognised as stale and skipped. Removed handlers are retired, not
// destroyed, until the batch ends: a handler may remove itself.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tornado/ioloop.h"

namespace tornado::detail {

struct HandlerRecord {
  IOLoop::Handler fn;
  Site site;
  std::uint32_t events = 0;
  std::uint32_t generation = 0;
  std::uint32_t name = 0;  // trace string id, 0 until first traced
  bool internal = false;   // the loop's own (the waker): not counted, not closed by close(true)
  bool owned = false;      // its owner closes the fd: close(true) calls fn(fd, kCloseOwnedFd)
};

class HandlerTable {
 public:
  static std::uint64_t token(int fd, std::uint32_t generation) {
    return (static_cast<std::uint64_t>(generation) << 32) | static_cast<std::uint32_t>(fd);
  }

  /// The record for fd, or nullptr.
  HandlerRecord* find(int fd) const {
    auto i = static_cast<std::size_t>(fd);
    return fd >= 0 && i < records_.size() ? records_[i].get() : nullptr;
  }
  /// The record a poller token refers to, or nullptr if it is stale.
  HandlerRecord* find_token(std::uint64_t token) const {
    HandlerRecord* r = find(static_cast<int>(token & 0xffffffffu));
    return r != nullptr && r->generation == static_cast<std::uint32_t>(token >> 32) ? r : nullptr;
  }

  HandlerRecord& insert(int fd, HandlerRecord record) {
    auto i = static_cast<std::size_t>(fd);
    if (i >= records_.size()) records_.resize(i + 1);
    record.generation = ++generation_;
    records_[i] = std::make_unique<HandlerRecord>(std::move(record));
    if (!records_[i]->internal) ++count_;
    return *records_[i];
  }

  void retire(int fd) {
    auto& slot = records_[static_cast<std::size_t>(fd)];
    if (!slot->internal) --count_;
    retired_.push_back(std::move(slot));
  }
  void clear_retired() { retired_.clear(); }
  bool has_retired() const noexcept { return !retired_.empty(); }

  /// Calls fn(fd, record) for every user (non-internal) handler.
  template <class F>
  void for_each_user(F fn) const {
    for (std::size_t i = 0; i < records_.size(); ++i) {
      if (records_[i] && !records_[i]->internal) fn(static_cast<int>(i), *records_[i]);
    }
  }

  std::size_t size() const noexcept { return count_; }
  void clear() {
    records_.clear();
    retired_.clear();
    count_ = 0;
  }

 private:
  std::vector<std::unique_ptr<HandlerRecord>> records_;
  std::vector<std::unique_ptr<HandlerRecord>> retired_;
  std::uint32_t generation_ = 0;
  std::size_t count_ = 0;
};

}  // namespace tornado::detail
