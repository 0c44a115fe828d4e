// Turning OpenSSL's per-thread error queue into one readable reason.
#pragma once

#include <string>

namespace tornado::detail {

/// The reason of the oldest error in this thread's OpenSSL error queue
/// ("wrong version number", "No such file or directory"), or `fallback` if
/// the queue is empty. Empties the queue, so one failure never shows up in
/// the next operation's report.
std::string take_openssl_error(const std::string& fallback = "unknown TLS error");

}  // namespace tornado::detail
