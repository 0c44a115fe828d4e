// Specification of iostream.h: BaseIOStream reads, writes, closing and
// limits on TCP over 127.0.0.1, on a Unix socketpair and on a pipe; IOStream
// connect and socket peers that misbehave; a real peer (nc); a property test
// over random chunkings (ported in part from Tornado's iostream_test.py).
#include "tornado/iostream.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "support.h"
#include "tornado/errors.h"
#include "tornado/gen.h"
#include "tornado/ioloop.h"
#include "tornado/netutil.h"
#include "tornado/testing.h"

namespace tornado {
namespace {

using test_support::kTestTimeout;
using test_support::wait;

// ---- Fixtures --------------------------------------------------------------------

// A connected TCP pair on 127.0.0.1 (blocking fds; streams make them non-blocking).
std::pair<int, int> tcp_pair() {
  int listener = bind_sockets(0, "127.0.0.1").at(0);
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&storage), &length);
  SocketAddress address =
      SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::connect(client, address.data(), address.size()), 0);
  pollfd p{listener, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1);
  int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(listener);
  return {client, server};
}

enum class Transport { tcp, socketpair, pipe };

std::string transport_name(const ::testing::TestParamInfo<Transport>& info) {
  static const char* const kNames[] = {"Tcp", "Socketpair", "Pipe"};
  return kNames[static_cast<int>(info.param)];
}

// `reader` receives what `writer` sends.
struct Ends {
  std::shared_ptr<BaseIOStream> reader;
  std::shared_ptr<BaseIOStream> writer;
};

Ends make_ends(Transport transport, const StreamOptions& reader_options = {},
               const StreamOptions& writer_options = {}) {
  int fds[2];
  switch (transport) {
    case Transport::tcp: {
      auto [a, b] = tcp_pair();
      return {std::make_shared<IOStream>(a, reader_options),
              std::make_shared<IOStream>(b, writer_options)};
    }
    case Transport::socketpair:
      EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
      return {std::make_shared<IOStream>(fds[0], reader_options),
              std::make_shared<IOStream>(fds[1], writer_options)};
    case Transport::pipe:
      EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
      return {std::make_shared<PipeIOStream>(fds[0], reader_options),
              std::make_shared<PipeIOStream>(fds[1], writer_options)};
  }
  return {};
}

using test_support::LoopTest;

class StreamTest : public LoopTest, public ::testing::WithParamInterface<Transport> {
 protected:
  Ends ends(const StreamOptions& reader_options = {}, const StreamOptions& writer_options = {}) {
    return make_ends(GetParam(), reader_options, writer_options);
  }
};

INSTANTIATE_TEST_SUITE_P(Transports, StreamTest,
                         ::testing::Values(Transport::tcp, Transport::socketpair, Transport::pipe),
                         transport_name);

// The cause inside the StreamClosedError `f` failed with.
template <class T>
std::exception_ptr closed_cause(IOLoop& loop, Future<T> f) {
  try {
    wait(loop, f);
  } catch (const StreamClosedError& e) {
    return e.real_error();
  }
  ADD_FAILURE() << "expected StreamClosedError";
  return nullptr;
}

template <class E>
bool holds(const std::exception_ptr& cause) {
  try {
    if (cause) std::rethrow_exception(cause);
  } catch (const E&) {
    return true;
  } catch (...) {
  }
  return false;
}

// A Future resolved by the stream's close callback, counting its runs.
Future<void> closed_signal(BaseIOStream& stream, int& runs) {
  Future<void> done;
  stream.set_close_callback([done, &runs]() mutable {
    ++runs;
    done.set_result();
  });
  return done;
}

// ---- Reading ---------------------------------------------------------------------

