#include "live_source.h"

#include <poll.h>

#include <chrono>

namespace tornado::viz {

using std::chrono::milliseconds;

LiveSource::LiveSource(const std::string& spec, std::string save_path)
    : listener_(spec), spec_(listener_.spec()), save_path_(std::move(save_path)) {
  status_.spec = spec_;
  listener_.set_tap([this](std::string_view bytes) { tap(bytes); });
  thread_ = std::thread([this] { run(); });
}

LiveSource::~LiveSource() {
  stop_ = true;
  thread_.join();
}

std::vector<Batch> LiveSource::take() {
  std::lock_guard lock(mutex_);
  queued_events_ = 0;
  return std::exchange(queue_, {});
}

bool LiveSource::queue_full() const {
  std::lock_guard lock(mutex_);
  return queued_events_ >= kMaxQueued;
}

LiveStatus LiveSource::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

std::string LiveSource::save_error() const {
  std::lock_guard lock(mutex_);
  return save_error_;
}

// Short timeouts so the destructor never waits long for the thread.
void LiveSource::run() {
  while (!stop_) {
    pollfd p{listener_.listen_fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;  // nobody yet
    unsaved_.clear();
    if (!listener_.accept(milliseconds(2000))) {
      std::lock_guard lock(mutex_);
      status_.error = listener_.error();  // e.g. a newer format, or garbage
      continue;
    }
    start_saving();
    serve_one();
  }
}

// The header arrived inside accept(), before the file could be opened.
void LiveSource::start_saving() {
  if (save_path_.empty()) return;
  if (save_.is_open()) save_.close();
  save_.open(save_path_, std::ios::binary | std::ios::trunc);
  write_saved(unsaved_);
  unsaved_.clear();
}

// One program, from its header to its end.
void LiveSource::serve_one() {
  strings_sent_.clear();
  {
    std::lock_guard lock(mutex_);
    status_.connected = true;
    status_.ended = status_.complete = false;
    status_.error.clear();
    status_.bytes = 0;
    ++status_.sessions;
  }
  collect(true);
  bool open = true;
  while (open && !stop_) {
    if (queue_full()) {  // the UI is behind: let the socket (and the program's rings) hold the rest
      std::this_thread::sleep_for(milliseconds(5));
      continue;
    }
    open = listener_.read(milliseconds(50));
    collect(false);
  }
  listener_.disconnect();
  if (save_.is_open()) save_.flush();
  const trace::Trace& t = listener_.decoder().trace();
  std::lock_guard lock(mutex_);
  status_.connected = false;
  status_.ended = true;
  status_.complete = t.complete;
  if (t.error.empty() && !t.complete && !stop_) {
    status_.error = "the program's trace ended without its end record (it was killed or crashed)";
  } else {
    status_.error = t.error;
  }
}

// Queues what the decoder has decoded and not yet handed over.
void LiveSource::collect(bool new_session) {
  trace::StreamDecoder& decoder = listener_.decoder();
  Batch batch;
  batch.new_session = new_session;
  if (new_session) batch.header = decoder.trace().header;
  for (const auto& [id, text] : decoder.trace().strings) {
    if (strings_sent_.insert(id).second) batch.strings.emplace_back(id, text);
  }
  batch.events = decoder.take_events();
  if (!new_session && batch.strings.empty() && batch.events.empty()) return;
  std::lock_guard lock(mutex_);
  queued_events_ += batch.events.size();
  queue_.push_back(std::move(batch));
}

void LiveSource::tap(std::string_view bytes) {
  {
    std::lock_guard lock(mutex_);
    status_.bytes += bytes.size();
  }
  if (save_.is_open()) {
    write_saved(bytes);
  } else if (!save_path_.empty()) {
    unsaved_.append(bytes);
  }
}

void LiveSource::write_saved(std::string_view bytes) {
  save_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!save_) {
    save_.close();
    std::lock_guard lock(mutex_);
    save_error_ = "could not write " + save_path_;
  }
}

}  // namespace tornado::viz
