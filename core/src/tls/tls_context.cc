#include "tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tls/tls_error.h"

namespace tornado::detail {

void SslCtxFree::operator()(ssl_ctx_st* ctx) const noexcept { SSL_CTX_free(ctx); }

namespace {

// A file as the cache sees it: its name and, if it exists, which version of
// it (device, inode, size, modification time), so a replaced certificate
// makes a new context.
void append_file(std::string& key, const std::string& path) {
  key += path;
  struct stat st {};
  if (!path.empty() && ::stat(path.c_str(), &st) == 0) {
    for (auto n : {static_cast<long long>(st.st_dev), static_cast<long long>(st.st_ino),
                   static_cast<long long>(st.st_size), static_cast<long long>(st.st_mtim.tv_sec),
                   static_cast<long long>(st.st_mtim.tv_nsec)}) {
      key += ':';
      key += std::to_string(n);
    }
  }
  key += '\0';
}

std::string cache_key(const SSLOptions& options, TlsSide side) {
  std::string key(1, side == TlsSide::server ? 'S' : 'C');
  append_file(key, options.certfile);
  append_file(key, options.keyfile);
  append_file(key, options.ca_file);
  append_file(key, options.ca_path);
  key +=
      options.verify_mode ? static_cast<char>('0' + static_cast<int>(*options.verify_mode)) : '-';
  key += options.check_hostname ? 'h' : '-';
  key += options.minimum_version == TlsVersion::tls1_3 ? '3' : '2';
  key += options.ciphers;
  key += '\0';
  for (const std::string& protocol : options.alpn_protocols) {
    key += protocol;
    key += '\0';
  }
  return key;
}

}  // namespace

// Contexts are kept for the options (and versions of the files) they were
// made from: loading a CA store (the system's by default) takes tens of
// milliseconds, too long to repeat for every connection a client makes.
// Tornado likewise builds its default client context once. A context is
// immutable once made, so threads share them.
namespace {
constexpr std::size_t kCached = 8;
std::mutex cache_mutex;
std::vector<std::pair<std::string, std::shared_ptr<const TlsContext>>>& cache() {
  static auto* contexts =  // never freed: a context may be in use at exit
      new std::vector<std::pair<std::string, std::shared_ptr<const TlsContext>>>();
  return *contexts;
}
}  // namespace

std::shared_ptr<const TlsContext> TlsContext::find(const SSLOptions& options, TlsSide side) {
  std::string key = cache_key(options, side);
  std::lock_guard lock(cache_mutex);
  auto& contexts = cache();
  for (auto it = contexts.begin(); it != contexts.end(); ++it) {
    if (it->first == key) {
      std::rotate(it, it + 1, contexts.end());  // most recently used last
      return contexts.back().second;
    }
  }
  return nullptr;
}

std::shared_ptr<const TlsContext> TlsContext::create(const SSLOptions& options, TlsSide side) {
  if (auto context = find(options, side)) return context;
  std::string key = cache_key(options, side);
  ERR_clear_error();  // report only what this call causes
  auto context = std::shared_ptr<const TlsContext>(new TlsContext(options, side));
  std::lock_guard lock(cache_mutex);
  auto& contexts = cache();
  if (contexts.size() == kCached) contexts.erase(contexts.begin());
  contexts.emplace_back(std::move(key), context);
  return context;
}

TlsContext::TlsContext(const SSLOptions& options, TlsSide side)
    : ctx_(SSL_CTX_new(side == TlsSide::server ? TLS_server_method() : TLS_client_method())),
      side_(side) {
  if (!ctx_) throw SSLError("cannot create a TLS context", take_openssl_error());
  set_protocol(options);
  load_certificate(options);
  set_verification(options);
  set_alpn(options.alpn_protocols);
}

void TlsContext::set_protocol(const SSLOptions& options) {
  SSL_CTX* ctx = ctx_.get();
  int minimum = options.minimum_version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx, minimum);
  // No compression (CRIME); the server's cipher order wins, as in Python.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
                               (side_ == TlsSide::server ? SSL_OP_CIPHER_SERVER_PREFERENCE : 0));
  // Partial writes: a non-blocking write reports each record as it goes out.
  // Moving buffer: a retried write may come from a reallocated buffer.
  // Release buffers: an idle connection holds no 34 KiB of record buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (side_ == TlsSide::server) {
    // No resumption: every handshake is a full one, and there is no session
    // cache or ticket key to expire or share between processes.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  if (!options.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, options.ciphers.c_str()) != 1) {
    throw SSLError("no cipher can be selected from '" + options.ciphers + "'",
                   take_openssl_error());
  }
}

