// HTTPServer: a TCPServer whose connections speak HTTP/1.x.
#include <vector>

#include "http/server_state.h"

namespace tornado {

HTTPServer::HTTPServer(RequestCallback callback, HTTPServerOptions options, int)
    : TCPServer(options.ssl_options),
      state_(std::make_shared<detail::HTTPServerState>(
          detail::HTTPServerState{std::move(callback), std::move(options), {}})) {}

HTTPServer::~HTTPServer() {
  stop();
  close_all_connections();
}

void HTTPServer::close_all_connections() {
  std::vector<std::shared_ptr<IOStream>> open;
  for (auto& [key, weak] : state_->connections) {
    if (auto stream = weak.lock()) open.push_back(std::move(stream));
  }
  for (auto& stream : open) stream->close();
}

std::size_t HTTPServer::connection_count() const noexcept { return state_->connections.size(); }
const HTTPServerOptions& HTTPServer::options() const noexcept { return state_->options; }

Future<void> HTTPServer::handle_stream(std::shared_ptr<IOStream> stream, SocketAddress address) {
  return detail::serve_http1_connection(state_, std::move(stream), std::move(address));
}

double HTTPServerRequest::request_time() const {
  return std::chrono::duration<double>(IOLoop::current().time() - start_time).count();
}

}  // namespace tornado
