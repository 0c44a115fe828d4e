#include "trace_endpoint.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>

namespace tornado::trace::detail {
namespace {

// "\"" + std::string(...) draws a false -Wrestrict from GCC 12 at -O2.
std::string quoted(std::string_view text) {
  std::string out(1, '"');
  out.append(text).push_back('"');
  return out;
}

bool parse_unix(std::string_view path, Endpoint& out, std::string& error) {
  sockaddr_un un{};
  if (path.empty() || path.size() >= sizeof un.sun_path) {
    error = "a unix socket path must have 1 to " + std::to_string(sizeof un.sun_path - 1) +
            " characters";
    return false;
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), path.size());
  out.kind = Endpoint::Kind::unix_socket;
  out.path = std::string(path);
  std::memcpy(&out.address, &un, sizeof un);
  out.address_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

bool parse_tcp(std::string_view rest, Endpoint& out, std::string& error) {
  auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    error = "expected tcp:HOST:PORT";
    return false;
  }
  std::string_view host_text = rest.substr(0, colon);
  if (host_text == "localhost") host_text = "127.0.0.1";
  if (host_text.size() > 2 && host_text.front() == '[' && host_text.back() == ']') {
    host_text = host_text.substr(1, host_text.size() - 2);
  }
  const std::string host(host_text);
  std::string_view port_text = rest.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    error = quoted(port_text) + " is not a port number";
    return false;
  }
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(static_cast<std::uint16_t>(port));
    std::memcpy(&out.address, &v4, sizeof v4);
    out.address_length = sizeof v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(static_cast<std::uint16_t>(port));
    std::memcpy(&out.address, &v6, sizeof v6);
    out.address_length = sizeof v6;
  } else {
    error = quoted(host) + " is not a numeric IP address (or localhost)";
    return false;
  }
  out.kind = Endpoint::Kind::tcp;
  return true;
}

}  // namespace

bool parse_endpoint(std::string_view spec, Endpoint& out, std::string& error) {
  if (spec.starts_with("file:") && spec.size() > 5) {
    out.kind = Endpoint::Kind::file;
    out.path = std::string(spec.substr(5));
    return true;
  }
  if (spec.starts_with("unix:")) return parse_unix(spec.substr(5), out, error);
  if (spec.starts_with("tcp:")) return parse_tcp(spec.substr(4), out, error);
  error = "expected file:PATH, unix:PATH or tcp:HOST:PORT";
  return false;
}

int connect_endpoint(const Endpoint& e, bool& connecting) {
  connecting = false;
  int family = e.address.ss_family;
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&e.address), e.address_length) == 0) {
    return fd;
  }
  if (errno == EINPROGRESS) {
    connecting = true;
    return fd;
  }
  int saved = errno;
  ::close(fd);
  errno = saved;
  return -1;
}

int listen_endpoint(const Endpoint& e) {
  int fd = ::socket(e.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  if (e.kind == Endpoint::Kind::tcp) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (e.kind == Endpoint::Kind::unix_socket) ::unlink(e.path.c_str());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&e.address), e.address_length) != 0 ||
      ::listen(fd, 8) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

std::string describe_listener(const Endpoint& e, int fd) {
  if (e.kind != Endpoint::Kind::tcp) return "unix:" + e.path;
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  char host[INET6_ADDRSTRLEN] = {};
  unsigned port = 0;
  if (bound.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&bound);
    ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    port = ntohs(v4->sin_port);
    return "tcp:" + std::string(host) + ":" + std::to_string(port);
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&bound);
  ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
  port = ntohs(v6->sin6_port);
  return "tcp:[" + std::string(host) + "]:" + std::to_string(port);
}

}  // namespace tornado::trace::detail
