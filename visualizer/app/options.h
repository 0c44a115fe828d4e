// tornado-viz's command line:
//
//   tornado-viz -- PROGRAM ARGS...            run PROGRAM traced into the viewer
//   tornado-viz --listen unix:PATH|tcp:PORT   wait for programs run with TORNADO_TRACE
//   tornado-viz FILE                          replay a recording
//
// with, for any of them:
//   --save OUT.trace       also write the live session to a trace file
//   --headless             no window: render off-screen, write the outputs, exit
//   --screenshot OUT.png   the full UI as a PNG (headless)
//   --dump-state OUT.json  what each panel shows, as JSON (headless)
//   --at-event N           put the cursor after event N first
//   --after-seconds S      live: capture S seconds after starting
//   --size WxH             window size (default 1280x800)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tornado::viz {

enum class SourceMode : std::uint8_t { file, listen, program };

struct AppOptions {
  SourceMode mode = SourceMode::file;
  std::string file;                  // replay: the trace file
  std::string listen;                // --listen: "unix:PATH" or "tcp:HOST:PORT"
  std::vector<std::string> program;  // after --: the program and its arguments
  std::string save;
  bool headless = false;
  std::string screenshot;
  std::string dump_state;
  std::optional<std::uint64_t> at_event;
  std::optional<double> after_seconds;
  int width = 1280, height = 800;
};

/// The options in `args` (argv without argv[0]), or the reason they are wrong
/// in `error`.
std::optional<AppOptions> parse_options(const std::vector<std::string>& args, std::string& error);

/// The usage text, for --help and usage errors.
const char* usage_text();

/// "tcp:PORT" means 127.0.0.1:PORT; other specs pass through unchanged.
std::string normalize_listen_spec(const std::string& spec);

}  // namespace tornado::viz
