// Records what a real program's loop does (a MemorySink attached while it
// runs) and hands the events to a viz::Model, plus helpers to find events
// and objects in it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"
#include "model/state_json.h"
#include "tornado/testing.h"
#include "tornado/trace.h"

namespace tornado::viz::testing {

/// The events `program` emitted, in a model (cursor at the live end).
class Recording {
 public:
  explicit Recording(const std::function<void()>& program, Options options = {}) : model(options) {
    {
      tornado::testing::ScopedTrace attached(sink);
      program();
    }
    events = sink.events();
    for (const trace::Event& e : events) {
      if (e.name != 0) model.add_string(e.name, sink.string(e.name));
    }
    model.add_events(events);
  }

  trace::MemorySink sink;
  std::vector<trace::Event> events;
  Model model;
};

/// The index of the n-th (from 0) event of `kind` for which `match` holds.
inline std::optional<std::uint64_t> nth_event(
    const Model& model, trace::Kind kind, std::size_t n = 0,
    const std::function<bool(const trace::Event&)>& match = {}) {
  for (std::uint64_t i = model.first_index(); i < model.end(); ++i) {
    const trace::Event& e = model.event(i);
    if (e.kind != kind || (match && !match(e))) continue;
    if (n-- == 0) return i;
  }
  return std::nullopt;
}

/// The sync object whose title is `title` ("Lock 'db'"), at the cursor.
inline const SyncObject* sync_titled(const Model& model, std::string_view title) {
  for (const auto& item : model.state().sync.objects) {
    if (model.string(item.second.name) == title) return &item.second;
  }
  return nullptr;
}

/// The sites of an object's waiters, in queue order.
inline std::vector<std::string> waiter_sites(const Model& model, const SyncObject& obj) {
  std::vector<std::string> sites;
  for (const Waiter& w : obj.waiters) sites.emplace_back(model.string(w.site));
  return sites;
}

}  // namespace tornado::viz::testing
