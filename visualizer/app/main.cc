// tornado-viz: shows a tornado-cpp program's event loop, live or from a
// recording. See options.h for the command line and docs/visualizer.md for a tour.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "options.h"
#include "run.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << tornado::viz::usage_text();
    return 0;
  }
  std::string error;
  auto options = tornado::viz::parse_options(args, error);
  if (!options) {
    std::cerr << "tornado-viz: " << error << "\n\n" << tornado::viz::usage_text();
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a program that hangs up is an error to show, not a death
  // Ctrl-C or SIGTERM closes the viewer properly, so a program it started is stopped too.
  for (int sig : {SIGINT, SIGTERM}) std::signal(sig, [](int) { tornado::viz::request_stop(); });
  return options->headless ? tornado::viz::run_headless(*options)
                           : tornado::viz::run_interactive(*options);
}
