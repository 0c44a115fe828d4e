// One thread's trace events on their way to the sink thread: a fixed-size
// single-producer, single-consumer ring. The producer never waits: when the
// ring is full it drops the event and counts it, and once there is room again
// it first writes an events_dropped event saying how many were lost and when.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tornado/trace.h"

namespace tornado::detail {

class TraceRing {
 public:
  static constexpr std::uint64_t kCapacity = 1 << 16;  // events (2.5 MiB)

  TraceRing() : slots_(new trace::Event[kCapacity]) {}

  /// Producer thread only. Returns false if the event was dropped.
  bool push(const trace::Event& e) noexcept { return push_counting(e) != 0; }

  /// push(), returning how full the ring looked afterwards (an upper bound:
  /// the producer's copy of the consumer's position may be stale), 0 if the
  /// event was dropped. Lets the producer wake the consumer before it fills.
  std::uint64_t push_counting(const trace::Event& e) noexcept {
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    std::uint64_t needed = dropped_ != 0 ? 2 : 1;  // room for the loss report too
    if (head - cached_tail_ + needed > kCapacity) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head - cached_tail_ + needed > kCapacity) {
        if (dropped_++ == 0) first_drop_ns_ = e.ts_ns;
        last_drop_ns_ = e.ts_ns;
        drop_loop_ = e.loop;
        total_dropped_.fetch_add(1, std::memory_order_relaxed);
        return 0;
      }
    }
    if (dropped_ != 0) {
      slots_[head++ & (kCapacity - 1)] = trace::Event{
          first_drop_ns_, trace::Kind::events_dropped, e.loop, 0, 0, dropped_, last_drop_ns_};
      dropped_ = 0;
    }
    slots_[head & (kCapacity - 1)] = e;
    head_.store(head + 1, std::memory_order_release);
    return head + 1 - cached_tail_;
  }

  /// Consumer (sink thread) only: appends what is ready to `out`.
  void drain(std::vector<trace::Event>& out) {
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    std::uint64_t head = head_.load(std::memory_order_acquire);
    // At most two contiguous runs: up to the end of the slots, then from 0.
    while (tail != head) {
      std::uint64_t at = tail & (kCapacity - 1);
      std::uint64_t run = std::min(head - tail, kCapacity - at);
      out.insert(out.end(), slots_.get() + at, slots_.get() + at + run);
      tail += run;
    }
    tail_.store(tail, std::memory_order_release);
  }

  /// Consumer only: the events ready now, as up to two contiguous runs (to
  /// the end of the slots, then from the start), left in place until
  /// consume(): the sink writes them straight from the ring.
  struct Readable {
    std::span<const trace::Event> first, second;
    std::size_t size() const noexcept { return first.size() + second.size(); }
  };
  Readable readable() const noexcept {
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    std::uint64_t head = head_.load(std::memory_order_acquire);
    std::uint64_t at = tail & (kCapacity - 1);
    std::uint64_t first = std::min(head - tail, kCapacity - at);
    return {{slots_.get() + at, first}, {slots_.get(), head - tail - first}};
  }
  /// Consumer only: frees the oldest n events readable() showed.
  void consume(std::uint64_t n) noexcept {
    tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }

  /// Consumer only, once the producer has stopped pushing (the transport is
  /// closing): drain(), then the loss report that push() had no later event
  /// to put before, so that drops at the very end are counted too.
  void drain_final(std::vector<trace::Event>& out) {
    drain(out);
    if (dropped_ == 0) return;
    out.push_back(trace::Event{first_drop_ns_, trace::Kind::events_dropped, drop_loop_, 0, 0,
                               dropped_, last_drop_ns_});
  }

  std::uint64_t total_dropped() const noexcept {
    return total_dropped_.load(std::memory_order_relaxed);
  }

 private:
  std::unique_ptr<trace::Event[]> slots_;
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  alignas(64) std::uint64_t cached_tail_ = 0;  // producer's copy of tail_
  std::uint64_t dropped_ = 0;                  // since the last loss report
  std::uint64_t first_drop_ns_ = 0;
  std::uint64_t last_drop_ns_ = 0;
  std::uint16_t drop_loop_ = 0;
  std::atomic<std::uint64_t> total_dropped_{0};
};

}  // namespace tornado::detail
