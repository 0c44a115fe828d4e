// Step 11: HTTP. A small web.h Application served by HTTPServer, fetched with
// AsyncHTTPClient in a coroutine run by IOLoop::run_sync.
//   tutorial-11-http [--demo]            serves on a free port, fetches its own pages, exits
//   tutorial-11-http --port N [--quiet]  serves on 127.0.0.1:N until SIGINT or SIGTERM
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "tornado/gen.h"
#include "tornado/httpclient.h"
#include "tornado/ioloop.h"
#include "tornado/log.h"
#include "tornado/web.h"

using tornado::Future, tornado::HTTPResponse, tornado::IOLoop, tornado::RequestHandler;

namespace {

class MainHandler : public RequestHandler {
  Future<void> get(Args) override {
    write("Hello, world!");
    co_return;
  }
};

class GreetHandler : public RequestHandler {
  Future<void> get(Args args) override {  // args[0]: the route's ([a-z]+) group
    write(get_argument("greeting", "Hello") + ", " + args[0] + "!");
    co_return;
  }
  Future<void> post(Args args) override {  // a form's fields are arguments too
    write(get_argument("greeting") + ", " + args[0] + "! (posted)");  // no fallback: 400
    co_return;
  }
};

void show(std::string_view what, const HTTPResponse& response) {
  std::cout << what << " -> " << response.code << " " << response.body << "\n";
}

Future<void> demo(std::string base) {
  tornado::AsyncHTTPClient client;
  show("GET /", co_await client.fetch(base + "/"));  // fetch, awaited: suspends, never blocks
  // Three fetches at once: the server interleaves them on its one thread.
  std::vector<Future<HTTPResponse>> fetches = {client.fetch(base + "/greet/alice"),
                                               client.fetch(base + "/greet/bob?greeting=Hi"),
                                               client.fetch(base + "/greet/carol?greeting=Hey")};
  for (const HTTPResponse& response : co_await tornado::gen::multi(fetches)) {
    show("GET " + response.effective_url.substr(base.size()), response);
  }
  // A form: get_argument reads its fields as it reads a query's.
  tornado::HTTPRequest post{
      .url = base + "/greet/erin", .method = "POST", .body = "greeting=Good+morning"};
  post.headers.add("Content-Type", "application/x-www-form-urlencoded");
  show("POST /greet/erin", co_await client.fetch(post));
  try {
    (void)co_await client.fetch(base + "/nowhere");  // a non-2xx code throws...
  } catch (const tornado::HTTPClientError& e) {
    std::cout << "GET /nowhere -> HTTPClientError " << e.code() << "\n";
  }
  post.body = "";  // ...unless raise_error is false: then it is just a response
  HTTPResponse refused = co_await client.fetch(post, false);
  std::cout << "POST with no greeting -> " << refused.code << " " << refused.reason << "\n";
  // HTTPClient blocks (it runs a loop of its own): on an executor thread, ours still serves.
  std::string url = base + "/greet/dave";
  auto blocking_fetch = [url] { return tornado::HTTPClient().fetch(url).body; };
  std::string body = co_await IOLoop::current().run_in_executor(nullptr, blocking_fetch);
  std::cout << "HTTPClient on another thread: " << body << "\n";
}

IOLoop* g_loop = nullptr;

void stop_on_signal(int) {
  g_loop->add_callback_from_signal([] { g_loop->stop(); });
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view mode = argc > 1 ? argv[1] : "--demo";
  IOLoop loop;
  g_loop = &loop;
  tornado::HTTPServer server(tornado::Application(
      {tornado::url<MainHandler>("/"), tornado::url<GreetHandler>("/greet/([a-z]+)")}));
  if (mode == "--port" && argc > 2) {
    auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    server.listen(port, "127.0.0.1");
    if (argc > 3 && std::string_view(argv[3]) == "--quiet") {  // Tornado's --logging=warning
      tornado::log::set_level(tornado::log::Level::warning);   // no access log for 1xx-3xx
    }
    std::signal(SIGINT, stop_on_signal);
    std::signal(SIGTERM, stop_on_signal);
    std::cout << "HTTP server on http://127.0.0.1:" << port << "/ (Ctrl-C stops it)" << std::endl;
    loop.start();
    std::cout << "stopped" << std::endl;
    return 0;
  }
  server.listen(0, "127.0.0.1");  // port 0: the kernel picks a free one
  std::string base = "http://127.0.0.1:" + std::to_string(server.addresses().front().port());
  loop.run_sync([base] { return demo(base); }, std::chrono::seconds(10));
  std::cout << "all fetches done; the access log went to stderr\n";
  return 0;
}
