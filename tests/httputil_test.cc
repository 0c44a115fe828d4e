// Specification of httputil.h: headers, request lines, query strings and the
// chunked decoder, on well-formed and hostile input (after Tornado's
// httputil_test.py and http1connection's checks).
#include "tornado/httputil.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tornado {
namespace {

// ---- HTTPHeaders ---------------------------------------------------------------

TEST(HTTPHeaders, LookupIgnoresCaseAndJoinsRepeatedValues) {
  HTTPHeaders h = HTTPHeaders::parse("Set-Cookie: a=1\r\nset-cookie: b=2\r\nHost: x\r\n\r\n");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.get("SET-COOKIE"), "a=1,b=2");
  EXPECT_EQ(h.get_list("set-cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(h.get_first("set-cookie"), "a=1");
  EXPECT_EQ(h.get("host"), "x");
  EXPECT_FALSE(h.get("Missing").has_value());
  EXPECT_EQ(h.get("Missing", "fallback"), "fallback");
}

TEST(HTTPHeaders, KeepsArrivalOrderAndNormalizesNames) {
  HTTPHeaders h = HTTPHeaders::parse("content-TYPE: text/plain\nX-B: 2\nx-a: 1\n\n");
  std::vector<std::string> names;
  for (const auto& [name, value] : h) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"Content-Type", "X-B", "X-A"}));
}

TEST(HTTPHeaders, ValuesAreTrimmedOfSpacesAndTabs) {
  HTTPHeaders h = HTTPHeaders::parse("A: \t spaced \t\r\nB:\r\n");
  EXPECT_EQ(h.get("A"), "spaced");
  EXPECT_EQ(h.get("B"), "");
}

TEST(HTTPHeaders, ObsFoldContinuesThePreviousValueWithOneSpace) {
  HTTPHeaders h = HTTPHeaders::parse("Foo: bar\r\n   baz\r\n\tqux\r\nNext: 1\r\n");
  EXPECT_EQ(h.get("Foo"), "bar baz qux");
  EXPECT_EQ(h.get("Next"), "1");
}

TEST(HTTPHeaders, ObsFoldOnTheFirstLineIsRejected) {
  EXPECT_THROW(HTTPHeaders::parse(" Foo: bar\r\n"), HTTPInputError);
}

TEST(HTTPHeaders, LineWithoutColonIsRejected) {
  EXPECT_THROW(HTTPHeaders::parse("Foo bar\r\n"), HTTPInputError);
}

TEST(HTTPHeaders, NamesThatAreNotTokensAreRejected) {
  for (const char* block : {"Foo Bar: x\r\n", ": x\r\n", "Foo : x\r\n", "F\x01o: x\r\n",
                            "Fo(o): x\r\n", "F\xc3\xa9: x\r\n"}) {
    EXPECT_THROW(HTTPHeaders::parse(block), HTTPInputError) << block;
  }
}

TEST(HTTPHeaders, ValuesWithCarriageReturnOrNulAreRejected) {
  EXPECT_THROW(HTTPHeaders::parse(std::string("Foo: a\rb\r\n")), HTTPInputError);
  EXPECT_THROW(HTTPHeaders::parse(std::string("Foo: a\0b\r\n", 10)), HTTPInputError);
  HTTPHeaders h;
  EXPECT_THROW(h.add("X", "a\r\nInjected: 1"), HTTPInputError);
  EXPECT_THROW(h.set("Bad Name", "v"), HTTPInputError);
  EXPECT_TRUE(h.empty());
}

TEST(HTTPHeaders, SetReplacesEveryValueAndRemoveCountsThem) {
  HTTPHeaders h{{"A", "1"}, {"B", "2"}, {"a", "3"}};
  h.set("A", "9");
  EXPECT_EQ(h.get_list("a"), std::vector<std::string>{"9"});
  EXPECT_EQ(h.size(), 2u);
  h.add("a", "10");
  EXPECT_EQ(h.remove("A"), 2u);
  EXPECT_FALSE(h.contains("a"));
  EXPECT_EQ(h.to_wire(), "B: 2\r\n");
}

