// libFuzzer target for trace::decode() (core/src/trace_file.cc): whatever the
// bytes, decoding returns without crashing, never reads past them, and what it
// reports is consistent. Built and run by tests/fuzz/run.sh.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tornado/trace_file.h"

namespace {

using tornado::trace::Event;
using tornado::trace::Trace;

void check(bool ok) {
  if (!ok) std::abort();  // libFuzzer saves the input that got here
}

bool same_events(const std::vector<Event>& x, const std::vector<Event>& y) {
  return x.size() == y.size() &&
         (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(Event)) == 0);
}

// What decode() kept, written again by the encoder, decodes to the same thing.
void check_reencoding(const Trace& t) {
  std::string bytes = tornado::trace::encode_header(t.header);
  std::vector<std::pair<std::uint32_t, std::string>> strings(t.strings.begin(), t.strings.end());
  tornado::trace::append_strings(bytes, strings);
  tornado::trace::append_events(bytes, t.events);
  tornado::trace::append_end(bytes);
  Trace again = tornado::trace::decode(bytes);
  check(again.error.empty() && again.complete);
  check(again.strings == t.strings);
  check(same_events(again.events, t.events));
  check(again.header.process == t.header.process && again.header.kinds == t.header.kinds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Trace t = tornado::trace::decode(bytes);
  check(t.error.empty() || t.error_offset <= size);
  check(!(t.complete && !t.error.empty()));
  check(t.events.size() * sizeof(Event) <= size);
  for (const Event& e : t.events) check(t.string(e.name).size() <= size);
  // The header decoded (records may follow): it must survive a round trip.
  if (t.error.empty()) check_reencoding(t);
  return 0;
}
