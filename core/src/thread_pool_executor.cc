#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tornado/concurrent.h"
#include "tornado/log.h"

namespace tornado {

struct ThreadPoolExecutor::Impl {
  std::mutex mutex;
  std::condition_variable wakeup;
  std::deque<detail::Function<void()>> jobs;
  std::vector<std::thread> workers;
  bool stopping = false;
  std::mutex join_mutex;  // a second shutdown() waits for the first to finish joining

  void work() {
    for (;;) {
      detail::Function<void()> job;
      {
        std::unique_lock lock(mutex);
        wakeup.wait(lock, [this] { return stopping || !jobs.empty(); });
        if (jobs.empty()) return;  // stopping, and nothing left to run
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      try {
        job();
      } catch (const std::exception& e) {
        log::error(std::string("Exception in executor job: ") + e.what());
      } catch (...) {
        log::error("Exception in executor job: unknown exception");
      }
    }
  }
};

ThreadPoolExecutor::ThreadPoolExecutor(std::size_t max_workers) : impl_(std::make_unique<Impl>()) {
  if (max_workers == 0) max_workers = 1;
  for (std::size_t i = 0; i < max_workers; ++i) {
    impl_->workers.emplace_back([impl = impl_.get()] { impl->work(); });
  }
}

ThreadPoolExecutor::~ThreadPoolExecutor() { shutdown(); }

void ThreadPoolExecutor::execute(detail::Function<void()> job) {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) {
      throw std::logic_error("ThreadPoolExecutor::execute: the executor was shut down");
    }
    impl_->jobs.push_back(std::move(job));
  }
  impl_->wakeup.notify_one();
}

void ThreadPoolExecutor::shutdown() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wakeup.notify_all();
  std::lock_guard join_lock(impl_->join_mutex);
  for (std::thread& t : impl_->workers) {
    if (t.joinable()) t.join();
  }
}

std::size_t ThreadPoolExecutor::max_workers() const noexcept { return impl_->workers.size(); }

}  // namespace tornado
