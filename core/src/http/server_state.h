// What HTTPServer, its connections and their response writers share.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tornado/httpserver.h"

namespace tornado::detail {

struct HTTPServerState {
  HTTPServer::RequestCallback callback;
  HTTPServerOptions options;
  // Open connections by stream, so close_all_connections() can reach them.
  std::map<IOStream*, std::weak_ptr<IOStream>> connections;
};

// One response in progress (HTTPResponseWriter's state). The connection
// reads keep_alive and last_write once the response is finished.
struct ResponseState {
  std::shared_ptr<IOStream> stream;
  bool head_request = false;
  bool http11 = true;
  bool keep_alive = true;  // the request allows it; the response may withdraw it

  int code = 200;
  std::string reason;
  HTTPHeaders headers;
  std::string pending;  // written, not yet flushed
  bool headers_sent = false;
  bool finished = false;
  bool chunked = false;
  bool body_allowed = true;
  std::optional<std::uint64_t> declared_length;
  std::uint64_t body_written = 0;
  std::optional<Future<void>> last_write;
};

// Runs one connection until it closes (http1_connection.cc).
Future<void> serve_http1_connection(std::shared_ptr<HTTPServerState> server,
                                    std::shared_ptr<IOStream> stream, SocketAddress address);

}  // namespace tornado::detail
