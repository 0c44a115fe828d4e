// An OpenSSL BIO over a non-blocking socket that the caller keeps owning.
#pragma once

struct bio_st;  // OpenSSL's BIO

namespace tornado::detail {

/// A BIO that reads with recv() and writes with send(MSG_NOSIGNAL): OpenSSL's
/// own socket BIO writes without that flag, so a peer's reset would raise
/// SIGPIPE and end the program instead of failing one connection. EAGAIN
/// becomes a retry (want_read / want_write); a read of 0 marks end of file,
/// which OpenSSL reports as an unexpected EOF. Never closes fd. Throws
/// SSLError if OpenSSL cannot allocate it.
bio_st* new_socket_bio(int fd);

}  // namespace tornado::detail
