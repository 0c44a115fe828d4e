// Step 4: don't block the loop. A callback that sleeps stalls everything else
// on the loop (here, a timer); the loop's watchdog names the culprit; moving
// the slow call to a worker thread with run_in_executor fixes it.
//
//   tutorial-04-blocking [--demo]   both halves; the loop's warnings go to stderr
#include <atomic>
#include <chrono>
#include <iostream>
#include <string_view>
#include <thread>

#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/log.h"

using namespace std::chrono_literals;
using tornado::Future, tornado::IOLoop, tornado::named;

namespace {

std::atomic<int> warnings{0};  // the loop's blocking warnings; the watchdog logs from its thread

// Stands in for any slow call: hashing a password, a DNS lookup, a disk read.
void slow_call() { std::this_thread::sleep_for(300ms); }

// A timer due in 50 ms, the victim: it says whether the slow work was
// already over when it finally ran.
Future<void> victim(const bool& slow_done) {
  co_await tornado::gen::sleep(50ms);
  std::cout << (slow_done ? "  victim: the 50 ms timer ran after the slow work was over\n"
                          : "  victim: the 50 ms timer ran while the slow work went on\n");
}

// Part 1: the slow call runs in a callback, on the loop's own thread.
Future<void> blocked(IOLoop& loop) {
  bool slow_done = false;
  Future<void> timer = victim(slow_done);
  loop.add_callback(named("slow_handler", [&slow_done] {
    slow_call();
    // The watchdog thread may be scheduled late on a busy machine: block on
    // until it has spoken (at most 5 s more), so every run prints the same.
    for (int i = 0; i < 500 && warnings == 0; ++i) std::this_thread::sleep_for(10ms);
    slow_done = true;
  }));
  co_await timer;
}

// Part 2: the same call on a worker thread; the loop waits for its Future
// without blocking, and keeps running timers meanwhile.
Future<void> fixed(IOLoop& loop) {
  bool slow_done = false;
  Future<void> timer = victim(slow_done);
  co_await loop.run_in_executor(nullptr, slow_call);  // nullptr: the loop's default thread pool
  slow_done = true;
  std::cout << "  slow_call returned on a worker thread; the coroutine resumed on the loop\n";
  co_await timer;
}

}  // namespace

int main() {  // every run is the demo, so --demo needs no parsing
  // The warnings carry durations, which vary: count them, and keep their
  // text on stderr, off the stdout the demo's check compares.
  tornado::log::set_sink([](tornado::log::Level, std::string_view message) {
    if (message.find("block") != std::string_view::npos) ++warnings;
    std::cerr << message << '\n';
  });
  IOLoop loop;  // blocking log threshold: 100 ms by default

  std::cout << "part 1: slow_handler calls slow_call() on the loop thread\n";
  loop.run_sync([&] { return blocked(loop); }, 10s);
  std::cout << "  the loop logged " << warnings
            << " blocking warnings: one while slow_handler ran, one when it returned\n";

  warnings = 0;
  std::cout << "part 2: run_in_executor runs slow_call() on a worker thread\n";
  loop.run_sync([&] { return fixed(loop); }, 10s);
  std::cout << "  the loop logged " << warnings << " blocking warnings\n";
}
