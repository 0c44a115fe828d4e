// The --demo's clients for step 8: alice and bob chat, sloth joins and never
// reads, and alice pastes long lines until the server drops sloth. The clients
// move in step, so the output is the same on every run.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tornado/iostream.h"
#include "tornado/tcpclient.h"

using tornado::Future, tornado::IOStream;

namespace {

struct Client {
  std::string name;
  std::shared_ptr<IOStream> stream{};
  std::vector<std::string> heard{};  // the short lines, and where the long ones began
  int long_lines = 0;                // how many: that depends on the kernel's buffers
};

// Reads lines until `line` arrives.
Future<void> hear(Client& c, std::string_view line) {
  for (std::string got; got != line;) {
    got = co_await c.stream->read_until("\n");
    got.pop_back();
    if (got.size() <= 80) {
      c.heard.push_back(got);
    } else if (c.long_lines++ == 0) {
      c.heard.push_back(got.substr(0, 12) + "... (long lines)");
    }
  }
}

// `c` sends `text`; then alice and bob, once connected, read until the room says `line`.
Future<void> speak(Client& c, std::string_view text, std::string_view line, Client& alice,
                   Client& bob) {
  co_await c.stream->write(std::string(text) + "\n");
  if (alice.stream) co_await hear(alice, line);
  if (bob.stream) co_await hear(bob, line);
}

}  // namespace

// Declared in main.cc, which runs it on the server's loop.
Future<void> demo(std::uint16_t port) {
  Client alice{"alice"}, bob{"bob"}, sloth{"sloth"};  // sloth never reads
  tornado::TCPClient connector;
  for (Client* c : {&alice, &bob, &sloth}) {  // one by one, so they join in this order
    c->stream = co_await connector.connect("127.0.0.1", port);
    std::string joined = c->name + " joined";
    co_await speak(*c, c->name, joined, alice, bob);
  }
  co_await speak(alice, "hi bob", "alice: hi bob", alice, bob);
  co_await speak(bob, "hi alice", "bob: hi alice", alice, bob);
  // alice pastes a long text again and again, until the server gives up on sloth.
  std::string paste(32 * 1024, 'x'), pasted = alice.name + ": " + paste;
  while (std::ranges::find(alice.heard, "sloth left") == alice.heard.end()) {
    co_await speak(alice, paste, pasted, alice, bob);
  }
  co_await speak(bob, "quiet now", "bob: quiet now", alice, bob);
  for (Client* c : {&alice, &bob, &sloth}) c->stream->close();
  for (Client* c : {&alice, &bob}) {
    std::cout << c->name << " heard:\n";
    for (const std::string& line : c->heard) std::cout << "  " << line << "\n";
    std::cerr << c->name << " heard " << c->long_lines << " long lines\n";
  }
  std::cout << "sloth was dropped; alice and bob carried on\n";
}
