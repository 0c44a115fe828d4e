// Step 2: the IOLoop. Callbacks, a one-shot timer and a periodic timer share
// one thread, and the loop decides the order they run in.
//
//   tutorial-02-ioloop [--demo] [trace.txt]   prints what ran, in order (and writes a trace)
#include <chrono>
#include <fstream>
#include <iostream>
#include <string_view>

#include "tornado/ioloop.h"
#include "tornado/trace.h"

using namespace std::chrono_literals;
using tornado::IOLoop;
using tornado::named;
using tornado::PeriodicCallback;

namespace {

void run_lesson() {
  IOLoop loop;  // becomes this thread's current loop; nothing runs until start()
  int ticks = 0;

  // Runs every 100 ms once started; the third run stops the loop.
  auto tick = [&] {
    ++ticks;
    std::cout << "tick " << ticks << (ticks == 3 ? ": stop the loop\n" : "\n");
    if (ticks == 3) loop.stop();  // start() returns after this iteration
  };
  PeriodicCallback ticker(named("tick", tick), 100ms);  // named(): a label for logs and traces

  // Started by `third`, so the timers cannot fire before the callbacks below
  // have all run, however slow the machine is.
  auto start_timers = [&] {
    loop.call_later(50ms, named("greeting", [] {
                      std::cout << "greeting: call_later(50ms) fired before the first tick\n";
                    }));
    ticker.start();  // first tick one period from now, at 100 ms
  };

  loop.add_callback([&] {
    std::cout << "first: callbacks run in the order they were added\n";
    // A callback added while the loop runs waits for the next iteration.
    loop.add_callback([&] {
      std::cout << "third: added by first, so it ran one iteration later\n";
      start_timers();
    });
  });
  loop.add_callback([] { std::cout << "second: added after first, runs after it\n"; });

  std::cout << "main: two callbacks added; calling start()\n";
  loop.start();  // runs iterations until stop()
  ticker.stop();
  std::cout << "main: start() returned after " << ticks << " ticks\n";
}  // ~IOLoop closes the loop

// Writes the recorded events as text, one per line.
bool write_trace(const tornado::trace::MemorySink& sink, const char* path) {
  std::ofstream out(path);
  sink.write_text(out);
  out.close();
  if (!out) {
    std::cerr << "could not write the trace to " << path << '\n';
    return false;
  }
  // stderr, so that stdout is the same with or without a trace.
  std::cerr << "wrote " << sink.events().size() << " trace events to " << path << '\n';
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // The lesson is the demo, so --demo changes nothing; any other argument is
  // the trace's path.
  const char* trace_path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--demo") trace_path = argv[i];
  }
  tornado::trace::MemorySink sink;
  bool tracing = trace_path != nullptr;
  if (tracing) tornado::trace::attach(&sink);  // before the loop exists, so its setup is traced too
  run_lesson();
  if (!tracing) return 0;
  tornado::trace::detach();
  return write_trace(sink, trace_path) ? 0 : 1;
}
