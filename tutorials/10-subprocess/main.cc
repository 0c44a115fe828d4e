// Step 10: pipes and child processes. A Subprocess's stdin and stdout are
// PipeIOStreams, so talking to a child is the same co_await as talking to a
// socket, and the loop is never blocked waiting for it.
//
//   tutorial-10-subprocess [--demo]   talks to cat, sort and false
#include <iostream>
#include <string>

#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/process.h"

using namespace std::chrono_literals;
using tornado::Future, tornado::IOLoop, tornado::Subprocess;

namespace {

// The child's stdin and stdout become pipes; its stderr stays ours.
const tornado::SubprocessOptions kPiped{.stdin = Subprocess::STREAM, .stdout = Subprocess::STREAM};

// cat answers each line as it arrives: a conversation over two pipes.
Future<void> talk_to_cat() {
  Subprocess cat({"cat"}, kPiped);
  for (std::string line : {"hello\n", "how are you?\n"}) {
    co_await cat.stdin()->write(line);
    std::string echoed = co_await cat.stdout()->read_until("\n");
    std::cout << "cat echoed: " << echoed;
  }
  cat.stdin()->close();                       // end of input: cat finishes and exits
  co_await cat.stdout()->read_until_close();  // "" : its stdout reaches end of file
  int code = co_await cat.wait_for_exit();
  std::cout << "cat exited with " << code << '\n';
}

// sort can print nothing until it has read everything: write, close, read.
Future<void> sort_words() {
  Subprocess sort({"sort"}, kPiped);
  co_await sort.stdin()->write("pear\napple\nfig\n");
  sort.stdin()->close();
  std::string sorted = co_await sort.stdout()->read_until_close();
  int code = co_await sort.wait_for_exit();
  std::cout << "sort printed:\n" << sorted << "sort exited with " << code << '\n';
}

// A child that fails: wait_for_exit() throws CalledProcessError, unless
// asked for the code with wait_for_exit(false).
Future<void> run_false() {
  Subprocess failing({"false"});
  int code = co_await failing.wait_for_exit(false);
  std::cout << "false exited with " << code << '\n';
  try {
    co_await failing.wait_for_exit();
  } catch (const tornado::CalledProcessError& e) {
    std::cout << "wait_for_exit() threw CalledProcessError, returncode " << e.returncode() << '\n';
  }
}

Future<void> demo() {
  co_await talk_to_cat();
  co_await sort_words();
  co_await run_false();
}

}  // namespace

int main() {  // every run is the demo, so --demo needs no parsing
  IOLoop loop;
  loop.run_sync(demo, 5s);
}