TEST(HTTPHeaders, NormalizeHeaderNameCapitalizesEachWord) {
  EXPECT_EQ(normalize_header_name("content-length"), "Content-Length");
  EXPECT_EQ(normalize_header_name("X-REQUESTED-WITH"), "X-Requested-With");
  EXPECT_EQ(normalize_header_name("etag"), "Etag");
}

// ---- Start lines ---------------------------------------------------------------

TEST(RequestStartLine, SplitsMethodTargetAndVersion) {
  RequestStartLine line = parse_request_start_line("GET /foo?x=1 HTTP/1.1");
  EXPECT_EQ(line.method, "GET");
  EXPECT_EQ(line.path, "/foo?x=1");
  EXPECT_EQ(line.version, "HTTP/1.1");
  EXPECT_EQ(parse_request_start_line("OPTIONS * HTTP/1.0").path, "*");
}

TEST(RequestStartLine, MalformedLinesAreRejected) {
  for (const char* bad : {"", "GET", "GET /", "GET / HTTP/1.1 extra", "GET  / HTTP/1.1",
                          "GET / HTTP/2.0", "GET / HTTP/1.10", "GET / http/1.1", "G(T / HTTP/1.1",
                          "GET /\x01 HTTP/1.1", " GET / HTTP/1.1", "GET / HTTP/1.1 "}) {
    EXPECT_THROW(parse_request_start_line(bad), HTTPInputError) << bad;
  }
}

TEST(ResponseStartLine, ParsesCodeAndReason) {
  ResponseStartLine line = parse_response_start_line("HTTP/1.1 404 Not Found");
  EXPECT_EQ(line.version, "HTTP/1.1");
  EXPECT_EQ(line.code, 404);
  EXPECT_EQ(line.reason, "Not Found");
  EXPECT_EQ(parse_response_start_line("HTTP/1.0 200").reason, "");
  EXPECT_THROW(parse_response_start_line("HTTP/1.1 20 OK"), HTTPInputError);
  EXPECT_THROW(parse_response_start_line("HTTP/1.1 2000 OK"), HTTPInputError);
  EXPECT_THROW(parse_response_start_line("ICY 200 OK"), HTTPInputError);
}

TEST(ReasonPhrase, KnowsTheStatusesTheServerSends) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(299), "Unknown");
}

// ---- Heads and lengths -----------------------------------------------------------

TEST(FindHeaderEnd, FindsTheBlankLineWithCrlfOrBareLf) {
  EXPECT_EQ(find_header_end("GET / HTTP/1.1\r\nA: 1\r\n\r\nbody"), 24u);
  EXPECT_EQ(find_header_end("GET / HTTP/1.1\nA: 1\n\nbody"), 21u);
  EXPECT_EQ(find_header_end("GET / HTTP/1.1\r\nA: 1\n\r\n"), 23u);
  EXPECT_FALSE(find_header_end("GET / HTTP/1.1\r\nA: 1\r\n").has_value());
  EXPECT_FALSE(find_header_end("GET / HTTP/1.1\r\n\r").has_value());
}

