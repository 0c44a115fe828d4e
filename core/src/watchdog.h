// Notices a callback that blocks the loop, while it still blocks.
//
// The loop publishes which callback it is running (a few plain stores per
// callback, no clock read); a watchdog thread samples that every quarter of
// the threshold. When it sees the same callback running for a whole
// threshold it logs a warning at once and raises a flag, which the loop
// checks after each callback (one load) to log the final duration and emit
// a blocking_callback trace event.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <source_location>
#include <string>
#include <thread>

#include "tornado/name.h"

namespace tornado::detail {

class Watchdog {
 public:
  /// What the watchdog saw: a callback running since `since_ns`.
  struct Report {
    std::uint64_t run;  // the run number given to enter()
    Site site;
    std::uint64_t since_ns;
  };

  explicit Watchdog(std::string loop_name) : loop_name_(std::move(loop_name)) {}
  ~Watchdog() { stop(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Starts sampling (no-op if threshold is zero). Loop thread only.
  void start(std::chrono::nanoseconds threshold);
  void stop();

  /// The loop is about to run callback number `run` (counting from 1).
  void enter(std::uint64_t run, const Site& site) noexcept {
    // A seqlock: odd while the site is being written, so the watchdog never
    // pairs one callback's number with another's name.
    running_.store(2 * run - 1, std::memory_order_relaxed);
    where_.store(site.where, std::memory_order_release);
    label_.store(site.label, std::memory_order_release);
    running_.store(2 * run, std::memory_order_release);
  }
  /// The loop is between callbacks or waiting in poll.
  void idle() noexcept { running_.store(0, std::memory_order_release); }

  bool flagged() const noexcept { return flagged_.load(std::memory_order_relaxed); }
  /// Takes the report behind flagged(). Loop thread only.
  Report take_report() noexcept;

 private:
  void run(std::chrono::nanoseconds threshold);
  bool read_site(std::uint64_t stamp, Site& site) const noexcept;

  std::string loop_name_;
  std::atomic<std::uint64_t> running_{0};  // 2*run while running callback `run`, 0 idle
  std::atomic<std::source_location> where_{};
  std::atomic<const char*> label_{nullptr};

  std::atomic<bool> flagged_{false};
  std::atomic<std::uint64_t> flagged_run_{0};
  std::atomic<std::uint64_t> flagged_since_{0};
  std::atomic<std::source_location> flagged_where_{};
  std::atomic<const char*> flagged_label_{nullptr};

  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tornado::detail
