// What a trace reader that attaches to a running program is told first: the
// state of every loop, described on the loop's own thread at the start of its
// next iteration (snapshot_begin ... snapshot_end, see trace.h).
#pragma once

#include <cstdint>
#include <vector>

namespace tornado::detail {

struct LoopImpl;

/// Every LoopImpl registers itself while it exists. Safe from any thread.
void register_loop(LoopImpl* loop);
void unregister_loop(LoopImpl* loop);

/// Asks every loop to describe its state at the start of its next iteration,
/// waking the ones that wait in poll. Returns the ids of the loops asked.
/// Safe from any thread; call after the sink is attached.
std::vector<std::uint16_t> request_snapshots();

/// snapshot_sync and snapshot_waiter events for the locks, conditions,
/// events, semaphores and queues that belong to `loop` (wait_queue.cc).
/// Loop thread only.
void snapshot_sync_objects(std::uint16_t loop);

}  // namespace tornado::detail
