#include <catch2/catch.hpp>

#include "net/http_wire.hpp"

using namespace sluice::net;

TEST_CASE("encode_head writes the status line, fields and framing", "[net][wire]") {
  Headers headers = {{"X-Flue-Run-Id", "workflow:a:1"}};
  wire::ResponseHead head{
      202, "application/json", &headers, wire::Framing::kContentLength, 17, true, false};
  CHECK(wire::encode_head(head) ==
        "HTTP/1.1 202 Accepted\r\nServer: sluice\r\nContent-Type: application/json\r\n"
        "X-Flue-Run-Id: workflow:a:1\r\nContent-Length: 17\r\n\r\n");
}

TEST_CASE("encode_head announces the connection as the client needs", "[net][wire]") {
  wire::ResponseHead head{200, "", nullptr, wire::Framing::kChunked, 0, false, false};
  CHECK(wire::encode_head(head) ==
        "HTTP/1.1 200 OK\r\nServer: sluice\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n");
  head.keep_alive = true;
  head.http10_client = true;
  head.framing = wire::Framing::kUntilClose;
  CHECK(wire::encode_head(head) ==
        "HTTP/1.1 200 OK\r\nServer: sluice\r\nConnection: keep-alive\r\n\r\n");
}

TEST_CASE("encode_head drops unsafe and server-owned fields", "[net][wire]") {
  Headers headers = {{"X-Ok", "1"},
                     {"X-Split", "a\r\nInjected: yes"},
                     {"Bad Name", "x"},
                     {"", "x"},
                     {"content-length", "999"},
                     {"Transfer-Encoding", "gzip"},
                     {"Connection", "upgrade"},
                     {"Server", "other"},
                     {"Content-Type", "text/html"}};
  wire::ResponseHead head{
      404, "application/json", &headers, wire::Framing::kContentLength, 2, true, false};
  CHECK(wire::encode_head(head) ==
        "HTTP/1.1 404 Not Found\r\nServer: sluice\r\nContent-Type: application/json\r\n"
        "X-Ok: 1\r\nContent-Length: 2\r\n\r\n");
}

TEST_CASE("encode_chunk frames data with its hex length", "[net][wire]") {
  CHECK(wire::encode_chunk("hello") == "5\r\nhello\r\n");
  CHECK(wire::encode_chunk(std::string(300, 'a')) == "12c\r\n" + std::string(300, 'a') + "\r\n");
  CHECK(wire::kLastChunk == "0\r\n\r\n");
}

TEST_CASE("204 and 304 answers have no Content-Length", "[net][wire]") {
  wire::ResponseHead head{204, "", nullptr, wire::Framing::kContentLength, 0, true, false};
  CHECK(wire::encode_head(head) == "HTTP/1.1 204 No Content\r\nServer: sluice\r\n\r\n");
  CHECK_FALSE(wire::has_body_status(304));
  CHECK(wire::has_body_status(200));
}

TEST_CASE("split_target separates the raw path and query", "[net][wire]") {
  using Split = std::pair<std::string, std::string>;
  CHECK(wire::split_target("/agents/a/b%2Fc?x=1&y=%20") == Split{"/agents/a/b%2Fc", "x=1&y=%20"});
  CHECK(wire::split_target("/healthz") == Split{"/healthz", ""});
  CHECK(wire::split_target("/runs/r?") == Split{"/runs/r", ""});
  CHECK(wire::split_target("/a?b?c") == Split{"/a", "b?c"});
  CHECK(wire::split_target("http://host:3000/healthz?x=1") == Split{"/healthz", "x=1"});
  CHECK(wire::split_target("HTTPS://host") == Split{"/", ""});
  CHECK(wire::split_target("http://host?q=1") == Split{"/", "q=1"});
  CHECK(wire::split_target("*") == Split{"*", ""});
}
