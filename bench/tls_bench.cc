// The cost of one TLS handshake: our client and server engines
// (core/src/tls) in one process, over a socketpair, stepped in turn until
// both are done. No loop and no network: this is what a TLS connection adds
// to a plain one (OpenSSL's cryptography plus the engine), the figure that
// docs/performance.md quotes.
//
//   build/release/bench/tls_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "tls/tls_connection.h"

namespace tornado {
namespace {

using detail::TlsConnection;
using detail::TlsContext;
using detail::TlsSide;
using detail::TlsStatus;

// A CA and a localhost certificate it signed, made once by the openssl CLI.
class Certificates {
 public:
  Certificates() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tornado-tls-bench-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    make("ec", "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1");
    make("rsa", "-newkey rsa:2048");
  }
  ~Certificates() { std::filesystem::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  void make(const std::string& kind, const std::string& key) {
    std::string d = dir_.string() + "/" + kind;
    run("openssl req -x509 " + key + " -nodes -days 30 -subj /CN=bench-ca -keyout " + d +
        "-ca.key -out " + d + "-ca.pem -addext basicConstraints=critical,CA:TRUE");
    run("openssl req -new " + key + " -nodes -subj /CN=localhost -addext " +
        "subjectAltName=DNS:localhost -keyout " + d + ".key -out " + d + ".csr");
    run("openssl x509 -req -in " + d + ".csr -CA " + d + "-ca.pem -CAkey " + d +
        "-ca.key -set_serial 1 -days 30 -copy_extensions copy -out " + d + ".pem");
  }
  static void run(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
      throw std::runtime_error("failed: " + command);
    }
  }
  std::filesystem::path dir_;
};

const Certificates& certificates() {
  static const Certificates made;
  return made;
}

bool step(TlsConnection& tls) {
  TlsStatus status = tls.handshake();
  if (status == TlsStatus::failed) throw std::runtime_error(tls.error());
  return status == TlsStatus::ok;
}

// Arg 0: ECDSA P-256 certificates; 1: RSA 2048. Both verify the chain and
// the host name, as a default client does; the key exchange is X25519.
void BM_TlsHandshake(benchmark::State& state) {
  std::string kind = state.range(0) == 0 ? "ec" : "rsa";
  const Certificates& certs = certificates();
  SSLOptions server_options;
  server_options.certfile = certs.file(kind + ".pem");
  server_options.keyfile = certs.file(kind + ".key");
  SSLOptions client_options;
  client_options.ca_file = certs.file(kind + "-ca.pem");
  auto server_context = TlsContext::create(server_options, TlsSide::server);
  auto client_context = TlsContext::create(client_options, TlsSide::client);

  for (auto _ : state) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      state.SkipWithError("socketpair failed");
      break;
    }
    {
      TlsConnection client(client_context, fds[0], "localhost");
      TlsConnection server(server_context, fds[1]);
      bool client_done = false, server_done = false;
      while (!(client_done && server_done)) {
        client_done = client_done || step(client);
        server_done = server_done || step(server);
      }
    }
    ::close(fds[0]);
    ::close(fds[1]);
  }
  state.SetLabel(kind == "ec" ? "ECDSA P-256" : "RSA 2048");
}
BENCHMARK(BM_TlsHandshake)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tornado
