// libFuzzer target for the HTTP request parser (core/src/http): whatever the
// bytes, finding and parsing a head, reading its Content-Length, decoding a
// chunked body and splitting the query either succeed or throw
// HTTPInputError; nothing crashes, and what succeeds is consistent. Built
// and run by tests/fuzz/run.sh.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tornado/httputil.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();  // libFuzzer saves the input that got here
}

// Parsed headers hold no byte that would let them smuggle a line onto the wire.
void check_headers(const tornado::HTTPHeaders& headers) {
  for (const auto& [name, value] : headers) {
    check(tornado::is_valid_header_name(name));
    check(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
  }
  // Written out and parsed again, they are the same headers.
  tornado::HTTPHeaders again = tornado::HTTPHeaders::parse(headers.to_wire());
  check(again.size() == headers.size());
}

// The same chunked body decoded in one piece and byte by byte agrees.
void check_chunked(std::string_view data) {
  tornado::ChunkedDecoder whole(1 << 20), bytewise(1 << 20);
  std::string body_whole, body_bytewise;
  std::size_t used_whole = 0, used_bytewise = 0;
  bool failed_whole = false, failed_bytewise = false;
  try {
    used_whole = whole.feed(data, body_whole);
  } catch (const tornado::HTTPInputError&) {
    failed_whole = true;
  }
  try {
    for (std::size_t i = 0; i < data.size() && !bytewise.done(); ++i) {
      used_bytewise += bytewise.feed(data.substr(i, 1), body_bytewise);
    }
  } catch (const tornado::HTTPInputError&) {
    failed_bytewise = true;
  }
  check(failed_whole == failed_bytewise);
  if (failed_whole) return;
  check(whole.done() == bytewise.done());
  check(body_whole == body_bytewise);
  check(used_whole == used_bytewise && used_whole <= data.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto end = tornado::find_header_end(input);
  if (end) check(*end <= input.size() && input[*end - 1] == '\n');
  std::string_view head = input.substr(0, end.value_or(input.size()));
  try {
    tornado::RequestHead request = tornado::parse_request_head(head);
    check(!request.start_line.method.empty() && !request.start_line.path.empty());
    check_headers(request.headers);
    (void)tornado::parse_content_length(request.headers);
    std::string_view target = request.start_line.path;
    std::size_t q = target.find('?');
    if (q != std::string_view::npos) {
      for (const auto& [name, values] : tornado::parse_qs_bytes(target.substr(q + 1))) {
        check(!values.empty());
      }
    }
    check(tornado::url_unescape(tornado::url_escape(target)) == target);
  } catch (const tornado::HTTPInputError&) {
    // Rejected: the server answers 400.
  }
  check_chunked(end ? input.substr(*end) : input);
  return 0;
}
