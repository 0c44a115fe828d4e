// netutil.h: addresses, listening sockets, accept handlers, resolving.
#include "tornado/netutil.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "tornado/errors.h"
#include "tornado/ioloop.h"
#include "tornado/log.h"

namespace tornado {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::system_category(), what);
}

// getaddrinfo's error codes, as a std::error_category.
class GaiCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};
const GaiCategory& gai_category() {
  static const GaiCategory category;
  return category;
}

struct AddrInfo {
  addrinfo* list = nullptr;
  ~AddrInfo() {
    if (list != nullptr) ::freeaddrinfo(list);
  }
};

// getaddrinfo(host, port) for stream sockets; throws std::system_error.
Resolver::Result resolve_now(const char* host, std::uint16_t port, int family, int flags) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  AddrInfo result;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host, service.c_str(), &hints, &result.list);
  if (rc == EAI_SYSTEM) throw_errno("getaddrinfo");
  if (rc != 0) {
    throw std::system_error(rc, gai_category(),
                            std::string("getaddrinfo ") + (host ? host : "(any)"));
  }
  Resolver::Result out;
  for (addrinfo* ai = result.list; ai != nullptr; ai = ai->ai_next) {
    SocketAddress address = SocketAddress::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    bool seen = false;
    for (const auto& [f, a] : out) seen = seen || a == address;
    if (!seen) out.emplace_back(ai->ai_family, address);
  }
  return out;
}

void set_flag(int fd, int level, int option) {
  int one = 1;
  if (::setsockopt(fd, level, option, &one, sizeof one) != 0) throw_errno("setsockopt");
}

// One listening socket; closes it if any step fails.
int listen_on(const SocketAddress& address, int backlog, bool reuse_port) {
  int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  try {
    set_flag(fd, SOL_SOCKET, SO_REUSEADDR);
    if (reuse_port) set_flag(fd, SOL_SOCKET, SO_REUSEPORT);
    // Without V6ONLY the IPv6 socket would also claim the IPv4 port.
    if (address.family() == AF_INET6) set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY);
    if (::bind(fd, address.data(), address.size()) != 0) {
      throw_errno("bind " + address.to_string());
    }
    if (::listen(fd, backlog) != 0) throw_errno("listen " + address.to_string());
  } catch (...) {
    ::close(fd);
    throw;
  }
  return fd;
}

SocketAddress with_port(const SocketAddress& address, std::uint16_t port) {
  return SocketAddress::from_ip(address.ip(), port);
}

}  // namespace

// ---- SocketAddress ------------------------------------------------------------

SocketAddress SocketAddress::from_ip(std::string_view ip, std::uint16_t port) {
  if (!is_valid_ip(ip)) throw ValueError("not an IP address: '" + std::string(ip) + "'");
  Resolver::Result found = resolve_now(std::string(ip).c_str(), port, AF_UNSPEC, AI_NUMERICHOST);
  return found.front().second;
}

SocketAddress SocketAddress::from_unix_path(std::string_view path) {
  SocketAddress address;
  auto* un = reinterpret_cast<sockaddr_un*>(&address.storage_);
  if (path.empty() || path.size() >= sizeof un->sun_path) {
    throw ValueError("Unix socket path must be 1 to " + std::to_string(sizeof un->sun_path - 1) +
                     " bytes: '" + std::string(path) + "'");
  }
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  address.size_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                         (path.front() == '\0' ? 0 : 1));
  return address;
}

SocketAddress SocketAddress::from_sockaddr(const sockaddr* data, socklen_t length) {
  SocketAddress address;
  if (length > sizeof address.storage_) length = sizeof address.storage_;
  std::memcpy(&address.storage_, data, length);
  address.size_ = length;
  return address;
}

