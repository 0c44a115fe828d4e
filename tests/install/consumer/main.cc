// Uses the installed headers and library: run one callback, then stop.
#include <tornado/ioloop.h>

#include <iostream>

int main() {
  tornado::IOLoop loop;
  loop.add_callback([&] { loop.stop(); });
  loop.start();
  std::cout << "consumer ok\n";
  return 0;
}
