// A small logging facade. The library logs through it (exceptions escaping
// callbacks, blocking callbacks); programs may redirect it to their own
// logger with set_sink().
#pragma once

#include <exception>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace tornado::log {

enum class Level { debug, info, warning, error };

/// Receives every message at or above the current level.
using Sink = std::function<void(Level, std::string_view message)>;

/// Replaces the sink; an empty Sink restores the default (stderr).
/// Returns the previous one. Safe from any thread.
Sink set_sink(Sink sink);

/// Messages below `level` are dropped (default: info). Safe from any thread.
void set_level(Level level);
Level level();

/// Writes one message. Safe from any thread.
void write(Level level, std::string_view message);

/// Joins the arguments with operator<<, for building messages.
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  ((out << parts), ...);
  return out.str();
}

/// The message of an exception ("what()"), for log lines.
std::string describe(const std::exception_ptr& error);

inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warning(std::string_view m) { write(Level::warning, m); }
inline void error(std::string_view m) { write(Level::error, m); }

}  // namespace tornado::log
