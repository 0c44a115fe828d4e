#include "model/model.h"

#include <algorithm>

namespace tornado::viz {

using trace::Kind;

namespace {

constexpr auto kLastKind = static_cast<std::uint16_t>(Kind::snapshot_end);

}  // namespace

Model::Model(Options options) : options_(options) {
  if (options_.keyframe_interval == 0) options_.keyframe_interval = 1;
  if (options_.max_events != 0 && options_.max_events < options_.keyframe_interval) {
    options_.max_events = options_.keyframe_interval;
  }
  keyframes_.emplace_back();  // the empty state, at index 0
}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

// ---- Ingest -----------------------------------------------------------------

void Model::set_header(const trace::FileHeader& header) {
  if (header.major != trace::kFormatMajor) {
    error_ = "trace format " + std::to_string(header.major) + "." + std::to_string(header.minor) +
             ", this viewer reads " + std::to_string(trace::kFormatMajor) + ".x";
  }
  kind_map_.clear();
  if (header.kinds.empty()) return;  // no table: the numbers are ours
  kind_map_.assign(1u << 16, 0);
  for (const auto& [raw, name] : header.kinds) {
    for (std::uint16_t k = 1; k <= kLastKind; ++k) {
      if (trace::kind_name(static_cast<Kind>(k)) == name) kind_map_[raw] = k;
    }
  }
}

void Model::add_string(std::uint32_t id, std::string_view text) {
  if (id != 0) strings_[id] = std::string(text);
}

void Model::add_strings(std::span<const std::pair<std::uint32_t, std::string>> strings) {
  for (const auto& [id, text] : strings) add_string(id, text);
}

void Model::add_events(std::span<const trace::Event> events) {
  for (const trace::Event& e : events) add_event(e);
}

void Model::ingest(const trace::Trace& trace) {
  set_header(trace.header);
  for (const auto& [id, text] : trace.strings) add_string(id, text);
  add_events(trace.events);
  if (!trace.error.empty() && error_.empty()) {
    error_ = trace.error + " (at byte " + std::to_string(trace.error_offset) + ")";
  }
}

void Model::ingest(trace::StreamDecoder& decoder) {
  const trace::Trace& so_far = decoder.trace();
  if (!header_seen_ && decoder.has_header()) {
    set_header(so_far.header);
    header_seen_ = true;
  }
  if (so_far.strings.size() != strings_seen_) {  // the decoder only ever adds strings
    for (const auto& [id, text] : so_far.strings) add_string(id, text);
    strings_seen_ = so_far.strings.size();
  }
  add_events(decoder.take_events());
  if (decoder.failed() && error_.empty()) error_ = so_far.error;
}

trace::Kind Model::map_kind(std::uint16_t raw) const {
  // Kind 0 is no kind: the observer counts it as unknown.
  return static_cast<Kind>(kind_map_.empty() ? raw : kind_map_[raw]);
}

void Model::add_event(trace::Event event) {
  event.kind = map_kind(static_cast<std::uint16_t>(event.kind));
  const std::uint64_t interval = options_.keyframe_interval;
  if (chunks_.empty() || chunks_.back().size() == interval) {
    if (!chunks_.empty()) keyframes_.push_back(live_);  // the state where the new chunk starts
    chunks_.emplace_back().reserve(
        static_cast<std::size_t>(std::min<std::uint64_t>(interval, 65536)));
  }
  chunks_.back().push_back(event);
  causes_.note(event, end_);
  apply(live_, event);
  ++end_;
  if (options_.max_events != 0 && end_ - first_ > options_.max_events + interval) {
    forget_oldest_chunk();
  }
}

void Model::forget_oldest_chunk() {
  chunks_.pop_front();
  keyframes_.pop_front();
  first_ += options_.keyframe_interval;
  causes_.forget_before(first_);
  if (!following_ && cursor_.index < first_) seek(first_);
}

// ---- The log ----------------------------------------------------------------

const trace::Event& Model::event(std::uint64_t index) const {
  const std::uint64_t offset = index - first_;
  const std::uint64_t interval = options_.keyframe_interval;
  return chunks_[static_cast<std::size_t>(offset / interval)]
                [static_cast<std::size_t>(offset % interval)];
}

std::string_view Model::string(std::uint32_t id) const {
  auto it = strings_.find(id);
  return it == strings_.end() ? std::string_view{} : std::string_view{it->second};
}

FdKind Model::fd_kind(const Fd& fd) const {
  if (fd.kind != FdKind::user) return fd.kind;
  // A late attach sees the waker only as a snapshot_handler: know it by name.
  if (string(fd.name).starts_with("waker at ")) return FdKind::waker;
  if (string(fd.name).starts_with("accept at ")) return FdKind::listener;
  return fd.kind;
}

std::vector<std::uint64_t> Model::find(const EventFilter& filter, std::uint64_t from,
                                       std::size_t max) const {
  std::vector<std::uint64_t> found;
  for (std::uint64_t i = std::max(from, first_); i < end_ && found.size() < max; ++i) {
    const trace::Event& e = event(i);
    if (filter.passes(e, string(e.name))) found.push_back(i);
  }
  return found;
}

std::optional<std::uint64_t> Model::next_iteration(std::uint64_t from, std::uint16_t loop) const {
  for (std::uint64_t i = std::max(from + 1, first_); i < end_; ++i) {
    const trace::Event& e = event(i);
    if (e.kind == Kind::iteration_begin && (loop == 0 || e.loop == loop)) return i;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> Model::previous_iteration(std::uint64_t from,
                                                       std::uint16_t loop) const {
  for (std::uint64_t i = std::min(from, end_); i-- > first_;) {
    const trace::Event& e = event(i);
    if (e.kind == Kind::iteration_begin && (loop == 0 || e.loop == loop)) return i;
  }
  return std::nullopt;
}

// ---- The cursor -------------------------------------------------------------

void Model::seek(std::uint64_t index) {
  if (index >= end_) {
    following_ = true;
    return;
  }
  index = std::max(index, first_);
  following_ = false;
  const std::uint64_t interval = options_.keyframe_interval;
  const bool replay_from_cursor =
      cursor_.index >= first_ && cursor_.index <= index && index - cursor_.index < interval;
  if (!replay_from_cursor) {
    cursor_ = keyframes_[static_cast<std::size_t>((index - first_) / interval)];
  }
  while (cursor_.index < index) apply(cursor_, event(cursor_.index));
}

void Model::step(std::int64_t delta) {
  const std::uint64_t at = cursor();
  if (delta < 0) {
    const auto back = static_cast<std::uint64_t>(-(delta + 1)) + 1;
    seek(back > at ? 0 : at - back);
  } else {
    seek(at + static_cast<std::uint64_t>(delta));
  }
}

void Model::follow(bool live) {
  if (live == following_) return;
  if (!live) cursor_ = live_;
  following_ = live;
}

}  // namespace tornado::viz
