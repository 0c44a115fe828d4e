#include "tornado/trace.h"

#include <array>
#include <chrono>
#include <functional>
#include <ostream>
#include <tuple>

namespace tornado::trace {
namespace detail {
std::atomic<Sink*> g_sink{nullptr};
}  // namespace detail

namespace {

// A Site by identity. Its pointers are to string literals and interned
// labels, which live as long as the process, so comparing them is enough.
struct SiteKey {
  const char* file;
  const char* label;
  std::uint32_t line;
  std::uint32_t column;
  bool operator==(const SiteKey&) const = default;
};

struct SiteKeyHash {
  std::size_t operator()(const SiteKey& k) const noexcept {
    std::size_t h = std::hash<const void*>{}(k.file);
    h = h * 31 + std::hash<const void*>{}(k.label);
    return h * 31 + ((std::size_t{k.line} << 16) ^ k.column);
  }
};

// The interned strings, in id order (id = index + 1). Never shrinks, so a
// sink attached late can be told every string that ids may refer to.
struct Strings {
  std::mutex mutex;
  std::vector<std::string> texts;
  std::unordered_map<std::string, std::uint32_t> ids;
  // Sites already described, to skip formatting them again (every traced
  // add_callback asks).
  std::unordered_map<SiteKey, std::uint32_t, SiteKeyHash> site_ids;
};

Strings& strings() {
  static auto* s = new Strings();  // never freed: ids are used until exit
  return *s;
}

std::uint32_t intern_locked(Strings& s, std::string_view text) {
  std::string key(text);
  if (auto it = s.ids.find(key); it != s.ids.end()) return it->second;
  s.texts.push_back(key);
  auto id = static_cast<std::uint32_t>(s.texts.size());
  s.ids.emplace(std::move(key), id);
  if (Sink* sink = detail::g_sink.load(std::memory_order_acquire)) sink->on_string(id, text);
  return id;
}

}  // namespace

std::string_view kind_name(Kind kind) {
  static constexpr std::string_view kNames[] = {
      "none",
      "loop_started",
      "loop_stopped",
      "loop_closed",
      "iteration_begin",
      "iteration_end",
      "callback_scheduled",
      "callback_started",
      "callback_finished",
      "timer_added",
      "timer_fired",
      "timer_cancelled",
      "handler_added",
      "handler_updated",
      "handler_removed",
      "fd_ready",
      "future_created",
      "future_resolved",
      "executor_submitted",
      "executor_finished",
      "blocking_callback",
      "exception_in_callback",
      "signal_callbacks_dropped",
      "sync_created",
      "sync_destroyed",
      "waiter_enqueued",
      "waiter_woken",
      "waiter_timed_out",
      "sync_acquired",
      "sync_released",
      "event_set",
      "event_cleared",
      "queue_put",
      "queue_got",
      "queue_task_done",
      "events_dropped",
      "stream_opened",
      "stream_connected",
      "stream_closed",
      "stream_read",
      "stream_written",
      "tls_handshake_begun",
      "tls_handshake_finished",
      "tls_handshake_failed",
      "snapshot_begin",
      "snapshot_callback",
      "snapshot_timer",
      "snapshot_handler",
      "snapshot_sync",
      "snapshot_waiter",
      "snapshot_stream",
      "snapshot_end",
  };
  auto i = static_cast<std::size_t>(kind);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

void attach(Sink* sink) {
  Strings& s = strings();
  std::lock_guard lock(s.mutex);
  for (std::size_t i = 0; i < s.texts.size(); ++i) {
    sink->on_string(static_cast<std::uint32_t>(i + 1), s.texts[i]);
  }
  detail::g_sink.store(sink, std::memory_order_release);
}

void detach() {
  Strings& s = strings();
  std::lock_guard lock(s.mutex);
  detail::g_sink.store(nullptr, std::memory_order_release);
}

std::uint32_t intern(std::string_view text) {
  Strings& s = strings();
  std::lock_guard lock(s.mutex);
  return intern_locked(s, text);
}

std::uint32_t intern(const Site& site) {
  SiteKey key{site.where.file_name(), site.label, site.where.line(), site.where.column()};
  // Each thread keeps a small cache in front of the shared table: a traced
  // add_callback or Future names its site every time, and the shared
  // table's lock and lookup cost more than the rest of the event. Ids never
  // change (the table only grows), so a cached one stays right.
  struct Slot {
    SiteKey key{};
    std::uint32_t id = 0;
  };
  thread_local std::array<Slot, 256> cache{};
  std::size_t hash = SiteKeyHash{}(key);
  Slot& slot = cache[(hash ^ (hash >> 8) ^ (hash >> 16)) % cache.size()];
  if (slot.id != 0 && slot.key == key) return slot.id;
  Strings& s = strings();
  std::lock_guard lock(s.mutex);
  auto it = s.site_ids.find(key);
  if (it == s.site_ids.end()) it = s.site_ids.emplace(key, intern_locked(s, site.describe())).first;
  slot = {key, it->second};
  return it->second;
}

namespace detail {

void emit_slow(Kind kind, std::uint16_t loop, std::uint64_t object, std::uint32_t name,
               std::uint64_t a, std::uint64_t b) {
  if (Sink* sink = g_sink.load(std::memory_order_acquire)) {
    sink->on_event(Event{now_ns(), kind, loop, name, object, a, b});
  }
}

void emit_at(std::uint64_t ts_ns, Kind kind, std::uint16_t loop, std::uint64_t object,
             std::uint32_t name, std::uint64_t a, std::uint64_t b) {
  if (Sink* sink = g_sink.load(std::memory_order_acquire)) {
    sink->on_event(Event{ts_ns, kind, loop, name, object, a, b});
  }
}

std::vector<std::pair<std::uint32_t, std::string>> strings_from(std::uint32_t first) {
  Strings& s = strings();
  std::lock_guard lock(s.mutex);
  std::vector<std::pair<std::uint32_t, std::string>> out;
  for (std::size_t i = first == 0 ? 0 : first - 1; i < s.texts.size(); ++i) {
    out.emplace_back(static_cast<std::uint32_t>(i + 1), s.texts[i]);
  }
  return out;
}

std::uint64_t next_object_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace detail

void MemorySink::on_string(std::uint32_t id, std::string_view text) {
  std::lock_guard lock(mutex_);
  strings_[id] = std::string(text);
}

void MemorySink::on_event(const Event& event) {
  std::lock_guard lock(mutex_);
  events_.push_back(event);
}

std::vector<Event> MemorySink::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::string MemorySink::string(std::uint32_t id) const {
  std::lock_guard lock(mutex_);
  auto it = strings_.find(id);
  return it == strings_.end() ? std::string() : it->second;
}

void MemorySink::clear() {
  std::lock_guard lock(mutex_);
  events_.clear();
}

void MemorySink::write_text(std::ostream& out) const {
  std::lock_guard lock(mutex_);
  for (const Event& e : events_) {
    out << e.ts_ns << ' ' << kind_name(e.kind) << " loop=" << e.loop << " object=" << e.object;
    if (auto it = strings_.find(e.name); it != strings_.end())
      out << " name=\"" << it->second << '"';
    out << " a=" << e.a << " b=" << e.b << '\n';
  }
}

}  // namespace tornado::trace
