// poll(2): the whole interest set is handed to the kernel on every wait.
// O(n) per wait, but it is the easiest backend to read.
#include <poll.h>

#include <cerrno>
#include <system_error>

#include "poller/poller.h"

namespace tornado::detail {
namespace {

short to_poll(std::uint32_t events) {
  short out = 0;
  if (events & IOLoop::READ) out |= POLLIN;
  if (events & IOLoop::WRITE) out |= POLLOUT;
  return out;  // POLLERR, POLLHUP and POLLNVAL are always reported
}

std::uint32_t from_poll(short events) {
  std::uint32_t out = 0;
  if (events & (POLLIN | POLLPRI | POLLRDHUP)) out |= IOLoop::READ;
  if (events & POLLOUT) out |= IOLoop::WRITE;
  if (events & (POLLERR | POLLHUP | POLLNVAL)) out |= IOLoop::ERROR;
  return out;
}

class PollPoller final : public Poller {
 public:
  const char* name() const override { return "poll"; }

  void add(int fd, std::uint32_t events, std::uint64_t token) override {
    if (fd < 0) throw std::system_error(EBADF, std::system_category(), "poll: add");
    auto i = static_cast<std::size_t>(fd);
    if (i >= index_.size()) index_.resize(i + 1, kNone);
    if (index_[i] != kNone) throw std::system_error(EEXIST, std::system_category(), "poll: add");
    index_[i] = fds_.size();
    fds_.push_back({fd, to_poll(events), 0});
    tokens_.push_back(token);
  }

  void modify(int fd, std::uint32_t events, std::uint64_t token) override {
    std::size_t i = slot(fd);
    if (i == kNone) throw std::system_error(ENOENT, std::system_category(), "poll: modify");
    fds_[i].events = to_poll(events);
    tokens_[i] = token;
  }

  void remove(int fd) override {
    std::size_t i = slot(fd);
    if (i == kNone) return;
    // Swap with the last entry so removal is O(1).
    std::size_t last = fds_.size() - 1;
    fds_[i] = fds_[last];
    tokens_[i] = tokens_[last];
    index_[static_cast<std::size_t>(fds_[i].fd)] = i;
    fds_.pop_back();
    tokens_.pop_back();
    index_[static_cast<std::size_t>(fd)] = kNone;
  }

  void poll(int timeout_ms, std::vector<PollEvent>& out) override {
    int n = ::poll(fds_.data(), fds_.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::system_error(errno, std::system_category(), "poll");
    }
    for (std::size_t i = 0; i < fds_.size() && n > 0; ++i) {
      if (fds_[i].revents == 0) continue;
      out.push_back({tokens_[i], from_poll(fds_[i].revents)});
      --n;
    }
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  std::size_t slot(int fd) const {
    auto i = static_cast<std::size_t>(fd);
    return fd >= 0 && i < index_.size() ? index_[i] : kNone;
  }

  std::vector<pollfd> fds_;
  std::vector<std::uint64_t> tokens_;
  std::vector<std::size_t> index_;  // fd -> position in fds_
};

}  // namespace

std::unique_ptr<Poller> make_poll_poller() { return std::make_unique<PollPoller>(); }

}  // namespace tornado::detail
