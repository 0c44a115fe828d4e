// Where a trace goes, parsed from TORNADO_TRACE / trace::start() specs:
//   file:PATH   unix:PATH   tcp:HOST:PORT (HOST numeric: 127.0.0.1, ::1, or "localhost")
// and the socket calls both ends of a live trace make.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

namespace tornado::trace::detail {

struct Endpoint {
  enum class Kind { file, unix_socket, tcp } kind = Kind::file;
  std::string path;  // file and unix_socket
  sockaddr_storage address{};
  socklen_t address_length = 0;
};

/// Parses a spec; on failure returns false and says why in `error`.
bool parse_endpoint(std::string_view spec, Endpoint& out, std::string& error);

/// A non-blocking socket connecting to `e` (unix_socket or tcp). Returns the
/// fd, or -1 with errno set. connecting is true while a TCP connect is in flight.
int connect_endpoint(const Endpoint& e, bool& connecting);

/// A listening, non-blocking socket for `e`; -1 with errno set on failure.
/// A unix socket's stale file is replaced.
int listen_endpoint(const Endpoint& e);

/// "unix:/tmp/x" or "tcp:127.0.0.1:4321", with the port the fd really has.
std::string describe_listener(const Endpoint& e, int fd);

}  // namespace tornado::trace::detail
