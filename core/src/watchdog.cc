#include "watchdog.h"

#include "tornado/log.h"
#include "tornado/trace.h"

namespace tornado::detail {

void Watchdog::start(std::chrono::nanoseconds threshold) {
  if (threshold <= std::chrono::nanoseconds::zero() || thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, threshold] { run(threshold); });
}

void Watchdog::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_one();
  thread_.join();
  idle();
}

Watchdog::Report Watchdog::take_report() noexcept {
  flagged_.store(false, std::memory_order_relaxed);
  return {flagged_run_.load(std::memory_order_acquire) / 2,
          Site{flagged_where_.load(std::memory_order_acquire),
               flagged_label_.load(std::memory_order_acquire)},
          flagged_since_.load(std::memory_order_acquire)};
}

bool Watchdog::read_site(std::uint64_t stamp, Site& site) const noexcept {
  site.where = where_.load(std::memory_order_acquire);
  site.label = label_.load(std::memory_order_acquire);
  return running_.load(std::memory_order_acquire) == stamp;
}

void Watchdog::run(std::chrono::nanoseconds threshold) {
  const auto interval =
      std::max<std::chrono::nanoseconds>(threshold / 4, std::chrono::milliseconds(1));
  const auto limit = static_cast<std::uint64_t>(threshold.count());
  std::uint64_t seen = 0;        // the stamp seen at the last sample
  std::uint64_t seen_since = 0;  // when it was first seen
  std::uint64_t reported = 0;
  std::unique_lock lock(mutex_);
  while (!wakeup_.wait_for(lock, interval, [this] { return stopping_; })) {
    std::uint64_t stamp = running_.load(std::memory_order_acquire);
    std::uint64_t now = trace::now_ns();
    if (stamp == 0 || stamp % 2 == 1 || stamp != seen) {
      seen = stamp;
      seen_since = now;
      continue;
    }
    Site site;
    if (stamp == reported || now - seen_since < limit || !read_site(stamp, site)) continue;
    reported = stamp;
    flagged_run_.store(stamp, std::memory_order_release);
    flagged_since_.store(seen_since, std::memory_order_release);
    flagged_where_.store(site.where, std::memory_order_release);
    flagged_label_.store(site.label, std::memory_order_release);
    flagged_.store(true, std::memory_order_release);
    log::warning(log::cat(loop_name_, ": callback ", site.describe(), " has blocked the loop for ",
                          (now - seen_since) / 1000000, " ms and is still running"));
  }
}

}  // namespace tornado::detail
