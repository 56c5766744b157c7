// Real sluice processes sharing one real PostgreSQL schema, talking to each
// other over CAF on loopback: routing to the owner, kill -9 of a node, a node
// paused past its lease (fencing), a node joining under load. Every check goes
// through the public routes, plus a direct look at the database for who ran what.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "e2e/cluster_nodes.hpp"
#include "support/session_audit.hpp"

using namespace sluice;
using namespace sluice::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kBase = "/agents/work/inst";

std::string session_name(int s) {
  return "s" + std::to_string(s);
}

// Clients sending dispatches, each session's messages one at a time, every
// message to the next node in turn. A message is retried under the same
// Idempotency-Key on the next node after a 5xx or a dead connection, so a
// retry can never admit it twice.
class Traffic {
 public:
  Traffic(int sessions, std::function<std::vector<uint16_t>()> ports)
      : sessions_(sessions), ports_(std::move(ports)), receipts_(static_cast<size_t>(sessions)) {}

  // Until `stop`, or until each session has `max_messages` receipts (0: no cap).
  void run(int threads, std::atomic<bool>& stop, int max_messages = 0) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([this, t, threads, &stop, max_messages] {
        send(t, threads, stop, max_messages);
      });
    }
    for (auto& w : workers) w.join();
  }

  const std::vector<Receipt>& receipts(int s) const { return receipts_[static_cast<size_t>(s)]; }
  // Catch's assertions are not thread-safe: the workers record, the test checks.
  std::vector<std::string> failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }
  size_t total() const {
    size_t n = 0;
    for (const auto& r : receipts_) n += r.size();
    return n;
  }

 private:
  void send(int thread, int threads, std::atomic<bool>& stop, int max_messages) {
    std::map<uint16_t, std::unique_ptr<HttpClient>> clients;
    size_t turn = static_cast<size_t>(thread);
    std::vector<int> next(static_cast<size_t>(sessions_), 0);
    bool more = true;
    while (more && !stop) {
      more = false;
      for (int s = thread; s < sessions_ && !stop; s += threads) {
        int& n = next[static_cast<size_t>(s)];
        if (max_messages > 0 && n >= max_messages) continue;
        more = true;
        const std::string input = "m" + std::to_string(n);
        const std::string key = session_name(s) + "-" + input;
        const json body = {{"input", input}, {"session", session_name(s)}};
        const auto deadline = Clock::now() + 30s;
        while (!stop || max_messages > 0) {
          if (Clock::now() > deadline) {
            fail("no node admitted " + key + " within 30 s");
            return;
          }
          const auto ports = ports_();
          const uint16_t port = ports[turn++ % ports.size()];
          auto& client = clients[port];
          if (!client) client = std::make_unique<HttpClient>("127.0.0.1", port);
          try {
            auto response = client->request(
                "POST", kBase + "/dispatch", body.dump(),
                {{"Content-Type", "application/json"}, {"Idempotency-Key", key}}, 20s);
            if (response.status == 202 || response.status == 200) {
              const json receipt = response.json();
              std::lock_guard lock(mutex_);
              receipts_[static_cast<size_t>(s)].push_back(
                  {receipt["submissionId"], receipt["sequence"], input});
              break;
            }
            if (response.status < 500) {
              fail("unexpected answer for " + key + ": " + std::to_string(response.status) + " " +
                   response.body);
              return;
            }
          } catch (const std::runtime_error&) {
            client.reset();  // the node is gone or the connection broke
          }
          std::this_thread::sleep_for(30ms);
        }
        ++n;
      }
    }
  }

  void fail(std::string what) {
    std::lock_guard lock(mutex_);
    failures_.push_back(std::move(what));
  }

  int sessions_;
  std::function<std::vector<uint16_t>()> ports_;
  mutable std::mutex mutex_;
  std::vector<std::string> failures_;
  std::vector<std::vector<Receipt>> receipts_;
};

// The node that ran each of the session's submissions (from the database).
std::vector<std::string> runners(persistence::Database& db, const SessionKey& key) {
  auto txn = db.begin();
  std::vector<std::string> out;
  for (const auto& r : txn->list_submissions(key, std::nullopt, persistence::Page{0, 1000})) {
    out.push_back(r.last_owner);
  }
  txn->commit();
  return out;
}