void TlsContext::load_certificate(const SSLOptions& options) {
  SSL_CTX* ctx = ctx_.get();
  // An encrypted key must fail to load, never prompt on the terminal.
  SSL_CTX_set_default_passwd_cb(ctx, [](char*, int, int, void*) { return 0; });
  if (options.certfile.empty()) {
    if (side_ == TlsSide::server) throw SSLError("a TLS server needs SSLOptions::certfile");
    return;
  }
  const std::string& cert = options.certfile;
  const std::string& key = options.keyfile.empty() ? cert : options.keyfile;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    throw SSLError("cannot load certificate chain from '" + cert + "'", take_openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw SSLError("cannot use private key '" + key + "' with certificate '" + cert + "'",
                   take_openssl_error());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    throw SSLError("private key '" + key + "' does not match certificate '" + cert + "'",
                   take_openssl_error());
  }
}

void TlsContext::set_verification(const SSLOptions& options) {
  SSL_CTX* ctx = ctx_.get();
  VerifyMode mode = options.verify_mode.value_or(side_ == TlsSide::client ? VerifyMode::required
                                                                          : VerifyMode::none);
  int flags = SSL_VERIFY_NONE;
  if (mode != VerifyMode::none) flags = SSL_VERIFY_PEER;
  if (mode == VerifyMode::required && side_ == TlsSide::server) {
    flags |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx, flags, nullptr);
  checks_hostname_ = side_ == TlsSide::client && mode != VerifyMode::none && options.check_hostname;

  if (!options.ca_file.empty() || !options.ca_path.empty()) {
    const char* file = options.ca_file.empty() ? nullptr : options.ca_file.c_str();
    const char* path = options.ca_path.empty() ? nullptr : options.ca_path.c_str();
    if (SSL_CTX_load_verify_locations(ctx, file, path) != 1) {
      throw SSLError("cannot load CA certificates from '" + options.ca_file + options.ca_path + "'",
                     take_openssl_error());
    }
  } else if (mode != VerifyMode::none && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    throw SSLError("cannot load the system CA store", take_openssl_error());
  }
}

void TlsContext::set_alpn(const std::vector<std::string>& protocols) {
  for (const std::string& name : protocols) {
    if (name.empty() || name.size() > 255) {
      throw SSLError("ALPN protocol names must be 1 to 255 bytes long: '" + name + "'");
    }
    alpn_.push_back(static_cast<unsigned char>(name.size()));
    alpn_.insert(alpn_.end(), name.begin(), name.end());
  }
  if (alpn_.empty()) return;
  if (side_ == TlsSide::server) {
    SSL_CTX_set_alpn_select_cb(ctx_.get(), &TlsContext::select_alpn, this);
  } else if (SSL_CTX_set_alpn_protos(ctx_.get(), alpn_.data(),
                                     static_cast<unsigned int>(alpn_.size())) != 0) {
    throw SSLError("cannot set ALPN protocols", take_openssl_error());
  }
}

// The server's first protocol that the client also offers; with none in
// common the handshake goes on without ALPN (as Python's server does).
int TlsContext::select_alpn(ssl_st* /*ssl*/, const unsigned char** out, unsigned char* out_size,
                            const unsigned char* offered, unsigned int offered_size, void* self) {
  const auto& ours = static_cast<const TlsContext*>(self)->alpn_;
  unsigned char* chosen = nullptr;
  int found = SSL_select_next_proto(&chosen, out_size, ours.data(),
                                    static_cast<unsigned int>(ours.size()), offered, offered_size);
  if (found != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace tornado::detail
