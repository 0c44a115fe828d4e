// Sockets for servers and clients (tornado.netutil): addresses, listening
// sockets, accepting connections, resolving host names.
//
//   auto sockets = bind_sockets(8888, "127.0.0.1");
//   auto remove = add_accept_handler(sockets[0], [](int fd, SocketAddress peer) {
//     auto stream = std::make_shared<IOStream>(fd);  // now owns fd
//   });
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tornado/concurrent.h"

namespace tornado {

/// A socket address: IPv4, IPv6 or a Unix socket path (Python's address
/// tuples and strings, as one value type around sockaddr_storage).
class SocketAddress {
 public:
  /// An empty address (family AF_UNSPEC).
  SocketAddress() = default;
  /// "127.0.0.1" or "::1" (numeric only; a scope such as "fe80::1%lo" is
  /// allowed). Throws ValueError for anything else.
  static SocketAddress from_ip(std::string_view ip, std::uint16_t port);
  /// A Unix socket path; a leading '\0' makes it an abstract socket.
  /// Throws ValueError if it is too long for sockaddr_un.
  static SocketAddress from_unix_path(std::string_view path);
  /// A copy of what accept(2), getsockname(2) or getaddrinfo(3) returned.
  static SocketAddress from_sockaddr(const sockaddr* address, socklen_t length);

  int family() const noexcept { return storage_.ss_family; }
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return size_; }
  /// The numeric host ("127.0.0.1", "::1"); "" for other families.
  std::string ip() const;
  /// The port; 0 for other families.
  std::uint16_t port() const noexcept;
  /// The path of a Unix socket address; "" for other families.
  std::string path() const;
  /// "127.0.0.1:8888", "[::1]:8888", "unix:/tmp/sock" or "(unspecified)".
  std::string to_string() const;

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

/// The backlog bind_sockets() and bind_unix_socket() listen with by default.
inline constexpr int kDefaultBacklog = 128;

/// Creates listening, non-blocking, close-on-exec sockets bound to `port` on
/// every address `address` resolves to ("" or "0.0.0.0"/"::" for all
/// interfaces; "localhost" gives both 127.0.0.1 and ::1). family narrows it
/// (AF_INET, AF_INET6; AF_UNSPEC: both). SO_REUSEADDR is set; reuse_port sets
/// SO_REUSEPORT so several processes can listen on one port. IPv6 sockets are
/// IPV6_V6ONLY. With port 0, every socket gets the port the first one was
/// given. Throws std::system_error if a bind or listen fails (and closes what
/// it opened). The caller owns the fds. Safe from any thread.
std::vector<int> bind_sockets(std::uint16_t port, std::string_view address = {},
                              int family = AF_UNSPEC, int backlog = kDefaultBacklog,
                              bool reuse_port = false);

/// Creates a listening, non-blocking Unix socket at `file` with permissions
/// `mode`. An existing socket file there is replaced; any other file is left
/// alone and ValueError is thrown. The caller owns the fd. Safe from any
/// thread.
int bind_unix_socket(const std::string& file, int mode = 0600, int backlog = kDefaultBacklog);

/// Calls callback(fd, address) for each connection accepted on `listener`,
/// at most kDefaultBacklog per readiness so other work gets a turn. The
/// callback owns each fd (non-blocking, close-on-exec). When the process or
/// system runs out of fds (EMFILE/ENFILE) it logs once and stops watching
/// the listener for kAcceptBackoff instead of spinning on a socket that
/// stays readable. Returns a function that stops accepting (the caller still
/// owns `listener`). Loop thread only (the current loop).
using AcceptCallback = std::function<void(int fd, SocketAddress address)>;
inline constexpr std::chrono::milliseconds kAcceptBackoff{100};
std::function<void()> add_accept_handler(int listener, AcceptCallback callback);

/// True if `ip` is a numeric IPv4 or IPv6 address. Safe from any thread.
bool is_valid_ip(std::string_view ip);

/// Resolves host names (Tornado's Resolver interface).
class Resolver {
 public:
  using Result = std::vector<std::pair<int, SocketAddress>>;  // (family, address)
  virtual ~Resolver() = default;
  /// Addresses for host:port, narrowed by family (AF_UNSPEC: any). Fails
  /// with std::system_error (category: getaddrinfo's) if the name does not
  /// resolve. Loop thread only.
  [[nodiscard]] virtual Future<Result> resolve(std::string host, std::uint16_t port,
                                               int family = AF_UNSPEC) = 0;
};

/// Runs the blocking getaddrinfo(3) on the loop's default executor, so the
/// loop never waits for DNS.
class DefaultExecutorResolver : public Resolver {
 public:
  [[nodiscard]] Future<Result> resolve(std::string host, std::uint16_t port,
                                       int family = AF_UNSPEC) override;
};

}  // namespace tornado
