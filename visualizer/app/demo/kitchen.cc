// tornado-viz-demo: a small kitchen that gives every panel something to show.
// A waiter takes orders into a bounded Queue; three cooks take them out and
// share one stove (a Lock); a bell rings through a pipe (an fd handler); a
// clock ticks every 50 ms (a PeriodicCallback); and once, a cook blocks the
// loop, so the Callbacks panel can show what that cost everyone else (the
// clock's tick fires late and skips). Runs for about a second.
//
//   tornado-viz -- tornado-viz-demo
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/locks.h"
#include "tornado/queues.h"

using namespace std::chrono_literals;
using tornado::Future;
using tornado::IOLoop;

namespace {

constexpr int kOrders = 24;

struct Kitchen {
  tornado::Queue<int> orders{2, "orders"};  // at most two orders on the rail
  tornado::Lock stove{"stove"};
  tornado::Event closing{"closing"};
  int bell[2] = {-1, -1};  // a pipe: writing a byte rings it
  int served = 0;
};

Future<void> take_orders(Kitchen& k) {
  for (int order = 1; order <= kOrders; ++order) {
    co_await k.orders.put(order);  // waits while the rail is full
    co_await tornado::gen::sleep(30ms);
  }
}

Future<void> cook(Kitchen& k, int id) {
  for (int i = 0; i < kOrders / 3; ++i) {  // each cook takes a third of the orders
    int order = co_await k.orders.get();
    {
      auto guard = co_await k.stove.acquire();  // one pan on the stove at a time
      co_await tornado::gen::sleep(40ms);
      if (order == kOrders / 2)
        std::this_thread::sleep_for(150ms);  // never do this: it blocks the loop
    }
    [[maybe_unused]] auto n = ::write(k.bell[1], "!", 1);
    k.orders.task_done();
    if (++k.served == kOrders) k.closing.set();
    std::cout << "cook " << id << " served order " << order << '\n';
  }
}

Future<void> service(Kitchen& k) {
  IOLoop& loop = IOLoop::current();
  loop.add_handler(k.bell[0],
                   tornado::named("bell",
                                  [&k](int fd, std::uint32_t) {
                                    char c;
                                    [[maybe_unused]] auto n = ::read(fd, &c, 1);
                                  }),
                   IOLoop::READ);
  tornado::PeriodicCallback clock(tornado::named("kitchen clock", [] {}), 50ms);
  clock.start();
  Future<void> cooks[] = {cook(k, 1), cook(k, 2), cook(k, 3)};  // coroutines start at once
  co_await take_orders(k);
  co_await k.closing.wait();
  for (Future<void>& c : cooks) co_await c;
  clock.stop();
  loop.remove_handler(k.bell[0]);
}

}  // namespace

int main() {
  IOLoop loop;  // first: objects made before any loop exists are not traced
  Kitchen kitchen;
  if (::pipe(kitchen.bell) != 0) return 1;
  loop.run_sync([&] { return service(kitchen); }, 30s);
  ::close(kitchen.bell[0]);
  ::close(kitchen.bell[1]);
  std::cout << "served " << kitchen.served << " orders\n";
  return 0;
}
