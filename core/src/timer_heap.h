// The loop's timers: a 4-ary min-heap of 16-byte (deadline, sequence, slot)
// entries over slots that hold the callbacks. Four children share one cache
// line, so a pop touches half as many lines as a binary heap's would. Cancelling only marks the
// slot (a tombstone stays in the heap); tombstones are dropped when they reach the top, or all at
// once when they pass 512 and half the heap (Tornado's rule), so memory
// stays flat however many timers are added and removed.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tornado/ioloop.h"

namespace tornado::detail {

class TimerHeap {
 public:
  static constexpr std::size_t kCompactAfter = 512;

  struct Id {
    std::uint32_t slot;
    std::uint64_t seq;
  };
  /// A timer taken out of the heap to run.
  struct Fired {
    IOLoop::Callback fn;
    Site site;
    std::uint64_t trace_id;
    std::uint32_t name;
  };

  Id add(std::int64_t deadline_ns, IOLoop::Callback fn, const Site& site, std::uint64_t trace_id,
         std::uint32_t name);
  /// Marks a pending timer cancelled. Returns its trace id, or nullopt if the
  /// id is stale (already ran or cancelled).
  std::optional<std::uint64_t> cancel(Id id);
  /// Moves every timer due at `now_ns` out of the heap into `due`, in
  /// (deadline, sequence) order, before any of them runs.
  void collect_due(std::int64_t now_ns, std::vector<Id>& due);
  /// Takes a collected timer to run; nullopt if it was cancelled meanwhile.
  std::optional<Fired> take(Id id);
  /// The earliest live deadline, if any.
  std::optional<std::int64_t> next_deadline();

  /// Calls fn(deadline, site, trace_id, name, live) for every entry still in
  /// the heap, cancelled ones (live == false) too. The ids are references so
  /// the trace snapshot can name timers made while tracing was off.
  template <class F>
  void for_each_entry(F fn) {
    for (const Entry& e : heap_) {
      Slot& s = slots_[e.slot];
      fn(e.deadline, s.site, s.trace_id, s.name, s.live);
    }
  }

  bool empty() const noexcept { return heap_.empty(); }
  std::size_t live() const noexcept { return live_; }
  std::size_t heap_size() const noexcept { return heap_.size(); }
  void clear();

 private:
  struct Slot {
    IOLoop::Callback fn;
    Site site;
    std::uint64_t seq = 0;  // 0: free
    std::uint64_t trace_id = 0;
    std::uint32_t name = 0;
    bool live = false;     // not run, not cancelled
    bool in_heap = false;  // still has an entry in heap_
  };
  struct Entry {
    std::int64_t deadline;
    std::uint32_t slot;
    std::uint32_t seq;  // low bits of the slot's seq: ties break FIFO (wrap-safe)
  };
  static constexpr std::size_t kArity = 4;
  static bool before(const Entry& a, const Entry& b) {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return static_cast<std::int32_t>(a.seq - b.seq) < 0;
  }

  void push(Entry e);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void free_slot(std::uint32_t slot);
  void pop_top();
  void compact();

  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::vector<Entry> heap_;
  std::size_t cancelled_ = 0;  // tombstones in heap_
  std::size_t live_ = 0;
  std::uint64_t next_seq_ = 1;
};

}  // namespace tornado::detail