TEST_P(StreamTest, ReadBytesResolvesWithExactlyNBytes) {
  Ends e = ends();
  (void)e.writer->write("hello world");
  EXPECT_EQ(wait(loop(), e.reader->read_bytes(5)), "hello");
  EXPECT_EQ(wait(loop(), e.reader->read_bytes(6)), " world");
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, ReadBytesPartialResolvesWithWhateverArrivedFirst) {
  Ends e = ends();
  (void)e.writer->write("abc");
  EXPECT_EQ(wait(loop(), e.reader->read_bytes(100, true)), "abc");
  (void)e.writer->write("defgh");
  EXPECT_EQ(wait(loop(), e.reader->read_bytes(2, true)), "de");
  EXPECT_EQ(wait(loop(), e.reader->read_bytes(0)), "");
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, ReadUntilFindsADelimiterSplitAcrossArrivals) {
  Ends e = ends();
  Future<std::string> line = e.reader->read_until("\r\n");
  (void)e.writer->write("first\r");
  loop().call_later(std::chrono::milliseconds(20), [&] { (void)e.writer->write("\nsecond\r\n"); });
  EXPECT_EQ(wait(loop(), line), "first\r\n");
  EXPECT_EQ(wait(loop(), e.reader->read_until("\r\n")), "second\r\n");
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, ReadUntilRegexEndsAtTheFirstMatch) {
  Ends e = ends();
  (void)e.writer->write("header: 12;34;rest");
  EXPECT_EQ(wait(loop(), e.reader->read_until_regex("[0-9]+;")), "header: 12;");
  EXPECT_EQ(wait(loop(), e.reader->read_until_regex("[0-9]+;")), "34;");
  EXPECT_THROW((void)e.reader->read_until_regex("(unclosed"), ValueError);
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, ReadIntoFillsTheCallersBuffer) {
  Ends e = ends();
  std::string buffer(8, '.');
  Future<std::size_t> n = e.reader->read_into(buffer);
  (void)e.writer->write("0123");
  loop().call_later(std::chrono::milliseconds(10), [&] { (void)e.writer->write("456789"); });
  EXPECT_EQ(wait(loop(), n), 8u);
  EXPECT_EQ(buffer, "01234567");
  std::string rest(10, '.');
  EXPECT_EQ(wait(loop(), e.reader->read_into(std::span<char>(rest), true)), 2u);
  EXPECT_EQ(rest.substr(0, 2), "89");
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, ReadUntilCloseResolvesWithEverythingAndDoesNotFail) {
  Ends e = ends();
  Future<std::string> all = e.reader->read_until_close();
  (void)e.writer->write("one ");
  loop().call_later(std::chrono::milliseconds(10), [&] {
    (void)e.writer->write("two");
    e.writer->close();
  });
  EXPECT_EQ(wait(loop(), all), "one two");
  EXPECT_TRUE(e.reader->closed());
  EXPECT_EQ(e.reader->error(), nullptr);
  // On a closed stream it resolves at once with what is left (nothing).
  EXPECT_EQ(wait(loop(), e.reader->read_until_close()), "");
}

TEST_P(StreamTest, DataReceivedBeforeThePeerClosedStaysReadable) {
  Ends e = ends();
  int runs = 0;
  Future<void> closed = closed_signal(*e.reader, runs);
  (void)e.writer->write("abcdef");
  EXPECT_EQ(wait(loop(), e.reader->read_bytes(1)), "a");
  e.writer->close();
  Future<std::string> more = e.reader->read_bytes(2);
  EXPECT_EQ(wait(loop(), more), "bc");
  // Let the stream notice the close: an unsatisfiable read makes it look.
  EXPECT_EQ(closed_cause(loop(), e.reader->read_bytes(10)), nullptr);
  wait(loop(), closed);
  EXPECT_TRUE(e.reader->closed());
  EXPECT_EQ(wait(loop(), e.reader->read_bytes(3)), "def");
  EXPECT_THROW((void)e.reader->read_bytes(1), StreamClosedError);
  EXPECT_THROW((void)e.reader->read_until("x"), StreamClosedError);
  EXPECT_EQ(runs, 1);
}

TEST_P(StreamTest, PendingReadFailsBeforeTheCloseCallbackRuns) {
  Ends e = ends();
  std::vector<std::string> order;
  int runs = 0;
  Future<void> closed;
  e.reader->set_close_callback([&, closed]() mutable {
    order.push_back("close callback");
    ++runs;
    closed.set_result();
  });
  Future<std::string> read = e.reader->read_bytes(10);
  read.add_done_callback([&](Future<std::string> f) {
    order.push_back(f.exception() ? "read failed" : "read succeeded");
  });
  Future<void> write = e.writer->write("short");
  e.writer->close();
  wait(loop(), closed);
  EXPECT_EQ(order, (std::vector<std::string>{"read failed", "close callback"}));
  EXPECT_EQ(runs, 1);
  // close() again changes nothing and does not call the callback again.
  e.reader->close();
  testing::run_one_iteration(loop());
  EXPECT_EQ(runs, 1);
}

