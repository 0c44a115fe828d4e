#include "tls/tls_socket_bio.h"

#include <openssl/bio.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstdint>

#include "tls/tls_error.h"
#include "tornado/ssl_options.h"

namespace tornado::detail {
namespace {

int fd_of(BIO* bio) { return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio))); }

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

int socket_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t sent = ::send(fd_of(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (sent >= 0) return static_cast<int>(sent);
  if (would_block(errno)) BIO_set_retry_write(bio);
  return -1;
}

int socket_read(BIO* bio, char* out, int size) {
  BIO_clear_retry_flags(bio);
  ssize_t got = ::recv(fd_of(bio), out, static_cast<std::size_t>(size), 0);
  if (got > 0) return static_cast<int>(got);
  if (got == 0) {
    // OpenSSL asks BIO_eof() to tell a peer's FIN from a transient failure.
    BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
    return 0;
  }
  if (would_block(errno)) BIO_set_retry_read(bio);
  return -1;
}

long socket_ctrl(BIO* bio, int command, long /*number*/, void* /*pointer*/) {
  switch (command) {
    case BIO_CTRL_FLUSH:  // send() does not buffer
      return 1;
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    default:
      return 0;
  }
}

BIO_METHOD* make_method() {
  BIO_METHOD* method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tornado socket");
  if (method == nullptr) return nullptr;
  BIO_meth_set_write(method, socket_write);
  BIO_meth_set_read(method, socket_read);
  BIO_meth_set_ctrl(method, socket_ctrl);
  return method;
}

}  // namespace

bio_st* new_socket_bio(int fd) {
  static BIO_METHOD* const method = make_method();  // made once, shared by all threads
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) throw SSLError("cannot create a socket BIO", take_openssl_error());
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
  BIO_set_init(bio, 1);
  return bio;
}

}  // namespace tornado::detail
