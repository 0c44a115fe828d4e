// Streams (iostream.h): read_until throughput over a Unix socketpair, the
// line-protocol case (an HTTP header, a chat line). Each iteration sends
// 4 MiB of lines through one stream and reads them back one read_until at a
// time. Run:
//
//   build/release/bench/iostream_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tornado/concurrent.h"
#include "tornado/ioloop.h"
#include "tornado/iostream.h"

namespace {

using tornado::Future;
using tornado::IOLoop;
using tornado::IOStream;

constexpr std::size_t kBlock = 4 * 1024 * 1024;

// kBlock bytes of lines of `line_length` bytes (the last byte of each is '\n').
std::string lines(std::size_t line_length) {
  std::string block(kBlock, 'x');
  for (std::size_t i = line_length - 1; i < block.size(); i += line_length) block[i] = '\n';
  block.resize(kBlock / line_length * line_length);
  return block;
}

Future<std::size_t> read_lines(std::shared_ptr<IOStream> reader, std::size_t total) {
  std::size_t got = 0;
  while (got < total) got += (co_await reader->read_until("\n")).size();
  co_return got;
}

void BM_ReadUntilThroughput(benchmark::State& state) {
  IOLoop loop;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    state.SkipWithError("socketpair failed");
    return;
  }
  auto reader = std::make_shared<IOStream>(fds[0]);
  auto writer = std::make_shared<IOStream>(fds[1]);
  const std::string block = lines(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::size_t got = loop.run_sync([&]() -> Future<std::size_t> {
      Future<void> sent = writer->write(std::string_view(block));
      std::size_t n = co_await read_lines(reader, block.size());
      co_await sent;
      co_return n;
    });
    if (got != block.size()) state.SkipWithError("lost bytes");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * block.size()));
  reader->close();
  writer->close();
}
BENCHMARK(BM_ReadUntilThroughput)
    ->Arg(64)
    ->Arg(1024)
    ->Arg(64 * 1024)
    ->Unit(benchmark::kMillisecond);

}  // namespace