TEST_P(StreamTest, CloseCallbackRunsOnALaterIteration) {
  Ends e = ends();
  int runs = 0;
  Future<void> closed = closed_signal(*e.reader, runs);
  e.reader->close();
  EXPECT_EQ(runs, 0);
  wait(loop(), closed);
  EXPECT_EQ(runs, 1);
  e.writer->close();
}

TEST_P(StreamTest, ASecondConcurrentReadThrowsUsageError) {
  Ends e = ends();
  Future<std::string> first = e.reader->read_bytes(1);
  EXPECT_THROW((void)e.reader->read_until("\n"), UsageError);
  EXPECT_TRUE(e.reader->reading());
  (void)e.writer->write("x");
  EXPECT_EQ(wait(loop(), first), "x");
  EXPECT_FALSE(e.reader->reading());
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, ReadUntilPastMaxBytesClosesWithUnsatisfiableReadError) {
  Ends e = ends();
  (void)e.writer->write("no delimiter in these twenty-odd bytes");
  auto cause = closed_cause(loop(), e.reader->read_until("\n", 16));
  EXPECT_TRUE(holds<UnsatisfiableReadError>(cause));
  EXPECT_TRUE(e.reader->closed());
  EXPECT_TRUE(holds<UnsatisfiableReadError>(e.reader->error()));
  e.writer->close();
}

TEST_P(StreamTest, ReadUntilWithinMaxBytesSucceeds) {
  Ends e = ends();
  (void)e.writer->write("abcd\nefgh\n");
  EXPECT_EQ(wait(loop(), e.reader->read_until("\n", 5)), "abcd\n");
  auto cause = closed_cause(loop(), e.reader->read_until_regex("z", 4));
  EXPECT_TRUE(holds<UnsatisfiableReadError>(cause));
  e.writer->close();
}

TEST_P(StreamTest, PassingMaxBufferSizeClosesWithStreamBufferFullError) {
  StreamOptions small;
  small.max_buffer_size = 1024;
  Ends e = ends(small);
  testing::LogCapture logs;
  (void)e.writer->write(std::string(4096, 'x'));
  auto cause = closed_cause(loop(), e.reader->read_until("\n"));
  EXPECT_TRUE(holds<StreamBufferFullError>(cause));
  EXPECT_TRUE(logs.contains("maximum read buffer size"));
  e.writer->close();
}

