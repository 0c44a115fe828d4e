// Level-triggered epoll(7): a ready fd is reported on every wait until it is
// drained, so a handler that reads only part of the data is called again.
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

#include "poller/poller.h"

namespace tornado::detail {
namespace {

std::uint32_t to_epoll(std::uint32_t events) {
  std::uint32_t out = 0;
  if (events & IOLoop::READ) out |= EPOLLIN;
  if (events & IOLoop::WRITE) out |= EPOLLOUT;
  return out;  // EPOLLERR and EPOLLHUP are always reported
}

std::uint32_t from_epoll(std::uint32_t events) {
  std::uint32_t out = 0;
  if (events & (EPOLLIN | EPOLLPRI | EPOLLRDHUP)) out |= IOLoop::READ;
  if (events & EPOLLOUT) out |= IOLoop::WRITE;
  if (events & (EPOLLERR | EPOLLHUP)) out |= IOLoop::ERROR;
  return out;
}

class EpollPoller final : public Poller {
 public:
  EpollPoller() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  }
  ~EpollPoller() override { ::close(fd_); }

  const char* name() const override { return "epoll"; }

  void add(int fd, std::uint32_t events, std::uint64_t token) override {
    control(EPOLL_CTL_ADD, fd, events, token, "epoll_ctl(ADD)");
  }
  void modify(int fd, std::uint32_t events, std::uint64_t token) override {
    control(EPOLL_CTL_MOD, fd, events, token, "epoll_ctl(MOD)");
  }
  void remove(int fd) override { epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }

  void poll(int timeout_ms, std::vector<PollEvent>& out) override {
    int n = epoll_wait(fd_, ready_.data(), static_cast<int>(ready_.size()), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::system_error(errno, std::system_category(), "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const epoll_event& e = ready_[static_cast<std::size_t>(i)];
      out.push_back({e.data.u64, from_epoll(e.events)});
    }
  }

 private:
  void control(int op, int fd, std::uint32_t events, std::uint64_t token, const char* what) {
    epoll_event e{};
    e.events = to_epoll(events);
    e.data.u64 = token;
    if (epoll_ctl(fd_, op, fd, &e) < 0)
      throw std::system_error(errno, std::system_category(), what);
  }

  int fd_;
  std::array<epoll_event, 256> ready_{};
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller() { return std::make_unique<EpollPoller>(); }

}  // namespace tornado::detail
