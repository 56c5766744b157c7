// The real binary on a file database (and on PostgreSQL), killed with SIGKILL mid-flight and
// restarted: every receipt a client got reaches exactly one terminal outcome,
// no history holds a duplicate, and each session's order holds.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "persistence/postgres_test_schema.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

constexpr int kSessions = 200;
constexpr int kSenders = 8;

struct Receipt {
  std::string submission_id;
  int64_t sequence = 0;
  int message = 0;  // the sender's index of the message within its session
};

class Server {
 public:
  Server(const TempDir& dir, const std::string& database_url, uint16_t port, int run)
      : process_(options(dir, database_url, port, run)) {
    REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &process_));
  }
  Process& process() { return process_; }

 private:
  static ProcessOptions options(const TempDir& dir, const std::string& database_url, uint16_t port,
                                int run) {
    ProcessOptions options;
    options.argv = {SLUICE_BINARY, "serve", "--project", (dir / "project").string()};
    options.env = {{"PORT", std::to_string(port)},
                   {"DATABASE_URL", database_url},
                   {"SLUICE_NODE_ID", "crash-node"},
                   {"SLUICE_RECLAIM_INTERVAL_MS", "100"},
                   {"SLUICE_LOG_LEVEL", "warn"}};
    options.stdout_path = dir / ("out-" + std::to_string(run) + ".log");
    options.stderr_path = dir / ("err-" + std::to_string(run) + ".log");
    return options;
  }

  Process process_;
};

std::string session_name(int s) {
  return "s" + std::to_string(s);
}

// Sends dispatches to its share of the sessions, one message at a time per
// session, until told to stop or the server goes away.
void send_until_stopped(uint16_t port, int sender, std::atomic<bool>& stop,
                        std::map<int, std::vector<Receipt>>& receipts, std::mutex& mutex,
                        std::map<int, int>& next_message) {
  HttpClient client("127.0.0.1", port);
  while (!stop) {
    for (int s = sender; s < kSessions && !stop; s += kSenders) {
      int message;
      {
        std::lock_guard lock(mutex);
        message = next_message[s]++;
      }
      const json body = {{"input", "m" + std::to_string(message)}, {"session", session_name(s)}};
      try {
        auto response = client.request("POST", "/agents/work/crash/dispatch", body.dump(),
                                       {{"Content-Type", "application/json"}}, 5s);
        if (response.status != 202) continue;
        const json receipt = response.json();
        std::lock_guard lock(mutex);
        receipts[s].push_back({receipt["submissionId"], receipt["sequence"], message});
      } catch (const std::exception&) {
        return;  // the server is gone: whatever was in flight has no receipt
      }
    }
  }
}

std::vector<json> fetch_all(HttpClient& client, const std::string& path, const std::string& field) {
  std::vector<json> out;
  int64_t after = 0;
  while (true) {
    auto response = client.request("GET", path + "&limit=1000&after=" + std::to_string(after));
    REQUIRE(response.status == 200);
    const json body = response.json();
    for (const auto& item : body[field]) out.push_back(item);
    if (!body.contains("next")) return out;
    after = body["next"];
  }
}

bool all_settled(const std::vector<json>& records) {
  for (const auto& r : records) {
    if (r["state"] == "queued" || r["state"] == "running") return false;
  }
  return true;
}

// database_url: "" for a SQLite file in the test's folder.
void run_kill_cycle(std::chrono::milliseconds kill_after, std::string database_url = "") {
  TempDir dir("sluice-crash");
  if (database_url.empty()) database_url = "sqlite://" + (dir / "sluice.db").string();
  std::filesystem::create_directories(dir / "project" / "agents");
  std::ofstream(dir / "project" / "agents" / "work.toml")
      << "model = \"sluice/echo\"\nexpose = [\"http\"]\n[model_options]\ndelay_ms = 5\n";
  const uint16_t port = free_port();

  std::map<int, std::vector<Receipt>> receipts;
  std::map<int, int> next_message;
  std::mutex mutex;
  {
    Server first(dir, database_url, port, 1);
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int i = 0; i < kSenders; ++i) {
      senders.emplace_back(send_until_stopped, port, i, std::ref(stop), std::ref(receipts),
                           std::ref(mutex), std::ref(next_message));
    }
    std::this_thread::sleep_for(kill_after);
    first.process().kill(SIGKILL);
    REQUIRE(first.process().wait(10s));
    stop = true;
    for (auto& t : senders) t.join();
  }
  size_t total_receipts = 0;
  for (const auto& [s, list] : receipts) total_receipts += list.size();
  INFO("receipts before the kill: " << total_receipts);
  REQUIRE(total_receipts > 0);

  Server second(dir, database_url, port, 2);
  HttpClient client("127.0.0.1", port);
  for (int s = 0; s < kSessions; ++s) {
    const std::string query = "?session=" + session_name(s);
    std::vector<json> records;
    for (int i = 0; i < 2000; ++i) {
      records = fetch_all(client, "/agents/work/crash/submissions" + query, "submissions");
      if (all_settled(records)) break;
      std::this_thread::sleep_for(10ms);
    }
    REQUIRE(all_settled(records));
    std::map<std::string, json> by_id;
    for (const auto& r : records) by_id[r["submissionId"]] = r;
    // Every receipt reached exactly one terminal outcome, with its sequence.
    for (const Receipt& receipt : receipts[s]) {
      auto it = by_id.find(receipt.submission_id);
      REQUIRE(it != by_id.end());
      CHECK(it->second["state"] == "completed");
      CHECK(it->second["sequence"] == receipt.sequence);
      CHECK(it->second["result"] == "m" + std::to_string(receipt.message));
    }
    // Sequences are 1..n without gaps; messages in send order.
    int last_message = -1;
    for (size_t i = 0; i < records.size(); ++i) {
      CHECK(records[i]["sequence"] == static_cast<int64_t>(i + 1));
      const std::string input = records[i]["result"].is_string() ? records[i]["result"] : "";
      if (input.empty()) continue;
      const int message = std::stoi(input.substr(1));
      CHECK(message > last_message);
      last_message = message;
    }
    // The history holds each submission's input once and its reply once, in order.
    const auto entries = fetch_all(client, "/agents/work/crash/history" + query, "entries");
    std::map<std::string, int> users, replies;
    int64_t last_sequence = 0;
    for (const auto& entry : entries) {
      CHECK(entry["sequence"].get<int64_t>() >= last_sequence);
      last_sequence = entry["sequence"];
      if (entry["type"] == "user") ++users[entry["submissionId"]];
      if (entry["type"] == "assistant") ++replies[entry["submissionId"]];
    }
    for (const auto& [id, record] : by_id) {
      if (record["state"] != "completed") continue;
      CHECK(users[id] == 1);
      CHECK(replies[id] == 1);
    }
  }
  second.process().kill(SIGTERM);
  auto status = second.process().wait(20s);
  REQUIRE(status);
  CHECK(status->exited_with(0));
}

}  // namespace

TEST_CASE("kill -9 mid-flight loses and duplicates nothing (early kill)") {
  run_kill_cycle(300ms);
}

TEST_CASE("kill -9 mid-flight loses and duplicates nothing (later kill)") {
  run_kill_cycle(1200ms);
}

TEST_CASE("kill -9 mid-flight loses and duplicates nothing (late kill)") {
  run_kill_cycle(2500ms);
}

TEST_CASE("kill -9 mid-flight on PostgreSQL loses and duplicates nothing") {
  sluice::persistence::testing::PostgresTestSchema schema;
  run_kill_cycle(1200ms, schema.url());
}