std::string session_owned_by(const std::vector<std::string>& names, const std::string& owner,
                             const std::string& agent, const std::string& prefix) {
  for (int i = 0;; ++i) {
    const std::string name = prefix + std::to_string(i);
    if (ClusterNodes::owner_among(names, {agent, "inst", name}) == owner) return name;
  }
}

}  // namespace

TEST_CASE("three nodes: each session runs on its owner, once, in order, whichever node is asked",
          "[cluster]") {
  ClusterNodes cluster;
  for (const char* name : {"n1", "n2", "n3"}) cluster.start(name);
  constexpr int kSessions = 200;
  Traffic traffic(kSessions, [&] {
    return std::vector<uint16_t>{cluster.port(0), cluster.port(1), cluster.port(2)};
  });
  std::atomic<bool> stop{false};
  traffic.run(8, stop, 3);
  CHECK(traffic.failures().empty());
  REQUIRE(traffic.total() == kSessions * 3);

  HttpClient client("127.0.0.1", cluster.port(1));
  auto db = cluster.open_database();
  std::map<std::string, int> per_node;
  for (int s = 0; s < kSessions; ++s) {
    audit_session(client, kBase, session_name(s), traffic.receipts(s), 20s);
    const SessionKey key{"work", "inst", session_name(s)};
    const std::string owner = ClusterNodes::owner_among({"n1", "n2", "n3"}, key);
    for (const auto& runner : runners(*db, key)) CHECK(runner == owner);
    ++per_node[owner];
  }
  CHECK(per_node.size() == 3);

  const json view = client.request("GET", "/admin/cluster").json();
  REQUIRE(view["members"].size() == 3);
  for (const auto& member : view["members"]) CHECK(member["state"] == "live");
}

