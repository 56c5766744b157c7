// DELETE of a session sent to a node that does not own it: carried to the
// owner like an abort, which aborts the session's work and deletes its data.
#include <catch2/catch.hpp>

#include <thread>

#include "e2e/cluster_nodes.hpp"

using namespace sluice;
using namespace sluice::test;
using nlohmann::json;

TEST_CASE("a DELETE through a node that does not own the session", "[cluster]") {
  ClusterNodes cluster;
  for (const char* name : {"n1", "n2"}) cluster.start(name);
  std::string session;
  for (int i = 0; session.empty(); ++i) {
    const std::string candidate = "d" + std::to_string(i);
    if (ClusterNodes::owner_among({"n1", "n2"}, {"slow", "inst", candidate}) == "n1") {
      session = candidate;
    }
  }
  HttpClient via_n2("127.0.0.1", cluster.port(1));
  const HeaderList json_type = {{"Content-Type", "application/json"}};
  auto dispatched = via_n2.request("POST", "/agents/slow/inst/dispatch",
                                   json({{"input", "to delete"}, {"session", session}}).dump(),
                                   json_type);
  REQUIRE(dispatched.status == 202);
  const std::string id = dispatched.json()["submissionId"];

  auto deleted = via_n2.request("DELETE", "/agents/slow/inst?session=" + session);
  INFO(deleted.body);
  REQUIRE(deleted.status == 202);
  CHECK(deleted.json() == json{{"deleted", true}});
  CHECK(via_n2.request("GET", "/agents/slow/inst/submissions/" + id).status == 404);
  const auto listed =
      via_n2.request("GET", "/agents/slow/inst/submissions?session=" + session).json();
  CHECK(listed["submissions"].empty());
  const auto entries = via_n2.request("GET", "/agents/slow/inst/history?session=" + session).json();
  CHECK(entries["entries"].empty());

  // The owner still serves the session, with sequences that go on.
  auto after = via_n2.request("POST", "/agents/slow/inst/dispatch",
                              json({{"input", "after"}, {"session", session}}).dump(), json_type);
  REQUIRE(after.status == 202);
  CHECK(after.json()["sequence"] == 2);
}
