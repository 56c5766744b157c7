#pragma once
// Reading a session's whole history and submissions over HTTP, page by page,
// as a client would.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"

namespace sluice::test {

inline std::vector<nlohmann::json> read_all(HttpClient& client, const std::string& base,
                                            const std::string& field,
                                            const std::string& query = "") {
  std::vector<nlohmann::json> out;
  long long after = 0;
  while (true) {
    const std::string target = base + "?limit=1000&after=" + std::to_string(after) + query;
    auto response = client.request("GET", target);
    if (response.status != 200) throw std::runtime_error(target + " -> " + response.body);
    auto body = response.json();
    for (auto& item : body[field]) out.push_back(item);
    if (!body.contains("next")) return out;
    after = body["next"].get<long long>();
  }
}

inline std::vector<nlohmann::json> history(HttpClient& client, const std::string& agent,
                                           const std::string& id,
                                           const std::string& session = "default") {
  return read_all(client, "/agents/" + agent + "/" + id + "/history", "entries",
                  "&session=" + session);
}

inline std::vector<nlohmann::json> submissions(HttpClient& client, const std::string& agent,
                                               const std::string& id,
                                               const std::string& session = "default") {
  return read_all(client, "/agents/" + agent + "/" + id + "/submissions", "submissions",
                  "&session=" + session);
}

}  // namespace sluice::test