TEST_CASE("kill -9 of a node under load: nothing lost or duplicated, order kept, sessions taken "
          "over",
          "[cluster]") {
  ClusterNodes cluster;
  for (const char* name : {"n1", "n2", "n3"}) cluster.start(name);
  std::atomic<bool> killed{false};
  Traffic traffic(60, [&] {
    if (killed) return std::vector<uint16_t>{cluster.port(0), cluster.port(1)};
    return std::vector<uint16_t>{cluster.port(0), cluster.port(1), cluster.port(2)};
  });
  std::atomic<bool> stop{false};
  std::thread load([&] { traffic.run(6, stop); });

  std::this_thread::sleep_for(1500ms);
  cluster.process(2).kill(SIGKILL);
  const auto killed_at = Clock::now();
  killed = true;
  REQUIRE(cluster.process(2).wait(10s));

  // A session the dead node owned answers again once a survivor has taken it over.
  const std::string orphan = session_owned_by({"n1", "n2", "n3"}, "n3", "work", "probe");
  HttpClient probe("127.0.0.1", cluster.port(0));
  double takeover_s = -1;
  while (Clock::now() - killed_at < 30s) {
    auto response = probe.request("POST", kBase,
                                  json({{"message", "back"}, {"session", orphan}}).dump(),
                                  {{"Content-Type", "application/json"}}, 20s);
    if (response.status == 200) {
      takeover_s = std::chrono::duration<double>(Clock::now() - killed_at).count();
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  WARN("a session of the killed node answered again after " << takeover_s << " s");
  CHECK(takeover_s > 0);
  CHECK(takeover_s < 15);

  std::this_thread::sleep_for(1500ms);
  stop = true;
  load.join();
  CHECK(traffic.failures().empty());
  INFO("receipts: " << traffic.total());
  REQUIRE(traffic.total() > 0);
  HttpClient client("127.0.0.1", cluster.port(0));
  for (int s = 0; s < 60; ++s) audit_session(client, kBase, session_name(s), traffic.receipts(s), 30s);
}

TEST_CASE("a node paused past its lease is fenced when it wakes, and rejoins cleanly",
          "[cluster]") {
  ClusterNodes cluster;
  for (const char* name : {"n1", "n2", "n3"}) cluster.start(name);
  const std::string session = session_owned_by({"n1", "n2", "n3"}, "n3", "slow", "p");
  const std::string path = "/agents/slow/inst";

  // Asked through n1, run by n3, which is paused in the middle of the turn.
  Response answer;
  std::thread prompt([&] {
    HttpClient client("127.0.0.1", cluster.port(0));
    answer = client.request("POST", path, json({{"message", "late"}, {"session", session}}).dump(),
                            {{"Content-Type", "application/json"}}, 60s);
  });
  std::this_thread::sleep_for(800ms);
  cluster.process(2).kill(SIGSTOP);
  std::this_thread::sleep_for(7s);  // past the lease: the others take the session over
  cluster.process(2).kill(SIGCONT);
  prompt.join();
  INFO(answer.body);
  REQUIRE(answer.status == 200);
  CHECK(answer.json()["result"] == "late");

  // n3 finished its stale turn after waking: that write was refused.
  const auto wake_deadline = Clock::now() + 15s;
  while (Clock::now() < wake_deadline &&
         cluster.process(2).stderr_text().find("ownership lost") == std::string::npos) {
    std::this_thread::sleep_for(100ms);
  }
  CHECK(cluster.process(2).stderr_text().find("write refused") != std::string::npos);
  CHECK(cluster.process(2).stderr_text().find("ownership lost") != std::string::npos);
  CHECK(wait_for_http_ok(cluster.port(2), "/readyz", 15s, &cluster.process(2)));

  // The session carries on, through the node that was paused, in order.
  HttpClient n3("127.0.0.1", cluster.port(2));
  auto again = n3.request("POST", path, json({{"message", "again"}, {"session", session}}).dump(),
                          {{"Content-Type", "application/json"}}, 60s);
  REQUIRE(again.status == 200);
  const auto records =
      fetch_all(n3, path + "/submissions?session=" + session, "submissions");
  REQUIRE(records.size() == 2);
  CHECK(records[0]["result"] == "late");
  CHECK(records[1]["result"] == "again");
  std::vector<Receipt> receipts = {{records[0]["submissionId"], 1, "late"},
                                   {records[1]["submissionId"], 2, "again"}};
  audit_session(n3, path, session, receipts, 10s);
}

TEST_CASE("a node joining under load takes its sessions over without reordering or repeats",
          "[cluster]") {
  ClusterNodes cluster;
  for (const char* name : {"n1", "n2"}) cluster.start(name);
  std::atomic<bool> joined{false};
  Traffic traffic(40, [&] {
    if (joined) return std::vector<uint16_t>{cluster.port(0), cluster.port(1), cluster.port(2)};
    return std::vector<uint16_t>{cluster.port(0), cluster.port(1)};
  });
  std::atomic<bool> stop{false};
  std::thread load([&] { traffic.run(6, stop); });
  std::this_thread::sleep_for(1s);
  cluster.start("n3");
  joined = true;
  std::this_thread::sleep_for(3s);
  stop = true;
  load.join();
  CHECK(traffic.failures().empty());

  HttpClient client("127.0.0.1", cluster.port(2));
  auto db = cluster.open_database();
  int moved = 0;
  for (int s = 0; s < 40; ++s) {
    audit_session(client, kBase, session_name(s), traffic.receipts(s), 30s);
    const SessionKey key{"work", "inst", session_name(s)};
    if (ClusterNodes::owner_among({"n1", "n2", "n3"}, key) != "n3") continue;
    const auto ran = runners(*db, key);
    if (!ran.empty() && ran.back() == "n3") ++moved;
  }
  INFO("receipts: " << traffic.total());
  CHECK(moved > 0);
}

TEST_CASE("a stream and an abort through a node that does not own the session", "[cluster]") {
  ClusterNodes cluster;
  for (const char* name : {"n1", "n2"}) cluster.start(name);
  const std::string session = session_owned_by({"n1", "n2"}, "n1", "slow", "x");
  HttpClient via_n2("127.0.0.1", cluster.port(1));

  auto stream = via_n2.open_sse("POST", "/agents/slow/inst",
                                json({{"message", "streamed"}, {"session", session}}).dump(),
                                {{"Content-Type", "application/json"}});
  REQUIRE(stream.status() == 200);
  std::vector<std::string> types;
  json result;
  while (auto event = stream.next(20s)) {
    const json data = event->json();
    types.push_back(data.value("type", event->event));
    if (data.value("type", "") == "operation") result = data;
  }
  INFO(json(types).dump());
  CHECK(std::find(types.begin(), types.end(), "agent_start") != types.end());
  CHECK(std::find(types.begin(), types.end(), "text_delta") != types.end());
  CHECK(result.dump().find("streamed") != std::string::npos);

  // A long turn, then an abort of everything in the session, both sent to n2.
  auto dispatched = via_n2.request("POST", "/agents/slow/inst/dispatch",
                                   json({{"input", "to abort"}, {"session", session}}).dump(),
                                   {{"Content-Type", "application/json"}});
  REQUIRE(dispatched.status == 202);
  const std::string id = dispatched.json()["submissionId"];
  auto aborted = via_n2.request("POST", "/agents/slow/inst/abort",
                                json({{"session", session}}).dump(),
                                {{"Content-Type", "application/json"}});
  INFO(aborted.body);
  REQUIRE(aborted.status == 202);
  CHECK(aborted.body.find(id) != std::string::npos);
  // An abort of a turn whose start is still being committed settles right after it.
  json record;
  for (int i = 0; i < 200; ++i) {
    record = via_n2.request("GET", "/agents/slow/inst/submissions/" + id).json();
    if (record["state"] != "running") break;
    std::this_thread::sleep_for(50ms);
  }
  CHECK(record["state"] == "aborted");
}

TEST_CASE("a node that does not know the cluster secret cannot submit through another",
          "[cluster]") {
  ClusterNodes cluster;
  cluster.start("n1");
  cluster.start("n2",
                {{"SLUICE_CLUSTER_SECRET", "a-different-secret-0123456789"},
                 {"SLUICE_FORWARD_TIMEOUT_MS", "1500"}});
  const std::string session = session_owned_by({"n1", "n2"}, "n1", "work", "q");
  HttpClient via_n2("127.0.0.1", cluster.port(1));
  auto response = via_n2.request("POST", kBase,
                                  json({{"message", "intruder"}, {"session", session}}).dump(),
                                  {{"Content-Type", "application/json"}}, 20s);
  INFO(response.body);
  CHECK(response.status == 503);
  CHECK(response.body.find("owner_unreachable") != std::string::npos);
  CHECK(cluster.process(0).stderr_text().find("not sealed with this cluster's secret") !=
        std::string::npos);
  // Nothing was admitted.
  HttpClient via_n1("127.0.0.1", cluster.port(0));
  const auto records = fetch_all(via_n1, kBase + "/submissions?session=" + session, "submissions");
  CHECK(records.empty());
}

TEST_CASE("a node leaving gracefully under load hands its sessions over", "[cluster]") {
  ClusterNodes cluster;
  for (const char* name : {"n1", "n2", "n3"}) cluster.start(name);
  std::atomic<bool> leaving{false};
  Traffic traffic(40, [&] {
    if (leaving) return std::vector<uint16_t>{cluster.port(0), cluster.port(1)};
    return std::vector<uint16_t>{cluster.port(0), cluster.port(1), cluster.port(2)};
  });
  std::atomic<bool> stop{false};
  std::thread load([&] { traffic.run(6, stop); });
  std::this_thread::sleep_for(1500ms);
  leaving = true;
  cluster.process(2).kill(SIGTERM);
  const auto status = cluster.process(2).wait(30s);
  std::this_thread::sleep_for(2s);
  stop = true;
  load.join();
  REQUIRE(status);
  CHECK(status->exited_with(0));
  CHECK(traffic.failures().empty());

  HttpClient client("127.0.0.1", cluster.port(0));
  for (int s = 0; s < 40; ++s) audit_session(client, kBase, session_name(s), traffic.receipts(s), 30s);
  const json view = client.request("GET", "/admin/cluster").json();
  CHECK(view["view"].size() == 2);
}
