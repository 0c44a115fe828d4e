// HTTP/1.x message pieces shared by the server and client (tornado.httputil):
// headers, the request line, query strings, chunked bodies.
//
//   HTTPHeaders headers = HTTPHeaders::parse("Host: example.com\r\nAccept: */*\r\n");
//   headers.get("host");                          // "example.com" (names ignore case)
//   RequestStartLine line = parse_request_start_line("GET /a?x=1 HTTP/1.1");
//   auto args = parse_qs_bytes("x=1&y=a+b");      // {"x": {"1"}, "y": {"a b"}}
//
// Every parser here is strict about what a peer sends and throws
// HTTPInputError (the connection answers 400) rather than guessing. None of
// them touches a loop: safe from any thread on distinct objects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tornado/errors.h"

namespace tornado {

/// Malformed HTTP from a peer: a bad request line, header, length or chunk.
class HTTPInputError : public Error {
 public:
  using Error::Error;
};

/// HTTP headers: names compare without case, a name may repeat (each value
/// kept, in arrival order), and iteration gives (name, value) pairs in the
/// order they were added. Names are stored in Http-Header-Case.
class HTTPHeaders {
 public:
  using Field = std::pair<std::string, std::string>;

  HTTPHeaders() = default;
  HTTPHeaders(std::initializer_list<Field> fields);

  /// Parses a header block (the lines after the request line, each ending in
  /// "\r\n" or "\n"; an empty line ends it). A line starting with a space or
  /// tab continues the previous value (obs-fold, joined with one space, as
  /// Tornado does). Throws HTTPInputError for a line without ':', a name that
  /// is not an RFC 9110 token, or a value holding CR, LF or NUL.
  static HTTPHeaders parse(std::string_view block);

  /// Appends a value (a repeated name keeps both). Throws HTTPInputError for
  /// an invalid name or value (as parse()).
  void add(std::string_view name, std::string_view value);
  /// Replaces every value of `name` with `value`.
  void set(std::string_view name, std::string_view value);
  /// Removes every value of `name`; returns how many there were.
  std::size_t remove(std::string_view name);

  /// Tornado's headers[name]: every value of `name` joined with ",", or
  /// nullopt if there is none.
  std::optional<std::string> get(std::string_view name) const;
  /// get(), or `fallback` if the header is missing.
  std::string get(std::string_view name, std::string_view fallback) const;
  /// The first value only, without a copy (valid until the headers change).
  std::optional<std::string_view> get_first(std::string_view name) const;
  /// Every value of `name`, in order.
  std::vector<std::string> get_list(std::string_view name) const;
  bool contains(std::string_view name) const;

  /// Number of (name, value) pairs.
  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }

  /// "Name: value\r\n" per pair, ready for the wire.
  std::string to_wire() const;

 private:
  std::vector<Field> fields_;
};

/// "Content-Type" from "content-type" (Tornado's _normalize_header).
std::string normalize_header_name(std::string_view name);
/// True if `name` is a non-empty RFC 9110 token.
bool is_valid_header_name(std::string_view name) noexcept;

/// The first line of a request: "GET /path?q=1 HTTP/1.1".
struct RequestStartLine {
  std::string method;
  std::string path;  // the request-target as sent
  std::string version;
};

/// Splits a request line into its three parts. Throws HTTPInputError unless
/// it is exactly METHOD SP TARGET SP HTTP/1.d with a token method and a
/// target free of controls and spaces.
RequestStartLine parse_request_start_line(std::string_view line);

/// The status line of a response: "HTTP/1.1 200 OK".
struct ResponseStartLine {
  std::string version;
  int code = 0;
  std::string reason;
};
/// Throws HTTPInputError unless `line` is HTTP/1.d, a 3-digit code and a reason.
ResponseStartLine parse_response_start_line(std::string_view line);

/// The standard reason phrase for `code` ("Not Found"), or "Unknown".
std::string_view reason_phrase(int code) noexcept;

/// Where a header block ends in `data`: the index just past the blank line
/// ("\r\n\r\n" or "\n\n", mixed as Tornado allows), or nullopt if not there
/// yet. Leading empty lines before a request are not skipped here.
std::optional<std::size_t> find_header_end(std::string_view data) noexcept;

/// A request head split into its line and headers.
struct RequestHead {
  RequestStartLine start_line;
  HTTPHeaders headers;
};
/// Parses everything up to (and including) the blank line that ends a head.
/// Throws HTTPInputError.
RequestHead parse_request_head(std::string_view head);

/// The body length from Content-Length (digits only; repeated values must
/// agree), or nullopt if there is none. Throws HTTPInputError otherwise.
std::optional<std::uint64_t> parse_content_length(const HTTPHeaders& headers);

/// Query arguments, name -> values in order.
using QueryArguments = std::map<std::string, std::vector<std::string>, std::less<>>;

/// Decodes %XX escapes (and '+' as a space when `plus`). Malformed escapes
/// are kept as they are, as Python's unquote does.
std::string url_unescape(std::string_view text, bool plus = true);
/// Escapes everything but unreserved characters; a space becomes '+' when
/// `plus` (else %20).
std::string url_escape(std::string_view text, bool plus = true);

/// Parses "a=1&b=2&a=3" (';' is not a separator). Blank values are kept
/// ("a=" gives {"a": {""}}), as HTTPServerRequest's arguments do; a part
/// without '=' is a name with an empty value.
QueryArguments parse_qs_bytes(std::string_view query);

/// Decodes a chunked body incrementally (RFC 9112 §7.1): feed it whatever
/// bytes have arrived and it appends the data to `body`, returning how many
/// input bytes it used. Chunk sizes must be plain hex (no sign, no "0x");
/// extensions after ';' are ignored; trailers are read and dropped.
/// Throws HTTPInputError for malformed framing or when a size line or the
/// trailers exceed kMaxLineSize, and when the body would pass max_body_size
/// (HTTPInputError with body_too_large() true, for a 413).
class ChunkedDecoder {
 public:
  static constexpr std::size_t kMaxLineSize = 4096;

  explicit ChunkedDecoder(std::uint64_t max_body_size = UINT64_MAX) : max_body_(max_body_size) {}

  std::size_t feed(std::string_view input, std::string& body);
  /// True once the last chunk and the trailers have been read.
  bool done() const noexcept { return state_ == State::done; }
  /// True after feed() threw because the body passed max_body_size.
  bool body_too_large() const noexcept { return too_large_; }

 private:
  enum class State : std::uint8_t { size_line, data, data_end, trailer, done };
  std::size_t take_line(std::string_view input, bool& complete);
  void on_size_line();
  void on_trailer_line();

  State state_ = State::size_line;
  std::string line_;
  std::uint64_t remaining_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t max_body_;
  std::size_t trailer_bytes_ = 0;
  bool too_large_ = false;
};

}  // namespace tornado
