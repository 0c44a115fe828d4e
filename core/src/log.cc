#include "tornado/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <typeinfo>

namespace tornado::log {
namespace {

std::mutex g_mutex;
Sink g_sink;  // empty: the default stderr sink
std::atomic<Level> g_level{Level::info};

char letter(Level level) {
  switch (level) {
    case Level::debug:
      return 'D';
    case Level::info:
      return 'I';
    case Level::warning:
      return 'W';
    case Level::error:
      return 'E';
  }
  return '?';
}

// "[W 02:03:04.123] message", like Tornado's LogFormatter.
void write_stderr(Level level, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  std::fprintf(stderr, "[%c %02d:%02d:%02d.%03d] %.*s\n", letter(level), tm.tm_hour, tm.tm_min,
               tm.tm_sec, static_cast<int>(ms.count()), static_cast<int>(message.size()),
               message.data());
}

}  // namespace

Sink set_sink(Sink sink) {
  std::lock_guard lock(g_mutex);
  std::swap(g_sink, sink);
  return sink;
}

void set_level(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(g_mutex);
  if (g_sink) {
    g_sink(level, message);
  } else {
    write_stderr(level, message);
  }
}

std::string describe(const std::exception_ptr& error) {
  if (!error) return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception (not derived from std::exception)";
  }
}

}  // namespace tornado::log
