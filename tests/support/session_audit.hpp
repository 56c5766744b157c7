#pragma once
// The end-to-end check that nothing was lost, duplicated or reordered in one
// session, through its public routes: every receipt a client got reached
// `completed` with its own input echoed back, sequences run 1..n without gaps,
// the inputs settled in the order they were sent, and the history holds each
// completed submission's input and reply exactly once, in sequence order.
// Written for the echo agent (its reply is its input).
#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"

namespace sluice::test {

struct Receipt {
  std::string submission_id;
  int64_t sequence = 0;
  std::string input;
};

// GETs every page of `path` ("...?session=x") and collects `field`.
std::vector<nlohmann::json> fetch_all(HttpClient& client, const std::string& path,
                                      const std::string& field);

// base: "/agents/<agent>/<instance>". `receipts` in the order they were sent.
// Waits up to `settle_timeout` for the session's submissions to settle.
void audit_session(HttpClient& client, const std::string& base, const std::string& session,
                   const std::vector<Receipt>& receipts, std::chrono::milliseconds settle_timeout);

}  // namespace sluice::test
