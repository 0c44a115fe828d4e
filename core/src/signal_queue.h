// Hands callbacks from signal handlers to the loop without locks or
// allocation: a bounded multi-producer queue (Dmitry Vyukov's design) whose
// cells hold the callbacks in place. The loop thread is the only consumer.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tornado/ioloop.h"

namespace tornado::detail {

class SignalQueue {
 public:
  static constexpr std::size_t kCapacity = 1024;  // a power of two

  SignalQueue() : cells_(new Cell[kCapacity]) {
    for (std::size_t i = 0; i < kCapacity; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  /// Async-signal-safe. Returns false (and counts a drop) when full.
  bool push(IOLoop::Callback&& fn, const Site& site) noexcept {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & (kCapacity - 1)];
      std::size_t seq = cell->seq.load(std::memory_order_acquire);
      auto diff = static_cast<std::ptrdiff_t>(seq) - static_cast<std::ptrdiff_t>(pos);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    cell->fn = std::move(fn);  // inline storage: moves, never allocates
    cell->site = site;
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  /// Loop thread only. Moves the oldest callback out, if one is complete.
  bool pop(IOLoop::Callback& fn, Site& site) noexcept {
    Cell& cell = cells_[tail_ & (kCapacity - 1)];
    if (cell.seq.load(std::memory_order_acquire) != tail_ + 1) return false;
    fn = std::move(cell.fn);
    site = cell.site;
    cell.seq.store(tail_ + kCapacity, std::memory_order_release);
    ++tail_;
    return true;
  }

  /// True when no callback waits and none was dropped. Loop thread only.
  bool empty() const noexcept {
    return cells_[tail_ & (kCapacity - 1)].seq.load(std::memory_order_acquire) != tail_ + 1 &&
           dropped_.load(std::memory_order_relaxed) == 0;
  }

  /// How many pushes failed since the last call. Loop thread only.
  std::uint64_t take_dropped() noexcept {
    if (dropped_.load(std::memory_order_relaxed) == 0) return 0;
    return dropped_.exchange(0, std::memory_order_relaxed);
  }

 private:
  struct Cell {
    std::atomic<std::size_t> seq;
    IOLoop::Callback fn;
    Site site;
  };

  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::size_t tail_ = 0;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace tornado::detail
