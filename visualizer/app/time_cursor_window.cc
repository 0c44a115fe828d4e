#include "time_cursor_window.h"

#include <algorithm>
#include <iterator>

#include "widgets.h"

namespace tornado::viz {
namespace {

constexpr float kSpeeds[] = {0.01f, 0.1f, 0.5f, 1.0f, 2.0f, 10.0f, 100.0f};
constexpr const char* kSpeedNames[] = {"0.01x", "0.1x", "0.5x", "1x", "2x", "10x", "100x"};
constexpr std::uint64_t kMaxPlayStep = 1'000'000;  // events per frame, so a frame stays short

std::string live_line(const Session& session) {
  LiveStatus s = session.live_status();
  std::string line = "listening on " + s.spec;
  if (s.connected) line = "connected (" + std::to_string(s.bytes / 1024) + " KiB received)";
  if (s.ended) line = s.complete ? "the program finished its trace" : "the program went away";
  std::string program = session.program_status();
  if (!program.empty()) line += "; program " + program;
  return line;
}

}  // namespace

void TimeCursorWindow::status(Session& session) {
  const char* what = session.mode() == SourceMode::file     ? "replay: "
                     : session.mode() == SourceMode::listen ? "listen: "
                                                            : "run: ";
  ui::text(what + session.source());
  if (session.live()) {
    ImGui::SameLine();
    ui::text(ui::kDim, "  " + live_line(session));
  }
  std::string error = session.error();
  if (!error.empty()) {
    ImGui::SameLine();
    ui::text(ui::kError, "  error: " + error);
  }
}

void TimeCursorWindow::buttons(Model& model, bool live) {
  const std::uint64_t cursor = model.cursor();
  if (live) {
    bool following = model.following();
    if (ImGui::Checkbox("live", &following)) model.follow(following);
    ImGui::SameLine();
  }
  if (ImGui::Button(playing_ ? "pause" : "play")) {
    playing_ = !playing_;
    if (playing_ && !live && cursor >= model.end()) model.seek(model.first_index());
  }
  ImGui::SameLine();
  if (ImGui::ArrowButton("##previous_iteration", ImGuiDir_Left)) {
    if (auto i = model.previous_iteration(cursor > 0 ? cursor - 1 : 0)) model.seek(*i + 1);
    playing_ = false;
  }
  ImGui::SameLine();
  if (ImGui::Button("-1 event")) model.step(-1), playing_ = false;
  ImGui::SameLine();
  if (ImGui::Button("+1 event")) model.step(1), playing_ = false;
  ImGui::SameLine();
  if (ImGui::ArrowButton("##next_iteration", ImGuiDir_Right)) {
    if (auto i = model.next_iteration(cursor > 0 ? cursor - 1 : 0)) model.seek(*i + 1);
    playing_ = false;
  }
  ImGui::SameLine();
  ui::text("iteration");
  ImGui::SameLine();
  ImGui::SetNextItemWidth(70);
  ImGui::Combo("speed", &speed_, kSpeedNames, static_cast<int>(std::size(kSpeedNames)));
}

void TimeCursorWindow::scrubber(Model& model, const View& view) {
  const std::uint64_t first = model.first_index(), end = model.end();
  std::uint64_t cursor = model.cursor();
  ImGui::SetNextItemWidth(-280);
  if (ImGui::SliderScalar("##cursor", ImGuiDataType_U64, &cursor, &first, &end,
                          "after %llu events") &&
      cursor != model.cursor()) {
    model.seek(cursor);
    playing_ = false;
  }
  ImGui::SameLine();
  ui::text("of " + std::to_string(end) + ", at " + view.at(model.state().ts_ns));
}

// Moves the cursor as far as `seconds` of trace time, scaled by the speed.
void TimeCursorWindow::play(Model& model, bool live, double seconds) {
  if (!playing_ || model.following()) return;
  const auto advance =
      static_cast<std::uint64_t>(seconds * 1e9 * static_cast<double>(kSpeeds[speed_]));
  const std::uint64_t target = model.state().ts_ns + std::max<std::uint64_t>(advance, 1);
  std::uint64_t i = model.cursor();
  const std::uint64_t limit = std::min(model.end(), i + kMaxPlayStep);
  while (i < limit && model.event(i).ts_ns <= target) ++i;
  if (i == model.cursor() && i < model.end()) ++i;  // always make progress
  model.seek(i);
  if (i >= model.end()) {
    playing_ = false;
    if (live) model.follow(true);
  }
}

void TimeCursorWindow::draw(Session& session, View& view, double seconds) {
  Model& model = session.model();
  status(session);
  buttons(model, session.live());
  scrubber(model, view);
  play(model, session.live(), seconds);
}

}  // namespace tornado::viz
