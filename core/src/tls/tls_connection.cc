#include "tls/tls_connection.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "tls/tls_error.h"
#include "tls/tls_socket_bio.h"

namespace tornado::detail {
namespace {

bool is_ip_address(const std::string& host) {
  unsigned char address[16];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

// A client checks the certificate against the name it dialled: an IP
// address must appear as an IP SAN, a host name as a DNS name.
void expect_peer_name(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  int set = is_ip_address(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  if (set != 1)
    throw SSLError("cannot check the server's name '" + host + "'", take_openssl_error());
}

}  // namespace

void SslFree::operator()(ssl_st* ssl) const noexcept { SSL_free(ssl); }

TlsConnection::TlsConnection(std::shared_ptr<const TlsContext> context, int fd,
                             const std::string& server_hostname)
    : context_(std::move(context)) {
  if (context_->checks_hostname() && server_hostname.empty()) {
    throw UsageError(
        "TLS client: check_hostname needs a server_hostname; pass the name you connect to, or "
        "set SSLOptions::check_hostname = false");
  }
  ERR_clear_error();
  ssl_.reset(SSL_new(context_->native()));
  if (!ssl_) throw SSLError("cannot create a TLS session", take_openssl_error());
  BIO* bio = new_socket_bio(fd);
  SSL_set_bio(ssl_.get(), bio, bio);  // the session owns the BIO, not the fd
  if (server_side()) {
    SSL_set_accept_state(ssl_.get());
    return;
  }
  SSL_set_connect_state(ssl_.get());
  // RFC 6066: SNI carries host names only, never an address literal.
  if (!server_hostname.empty() && !is_ip_address(server_hostname) &&
      SSL_set_tlsext_host_name(ssl_.get(), server_hostname.c_str()) != 1) {
    throw SSLError("cannot send SNI '" + server_hostname + "'", take_openssl_error());
  }
  if (context_->checks_hostname()) expect_peer_name(ssl_.get(), server_hostname);
}

TlsStatus TlsConnection::handshake() {
  if (failed_) return TlsStatus::failed;
  ERR_clear_error();
  errno = 0;
  int result = SSL_do_handshake(ssl_.get());
  if (result == 1) return TlsStatus::ok;
  TlsStatus status = classify(result, errno);
  if (status == TlsStatus::closed || status == TlsStatus::eof) {
    return fail(status == TlsStatus::eof ? error_ : "connection closed during the handshake");
  }
  return status;
}

TlsIoResult TlsConnection::read(std::span<char> buffer) {
  if (failed_) return {TlsStatus::failed};
  if (buffer.empty()) return {TlsStatus::ok};
  ERR_clear_error();
  errno = 0;
  std::size_t got = 0;
  int result = SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &got);
  if (result == 1) return {TlsStatus::ok, got};
  return {classify(result, errno)};
}

TlsIoResult TlsConnection::write(std::span<const char> data) {
  if (failed_) return {TlsStatus::failed};
  if (data.size() < retry_write_size_) {
    throw UsageError(
        "TlsConnection::write: retry a write that returned want_read/want_write "
        "with the same bytes (" +
        std::to_string(retry_write_size_) + "), not " + std::to_string(data.size()));
  }
  if (data.empty()) return {TlsStatus::ok};  // SSL_write of nothing is undefined
  ERR_clear_error();
  errno = 0;
  std::size_t sent = 0;
  int result = SSL_write_ex(ssl_.get(), data.data(), data.size(), &sent);
  if (result == 1) {
    retry_write_size_ = 0;
    return {TlsStatus::ok, sent};
  }
  TlsStatus status = classify(result, errno);
  bool retry = status == TlsStatus::want_read || status == TlsStatus::want_write;
  retry_write_size_ = retry ? data.size() : 0;
  return {status};
}

TlsStatus TlsConnection::shutdown() {
  if (failed_) return TlsStatus::failed;
  ERR_clear_error();
  errno = 0;
  // 0: our close_notify is sent, the peer's not yet seen; 1: both. Either is
  // enough, since we will not read again.
  int result = SSL_shutdown(ssl_.get());
  if (result >= 0) return TlsStatus::ok;
  TlsStatus status = classify(result, errno);
  return status == TlsStatus::closed || status == TlsStatus::eof ? fail(error_) : status;
}

// Maps an OpenSSL failure to a status; `saved_errno` is errno right after
// the call, which SSL_ERROR_SYSCALL refers to.
TlsStatus TlsConnection::classify(int result, int saved_errno) {
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_WANT_READ:
      return TlsStatus::want_read;
    case SSL_ERROR_WANT_WRITE:
      return TlsStatus::want_write;
    case SSL_ERROR_ZERO_RETURN:
      error_ = "the peer closed the TLS session";
      return TlsStatus::closed;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() != 0) return fail(take_openssl_error());
      if (saved_errno == 0) {  // OpenSSL 1.1's way to say: EOF without close_notify
        error_ = "unexpected eof while reading";
        return TlsStatus::eof;
      }
      return fail(std::strerror(saved_errno));
    case SSL_ERROR_SSL: {
      int code = ERR_GET_REASON(ERR_peek_error());
      if (code == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        error_ = take_openssl_error();
        return TlsStatus::eof;
      }
      std::string reason = take_openssl_error();
      // "certificate verify failed" alone does not say which check failed.
      long verify = SSL_get_verify_result(ssl_.get());
      if (code == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
        reason += std::string(": ") + X509_verify_cert_error_string(verify);
      }
      return fail(std::move(reason));
    }
    default:
      ERR_clear_error();
      return fail("unexpected OpenSSL error " + std::to_string(SSL_get_error(ssl_.get(), result)));
  }
}

TlsStatus TlsConnection::fail(std::string reason) {
  error_ = std::move(reason);
  failed_ = true;
  return TlsStatus::failed;
}

std::size_t TlsConnection::pending() const {
  return static_cast<std::size_t>(SSL_pending(ssl_.get()));
}

bool TlsConnection::handshake_done() const { return SSL_is_init_finished(ssl_.get()) == 1; }

std::string TlsConnection::protocol() const {
  return handshake_done() ? SSL_get_version(ssl_.get()) : "";
}

std::string TlsConnection::cipher() const {
  const SSL_CIPHER* current = SSL_get_current_cipher(ssl_.get());
  return current != nullptr ? SSL_CIPHER_get_name(current) : "";
}

std::string TlsConnection::alpn_selected() const {
  const unsigned char* name = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(ssl_.get(), &name, &size);
  return name != nullptr ? std::string(reinterpret_cast<const char*>(name), size) : "";
}

std::string TlsConnection::peer_certificate_subject() const {
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl_.get()),
                                                   &X509_free);
  if (!cert) return "";
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), &BIO_free);
  if (!out) return "";
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253);
  char* text = nullptr;
  long size = BIO_get_mem_data(out.get(), &text);
  return std::string(text, static_cast<std::size_t>(size));
}

std::string TlsConnection::server_name() const {
  const char* name = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? name : "";
}

}  // namespace tornado::detail
