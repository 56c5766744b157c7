#include "support/session_audit.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <thread>

namespace sluice::test {

using nlohmann::json;

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

namespace {

bool all_settled(const std::vector<json>& records) {
  for (const auto& r : records) {
    if (r["state"] == "queued" || r["state"] == "running") return false;
  }
  return true;
}

}  // namespace

void audit_session(HttpClient& client, const std::string& base, const std::string& session,
                   const std::vector<Receipt>& receipts, std::chrono::milliseconds settle_timeout) {
  INFO("session " << session);
  const std::string query = "?session=" + session;
  const auto deadline = std::chrono::steady_clock::now() + settle_timeout;
  std::vector<json> records;
  while (true) {
    records = fetch_all(client, base + "/submissions" + query, "submissions");
    if (all_settled(records) || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(all_settled(records));

  std::map<std::string, json> by_id;
  for (const auto& r : records) by_id[r["submissionId"]] = r;
  for (const Receipt& receipt : receipts) {
    auto it = by_id.find(receipt.submission_id);
    REQUIRE(it != by_id.end());
    CHECK(it->second["state"] == "completed");
    CHECK(it->second["sequence"] == receipt.sequence);
    CHECK(it->second["result"] == receipt.input);
  }
  // Sequences 1..n; the receipted inputs appear in the order they were sent.
  std::map<std::string, size_t> send_order;
  for (size_t i = 0; i < receipts.size(); ++i) send_order[receipts[i].input] = i;
  int64_t last_sent = -1;
  for (size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i]["sequence"] == static_cast<int64_t>(i + 1));
    if (!records[i]["result"].is_string()) continue;
    auto sent = send_order.find(records[i]["result"].get<std::string>());
    if (sent == send_order.end()) continue;  // admitted, but its receipt never reached the client
    CHECK(static_cast<int64_t>(sent->second) > last_sent);
    last_sent = static_cast<int64_t>(sent->second);
  }
  const auto entries = fetch_all(client, base + "/history" + query, "entries");
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

}  // namespace sluice::test
