// Step 7: queues. A web spider (Tornado's demos/webspider): worker coroutines take URLs from a
// Queue and put back the links they find; join() says when every URL put has been processed.
//
//   tutorial-07-spider [--demo]   serves a little site on a free port, crawls it, exits
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tornado/gen.h"
#include "tornado/httpclient.h"
#include "tornado/ioloop.h"
#include "tornado/queues.h"
#include "tornado/web.h"

using namespace std::chrono_literals;
using tornado::Future, tornado::IOLoop;

namespace {

constexpr int kWorkers = 3;

const std::map<std::string, std::string, std::less<>> kSite = {
    {"/", R"(<a href="/a">A</a> <a href="/b">B</a>)"},
    {"/a", R"(<a href="/c">C</a> <a href="/">home</a>)"},
    {"/b", R"(<a href="/c">C</a> <a href="/gone">a dead link</a>)"},
    {"/c", R"(<a href="/a">A, again: a cycle</a> <a href="/d">D</a>)"},
    {"/d", R"(<a href="https://www.tornadoweb.org/">Tornado</a>)"},
};

class PageHandler : public tornado::RequestHandler {
  Future<void> get(Args) override {
    auto page = kSite.find(request().path);
    if (page == kSite.end()) throw tornado::HTTPError(404);
    write(page->second);
    co_return;
  }
};

// The links in `html` that stay on the site (href="/..."), made absolute.
std::vector<std::string> links(std::string_view html, const std::string& base) {
  std::vector<std::string> found;
  for (std::size_t at = 0; (at = html.find("href=\"", at)) != html.npos;) {
    at += 6;
    std::string href(html.substr(at, html.find('"', at) - at));
    if (href.starts_with("/")) found.push_back(base + href);
  }
  return found;
}

struct Spider {
  std::string base;                             // "http://127.0.0.1:PORT"
  tornado::Queue<std::string> urls{0, "urls"};  // unbounded: put() never waits
  std::map<std::string, int> fetched{};  // taken by a worker: URL -> HTTP status (0 until known)
  tornado::AsyncHTTPClient client{};
};

// Python's `finally: q.task_done()`: runs however the loop body is left.
struct TaskDone {
  tornado::Queue<std::string>& queue;
  ~TaskDone() { queue.task_done(); }
};

Future<void> worker(Spider& s, int id) {
  for (;;) {
    std::string url = co_await s.urls.get();  // waits while the queue is empty
    TaskDone done{s.urls};
    if (url.empty()) co_return;                           // "" means: the crawl is over
    if (!s.fetched.try_emplace(url, 0).second) continue;  // queued twice; the first one counts
    std::cerr << "worker " << id << " fetching " << url << "\n";       // who gets what: timing
    tornado::HTTPResponse page = co_await s.client.fetch(url, false);  // a 404 is no exception
    s.fetched[url] = page.code;
    for (std::string& link : links(page.body, s.base)) co_await s.urls.put(std::move(link));
  }
}

Future<void> crawl(std::uint16_t port) {
  Spider s{std::string("http://127.0.0.1:").append(std::to_string(port))};
  std::vector<Future<void>> workers;
  for (int id = 1; id <= kWorkers; ++id) workers.push_back(worker(s, id));
  s.urls.put_nowait(s.base + "/");  // straight to worker 1, the oldest getter
  co_await s.urls.join(5s);         // every URL put has been task_done()
  for (int i = 0; i < kWorkers; ++i) s.urls.put_nowait("");  // a stop sign for each worker
  co_await tornado::gen::multi(workers);
  std::cout << "crawled " << s.fetched.size() << " URLs with " << kWorkers << " workers:\n";
  for (const auto& [url, code] : s.fetched) {
    std::cout << "  " << code << " " << url.substr(s.base.size()) << "\n";
  }
}

}  // namespace

int main() {  // every run is the demo, so --demo needs no parsing
  IOLoop loop;
  tornado::HTTPServer server(tornado::Application({tornado::url<PageHandler>("/.*")}));
  server.listen(0, "127.0.0.1");  // port 0: the kernel picks a free one
  std::uint16_t port = server.addresses().front().port();
  loop.run_sync([port] { return crawl(port); }, 10s);
}
