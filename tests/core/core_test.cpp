#include <catch2/catch.hpp>

#include <set>

#include "core/clock.hpp"
#include "core/digest.hpp"
#include "core/ids.hpp"
#include "core/metrics.hpp"
#include "core/public_error.hpp"
#include "core/session_key.hpp"

using namespace sluice;

TEST_CASE("session keys escape their parts so different keys never share a string form") {
  const SessionKey plain{"echo", "a", "b/c"};
  const SessionKey slashed{"echo", "a/b", "c"};
  CHECK(plain.str() == "echo/a/b%2Fc");
  CHECK(slashed.str() == "echo/a%2Fb/c");
  CHECK(plain.str() != slashed.str());
  CHECK(SessionKey{"echo", "50%", "default"}.str() == "echo/50%25/default");
  CHECK(SessionKeyHash{}(plain) != SessionKeyHash{}(slashed));
}

TEST_CASE("ULIDs are 26 Crockford characters, unique and time-ordered by prefix") {
  std::set<std::string> seen;
  std::string previous;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_ulid();
    REQUIRE(id.size() == 26);
    CHECK(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") == std::string::npos);
    CHECK(id.substr(0, 10) >= previous.substr(0, std::min<size_t>(10, previous.size())));
    previous = id;
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
  CHECK(new_id("sub_").rfind("sub_", 0) == 0);
}

TEST_CASE("timestamps are ISO 8601 UTC with milliseconds") {
  CHECK(iso8601(0) == "1970-01-01T00:00:00.000Z");
  CHECK(iso8601(1'780'000'000'123) == "2026-05-28T20:26:40.123Z");
}

TEST_CASE("public errors map to their documented statuses and envelope") {
  CHECK(status_for_error_type("overloaded") == 429);
  CHECK(status_for_error_type("payload_too_large") == 413);
  CHECK(status_for_error_type("submission_aborted") == 409);
  CHECK(status_for_error_type("provider_error") == 502);
  CHECK(status_for_error_type("something_new") == 500);
  const auto envelope =
      make_error("invalid_request", "bad", "fix it", {{"reason", "x"}}).envelope();
  CHECK(envelope["error"]["type"] == "invalid_request");
  CHECK(envelope["error"]["message"] == "bad");
  CHECK(envelope["error"]["details"] == "fix it");
  CHECK(envelope["error"]["meta"]["reason"] == "x");
  CHECK_FALSE(make_error("invalid_json", "x").envelope()["error"].contains("meta"));
  CHECK(PublicError::from_json(envelope["error"]).meta["reason"] == "x");
}

TEST_CASE("sha256 digests are lower-case hex") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("metrics render counters, gauges and histograms in Prometheus text") {
  Metrics metrics;
  metrics.admitted(true, 0.002);
  metrics.admitted(false, 0.001);
  metrics.settled("completed", 0.01);
  metrics.queue_depth_add(3);
  metrics.queue_depth_add(-1);
  CHECK(metrics.unsettled() == 1);
  const std::string text = metrics.render();
  CHECK(text.find("sluice_admissions_total{kind=\"dispatch\"} 1") != std::string::npos);
  CHECK(text.find("sluice_settlements_total{outcome=\"completed\"} 1") != std::string::npos);
  CHECK(text.find("sluice_queue_depth 2") != std::string::npos);
  CHECK(text.find("sluice_admission_latency_seconds_count 2") != std::string::npos);
}
