// One TLS session over a connected, non-blocking socket: the engine under
// SSLIOStream. It never waits: each call does what it can and says which
// readiness of the fd to wait for before calling again.
//
// The caller keeps owning the fd (the connection never closes it) and must
// close it only after destroying the connection. Loop thread only: a
// connection belongs to the thread that drives it. Every call first clears
// the thread's OpenSSL error queue and empties it again after a failure, so
// one connection's error never appears in another's report.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "tls/tls_context.h"

namespace tornado::detail {

enum class TlsStatus {
  ok,          // done: the handshake or shutdown finished, or read/write moved `bytes`
  want_read,   // call again once the fd is readable
  want_write,  // call again once the fd is writable
  closed,      // read: the peer ended the session cleanly (close_notify)
  eof,         // read: the TCP stream ended without close_notify (truncation)
  failed,      // error() says why; the session is unusable
};

struct TlsIoResult {
  TlsStatus status;
  std::size_t bytes = 0;  // moved by read() or write() when status is ok
};

struct SslFree {
  void operator()(ssl_st* ssl) const noexcept;
};

class TlsConnection {
 public:
  /// A session on `fd`, on the context's side. A client sends
  /// server_hostname as SNI (unless it is an IP address) and, when the
  /// context checks hostnames, requires the server's certificate to name it;
  /// a server ignores it. Throws UsageError if the context checks hostnames
  /// and server_hostname is empty, SSLError if OpenSSL cannot allocate.
  TlsConnection(std::shared_ptr<const TlsContext> context, int fd,
                const std::string& server_hostname = {});
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  /// One step of the handshake: ok, want_read, want_write or failed (a peer
  /// that closes mid-handshake fails it too).
  TlsStatus handshake();
  /// Decrypts into `buffer`: ok with bytes > 0, want_read, want_write (a key
  /// update or renegotiation must send first), closed, eof or failed.
  TlsIoResult read(std::span<char> buffer);
  /// Encrypts from `data`: ok with 0 < bytes <= data.size() (a partial write
  /// is normal: whole records go out one at a time), want_read, want_write
  /// or failed. After want_*, the next write must offer the same bytes again
  /// (they may have moved, but not shrunk): OpenSSL has already encrypted
  /// them. Throws UsageError if the retry is shorter.
  TlsIoResult write(std::span<const char> data);
  /// Sends close_notify: ok once it is on the wire, want_write/want_read to
  /// retry, failed. Does not wait for the peer's close_notify: the caller
  /// may close the fd at once.
  TlsStatus shutdown();

  /// Decrypted bytes buffered inside OpenSSL: read() returns them without
  /// the fd ever becoming readable again, so check this before waiting.
  std::size_t pending() const;
  bool handshake_done() const;
  bool server_side() const noexcept { return context_->side() == TlsSide::server; }

  /// Why the last call failed (or hit eof), in OpenSSL's words, e.g.
  /// "certificate verify failed: hostname mismatch"; empty before that.
  const std::string& error() const noexcept { return error_; }
  /// "TLSv1.3"; "" before the handshake.
  std::string protocol() const;
  /// "TLS_AES_256_GCM_SHA384"; "" before the handshake.
  std::string cipher() const;
  /// The ALPN protocol both sides agreed on; "" if none.
  std::string alpn_selected() const;
  /// The peer certificate's subject in RFC 2253 form ("CN=localhost"); ""
  /// without one.
  std::string peer_certificate_subject() const;
  /// SNI: on a server, the name the client asked for; on a client, the name
  /// it sent. "" if none.
  std::string server_name() const;

 private:
  TlsStatus classify(int result, int saved_errno);
  TlsStatus fail(std::string reason);

  std::shared_ptr<const TlsContext> context_;
  std::unique_ptr<ssl_st, SslFree> ssl_;
  std::string error_;
  std::size_t retry_write_size_ = 0;  // a write that returned want_* must be retried this long
  bool failed_ = false;
};

}  // namespace tornado::detail
