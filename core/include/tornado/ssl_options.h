// TLS settings for SSLIOStream, TCPServer and TCPClient (the `ssl_options`
// dict of tornado.netutil.ssl_options_to_context), and the error a TLS
// failure raises.
//
// A default SSLOptions is what Python's ssl.create_default_context() gives:
// a client verifies the server's certificate against the system CA store and
// checks that it names the host it connected to; a server asks for no client
// certificate. TLS 1.2 is the oldest version spoken, and TLS compression is
// never used (CRIME).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tornado/errors.h"

namespace tornado {

/// Whether to ask for and verify the peer's certificate (Python's
/// ssl.CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED). On a client, optional and
/// required both verify the server's certificate (a server always sends
/// one); on a server, optional verifies a client certificate only if the
/// client sends one, required fails the handshake without one.
enum class VerifyMode { none, optional, required };

/// The oldest protocol version a connection accepts. Older ones (SSLv3,
/// TLS 1.0, 1.1) are not offered at all (RFC 8996 deprecates them).
enum class TlsVersion { tls1_2, tls1_3 };

struct SSLOptions {
  /// PEM file holding this side's certificate, then its chain (leaf first).
  /// Required for a server.
  std::string certfile{};
  /// PEM file holding the private key; empty: the key is in certfile.
  std::string keyfile{};
  /// PEM file of trusted CA certificates, and/or a directory of them in
  /// OpenSSL's hashed layout. Both empty: the system CA store, when the peer
  /// is verified at all.
  std::string ca_file{};
  std::string ca_path{};
  /// Empty: required for a client, none for a server.
  std::optional<VerifyMode> verify_mode{};
  /// A client checks that the server's certificate names the server_hostname
  /// it connects with (a DNS name or an IP address). Ignored when the peer is
  /// not verified (verify_mode none), as Tornado clears it for CERT_NONE.
  bool check_hostname = true;
  /// ALPN protocols in order of preference, e.g. {"h2", "http/1.1"}. A client
  /// offers them; a server picks the first of its own list that the client
  /// offers (server preference), or none if they share none.
  std::vector<std::string> alpn_protocols{};
  TlsVersion minimum_version = TlsVersion::tls1_2;
  /// OpenSSL cipher list for TLS 1.2 (`openssl ciphers` syntax); empty:
  /// OpenSSL's default. TLS 1.3 suites are always OpenSSL's defaults.
  std::string ciphers{};
};

/// A TLS failure: a bad option or file, a failed handshake, or a broken
/// session. reason() is OpenSSL's own wording, e.g. "certificate verify
/// failed: hostname mismatch", "certificate verify failed: unable to get
/// local issuer certificate", "certificate verify failed: certificate has
/// expired", "wrong version number".
class SSLError : public Error {
 public:
  explicit SSLError(std::string reason) : Error(reason), reason_(std::move(reason)) {}
  /// `context` says what failed ("TLS handshake failed"); what() is
  /// "context: reason".
  SSLError(const std::string& context, std::string reason)
      : Error(context + ": " + reason), reason_(std::move(reason)) {}
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

}  // namespace tornado