std::string SocketAddress::ip() const {
  char text[INET6_ADDRSTRLEN + 16] = {};
  int rc = ::getnameinfo(data(), size_, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  return (family() == AF_INET || family() == AF_INET6) && rc == 0 ? text : "";
}

std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

std::string SocketAddress::path() const {
  if (family() != AF_UNIX) return "";
  const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
  std::size_t max =
      size_ > offsetof(sockaddr_un, sun_path) ? size_ - offsetof(sockaddr_un, sun_path) : 0;
  if (max > 0 && un->sun_path[0] == '\0') return std::string(un->sun_path, max);  // abstract
  return std::string(un->sun_path, strnlen(un->sun_path, max));
}

std::string SocketAddress::to_string() const {
  switch (family()) {
    case AF_INET:
      return ip() + ":" + std::to_string(port());
    case AF_INET6:
      return std::string(1, '[').append(ip()).append("]:").append(std::to_string(port()));
    case AF_UNIX:
      return "unix:" + path();
    default:
      return "(unspecified)";
  }
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
}

// ---- Listening ------------------------------------------------------------------

std::vector<int> bind_sockets(std::uint16_t port, std::string_view address, int family, int backlog,
                              bool reuse_port) {
  std::string host(address);
  Resolver::Result addresses =
      resolve_now(host.empty() ? nullptr : host.c_str(), port, family, AI_PASSIVE);
  std::vector<int> sockets;
  std::uint16_t bound_port = 0;
  try {
    for (const auto& [f, a] : addresses) {
      // Port 0: the first socket picks a free port and the rest use it too.
      SocketAddress target = port == 0 && bound_port != 0 ? with_port(a, bound_port) : a;
      int fd = -1;
      try {
        fd = listen_on(target, backlog, reuse_port);
      } catch (const std::system_error& e) {
        // "localhost" may resolve to ::1 on a host without IPv6 (Tornado skips it).
        if (e.code().value() == EADDRNOTAVAIL && host == "localhost" && f == AF_INET6) continue;
        throw;
      }
      sockets.push_back(fd);
      if (bound_port == 0) {
        sockaddr_storage storage{};
        socklen_t length = sizeof storage;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
        bound_port =
            SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length).port();
      }
    }
  } catch (...) {
    for (int fd : sockets) ::close(fd);
    throw;
  }
  return sockets;
}

int bind_unix_socket(const std::string& file, int mode, int backlog) {
  SocketAddress address = SocketAddress::from_unix_path(file);
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw ValueError("File " + file + " exists and is not a socket");
    ::unlink(file.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  try {
    if (::bind(fd, address.data(), address.size()) != 0) throw_errno("bind " + file);
    if (::chmod(file.c_str(), static_cast<mode_t>(mode)) != 0) throw_errno("chmod " + file);
    if (::listen(fd, backlog) != 0) throw_errno("listen " + file);
  } catch (...) {
    ::close(fd);
    throw;
  }
  return fd;
}

// ---- Accepting ------------------------------------------------------------------

namespace {

struct Acceptor : std::enable_shared_from_this<Acceptor> {
  IOLoop& loop;
  int listener;
  AcceptCallback callback;
  bool removed = false;
  bool backing_off = false;
  TimeoutHandle resume;

  Acceptor(IOLoop& l, int fd, AcceptCallback cb) : loop(l), listener(fd), callback(std::move(cb)) {}

  void watch() {
    loop.add_handler(
        listener,
        named("accept", [self = shared_from_this()](int, std::uint32_t) { self->accept_batch(); }),
        IOLoop::READ);
  }

  void accept_batch() {
    for (int i = 0; i < kDefaultBacklog && !removed; ++i) {
      sockaddr_storage storage{};
      socklen_t length = sizeof storage;
      int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&storage), &length,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == ECONNABORTED || errno == EINTR) continue;
        if (errno == EMFILE || errno == ENFILE) return back_off();
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          log::error(log::cat("accept on fd ", listener, ": ", std::strerror(errno)));
        }
        return;
      }
      backing_off = false;
      callback(fd, SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length));
    }
  }

  // The listener stays readable while connections wait, so retrying at once
  // would spin; stop watching it for a while instead.
  void back_off() {
    if (!backing_off) {
      // Plain strings: with no fd to spare, keep this path to the bare minimum.
      log::error("accept on fd " + std::to_string(listener) + ": " + std::strerror(errno) +
                 "; pausing accepts for " + std::to_string(kAcceptBackoff.count()) +
                 " ms at a time");
    }
    backing_off = true;
    loop.remove_handler(listener);
    resume = loop.call_later(kAcceptBackoff, [self = shared_from_this()] {
      if (!self->removed) self->watch();
    });
  }

  void remove() {
    if (removed) return;
    removed = true;
    loop.remove_timeout(resume);
    loop.remove_handler(listener);
  }
};

}  // namespace

std::function<void()> add_accept_handler(int listener, AcceptCallback callback) {
  auto acceptor = std::make_shared<Acceptor>(IOLoop::current(), listener, std::move(callback));
  acceptor->watch();
  // The loop's handler (or the back-off timer) owns the acceptor, so
  // accepting goes on whether or not the caller keeps the remover.
  return [acceptor] { acceptor->remove(); };
}

// ---- Resolving ------------------------------------------------------------------

bool is_valid_ip(std::string_view ip) {
  if (ip.empty() || ip.find('\0') != std::string_view::npos) return false;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  AddrInfo result;
  return ::getaddrinfo(std::string(ip).c_str(), "0", &hints, &result.list) == 0;
}

Future<Resolver::Result> DefaultExecutorResolver::resolve(std::string host, std::uint16_t port,
                                                          int family) {
  return IOLoop::current().run_in_executor(nullptr, [host = std::move(host), port, family] {
    return resolve_now(host.c_str(), port, family, 0);
  });
}

}  // namespace tornado
