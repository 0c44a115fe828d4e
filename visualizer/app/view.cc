#include "view.h"

#include <cstdio>

namespace tornado::viz {

std::string View::at(std::uint64_t ts_ns) const {
  if (ts_ns == 0) return "-";
  double s = static_cast<double>(ts_ns >= origin_ns ? ts_ns - origin_ns : 0) / 1e9;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f s", s);
  return buf;
}

std::string duration(std::uint64_t ns) {
  char buf[32];
  auto d = static_cast<double>(ns);
  if (ns < 1000) {
    std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
  } else if (ns < 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1f us", d / 1e3);
  } else if (ns < 1'000'000'000) {
    std::snprintf(buf, sizeof buf, "%.2f ms", d / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", d / 1e9);
  }
  return buf;
}

std::string name_or(const Model& model, std::uint32_t id, const char* fallback) {
  std::string_view s = model.string(id);
  return s.empty() ? std::string(fallback) : std::string(s);
}

}  // namespace tornado::viz
