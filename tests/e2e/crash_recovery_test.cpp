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
#include "support/session_audit.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

constexpr int kSessions = 200;
constexpr int kSenders = 8;


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
        receipts[s].push_back(
            {receipt["submissionId"], receipt["sequence"], "m" + std::to_string(message)});
      } catch (const std::exception&) {
        return;  // the server is gone: whatever was in flight has no receipt
      }
    }
  }
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
    audit_session(client, "/agents/work/crash", session_name(s), receipts[s], 20s);
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
