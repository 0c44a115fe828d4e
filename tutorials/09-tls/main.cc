// Step 9: TLS. Step 5's echo server with ssl_options, every connection an SSLIOStream; clients
// that check its certificate; and STARTTLS, a plain connection switched to TLS by start_tls.
//
//   tutorial-09-tls [--demo]   serves on free ports, runs three clients, exits
//   tutorial-09-tls --port N   TLS on 127.0.0.1:N, STARTTLS on N+1, until SIGINT/SIGTERM
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "tornado/ioloop.h"
#include "tornado/iostream.h"
#include "tornado/ssl_options.h"
#include "tornado/tcpclient.h"
#include "tornado/tcpserver.h"

using tornado::Future, tornado::IOLoop, tornado::IOStream, tornado::SSLOptions;

namespace {

const std::string kDir = TUTORIAL_DIR;  // the step's folder, where make_certs.sh wrote the files
const std::string kOurCa = kDir + "/ca.pem";  // signed server.pem, and nothing else
const SSLOptions kServerTls{.certfile = kDir + "/server.pem", .keyfile = kDir + "/server-key.pem"};

// One connection, on either server: it echoes lines; on the plain one, "STARTTLS" turns TLS on.
Future<void> echo(std::shared_ptr<IOStream> stream, tornado::SocketAddress) {
  try {
    for (;;) {
      std::string line = co_await stream->read_until("\n", 4096);
      if (line == "STARTTLS\n" && !std::dynamic_pointer_cast<tornado::SSLIOStream>(stream)) {
        co_await stream->write("ready\n");  // sent in plain text, before the handshake
        stream = co_await stream->start_tls(true, kServerTls);  // the same socket, now TLS
        continue;
      }
      co_await stream->write(line);
    }
  } catch (const tornado::StreamClosedError&) {  // the client left, or its handshake failed
  } catch (const tornado::SSLError&) {           // its STARTTLS handshake failed (logged)
  }
}

// A client trusting the CAs in `ca_file` (empty: the system's); TLS at once, or after STARTTLS.
Future<void> client(std::uint16_t port, std::string_view who, std::string_view ca_file,
                    bool starttls = false) {
  const SSLOptions trust{.ca_file = std::string(ca_file)};  // verification stays on
  tornado::ConnectOptions options{.ssl_options = starttls ? std::nullopt : std::optional(trust)};
  tornado::TCPClient connector;
  try {
    std::shared_ptr<IOStream> stream = co_await connector.connect("127.0.0.1", port, options);
    if (starttls) {
      co_await stream->write("STARTTLS\n");
      std::cout << who << " asked for TLS, heard: " << co_await stream->read_until("\n");
      stream = co_await stream->start_tls(false, trust, "localhost");  // checks "localhost"
    }
    auto& tls = static_cast<tornado::SSLIOStream&>(*stream);
    co_await tls.write("hello over TLS\n");
    std::cout << who << ": " << tls.protocol() << " with " << tls.peer_certificate_subject()
              << ", heard: " << co_await tls.read_until("\n");
    stream->close();
  } catch (const tornado::SSLError& e) {  // e.reason() is OpenSSL's own wording
    std::cout << who << " failed: " << e.what() << '\n';
  }
}

Future<void> demo(std::uint16_t tls_port, std::uint16_t plain_port) {
  co_await client(tls_port, "default client", "");       // fails: it does not know our CA
  co_await client(tls_port, "trusting client", kOurCa);  // the server went on
  co_await client(plain_port, "starttls client", kOurCa, true);
}

IOLoop* g_loop = nullptr;

void stop_on_signal(int) {
  g_loop->add_callback_from_signal([] { g_loop->stop(); });
}

}  // namespace

int main(int argc, char** argv) {
  bool serve = argc > 2 && std::string_view(argv[1]) == "--port";
  int port = serve ? std::atoi(argv[2]) : 0;  // 0: the kernel picks a free port
  IOLoop loop;
  g_loop = &loop;
  tornado::TCPServer tls(echo, kServerTls);  // reads the files now, or throws SSLError
  tornado::TCPServer plain(echo);
  tls.listen(static_cast<std::uint16_t>(port), "127.0.0.1");
  plain.listen(static_cast<std::uint16_t>(serve ? port + 1 : 0), "127.0.0.1");
  if (!serve) {
    loop.run_sync([&] { return demo(tls.addresses()[0].port(), plain.addresses()[0].port()); },
                  std::chrono::seconds(10));
    return 0;
  }
  std::signal(SIGINT, stop_on_signal);
  std::signal(SIGTERM, stop_on_signal);
  std::cout << "TLS on 127.0.0.1:" << port << ", STARTTLS on " << port + 1 << std::endl;
  loop.start();
  std::cout << "stopped" << std::endl;
}
