#include <catch2/catch.hpp>

#include "net/responses.hpp"

using namespace sluice;
using namespace sluice::net;

namespace {
std::string header_of(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "<absent>";
}
}  // namespace

TEST_CASE("json_response dumps the body on one line", "[net][responses]") {
  auto response = json_response(202, {{"a", "x\ny"}, {"b", 1}}, {{"X-Extra", "1"}});
  CHECK(response.status == 202);
  CHECK(response.content_type == "application/json");
  CHECK(response.body == R"({"a":"x\ny","b":1})");
  CHECK(header_of(response, "X-Extra") == "1");
}

TEST_CASE("json_response survives invalid UTF-8 in the body", "[net][responses]") {
  auto response = json_response(404, {{"id", std::string("bad\xff")}});
  CHECK(response.body.find("bad") != std::string::npos);
}

TEST_CASE("error_response uses the envelope and the status of the type", "[net][responses]") {
  auto response = error_response(make_error("run_not_found", "No such run.", "Check the id."));
  CHECK(response.status == 404);
  auto body = nlohmann::json::parse(response.body);
  CHECK(body["error"]["type"] == "run_not_found");
  CHECK(body["error"]["message"] == "No such run.");
  CHECK(body["error"]["details"] == "Check the id.");
  CHECK_FALSE(body["error"].contains("meta"));
  CHECK(header_of(response, "Retry-After") == "<absent>");
}

TEST_CASE("error_response passes headers through (Allow for 405)", "[net][responses]") {
  auto response =
      error_response(make_error("method_not_allowed", "No.", ""), {{"Allow", "GET, POST"}});
  CHECK(response.status == 405);
  CHECK(header_of(response, "Allow") == "GET, POST");
}

TEST_CASE("error_response adds Retry-After to 429", "[net][responses]") {
  CHECK(header_of(error_response(make_error("overloaded", "Full.")), "Retry-After") == "1");
  CHECK(header_of(error_response(make_error("overloaded", "Full.", "", {{"retryAfter", 7}})),
                  "Retry-After") == "7");
  CHECK(header_of(error_response(make_error("overloaded", "Full.", "", {{"retryAfter", 2.2}})),
                  "Retry-After") == "3");
  CHECK(header_of(error_response(make_error("overloaded", "Full.", "", {{"retryAfter", "x"}})),
                  "Retry-After") == "1");
  auto given = error_response(make_error("overloaded", "Full."), {{"Retry-After", "9"}});
  CHECK(given.headers.size() == 1);
  CHECK(header_of(given, "Retry-After") == "9");
  auto body = nlohmann::json::parse(
      error_response(make_error("overloaded", "Full.", "", {{"retryAfter", 7}})).body);
  CHECK(body["error"]["meta"]["retryAfter"] == 7);
}

TEST_CASE("Retry-After from a peer's huge retryAfter is capped at a day", "[net][responses]") {
  // A meta relayed from another node may carry any number; beyond int64 the
  // conversion was undefined behaviour (fuzz/corpus/cluster_envelope/crash-*).
  CHECK(header_of(error_response(make_error("overloaded", "Full.", "", {{"retryAfter", 9.9e155}})),
                  "Retry-After") == "86400");
  CHECK(header_of(error_response(make_error("overloaded", "Full.", "", {{"retryAfter", 1e300}})),
                  "Retry-After") == "86400");
}

TEST_CASE("sse_frame has the exact wire shape", "[net][responses]") {
  CHECK(sse_frame("text_delta", 3, {{"type", "text_delta"}, {"delta", "a\nb"}}) ==
        "event: text_delta\nid: 3\ndata: {\"delta\":\"a\\nb\",\"type\":\"text_delta\"}\n\n");
  CHECK(sse_frame("idle", 0, nlohmann::json::object()) == "event: idle\nid: 0\ndata: {}\n\n");
}
