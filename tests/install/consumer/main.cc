// Uses the installed headers and library; README.md shows this program.
#include <tornado/gen.h>
#include <tornado/ioloop.h>

#include <chrono>
#include <iostream>

tornado::Future<void> hello() {
  co_await tornado::gen::sleep(std::chrono::milliseconds(10));  // the loop runs meanwhile
  std::cout << "consumer ok\n";
}

int main() {
  tornado::IOLoop loop;
  loop.run_sync(hello);
}
