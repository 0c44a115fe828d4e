// Application: RE2 routes to RequestHandler factories, and the access log.
#include <re2/re2.h>

#include <cstdio>

#include "tornado/log.h"
#include "tornado/web.h"

namespace tornado {

namespace {

// What answers a path no route matches.
class NotFoundHandler : public RequestHandler {
  Future<void> prepare() override { throw HTTPError(404); }
};

}  // namespace

struct Application::Impl {
  struct Compiled {
    std::unique_ptr<RE2> pattern;
    std::function<std::unique_ptr<RequestHandler>()> factory;
  };
  std::vector<Compiled> routes;
};

Application::Application(std::vector<Route> routes) {
  auto impl = std::make_shared<Impl>();
  RE2::Options options;
  options.set_log_errors(false);
  for (Route& route : routes) {
    auto pattern = std::make_unique<RE2>(route.pattern, options);
    if (!pattern->ok()) {
      throw ValueError("Bad route pattern " + route.pattern + ": " + pattern->error());
    }
    impl->routes.push_back({std::move(pattern), std::move(route.factory)});
  }
  impl_ = std::move(impl);
}

Application::~Application() = default;
Application::Application(const Application&) = default;
Application& Application::operator=(const Application&) = default;

Future<void> Application::operator()(HTTPServerRequest& request) const {
  std::unique_ptr<RequestHandler> handler;
  RequestHandler::Args args;
  for (const auto& route : impl_->routes) {
    auto groups = static_cast<std::size_t>(route.pattern->NumberOfCapturingGroups());
    std::vector<std::string> values(groups);
    std::vector<RE2::Arg> holders;
    holders.reserve(groups);
    for (auto& value : values) holders.emplace_back(&value);
    std::vector<const RE2::Arg*> pointers;
    for (auto& holder : holders) pointers.push_back(&holder);
    if (RE2::FullMatchN(request.path, *route.pattern, pointers.data(), static_cast<int>(groups))) {
      handler = route.factory();
      for (auto& value : values) args.push_back(url_unescape(value, false));
      break;
    }
  }
  if (!handler) handler = std::make_unique<NotFoundHandler>();
  co_await handler->execute(request, std::move(args), *this);
}

void Application::log_request(const RequestHandler& handler) const {
  const HTTPServerRequest& request = handler.request();
  int status = handler.get_status();
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.2fms", request.request_time() * 1000.0);
  std::string line = log::cat(status, " ", request.method, " ", request.uri, " (",
                              request.remote_ip, ") ", elapsed);
  log::write(status < 400   ? log::Level::info
             : status < 500 ? log::Level::warning
                            : log::Level::error,
             line);
}

}  // namespace tornado
