// The chunked transfer coding, decoded as bytes arrive (RFC 9112 §7.1).
#include <algorithm>
#include <cctype>

#include "http/text.h"
#include "tornado/httputil.h"

namespace tornado {

std::size_t ChunkedDecoder::take_line(std::string_view input, bool& complete) {
  std::size_t eol = input.find('\n');
  complete = eol != std::string_view::npos;
  std::size_t used = complete ? eol + 1 : input.size();
  line_.append(input.substr(0, complete ? eol : used));
  if (line_.size() > kMaxLineSize) throw HTTPInputError("Chunk size line or trailer too long");
  if (complete && !line_.empty() && line_.back() == '\r') line_.pop_back();
  return used;
}

void ChunkedDecoder::on_size_line() {
  std::string_view size = std::string_view(line_).substr(0, line_.find(';'));
  size = detail::trim(size);  // BWS before a chunk extension
  if (size.empty() || size.size() > 15 || !std::all_of(size.begin(), size.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
      })) {
    throw HTTPInputError("Invalid chunk size: " + detail::printable(line_));
  }
  remaining_ = std::stoull(std::string(size), nullptr, 16);
  if (total_ + remaining_ > max_body_) {
    too_large_ = true;
    throw HTTPInputError("Chunked body too large");
  }
  total_ += remaining_;
  state_ = remaining_ == 0 ? State::trailer : State::data;
}

void ChunkedDecoder::on_trailer_line() {
  if (line_.empty()) {
    state_ = State::done;
    return;
  }
  // Trailer fields are checked like headers, then dropped.
  trailer_bytes_ += line_.size();
  if (trailer_bytes_ > kMaxLineSize) throw HTTPInputError("Chunked trailers too long");
  (void)HTTPHeaders::parse(line_);
}

std::size_t ChunkedDecoder::feed(std::string_view input, std::string& body) {
  std::size_t start = input.size();
  while (!input.empty() && state_ != State::done) {
    if (state_ == State::data) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size()));
      body.append(input.substr(0, n));
      input.remove_prefix(n);
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::data_end;
      continue;
    }
    bool complete = false;
    input.remove_prefix(take_line(input, complete));
    if (!complete) break;
    if (state_ == State::size_line) {
      on_size_line();
    } else if (state_ == State::data_end) {
      if (!line_.empty()) throw HTTPInputError("Chunk data not followed by CRLF");
      state_ = State::size_line;
    } else {
      on_trailer_line();
    }
    line_.clear();
  }
  return start - input.size();
}

}  // namespace tornado
