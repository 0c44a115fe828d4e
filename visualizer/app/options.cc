#include "options.h"

#include <charconv>
#include <cstdlib>

namespace tornado::viz {
namespace {

bool parse_u64(const std::string& text, std::uint64_t& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end && !text.empty();
}

bool parse_seconds(const std::string& text, double& out) {
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && out >= 0 && out < 1e6;
}

bool parse_size(const std::string& text, int& width, int& height) {
  auto x = text.find('x');
  std::uint64_t w = 0, h = 0;
  if (x == std::string::npos || !parse_u64(text.substr(0, x), w) ||
      !parse_u64(text.substr(x + 1), h)) {
    return false;
  }
  if (w < 320 || h < 200 || w > 8192 || h > 8192) return false;
  width = static_cast<int>(w);
  height = static_cast<int>(h);
  return true;
}

// Reads the value of the option at args[i] into the options.
bool take_value(AppOptions& o, const std::string& flag, const std::string& value,
                std::string& error) {
  if (flag == "--listen") {
    o.listen = normalize_listen_spec(value);
    o.mode = SourceMode::listen;
  } else if (flag == "--save") {
    o.save = value;
  } else if (flag == "--screenshot") {
    o.screenshot = value;
  } else if (flag == "--dump-state") {
    o.dump_state = value;
  } else if (flag == "--at-event") {
    std::uint64_t n = 0;
    if (!parse_u64(value, n)) return error = "--at-event wants an event number", false;
    o.at_event = n;
  } else if (flag == "--after-seconds") {
    double s = 0;
    if (!parse_seconds(value, s)) return error = "--after-seconds wants seconds, e.g. 1.5", false;
    o.after_seconds = s;
  } else if (flag == "--size") {
    if (!parse_size(value, o.width, o.height)) {
      return error = "--size wants WxH between 320x200 and 8192x8192", false;
    }
  } else {
    return error = "unknown option " + flag, false;
  }
  return true;
}

bool takes_value(const std::string& flag) {
  return flag == "--listen" || flag == "--save" || flag == "--screenshot" ||
         flag == "--dump-state" || flag == "--at-event" || flag == "--after-seconds" ||
         flag == "--size";
}

// The checks that need every option at once.
bool consistent(const AppOptions& o, int sources, std::string& error) {
  if (sources != 1) {
    error = "give exactly one of FILE, --listen SPEC or -- PROGRAM ARGS";
  } else if (o.at_event && o.after_seconds) {
    error = "--at-event and --after-seconds are alternatives";
  } else if (o.mode == SourceMode::file && o.after_seconds) {
    error = "--after-seconds is for live sessions; a file replays at --at-event";
  } else if (o.mode == SourceMode::file && !o.save.empty()) {
    error = "--save records a live session; FILE is already a recording";
  } else if (o.headless && o.screenshot.empty() && o.dump_state.empty()) {
    error = "--headless needs --screenshot OUT.png or --dump-state OUT.json";
  } else if (!o.headless && (!o.screenshot.empty() || !o.dump_state.empty())) {
    error = "--screenshot and --dump-state are headless outputs: add --headless";
  } else if (o.mode == SourceMode::listen && o.headless && !o.after_seconds && !o.at_event) {
    error =
        "a headless --listen session needs --after-seconds S or --at-event N to know when to stop";
  } else {
    return true;
  }
  return false;
}

}  // namespace

std::string normalize_listen_spec(const std::string& spec) {
  if (spec.rfind("tcp:", 0) == 0 && spec.find(':', 4) == std::string::npos) {
    return "tcp:127.0.0.1:" + spec.substr(4);
  }
  return spec;
}

std::optional<AppOptions> parse_options(const std::vector<std::string>& args, std::string& error) {
  AppOptions o;
  int sources = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      o.program.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      if (o.program.empty()) return error = "-- needs a PROGRAM to run", std::nullopt;
      o.mode = SourceMode::program;
      ++sources;
      break;
    }
    if (arg == "--headless") {
      o.headless = true;
    } else if (takes_value(arg)) {
      if (i + 1 == args.size()) return error = arg + " needs a value", std::nullopt;
      if (!take_value(o, arg, args[++i], error)) return std::nullopt;
      if (arg == "--listen") ++sources;
    } else if (arg.rfind("--", 0) == 0) {
      return error = "unknown option " + arg, std::nullopt;
    } else {
      o.file = arg;
      o.mode = SourceMode::file;
      ++sources;
    }
  }
  if (!consistent(o, sources, error)) return std::nullopt;
  return o;
}

const char* usage_text() {
  return "usage:\n"
         "  tornado-viz [OPTIONS] -- PROGRAM ARGS...   run PROGRAM traced into the viewer\n"
         "  tornado-viz [OPTIONS] --listen unix:PATH|tcp:PORT|tcp:HOST:PORT\n"
         "                                             wait for programs run with TORNADO_TRACE\n"
         "  tornado-viz [OPTIONS] FILE                 replay a recording\n"
         "options:\n"
         "  --save OUT.trace       also write the live session to a trace file\n"
         "  --headless             render off-screen, write the outputs below, exit\n"
         "  --screenshot OUT.png   the whole window as a PNG\n"
         "  --dump-state OUT.json  what each panel shows, as JSON\n"
         "  --at-event N           the cursor after N events (live: once N have arrived)\n"
         "  --after-seconds S      live: capture S seconds after starting\n"
         "  --size WxH             window size (default 1280x800)\n"
         "exit status: 0 done (an unreadable trace is shown as an error, not a failure);\n"
         "2 usage error; 1 the outputs could not be written or the viewer could not start.\n";
}

}  // namespace tornado::viz