TEST_P(StreamTest, SmallReadsFromALargeSenderStayWithinASmallBuffer) {
  // Tornado's test_small_reads_from_large_buffer: the stream pulls only
  // what each read needs, so 10 KiB of buffer carries 1 MiB.
  StreamOptions small;
  small.max_buffer_size = 10 * 1024;
  Ends e = ends(small);
  std::string data(1024 * 1024, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  Future<void> sent = e.writer->write(std::string(data));
  std::string got = loop().run_sync(
      [&]() -> Future<std::string> {
        std::string all;
        while (all.size() < data.size()) {
          all += co_await e.reader->read_bytes(1024);
          EXPECT_LE(e.reader->stats().read_buffer, small.max_buffer_size);
        }
        co_return all;
      },
      kTestTimeout);
  EXPECT_TRUE(got == data);
  wait(loop(), sent);
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, StreamingReadBytesSendsChunksThenResolvesEmpty) {
  Ends e = ends();
  std::string streamed;
  int chunks = 0;
  Future<std::string> done = e.reader->read_bytes(10, [&](std::string chunk) {
    streamed += chunk;
    ++chunks;
  });
  (void)e.writer->write("01234");
  loop().call_later(std::chrono::milliseconds(10), [&] { (void)e.writer->write("56789extra"); });
  EXPECT_EQ(wait(loop(), done), "");
  EXPECT_EQ(streamed, "0123456789");
  EXPECT_GE(chunks, 1);
  EXPECT_EQ(wait(loop(), e.reader->read_bytes(5)), "extra");
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, StreamingReadUntilCloseSendsEverythingToTheCallback) {
  Ends e = ends();
  std::string streamed;
  Future<std::string> done =
      e.reader->read_until_close([&](std::string chunk) { streamed += chunk; });
  (void)e.writer->write("stream");
  loop().call_later(std::chrono::milliseconds(10), [&] {
    (void)e.writer->write("ing");
    e.writer->close();
  });
  EXPECT_EQ(wait(loop(), done), "");
  EXPECT_EQ(streamed, "streaming");
}

// ---- Writing ---------------------------------------------------------------------

TEST_P(StreamTest, LargeWriteArrivesIntactAndItsFutureResolves) {
  Ends e = ends();
  std::string data(4 * 1024 * 1024, '\0');
  std::mt19937 random(7);
  for (char& c : data) c = static_cast<char>(random());
  Future<void> sent = e.writer->write(std::string_view(data));
  Future<void> empty = e.writer->write(std::string());
  EXPECT_TRUE(e.writer->writing());
  EXPECT_TRUE(wait(loop(), e.reader->read_bytes(data.size())) == data);
  wait(loop(), sent);
  wait(loop(), empty);
  EXPECT_FALSE(e.writer->writing());
  EXPECT_EQ(e.writer->stats().bytes_written, data.size());
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, WritesResolveInOrder) {
  Ends e = ends();
  std::vector<int> order;
  std::vector<Future<void>> writes;
  for (int i = 0; i < 5; ++i) {
    writes.push_back(e.writer->write(std::string(100 * 1024, static_cast<char>('0' + i))));
    writes.back().add_done_callback([&order, i](Future<void>) { order.push_back(i); });
  }
  std::string all = wait(loop(), e.reader->read_bytes(5 * 100 * 1024));
  for (auto& w : writes) wait(loop(), w);
  testing::run_one_iteration(loop());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(all.substr(400 * 1024, 3), "444");
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, WritePastMaxWriteBufferSizeThrowsAndQueuesNothing) {
  StreamOptions limited;
  limited.max_write_buffer_size = 64 * 1024;
  Ends e = ends({}, limited);
  // Fill the fd until data stays queued (the reader does not read yet).
  while (!e.writer->writing()) (void)e.writer->write(std::string(16 * 1024, 'a'));
  std::size_t queued = e.writer->stats().write_buffer;
  EXPECT_THROW((void)e.writer->write(std::string(64 * 1024, 'b')), StreamBufferFullError);
  EXPECT_EQ(e.writer->stats().write_buffer, queued);
  e.reader->close();
  e.writer->close();
}

// The same limit set on a stream made without it, as a TCPServer handler
// does; set back to none, the same write is queued.
TEST_P(StreamTest, WriteBufferLimitCanBeSetOnAnOpenStream) {
  Ends e = ends();
  while (!e.writer->writing()) (void)e.writer->write(std::string(16 * 1024, 'a'));
  std::size_t queued = e.writer->stats().write_buffer;
  e.writer->set_max_write_buffer_size(queued + 1024);
  EXPECT_THROW((void)e.writer->write(std::string(2048, 'b')), StreamBufferFullError);
  EXPECT_EQ(e.writer->stats().write_buffer, queued);
  // Up to the limit is allowed. (Each write also sends what the fd takes
  // now, so the queue may be shorter than the sum afterwards.)
  EXPECT_NO_THROW((void)e.writer->write(std::string(1024, 'c')));
  EXPECT_LE(e.writer->stats().write_buffer, queued + 1024);
  e.writer->set_max_write_buffer_size(std::nullopt);
  EXPECT_NO_THROW((void)e.writer->write(std::string(256 * 1024, 'b')));
  e.reader->close();
  e.writer->close();
}

TEST_P(StreamTest, CloseDiscardsUnsentDataAndFailsPendingWrites) {
  Ends e = ends();
  Future<void> write;
  while (!e.writer->writing()) write = e.writer->write(std::string(64 * 1024, 'a'));
  e.writer->close();
  EXPECT_EQ(e.writer->stats().write_buffer, 0u);
  EXPECT_EQ(closed_cause(loop(), write), nullptr);
  EXPECT_THROW((void)e.writer->write("more"), StreamClosedError);
  e.reader->close();
}

TEST_P(StreamTest, DroppingTheLastReferenceToAnIdleStreamClosesItsFd) {
  Ends e = ends();
  e.reader.reset();
  e.writer.reset();  // the TearDown fd count checks both are gone
}

TEST_P(StreamTest, StreamingReadUntilCloseAfterTheCloseStillDeliversTheBuffer) {
  Ends e = ends();
  int runs = 0;
  Future<void> closed = closed_signal(*e.reader, runs);
  (void)e.writer->write("left over");
  e.writer->close();
  EXPECT_EQ(closed_cause(loop(), e.reader->read_bytes(100)), nullptr);  // notices the close
  wait(loop(), closed);
  std::string streamed;
  Future<std::string> done =
      e.reader->read_until_close([&](std::string chunk) { streamed += chunk; });
  EXPECT_EQ(wait(loop(), done), "");
  EXPECT_EQ(streamed, "left over");
}

// ---- Lifetime ----------------------------------------------------------------------

TEST_P(StreamTest, ACloseCallbackMayHoldTheLastReference) {
  Ends e = ends();
  std::weak_ptr<BaseIOStream> watch = e.reader;
  Future<void> called;
  e.reader->set_close_callback([stream = e.reader, called]() mutable {
    EXPECT_TRUE(stream->closed());
    called.set_result();
  });
  e.reader.reset();  // the callback (and the loop, while it listens) keep it alive
  EXPECT_FALSE(watch.expired());
  e.writer->close();
  wait(loop(), called);
  testing::run_one_iteration(loop());
  EXPECT_TRUE(watch.expired());
}

Future<std::string> read_line_owning(std::shared_ptr<BaseIOStream> stream) {
  std::string line = co_await stream->read_until("\n");
  stream->close();
  co_return line;
}

TEST_P(StreamTest, ACoroutineMayHoldTheLastReference) {
  Ends e = ends();
  std::weak_ptr<BaseIOStream> watch = e.reader;
  Future<std::string> line = read_line_owning(std::move(e.reader));
  EXPECT_FALSE(watch.expired());
  (void)e.writer->write("owned\n");
  EXPECT_EQ(wait(loop(), line), "owned\n");
  testing::run_one_iteration(loop());
  EXPECT_TRUE(watch.expired());
  e.writer->close();
}

// ---- Tracing ---------------------------------------------------------------------

TEST(StreamTrace, OpenReadWriteAndCloseAreTraced) {
  trace::MemorySink sink;
  testing::ScopedTrace scoped(sink);
  testing::CurrentLoop loop;
  Ends e = make_ends(Transport::socketpair);
  (void)e.writer->write("ping");
  EXPECT_EQ(wait(loop, e.reader->read_bytes(4)), "ping");
  e.reader->close(std::make_error_code(std::errc::connection_reset));
  e.writer->close();
  std::vector<trace::Kind> seen;
  std::uint64_t reset_errno = 0;
  for (const trace::Event& ev : sink.events()) {
    if (ev.object != e.reader->trace_id() && ev.object != e.writer->trace_id()) continue;
    seen.push_back(ev.kind);
    if (ev.kind == trace::Kind::stream_closed && ev.object == e.reader->trace_id())
      reset_errno = ev.a;
    if (ev.kind == trace::Kind::stream_read) {
      EXPECT_EQ(ev.a, 4u);
      EXPECT_EQ(ev.b, 4u);
    }
  }
  auto count = [&](trace::Kind k) { return std::count(seen.begin(), seen.end(), k); };
  EXPECT_EQ(count(trace::Kind::stream_opened), 2);
  EXPECT_EQ(count(trace::Kind::stream_written), 1);
  EXPECT_EQ(count(trace::Kind::stream_read), 1);
  EXPECT_EQ(count(trace::Kind::stream_closed), 2);
  EXPECT_EQ(reset_errno, static_cast<std::uint64_t>(ECONNRESET));
}

// ---- Sockets: connecting and misbehaving peers -----------------------------------

using SocketTest = LoopTest;

struct Listener {
  int fd;
  SocketAddress address;
  Listener() : fd(bind_sockets(0, "127.0.0.1").at(0)) {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
    address = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&storage), length);
  }
  ~Listener() { ::close(fd); }
  int accept() {
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 5000), 1);
    return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  }
};

