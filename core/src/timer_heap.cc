#include "timer_heap.h"

#include <algorithm>

namespace tornado::detail {

TimerHeap::Id TimerHeap::add(std::int64_t deadline_ns, IOLoop::Callback fn, const Site& site,
                             std::uint64_t trace_id, std::uint32_t name) {
  std::uint32_t slot;
  if (free_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_.back();
    free_.pop_back();
  }
  std::uint64_t seq = next_seq_++;
  slots_[slot] = Slot{std::move(fn), site, seq, trace_id, name, true, true};
  push({deadline_ns, slot, static_cast<std::uint32_t>(seq)});
  ++live_;
  return {slot, seq};
}

std::optional<std::uint64_t> TimerHeap::cancel(Id id) {
  if (id.slot >= slots_.size()) return std::nullopt;
  Slot& s = slots_[id.slot];
  if (s.seq != id.seq || !s.live) return std::nullopt;
  s.live = false;
  s.fn.reset();  // release what the callback captured now, not at compaction
  --live_;
  std::uint64_t trace_id = s.trace_id;
  if (s.in_heap) {
    ++cancelled_;
    if (cancelled_ > kCompactAfter && cancelled_ > heap_.size() / 2) compact();
  }
  return trace_id;
}

void TimerHeap::collect_due(std::int64_t now_ns, std::vector<Id>& due) {
  while (!heap_.empty() && heap_.front().deadline <= now_ns) {
    Entry top = heap_.front();
    pop_top();
    Slot& s = slots_[top.slot];
    s.in_heap = false;
    if (s.live) {
      due.push_back({top.slot, s.seq});
    } else {
      --cancelled_;
      free_slot(top.slot);
    }
  }
}

std::optional<TimerHeap::Fired> TimerHeap::take(Id id) {
  Slot& s = slots_[id.slot];
  if (s.seq != id.seq) return std::nullopt;
  std::optional<Fired> fired;
  if (s.live) {
    fired.emplace(Fired{std::move(s.fn), s.site, s.trace_id, s.name});
    --live_;
  }
  free_slot(id.slot);
  return fired;
}

std::optional<std::int64_t> TimerHeap::next_deadline() {
  while (!heap_.empty() && !slots_[heap_.front().slot].live) {
    std::uint32_t slot = heap_.front().slot;
    pop_top();
    --cancelled_;
    free_slot(slot);
  }
  if (heap_.empty()) return std::nullopt;
  return heap_.front().deadline;
}

void TimerHeap::clear() {
  heap_.clear();
  slots_.clear();
  free_.clear();
  cancelled_ = 0;
  live_ = 0;
}

void TimerHeap::free_slot(std::uint32_t slot) {
  slots_[slot] = Slot{};
  free_.push_back(slot);
}

void TimerHeap::push(Entry e) {
  heap_.push_back(e);
  sift_up(heap_.size() - 1);
}

void TimerHeap::pop_top() {
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0);
}

void TimerHeap::sift_up(std::size_t i) {
  Entry e = heap_[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / kArity;
    if (!before(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

void TimerHeap::sift_down(std::size_t i) {
  Entry e = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t first = i * kArity + 1;
    if (first >= n) break;
    std::size_t best = first;
    for (std::size_t c = first + 1; c < std::min(first + kArity, n); ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    if (!before(heap_[best], e)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = e;
}

void TimerHeap::compact() {
  std::erase_if(heap_, [this](const Entry& e) {
    if (slots_[e.slot].live) return false;
    free_slot(e.slot);
    return true;
  });
  for (std::size_t i = heap_.size() / kArity + 1; i-- > 0;) {
    if (i < heap_.size()) sift_down(i);
  }
  cancelled_ = 0;
}

}  // namespace tornado::detail