TEST(ParseRequestHead, SplitsStartLineFromHeaders) {
  RequestHead head = parse_request_head("POST /x HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(head.start_line.method, "POST");
  EXPECT_EQ(head.headers.get("host"), "h");
  EXPECT_EQ(parse_content_length(head.headers), 3u);
}

TEST(ParseContentLength, AcceptsDigitsAndAgreeingRepeats) {
  EXPECT_FALSE(parse_content_length(HTTPHeaders{}).has_value());
  EXPECT_EQ(parse_content_length(HTTPHeaders{{"Content-Length", "0"}}), 0u);
  EXPECT_EQ(parse_content_length(HTTPHeaders{{"Content-Length", "5, 5"}}), 5u);
  EXPECT_EQ(parse_content_length(HTTPHeaders{{"Content-Length", "7"}, {"Content-Length", "7"}}),
            7u);
}

TEST(ParseContentLength, RejectsSignsSpacesHexDisagreementAndOverflow) {
  for (const char* bad : {"+5", "-1", "5 5", "0x10", "", "5,6", "abc", "99999999999999999999999"}) {
    EXPECT_THROW(parse_content_length(HTTPHeaders{{"Content-Length", bad}}), HTTPInputError) << bad;
  }
  EXPECT_THROW(parse_content_length(HTTPHeaders{{"Content-Length", "1"}, {"Content-Length", "2"}}),
               HTTPInputError);
}

// ---- URLs and query strings --------------------------------------------------------

TEST(UrlUnescape, DecodesPercentAndPlusAndKeepsBrokenEscapes) {
  EXPECT_EQ(url_unescape("a%20b+c"), "a b c");
  EXPECT_EQ(url_unescape("a+b", false), "a+b");
  EXPECT_EQ(url_unescape("%e2%82%AC"), "\xe2\x82\xac");
  EXPECT_EQ(url_unescape("100%"), "100%");
  EXPECT_EQ(url_unescape("%zz%4"), "%zz%4");
}

TEST(UrlEscape, RoundTripsThroughUnescape) {
  std::string raw = "a b/c?d=e&f\xff~";
  EXPECT_EQ(url_escape(raw), "a+b%2Fc%3Fd%3De%26f%FF~");
  EXPECT_EQ(url_escape(" ", false), "%20");
  EXPECT_EQ(url_unescape(url_escape(raw)), raw);
}

TEST(ParseQsBytes, KeepsRepeatsInOrderAndBlankValues) {
  QueryArguments args = parse_qs_bytes("a=1&b=x+y&a=3&empty=&flag&&c=%26");
  EXPECT_EQ(args["a"], (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(args["b"], std::vector<std::string>{"x y"});
  EXPECT_EQ(args["empty"], std::vector<std::string>{""});
  EXPECT_EQ(args["flag"], std::vector<std::string>{""});
  EXPECT_EQ(args["c"], std::vector<std::string>{"&"});
  EXPECT_EQ(args.size(), 5u);
  EXPECT_TRUE(parse_qs_bytes("").empty());
}

// ---- ChunkedDecoder ----------------------------------------------------------------

const std::string kChunked =
    "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n";

TEST(ChunkedDecoder, DecodesAWholeBodyAndStopsAtItsEnd) {
  ChunkedDecoder decoder;
  std::string body;
  std::string input = kChunked + "GET /next";
  EXPECT_EQ(decoder.feed(input, body), kChunked.size());
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(body, "Wikipedia in\r\n\r\nchunks.");
}

TEST(ChunkedDecoder, DecodesTheSameBodyFedOneByteAtATime) {
  ChunkedDecoder decoder;
  std::string body;
  std::size_t used = 0;
  for (char c : kChunked) {
    EXPECT_FALSE(decoder.done());
    used += decoder.feed(std::string_view(&c, 1), body);
  }
  EXPECT_TRUE(decoder.done());
  EXPECT_EQ(used, kChunked.size());
  EXPECT_EQ(body, "Wikipedia in\r\n\r\nchunks.");
}

TEST(ChunkedDecoder, MalformedFramingIsRejected) {
  for (const char* bad : {"x\r\n", "-1\r\n", "+1\r\na\r\n", "0x1\r\na\r\n", "\r\n", "1\r\nab\r\n",
                          "10000000000000000\r\n", "0\r\nBad Trailer\r\n"}) {
    ChunkedDecoder decoder;
    std::string body;
    EXPECT_THROW(decoder.feed(bad, body), HTTPInputError) << bad;
    EXPECT_FALSE(decoder.body_too_large());
  }
}

TEST(ChunkedDecoder, EndlessSizeLineIsRejectedAtTheLineLimit) {
  ChunkedDecoder decoder;
  std::string body;
  std::string zeros(ChunkedDecoder::kMaxLineSize, '0');
  EXPECT_EQ(decoder.feed(zeros, body), zeros.size());
  EXPECT_THROW(decoder.feed("0", body), HTTPInputError);
}

TEST(ChunkedDecoder, BodyOverTheLimitIsFlaggedTooLarge) {
  ChunkedDecoder decoder(8);
  std::string body;
  EXPECT_EQ(decoder.feed("5\r\nhello\r\n", body), 10u);
  EXPECT_THROW(decoder.feed("4\r\n", body), HTTPInputError);
  EXPECT_TRUE(decoder.body_too_large());
  EXPECT_EQ(body, "hello");
}

}  // namespace
}  // namespace tornado
