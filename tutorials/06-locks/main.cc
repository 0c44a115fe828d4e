// Step 6: coordinating coroutines. Five workers share two permits (a
// Semaphore), start together when an Event is set, and report to a
// Condition that the boss waits on.
//
//   tutorial-06-locks [--demo]   runs the team once and prints what happened
#include <algorithm>
#include <chrono>
#include <iostream>

#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/locks.h"

using namespace std::chrono_literals;
using tornado::Future, tornado::IOLoop;

namespace {

constexpr int kWorkers = 5;

struct Team {
  tornado::Semaphore permits{2, "permits"};  // at most two jobs at once
  tornado::Event go{"go"};                   // the starting gun
  tornado::Condition finished{"finished"};   // "one more job is done"
  int running = 0;                           // jobs holding a permit now
  int most = 0;                              // the most that ever ran at once
  int done = 0;
};

Future<void> worker(Team& team, int id) {
  co_await team.go.wait();                        // every worker waits here until go.set()
  auto permit = co_await team.permits.acquire();  // FIFO: in the order they asked
  std::cout << "worker " << id << ": got a permit\n";
  team.most = std::max(team.most, ++team.running);
  co_await tornado::gen::sleep(20ms);  // the job (a fetch, a query...)
  --team.running;
  ++team.done;
  team.finished.notify();  // wakes the boss, if it is waiting right now
}  // `permit` is released here, handing it to the oldest waiting worker

Future<void> boss(Team& team) {
  for (int id = 0; id < kWorkers; ++id) {
    IOLoop::current().spawn_callback([&team, id] { return worker(team, id); });
  }
  co_await tornado::gen::moment;  // let the workers run up to go.wait()
  std::cout << "boss: " << team.go.waiters() << " workers wait for the go event; set it\n";
  team.go.set();
  // Check, then wait, in a loop: a notify() sent while the boss was not
  // waiting wakes no one, but `done` still counts it.
  while (team.done < kWorkers) co_await team.finished.wait();
  std::cout << "boss: all " << team.done << " jobs done, at most " << team.most
            << " at once; permits left: " << team.permits.value() << '\n';
}

}  // namespace

int main() {  // every run is the demo, so --demo needs no parsing
  IOLoop loop;
  Team team;
  try {
    loop.run_sync([&] { return boss(team); }, 5s);
  } catch (const tornado::TimeoutError&) {
    std::cerr << "boss: still waiting after 5 s, with " << team.done << " jobs done\n";
    return 1;
  }
}
