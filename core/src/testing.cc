#include "tornado/testing.h"

#include <algorithm>

namespace tornado::testing {

std::vector<trace::Event> without_loop_events(const std::vector<trace::Event>& events) {
  std::vector<trace::Event> kept;
  for (const trace::Event& e : events) {
    switch (e.kind) {
      case trace::Kind::iteration_begin:
      case trace::Kind::iteration_end:
      case trace::Kind::callback_scheduled:
      case trace::Kind::callback_started:
      case trace::Kind::callback_finished:
      case trace::Kind::timer_added:
      case trace::Kind::timer_fired:
      case trace::Kind::timer_cancelled:
      case trace::Kind::future_created:
      case trace::Kind::future_resolved:
        break;
      default:
        kept.push_back(e);
    }
  }
  return kept;
}

LogCapture::LogCapture()
    : previous_(log::set_sink([this](log::Level level, std::string_view message) {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(message);
        if (level == log::Level::error) ++errors_;
      })) {}

LogCapture::~LogCapture() { log::set_sink(std::move(previous_)); }

std::vector<std::string> LogCapture::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::optional<std::size_t> LogCapture::find(std::string_view text) const {
  std::vector<std::string> all = lines();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].find(text) != std::string::npos) return i;
  }
  return std::nullopt;
}

std::size_t LogCapture::count(std::string_view text) const {
  std::vector<std::string> all = lines();
  return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [&](const std::string& l) {
    return l.find(text) != std::string::npos;
  }));
}

std::size_t LogCapture::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

std::string LogCapture::text() const {
  std::string out;
  for (const std::string& line : lines()) out += "\n  " + line;
  return out.empty() ? " (nothing logged)" : out;
}

}  // namespace tornado::testing
