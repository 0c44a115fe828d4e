#include "tls/tls_error.h"

#include <openssl/err.h>

#include <array>
#include <cstring>

namespace tornado::detail {

std::string take_openssl_error(const std::string& fallback) {
  unsigned long code = ERR_peek_error();
  if (code == 0) return fallback;
  std::string reason;
  if (ERR_SYSTEM_ERROR(code)) {  // a failed system call: its errno is the reason
    reason = std::strerror(ERR_GET_REASON(code));
  } else if (const char* text = ERR_reason_error_string(code)) {
    reason = text;
  } else {
    // No registered text (a provider's private code): OpenSSL's numeric form.
    std::array<char, 256> buffer{};
    ERR_error_string_n(code, buffer.data(), buffer.size());
    reason = buffer.data();
  }
  ERR_clear_error();
  return reason;
}

}  // namespace tornado::detail
