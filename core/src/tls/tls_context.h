// An OpenSSL SSL_CTX built from SSLOptions (tornado.netutil's
// ssl_options_to_context): what every connection of one server, or of one
// client configuration, shares.
#pragma once

#include <memory>
#include <vector>

#include "tornado/ssl_options.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace tornado::detail {

enum class TlsSide { client, server };

struct SslCtxFree {
  void operator()(ssl_ctx_st* ctx) const noexcept;
};

/// Immutable once made, so connections on any thread may share one (OpenSSL
/// locks the SSL_CTX's own shared state). Each TlsConnection holds a
/// shared_ptr to the context it was made from.
class TlsContext {
 public:
  /// Throws SSLError naming the option or file at fault: a server without a
  /// certificate, a file that cannot be read, a key that does not match its
  /// certificate, a cipher list OpenSSL rejects, a bad ALPN name.
  static std::shared_ptr<const TlsContext> create(const SSLOptions& options, TlsSide side);
  /// A context made earlier for the same options and the same versions of
  /// their files (create() makes one only when there is none), or null.
  /// Loading a CA store takes milliseconds: a loop builds a missing one on
  /// its executor (TCPClient does).
  static std::shared_ptr<const TlsContext> find(const SSLOptions& options, TlsSide side);

  ssl_ctx_st* native() const noexcept { return ctx_.get(); }
  TlsSide side() const noexcept { return side_; }
  /// A client that verifies the server and checks its name (SSL_set1_host).
  bool checks_hostname() const noexcept { return checks_hostname_; }

 private:
  TlsContext(const SSLOptions& options, TlsSide side);
  void set_protocol(const SSLOptions& options);
  void load_certificate(const SSLOptions& options);
  void set_verification(const SSLOptions& options);
  void set_alpn(const std::vector<std::string>& protocols);
  static int select_alpn(ssl_st* ssl, const unsigned char** out, unsigned char* out_size,
                         const unsigned char* offered, unsigned int offered_size, void* self);

  std::unique_ptr<ssl_ctx_st, SslCtxFree> ctx_;
  TlsSide side_;
  bool checks_hostname_ = false;
  std::vector<unsigned char> alpn_;  // wire format: each name after its length byte
};

}  // namespace tornado::detail
