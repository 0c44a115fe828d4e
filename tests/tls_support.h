// Support for tls_test.cc: test certificates made by the `openssl` CLI,
// real `openssl s_server` / `s_client` peers run as child processes,
// loopback TCP sockets, and coroutines that drive a TlsConnection on an
// IOLoop (a small stand-in for the SSLIOStream that will be built on it).
#pragma once

#include "support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tls/tls_connection.h"
#include "tornado/ioloop.h"
#include "tornado/ssl_options.h"

namespace tornado::tls_support {

using detail::TlsConnection;
using detail::TlsContext;
using detail::TlsSide;
using detail::TlsStatus;

// ---- Files and processes --------------------------------------------------

/// Closes the fd it holds.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

using test_support::open_fd_count;

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A child process: stdin is a pipe the test writes to, stdout and stderr
/// go to `output` (read back with output()). The destructor kills it
/// (SIGKILL) if it still runs and reaps it, so no child outlives a test.
class Child {
 public:
  Child(const std::vector<std::string>& argv, std::filesystem::path output)
      : output_(std::move(output)) {
    // Writing to a child that already exited must fail with EPIPE, not kill
    // the test program (Python ignores SIGPIPE the same way).
    ::signal(SIGPIPE, SIG_IGN);
    int in[2];
    if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    Fd child_in(in[0]);
    stdin_.reset(in[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, child_in.get(), 0);
    posix_spawn_file_actions_addopen(&actions, 1, output_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    int spawned = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot run " + argv[0]);
  }
  ~Child() {
    stdin_.reset();
    if (!exit_status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Writes `text` to the child's stdin (small writes: never blocks long).
  void send(std::string_view text) {
    ASSERT_EQ(::write(stdin_.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void close_stdin() { stdin_.reset(); }
  std::string output() const { return read_file(output_); }

  /// Waits until the output contains `text`; false after `timeout`.
  bool wait_output(std::string_view text, std::chrono::milliseconds timeout = kWait) {
    return poll_until([&] { return output().find(text) != std::string::npos; }, timeout);
  }
  /// The exit status once the child exits (waitpid's), nullopt after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = kWait) {
    poll_until([&] { return reap(); }, timeout);
    return exit_status_;
  }

 private:
  static constexpr std::chrono::milliseconds kWait{10'000};

  template <class F>
  static bool poll_until(F done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  bool reap() {
    int status = 0;
    if (!exit_status_ && ::waitpid(pid_, &status, WNOHANG) == pid_) exit_status_ = status;
    return exit_status_.has_value();
  }

  std::filesystem::path output_;
  Fd stdin_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

/// Runs a command to completion (output to `log`); its exit code, -1 if it
/// was killed or ran longer than 20 s.
inline int run_command(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  Child child(argv, log);
  child.close_stdin();
  std::optional<int> status = child.wait_exit(std::chrono::seconds(20));
  return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

// ---- Certificates ---------------------------------------------------------

/// A temporary directory of PEM files, made by the openssl CLI and removed
/// by the destructor: a CA, and certificates (each with its .key) for
/// localhost + 127.0.0.1 signed by it, for the wrong name, an expired one,
/// one signed by another (untrusted) CA, and a client certificate.
class TestCertificates {
 public:
  TestCertificates() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tornado-tls-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    make_ca("ca", "tornado-cpp test CA");
    make_ca("other_ca", "untrusted test CA");
    make_leaf("server", "localhost", "DNS:localhost,IP:127.0.0.1", "ca");
    make_leaf("wrong_host", "wrong.example", "DNS:wrong.example", "ca");
    make_leaf("untrusted", "localhost", "DNS:localhost,IP:127.0.0.1", "other_ca");
    make_leaf("client", "tornado-client", "DNS:tornado-client", "ca");
    make_expired("expired", "localhost", "DNS:localhost,IP:127.0.0.1");
  }
  ~TestCertificates() { std::filesystem::remove_all(dir_); }
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  std::string cert(const std::string& name) const { return (dir_ / (name + ".pem")).string(); }
  std::string key(const std::string& name) const { return (dir_ / (name + ".key")).string(); }
  std::filesystem::path path(const std::string& file) const { return dir_ / file; }

  /// Server options presenting certificate `name`.
  SSLOptions server(const std::string& name = "server") const {
    SSLOptions options;
    options.certfile = cert(name);
    options.keyfile = key(name);
    return options;
  }
  /// Client options trusting only the test CA.
  SSLOptions client() const {
    SSLOptions options;
    options.ca_file = cert("ca");
    return options;
  }

 private:
  void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    int code = run_command(args, dir_ / "openssl.log");
    if (code != 0) {
      throw std::runtime_error("openssl " + args[1] +
                               " failed: " + read_file(dir_ / "openssl.log"));
    }
  }
  std::vector<std::string> new_key(const std::string& name) const {
    return {"-newkey", "ec",      "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes",  "-keyout", key(name)};
  }
  void make_ca(const std::string& name, const std::string& common_name) {
    std::vector<std::string> args = {"req",     "-x509",
                                     "-days",   "30",
                                     "-subj",   "/CN=" + common_name,
                                     "-addext", "basicConstraints=critical,CA:TRUE",
                                     "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                                     "-out",    cert(name)};
    std::vector<std::string> key_args = new_key(name);
    args.insert(args.end(), key_args.begin(), key_args.end());
    openssl(args);
  }
  void request(const std::string& name, const std::string& common_name, const std::string& san) {
    std::vector<std::string> args = {"req",     "-new",
                                     "-subj",   "/CN=" + common_name,
                                     "-addext", "subjectAltName=" + san,
                                     "-out",    path(name + ".csr").string()};
    std::vector<std::string> key_args = new_key(name);
    args.insert(args.end(), key_args.begin(), key_args.end());
    openssl(args);
  }
  void make_leaf(const std::string& name, const std::string& common_name, const std::string& san,
                 const std::string& issuer) {
    request(name, common_name, san);
    openssl({"x509", "-req", "-in", path(name + ".csr").string(), "-CA", cert(issuer), "-CAkey",
             key(issuer), "-set_serial", std::to_string(++serial_), "-days", "30",
             "-copy_extensions", "copy", "-out", cert(name)});
  }
  // `openssl x509` cannot date a certificate in the past; `openssl ca` can.
  void make_expired(const std::string& name, const std::string& common_name,
                    const std::string& san) {
    request(name, common_name, san);
    std::ofstream(path("index.txt"));
    std::ofstream(path("serial")) << "1000\n";
    std::ofstream(path("ca.cnf")) << "[ca]\ndefault_ca = test_ca\n[test_ca]\n"
                                  << "database = " << path("index.txt").string() << "\n"
                                  << "new_certs_dir = " << dir_.string() << "\n"
                                  << "serial = " << path("serial").string() << "\n"
                                  << "default_md = sha256\npolicy = any\ncopy_extensions = copy\n"
                                  << "[any]\ncommonName = supplied\n";
    openssl({"ca", "-batch", "-notext", "-config", path("ca.cnf").string(), "-cert", cert("ca"),
             "-keyfile", key("ca"), "-in", path(name + ".csr").string(), "-startdate",
             "20200101000000Z", "-enddate", "20200201000000Z", "-out", cert(name)});
  }

  std::filesystem::path dir_;
  int serial_ = 0;
};

// ---- Sockets --------------------------------------------------------------

inline void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

/// A socket listening on 127.0.0.1 at a free port.
struct Listener {
  Fd fd;
  std::uint16_t port = 0;
};

inline Listener listen_loopback() {
  Listener listener{Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))};
  sockaddr_in address = loopback(0);
  socklen_t size = sizeof address;
  if (::bind(listener.fd.get(), reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::listen(listener.fd.get(), 16) != 0 ||
      ::getsockname(listener.fd.get(), reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  listener.port = ntohs(address.sin_port);
  return listener;
}

/// A non-blocking socket connected to 127.0.0.1:port (connects blocking:
/// loopback connects at once).
inline Fd connect_loopback(std::uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  set_nonblocking(fd.get());
  return fd;
}

/// The next connection on `listener` (blocking: call once a client connected).
inline Fd accept_one(const Listener& listener) {
  Fd fd(::accept4(listener.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (fd.get() < 0) throw std::runtime_error("accept failed");
  set_nonblocking(fd.get());
  return fd;
}

/// A connected client and server socket pair over loopback TCP.
struct TcpPair {
  Fd client;
  Fd server;
};

inline TcpPair tcp_pair() {
  Listener listener = listen_loopback();
  Fd client = connect_loopback(listener.port);
  return {std::move(client), accept_one(listener)};
}

// ---- Driving a TlsConnection on a loop ------------------------------------

/// One side of a session: the connection, its fd and loop, and counts of
/// how it had to wait.
struct Peer {
  Peer(IOLoop& io_loop, std::shared_ptr<const TlsContext> context, int socket,
       const std::string& server_hostname = {})
      : loop(io_loop), fd(socket), tls(std::move(context), socket, server_hostname) {}

  /// Resolves once the fd is ready for what `want` asks.
  Future<void> ready(TlsStatus want) {
    ++(want == TlsStatus::want_read ? want_reads : want_writes);
    Future<void> ready;
    loop.add_handler(
        fd,
        [this, ready](int socket, std::uint32_t) mutable {
          ready.set_result();
          loop.remove_handler(socket);
        },
        want == TlsStatus::want_read ? IOLoop::READ : IOLoop::WRITE);
    return ready;
  }

  IOLoop& loop;
  int fd;
  TlsConnection tls;
  int want_reads = 0;
  int want_writes = 0;
  int partial_writes = 0;  // writes that took less than they were offered
};

inline bool waits(TlsStatus status) {
  return status == TlsStatus::want_read || status == TlsStatus::want_write;
}

inline Future<void> handshake(Peer& peer) {
  for (TlsStatus status; (status = peer.tls.handshake()) != TlsStatus::ok;) {
    if (!waits(status)) throw SSLError("TLS handshake failed", peer.tls.error());
    co_await peer.ready(status);
  }
}

inline Future<void> write_all(Peer& peer, std::string data) {
  std::span<const char> rest(data);
  while (!rest.empty()) {
    detail::TlsIoResult result = peer.tls.write(rest);
    if (result.status == TlsStatus::ok) {
      if (result.bytes < rest.size()) ++peer.partial_writes;
      rest = rest.subspan(result.bytes);
    } else if (waits(result.status)) {
      co_await peer.ready(result.status);  // then retry with the same bytes
    } else {
      throw SSLError("TLS write failed", peer.tls.error());
    }
  }
}

/// What a read loop got before it stopped.
struct Received {
  std::string data;
  TlsStatus end = TlsStatus::ok;  // closed, eof or failed when the session ended
};

/// Reads until `size` bytes arrived or the session ended.
inline Future<Received> read_bytes(Peer& peer, std::size_t size) {
  Received received;
  std::vector<char> buffer(64 * 1024);
  while (received.data.size() < size) {
    std::size_t want = std::min(buffer.size(), size - received.data.size());
    detail::TlsIoResult result = peer.tls.read(std::span(buffer.data(), want));
    if (result.status == TlsStatus::ok) {
      received.data.append(buffer.data(), result.bytes);
    } else if (waits(result.status)) {
      co_await peer.ready(result.status);
    } else {
      received.end = result.status;
      break;
    }
  }
  co_return received;
}

/// Reads until the session ends (clean close, eof or failure).
inline Future<Received> read_to_end(Peer& peer) {
  return read_bytes(peer, static_cast<std::size_t>(-1));
}

inline Future<void> shutdown(Peer& peer) {
  for (TlsStatus status; (status = peer.tls.shutdown()) != TlsStatus::ok;) {
    if (!waits(status)) throw SSLError("TLS shutdown failed", peer.tls.error());
    co_await peer.ready(status);
  }
}

/// Adds certificates made once per suite to a fixture `Base`.
template <class Base = ::testing::Test>
class WithCertificates : public Base {
 protected:
  static void SetUpTestSuite() { certs_ = new TestCertificates(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  static const TestCertificates& certs() { return *certs_; }

 private:
  static inline TestCertificates* certs_ = nullptr;
};

/// A fixture: certificates made once for the suite, and no fd left behind
/// by any test.
class CertificatesTest : public WithCertificates<> {
 protected:
  void SetUp() override { fds_at_start_ = open_fd_count(); }
  void TearDown() override {
    EXPECT_EQ(open_fd_count(), fds_at_start_) << "a test left an fd open";
  }

 private:
  std::size_t fds_at_start_ = 0;
};

}  // namespace tornado::tls_support