TEST_F(SocketTest, ConnectSendsWritesIssuedBeforeTheConnectionCompleted) {
  Listener listener;
  auto client = std::make_shared<IOStream>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  Future<void> connected = client->connect(listener.address);
  Future<void> sent = client->write("early bird");
  wait(loop(), connected);
  wait(loop(), sent);
  auto server = std::make_shared<IOStream>(listener.accept());
  EXPECT_EQ(wait(loop(), server->read_bytes(10)), "early bird");
  EXPECT_NE(client->describe().find("127.0.0.1"), std::string::npos) << client->describe();
  client->set_nodelay(true);
  client->close();
  server->close();
}

TEST_F(SocketTest, ConnectToAClosedPortFailsWithConnectionRefused) {
  SocketAddress nowhere;
  {
    Listener listener;
    nowhere = listener.address;
  }
  auto client = std::make_shared<IOStream>(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int runs = 0;
  Future<void> closed = closed_signal(*client, runs);
  try {
    wait(loop(), client->connect(nowhere));
    ADD_FAILURE() << "connect succeeded";
  } catch (const StreamClosedError& e) {
    EXPECT_EQ(e.code(), std::errc::connection_refused) << e.what();
  }
  wait(loop(), closed);
  EXPECT_EQ(runs, 1);
}

// A peer that resets the connection (SO_LINGER 0 then close) while we write.
TEST_F(SocketTest, ResetMidWriteFailsTheWriteWithTheResetAsCause) {
  auto [a, b] = tcp_pair();
  auto stream = std::make_shared<IOStream>(a);
  Future<void> write;
  while (!stream->writing()) write = stream->write(std::string(256 * 1024, 'x'));
  linger reset{1, 0};
  ::setsockopt(b, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(b);
  try {
    wait(loop(), write);
    ADD_FAILURE() << "the write succeeded";
  } catch (const StreamClosedError& e) {
    EXPECT_TRUE(e.code() == std::errc::connection_reset || e.code() == std::errc::broken_pipe)
        << e.what();
  }
  EXPECT_TRUE(stream->closed());
}

TEST_F(SocketTest, ResetWhileReadingFailsTheReadWithConnectionReset) {
  auto [a, b] = tcp_pair();
  auto stream = std::make_shared<IOStream>(a);
  Future<std::string> read = stream->read_until("\n");
  (void)::send(b, "partial", 7, 0);
  loop().call_later(std::chrono::milliseconds(20), [b = b] {
    char junk[16];
    (void)::recv(b, junk, sizeof junk, MSG_DONTWAIT);
    linger reset{1, 0};
    ::setsockopt(b, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(b);
  });
  (void)stream->write("unread by the peer, so close sends RST");
  auto cause = closed_cause(loop(), read);
  try {
    std::rethrow_exception(cause);
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::connection_reset);
  } catch (...) {
    ADD_FAILURE() << "cause is not a system_error";
  }
}

TEST_F(SocketTest, AnErrorReadingTheFdClosesWithThatErrorAsCause) {
  // Tornado's test_inline_read_error: the fd under the stream stops being a
  // socket (a pipe end takes its number), so recv(2) fails with ENOTSOCK.
  auto [a, b] = tcp_pair();
  auto stream = std::make_shared<IOStream>(a);
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  ASSERT_EQ(::dup2(pipe_fds[1], a), a);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  testing::LogCapture logs;
  Future<std::string> read = stream->read_bytes(1);
  try {
    wait(loop(), read);
    ADD_FAILURE() << "the read succeeded";
  } catch (const StreamClosedError& err) {
    EXPECT_EQ(err.code(), std::error_code(ENOTSOCK, std::system_category())) << err.what();
    EXPECT_NE(std::string(err.what()).find("Socket operation on non-socket"), std::string::npos);
  }
  EXPECT_TRUE(logs.contains("Read error on IOStream"));
  EXPECT_TRUE(stream->closed());
  ::close(b);
}

TEST_F(SocketTest, HalfClosedPeerCanStillBeWrittenTo) {
  auto [a, b] = tcp_pair();
  auto stream = std::make_shared<IOStream>(a);
  (void)::send(b, "request", 7, 0);
  ::shutdown(b, SHUT_WR);
  EXPECT_EQ(wait(loop(), stream->read_until_close()), "request");
  EXPECT_TRUE(stream->closed());
  // Our side closed on EOF (as Tornado does); the peer sees our FIN, not an error.
  char buffer[8];
  EXPECT_EQ(::recv(b, buffer, sizeof buffer, 0), 0);
  ::close(b);
}

TEST_F(SocketTest, GarbagePeerClosesOnlyItsOwnConnection) {
  auto [bad_a, bad_b] = tcp_pair();
  auto [good_a, good_b] = tcp_pair();
  auto bad = std::make_shared<IOStream>(bad_a);
  auto good = std::make_shared<IOStream>(good_a);
  auto good_peer = std::make_shared<IOStream>(good_b);
  std::string garbage(4096, '\0');
  std::mt19937 random(1);
  for (char& c : garbage) c = static_cast<char>('A' + random() % 26);  // never a newline
  (void)::send(bad_b, garbage.data(), garbage.size(), 0);
  Future<std::string> bad_line = bad->read_until("\n", 1024);
  Future<std::string> good_line = good->read_until("\n", 1024);
  (void)good_peer->write("GET /\n");
  EXPECT_TRUE(holds<UnsatisfiableReadError>(closed_cause(loop(), bad_line)));
  EXPECT_EQ(wait(loop(), good_line), "GET /\n");
  (void)good->write("200 OK\n");
  EXPECT_EQ(wait(loop(), good_peer->read_until("\n")), "200 OK\n");
  EXPECT_FALSE(good->closed());
  ::close(bad_b);
  good->close();
  good_peer->close();
}

TEST_F(SocketTest, SilentPeerTimesOutWithoutClosingTheStream) {
  auto [a, b] = tcp_pair();
  auto stream = std::make_shared<IOStream>(a);
  Future<std::string> read = stream->read_bytes(1);
  EXPECT_THROW(wait(loop(), gen::with_timeout(std::chrono::milliseconds(50), read)), TimeoutError);
  EXPECT_FALSE(stream->closed());
  EXPECT_TRUE(stream->reading());
  stream->close();
  EXPECT_EQ(closed_cause(loop(), read), nullptr);
  ::close(b);
}

TEST_F(SocketTest, ReadUntilOverManyOneByteArrivalsIsLinear) {
  // The reader sees each byte in its own loop iteration; a search that
  // started over each time would examine ~n^2/2 bytes.
  constexpr std::size_t kBytes = 200'000;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto reader = std::make_shared<IOStream>(fds[0]);
  auto writer = std::make_shared<IOStream>(fds[1]);
  Future<std::string> line = reader->read_until("\r\n");
  std::string got = loop().run_sync(
      [&]() -> Future<std::string> {
        for (std::size_t i = 0; i < kBytes; ++i) {
          co_await writer->write(i + 2 == kBytes ? "\r" : i + 1 == kBytes ? "\n" : "x");
        }
        co_return co_await line;
      },
      std::chrono::seconds(40));
  EXPECT_EQ(got.size(), kBytes);
  EXPECT_GT(reader->stats().bytes_read, 0u);
  EXPECT_LE(reader->stats().bytes_scanned, 2 * kBytes);
  reader->close();
  writer->close();
}

TEST_F(SocketTest, ReadUntilRegexHandlesAOneMebibyteBuffer) {
  // std::regex would recurse once per character here and overflow the stack.
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto reader = std::make_shared<IOStream>(fds[0]);
  auto writer = std::make_shared<IOStream>(fds[1]);
  std::string data(1024 * 1024, 'a');
  data[500'000] = 'b';
  data += "c";
  (void)writer->write(std::string(data));
  EXPECT_TRUE(wait(loop(), reader->read_until_regex("(?:a|b)*c")) == data);
  reader->close();
  writer->close();
}

TEST_F(SocketTest, NetcatPeerRoundTrip) {
  // A real peer: nc connects, sends its stdin (then shuts down its side with
  // -N), and prints what we answer.
  Listener listener;
  int to_nc[2];
  int from_nc[2];
  ASSERT_EQ(::pipe2(to_nc, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(from_nc, O_CLOEXEC), 0);
  std::string port = std::to_string(listener.address.port());
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(to_nc[0], 0);
    ::dup2(from_nc[1], 1);
    ::execlp("nc", "nc", "-N", "127.0.0.1", port.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(to_nc[0]);
  ::close(from_nc[1]);
  auto nc_stdin = std::make_shared<PipeIOStream>(to_nc[1]);
  auto nc_stdout = std::make_shared<PipeIOStream>(from_nc[0]);
  auto server = std::make_shared<IOStream>(listener.accept());
  (void)nc_stdin->write("hello from nc\n");
  nc_stdin->close();
  EXPECT_EQ(wait(loop(), server->read_until("\n")), "hello from nc\n");
  (void)server->write("hello from tornado\n");
  EXPECT_EQ(wait(loop(), server->read_until_close()), "");  // nc -N shut down its side
  EXPECT_EQ(wait(loop(), nc_stdout->read_until_close()), "hello from tornado\n");
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(SocketTest, AStreamNotOwnedByASharedPtrIsRefusedWhenItMustWait) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  IOStream stack_stream(fds[0]);
  EXPECT_THROW((void)stack_stream.read_bytes(1), UsageError);
  stack_stream.close();
  ::close(fds[1]);
}

// ---- Property: chunking does not change what reads return --------------------------

// One read in a random sequence, and the model's answer for it.
struct Op {
  enum Kind { bytes, partial, until, regex } kind;
  std::size_t n = 0;
};

// The first match of [0-9]+; at or after `from`, as its end, or npos.
std::size_t model_regex_end(const std::string& s, std::size_t from) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) continue;
    std::size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j < s.size() && s[j] == ';') return j + 1;
    i = j - 1;
  }
  return std::string::npos;
}

// Sends `data` in random pieces, one per loop iteration, then closes.
Future<void> deliver_in_pieces(std::shared_ptr<BaseIOStream> writer, const std::string& data,
                               std::mt19937& random) {
  for (std::size_t at = 0; at < data.size();) {
    std::size_t n = std::min<std::size_t>(1 + random() % 300, data.size() - at);
    co_await writer->write(std::string_view(data).substr(at, n));
    at += n;
    co_await gen::moment;
  }
  writer->close();
}

TEST_F(SocketTest, RandomChunkingsGiveTheSameReadResults) {
  for (unsigned seed = 1; seed <= 12; ++seed) {
    std::mt19937 random(seed);
    std::string alphabet = "abc0123;\n";
    std::string data(4000 + random() % 4000, '\0');
    for (char& c : data) c = alphabet[random() % alphabet.size()];
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    StreamOptions tiny;
    tiny.read_chunk_size = 1 + random() % 64;
    auto reader = std::make_shared<IOStream>(fds[0], tiny);
    auto writer = std::make_shared<IOStream>(fds[1]);
    std::string consumed = loop().run_sync(
        [&]() -> Future<std::string> {
          Future<void> delivered = deliver_in_pieces(writer, data, random);
          std::string all;
          std::mt19937 ops(seed * 7919);
          while (true) {
            std::size_t at = all.size();
            switch (ops() % 4) {
              case 0: {
                std::size_t n = 1 + ops() % 200;
                if (at + n > data.size()) co_return all + co_await reader->read_until_close();
                std::string got = co_await reader->read_bytes(n);
                EXPECT_EQ(got, data.substr(at, n)) << "seed " << seed;
                all += got;
                break;
              }
              case 1: {
                if (at == data.size()) co_return all + co_await reader->read_until_close();
                std::size_t n = 1 + ops() % 200;
                std::string got = co_await reader->read_bytes(n, true);
                EXPECT_TRUE(!got.empty() && got.size() <= n &&
                            data.compare(at, got.size(), got) == 0)
                    << "seed " << seed;
                all += got;
                break;
              }
              case 2: {
                std::size_t end = data.find('\n', at);
                if (end == std::string::npos) co_return all + co_await reader->read_until_close();
                std::string got = co_await reader->read_until("\n");
                EXPECT_EQ(got, data.substr(at, end + 1 - at)) << "seed " << seed;
                all += got;
                break;
              }
              case 3: {
                std::size_t end = model_regex_end(data, at);
                if (end == std::string::npos) co_return all + co_await reader->read_until_close();
                std::string got = co_await reader->read_until_regex("[0-9]+;");
                EXPECT_EQ(got, data.substr(at, end - at)) << "seed " << seed;
                all += got;
                break;
              }
            }
          }
        },
        kTestTimeout);
    EXPECT_TRUE(consumed == data) << "seed " << seed;
    reader->close();
  }
}

}  // namespace
}  // namespace tornado

namespace tornado {
namespace {

// IOLoop::close(all_fds) asks a registered stream to close instead of closing
// its fd underneath it: the stream would close the same number again later,
// by then perhaps another file's.
TEST(StreamAndLoopClose, CloseAllFdsClosesAStreamsFdExactlyOnce) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  auto loop = std::make_unique<testing::CurrentLoop>();
  auto stream = std::make_shared<IOStream>(sv[0]);
  Future<std::string> pending = stream->read_bytes(1);  // registers the fd with the loop

  loop->close(true);

  EXPECT_TRUE(stream->closed());
  char byte;
  EXPECT_EQ(::read(sv[1], &byte, 1), 0) << "the peer sees the stream's end";
  int reused = ::dup(sv[1]);  // the lowest free number: the stream's old fd
  ASSERT_EQ(reused, sv[0]);
  stream.reset();
  EXPECT_NE(::fcntl(reused, F_GETFD), -1) << "the stream closed its fd a second time";
  ::close(reused);
  ::close(sv[1]);
}

}  // namespace
}  // namespace tornado
