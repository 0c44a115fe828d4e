#include "poller/poller.h"

namespace tornado::detail {

std::unique_ptr<Poller> make_poller(PollerKind kind) {
  switch (kind) {
    case PollerKind::poll:
      return make_poll_poller();
    case PollerKind::epoll:
      break;
  }
  return make_epoll_poller();
}

}  // namespace tornado::detail
