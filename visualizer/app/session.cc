#include "session.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <span>

#include "tornado/trace_file.h"

namespace tornado::viz {

using Clock = std::chrono::steady_clock;

namespace {

// A private directory for the program's socket, so no other user can dial it.
std::string make_temp_dir() {
  std::string base = std::filesystem::temp_directory_path().string() + "/tornado-viz-XXXXXX";
  if (::mkdtemp(base.data()) == nullptr) return {};
  return base;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

Session::Session(const AppOptions& options)
    : mode_(options.mode), model_(std::make_unique<Model>()) {
  try {
    open(options);
  } catch (const std::exception& e) {
    open_error_ = e.what();
  }
}

Session::~Session() {
  child_.reset();  // first: it may still be sending to the listener
  live_.reset();
  if (!temp_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
  }
}

void Session::open(const AppOptions& options) {
  switch (mode_) {
    case SourceMode::file: {
      source_ = options.file;
      trace::Trace t = trace::read_file(options.file);
      auto started = Clock::now();
      model_->ingest(t);
      ingest_time_ += Clock::now() - started;
      ingested_ += t.events.size();
      return;
    }
    case SourceMode::listen:
      source_ = options.listen;
      live_ = std::make_unique<LiveSource>(options.listen, options.save);
      return;
    case SourceMode::program:
      source_ = join(options.program);
      temp_dir_ = make_temp_dir();
      if (temp_dir_.empty()) throw std::runtime_error("cannot make a temporary directory");
      live_ = std::make_unique<LiveSource>("unix:" + temp_dir_ + "/trace.sock", options.save);
      child_ = std::make_unique<ChildProcess>(options.program, live_->spec());
      return;
  }
}

void Session::pump(std::chrono::milliseconds budget) {
  last_pump_events_ = 0;
  if (!live_) return;
  // Past this, batches stay with the reader, which then stops reading: the
  // program's rings fill and drop (and count), and the UI keeps drawing.
  constexpr std::uint64_t kMaxBacklog = 1u << 20;
  for (Batch& b : backlog_ < kMaxBacklog ? live_->take() : std::vector<Batch>{}) {
    backlog_ += b.events.size();
    pending_.push_back(std::move(b));
  }
  const auto started = Clock::now();
  while (!pending_.empty() && Clock::now() - started < budget) {
    if (ingest_some(pending_.front())) pending_.pop_front();
  }
  ingest_time_ += Clock::now() - started;
}

// A batch can hold millions of events (a fast program fills the socket
// faster than it drains): take it in slices so the time budget holds.
bool Session::ingest_some(Batch& batch) {
  constexpr std::size_t kSlice = 16384;
  if (pending_offset_ == 0) {
    if (batch.new_session && (model_->end() > 0 || !model_->error().empty())) {
      model_ = std::make_unique<Model>();  // another program: its ids mean other things
    }
    if (batch.header) model_->set_header(*batch.header);
    model_->add_strings(batch.strings);
  }
  std::size_t n = std::min(kSlice, batch.events.size() - pending_offset_);
  model_->add_events(std::span(batch.events).subspan(pending_offset_, n));
  pending_offset_ += n;
  ingested_ += n;
  last_pump_events_ += n;
  backlog_ -= n;
  if (pending_offset_ < batch.events.size()) return false;
  pending_offset_ = 0;
  return true;
}

std::string Session::error() const {
  if (!open_error_.empty()) return open_error_;
  if (!model_->error().empty()) return model_->error();
  if (live_) {
    std::string save = live_->save_error();
    if (!save.empty()) return save;
    return live_->status().error;
  }
  return {};
}

LiveStatus Session::live_status() const { return live_ ? live_->status() : LiveStatus{}; }

std::string Session::program_status() const { return child_ ? child_->describe() : ""; }

bool Session::program_done() {
  if (!child_) return !open_error_.empty();
  if (!child_->exited()) return false;
  if (child_exit_ == Clock::time_point{}) child_exit_ = Clock::now();
  LiveStatus s = live_->status();
  bool trace_over =
      s.ended || (s.sessions == 0 && Clock::now() - child_exit_ > std::chrono::seconds(1));
  return trace_over || Clock::now() - child_exit_ > std::chrono::seconds(5);
}

double Session::ingest_ns_per_event() const {
  if (ingested_ == 0) return 0;
  return static_cast<double>(ingest_time_.count()) / static_cast<double>(ingested_);
}

}  // namespace tornado::viz
