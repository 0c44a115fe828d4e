// Writes a few small valid trace files into DIR, the seed corpus that
// tests/fuzz/run.sh starts the decoder fuzzer from.
//   make_seeds DIR
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tornado/trace_file.h"

namespace {

using tornado::trace::Event;
using tornado::trace::Kind;
namespace tt = tornado::trace;

bool write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

// A loop's first iteration: strings, events, the end record.
std::string small_loop() {
  std::string bytes = tt::encode_header(tt::this_process_header());
  std::vector<std::pair<std::uint32_t, std::string>> strings = {{1, "tick at main.cc:9"},
                                                                {2, "waker at ioloop.cc:40"}};
  std::vector<Event> events = {
      {10, Kind::handler_added, 1, 2, 5, 9, 0},      {20, Kind::loop_started, 1, 0, 0, 0, 0},
      {30, Kind::iteration_begin, 1, 0, 1, 1, 0},    {40, Kind::callback_started, 1, 1, 7, 0, 0},
      {50, Kind::callback_finished, 1, 1, 7, 10, 0}, {60, Kind::iteration_end, 1, 0, 1, 5, 100}};
  tt::append_strings(bytes, strings);
  tt::append_events(bytes, events);
  tt::append_end(bytes);
  return bytes;
}

// A newer minor version with a record type this reader does not know, and a
// report of dropped events; no end record (the writer was killed).
std::string newer_minor_cut_short() {
  tt::FileHeader h;
  h.minor = tt::kFormatMinor + 1;
  h.pid = 7;
  h.process = "seed";
  h.kinds = {{1, "loop_started"}, {35, "events_dropped"}};
  std::string bytes = tt::encode_header(h);
  std::string record(8, '\0');
  record[0] = 'Q';
  record[4] = 3;
  bytes += record + "abc";
  std::vector<Event> events = {{5, Kind::events_dropped, 1, 0, 0, 12, 9},
                               {11, Kind::loop_started, 1, 0, 0, 0, 0}};
  tt::append_events(bytes, events);
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  bool ok = write(dir + "/small_loop.trace", small_loop()) &&
            write(dir + "/newer_minor_cut_short.trace", newer_minor_cut_short()) &&
            write(dir + "/header_only.trace", tt::encode_header(tt::this_process_header()));
  if (!ok) std::fprintf(stderr, "make_seeds: cannot write into %s\n", dir.c_str());
  return ok ? 0 : 1;
}
