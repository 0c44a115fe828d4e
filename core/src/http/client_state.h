// What AsyncHTTPClient's fetches share: the connection pool and the queue
// of requests waiting for a slot (max_clients).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tornado/httpclient.h"
#include "tornado/iostream.h"
#include "tornado/tcpclient.h"

namespace tornado::detail {

struct ClientState {
  HTTPClientOptions options;
  TCPClient tcp;
  // Kept-alive connections by "scheme://host:port", oldest first.
  std::map<std::string, std::vector<std::shared_ptr<IOStream>>> idle;
  std::size_t active = 0;
  std::deque<Future<void>> waiting;  // resolved, in order, as slots free up

  explicit ClientState(HTTPClientOptions o) : options(std::move(o)), tcp(options.resolver) {}
};

// An http:// or https:// URL taken apart.
struct ParsedUrl {
  bool https = false;
  std::string host;  // without brackets
  std::uint16_t port = 80;
  std::string target;       // "/path?query"
  std::string host_header;  // "host[:port]" as the Host header wants it
  std::string key() const {
    return (https ? "https://" : "http://") + host + ":" + std::to_string(port);
  }
};

// Throws ValueError for anything but an absolute http(s) URL.
ParsedUrl parse_url(std::string_view url);
// The absolute URL `location` (a redirect's Location) names, seen from `base`.
std::string resolve_location(std::string_view base, std::string_view location);

// One request on `stream`; nullopt if the stream closed before a byte of
// the response came (a stale kept-alive connection). Throws otherwise.
// Sets keep_alive when the stream may carry another request.
Future<std::optional<HTTPResponse>> exchange(ClientState& state, std::shared_ptr<IOStream> stream,
                                             const ParsedUrl& url, const HTTPRequest& request,
                                             bool& keep_alive);

}  // namespace tornado::detail
