// What the two halves of step 12 share: main.cc is the server, run by every
// worker; demo.cc is the --demo scenario, which starts the workers and talks
// to them.
#pragma once

#include <cstdint>
#include <vector>

namespace cores {

/// Binds `count` listening sockets to one port on 127.0.0.1 (0: a free port,
/// which `port` then holds), all with SO_REUSEPORT.
std::vector<int> bind_one_port(std::uint16_t& port, int count);

/// Forks one worker per socket (fork_processes); returns only in the workers,
/// once each has served until SIGINT or SIGTERM. The caller becomes their
/// supervisor, restarting failed ones up to max_restarts times, until
/// SIGINT or SIGTERM makes it exit, and its workers with it.
int run_workers(const std::vector<int>& sockets, int max_restarts);

/// The --demo scenario: `workers` workers answer 20 requests each. Returns
/// the exit code.
int demo(int workers);

}  // namespace cores
