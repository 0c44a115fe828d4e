#include "model/cause.h"

#include "model/model.h"

namespace tornado::viz {

using trace::Kind;
using trace::Via;

namespace {

// A trigger explains a callback_scheduled at most this many events later
// (a timer_cancelled of the waiter's deadline may come between).
constexpr std::uint64_t kTriggerWindow = 8;
constexpr std::size_t kMaxDepth = 64;

bool is_trigger(Kind kind) {
  switch (kind) {
    case Kind::waiter_woken:
    case Kind::future_resolved:
    case Kind::executor_finished:
    case Kind::event_set:
    case Kind::queue_put:
    case Kind::sync_released:
      return true;
    default:
      return false;
  }
}

}  // namespace

void CauseIndex::note(const trace::Event& e, std::uint64_t index) {
  if (e.object == 0 && !is_trigger(e.kind)) return;  // untraced objects share id 0
  switch (e.kind) {
    case Kind::timer_added:
    case Kind::sync_created:
    case Kind::future_created:
      created_[e.object] = index;
      return;
    case Kind::callback_scheduled: {
      created_[e.object] = index;
      auto last = last_trigger_.find(e.loop);
      if (last != last_trigger_.end() && index - last->second <= kTriggerWindow) {
        triggers_[e.object] = last->second;
      }
      return;
    }
    default:
      if (is_trigger(e.kind)) last_trigger_[e.loop] = index;
  }
}

std::optional<std::uint64_t> CauseIndex::created(std::uint64_t id) const {
  auto it = created_.find(id);
  if (it == created_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> CauseIndex::trigger(std::uint64_t id) const {
  auto it = triggers_.find(id);
  if (it == triggers_.end()) return std::nullopt;
  return it->second;
}

void CauseIndex::forget_before(std::uint64_t index) {
  std::erase_if(created_, [index](const auto& item) { return item.second < index; });
  std::erase_if(triggers_, [index](const auto& item) { return item.second < index; });
}

// ---- Model::cause_chain: walking the links ---------------------------------

namespace {

CauseLink link_at(const Model& model, CauseKind kind, std::uint64_t index) {
  const trace::Event& e = model.event(index);
  return CauseLink{kind, e.kind, e.object, e.name, index, e.ts_ns};
}

// The name of a sync object or future, from the event that created it.
std::uint32_t creation_name(const Model& model, const CauseIndex& causes, std::uint64_t id) {
  auto made = causes.created(id);
  return made && *made >= model.first_index() ? model.event(*made).name : 0;
}

std::uint32_t handler_name(const State& state, std::uint16_t loop, std::uint64_t fd) {
  auto it = state.fds.table.find(fd_key(loop, fd));
  return it == state.fds.table.end() ? 0 : it->second.name;
}

}  // namespace

std::vector<CauseLink> Model::cause_chain(const CallbackRun& run) const {
  std::vector<CauseLink> links;
  std::uint64_t object = run.object;
  Via via = run.via;
  auto lookup = [&](std::uint64_t id) -> std::optional<std::uint64_t> {
    auto made = causes_.created(id);
    if (!made || *made < first_ || *made >= end_) return std::nullopt;
    return made;
  };
  while (links.size() < kMaxDepth) {
    if (via == Via::handler) {
      links.push_back(CauseLink{CauseKind::fd_ready, Kind::fd_ready, object,
                                handler_name(view(), run.loop, object), 0, 0});
      return links;
    }
    if (via == Via::signal) {
      links.push_back(CauseLink{CauseKind::signal, Kind::callback_started, 0, 0, 0, 0});
      return links;
    }
    auto made = lookup(object);
    if (!made) {
      links.push_back(CauseLink{CauseKind::unknown, Kind::callback_scheduled, object, 0, 0, 0});
      return links;
    }
    const trace::Event& e = event(*made);
    std::uint64_t parent = 0;
    if (e.kind == Kind::timer_added) {
      links.push_back(link_at(*this, CauseKind::timer, *made));
      parent = e.b;
    } else {
      links.push_back(link_at(*this, CauseKind::scheduled, *made));
      if (auto trig = causes_.trigger(object); trig && *trig >= first_) {
        CauseLink t = link_at(*this, CauseKind::trigger, *trig);
        if (t.name == 0) t.name = creation_name(*this, causes_, t.object);
        links.push_back(t);
      }
      if (static_cast<Via>(e.b) == Via::other_thread) {
        links.push_back(CauseLink{CauseKind::other_thread, e.kind, 0, 0, *made, e.ts_ns});
        return links;
      }
      parent = e.a;
    }
    if (parent == 0) {
      links.push_back(CauseLink{CauseKind::program, e.kind, 0, 0, *made, e.ts_ns});
      return links;
    }
    // The parent is a callback or timer the index knows, or else a handler's fd.
    auto parent_made = lookup(parent);
    if (!parent_made) {
      via = Via::handler;
    } else {
      via = event(*parent_made).kind == Kind::timer_added ? Via::timer : Via::callback;
    }
    object = parent;
  }
  return links;
}

}  // namespace tornado::viz
