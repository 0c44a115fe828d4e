#include "dump.h"

#include <fstream>
#include <sstream>

#include "model/json_writer.h"
#include "model/state_json.h"

namespace tornado::viz {
namespace {

const char* mode_name(SourceMode mode) {
  switch (mode) {
    case SourceMode::file:
      return "file";
    case SourceMode::listen:
      return "listen";
    case SourceMode::program:
      return "program";
  }
  return "";
}

// The "viewer" object, as the first member of an outer object.
std::string viewer_json(const Session& session, const DumpExtras& extras) {
  std::ostringstream out;
  JsonWriter w(out);
  w.begin_object();
  w.begin_object("viewer");
  w.field("mode", mode_name(session.mode()));
  w.field("source", std::string_view{session.source()});
  w.field("error", std::string_view{session.error()});
  LiveStatus live = session.live_status();
  w.field("sessions", live.sessions);
  w.field("connected", live.connected);
  w.field("trace_complete", live.complete);
  w.field("program", std::string_view{session.program_status()});
  w.field("frames", extras.frames);
  w.field("width", std::int64_t{extras.width});
  w.field("height", std::int64_t{extras.height});
  w.field("window_error", std::string_view{extras.window_error});
  w.end_object();
  w.end_object();
  return out.str();
}

}  // namespace

bool write_dump(const std::string& path, const Session& session, const DumpExtras& extras) {
  std::string viewer = viewer_json(session, extras);  // {"viewer":{...}}
  std::string state = state_json(session.model());    // {"cursor":...}
  std::ofstream out(path);
  out << viewer.substr(0, viewer.size() - 1) << ',' << state.substr(1);
  return static_cast<bool>(out.flush());
}

}  // namespace tornado::viz
