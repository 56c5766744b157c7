// Fuzz target: a JSON request body (or a WebSocket frame's text), as the
// routes validate it.
//
// Mirrors:
//   core/untrusted_json.cpp   parse_untrusted_json, the depth-limited parser
//                             every body, frame and peer envelope goes through.
//   net/request_validation.cpp parse_json_value (POST /workflows/:name),
//                             parse_json_object + read_session (the agent
//                             routes' read_submission, abort, the WebSocket
//                             envelope).
//   net/agent_routes.cpp      what prompt, dispatch and abort take out of the
//                             object ("message", "input" as text or its JSON,
//                             "submissionId") and seal_idempotency's canonical
//                             request and its SHA-256.
// Production handles a refused body as the returned PublicError; none of
// these functions is expected to throw, so nothing is caught here.
//
// Checks, beyond "no crash, no sanitizer report, no exception":
//   - parse_untrusted_json agrees with nlohmann's own parser on every input
//     nested at most kMaxJsonDepth deep (same value, same verdict);
//   - what it accepts dumps (strict UTF-8, as RunEngine and dispatch do) and
//     parses again;
//   - the value survives msgpack (Sealer::seal / parse_untrusted_msgpack, the
//     node-to-node envelope) unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/digest.hpp"
#include "core/untrusted_json.hpp"
#include "fuzz_support.hpp"
#include "net/request_validation.hpp"

namespace {

using namespace sluice;
using nlohmann::json;

// How many containers nest (0 for a scalar, 1 for [] or {}), as the parser's
// depth counts them; stops counting just past `limit`.
int depth_of(const json& value, int limit) {
  if (!value.is_structured()) return 0;
  if (limit == 0) return 1;
  int deepest = 0;
  for (const auto& item : value) deepest = std::max(deepest, depth_of(item, limit - 1));
  return 1 + deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);

  // The parser itself, against nlohmann's (which has no depth limit).
  const UntrustedJson ours = parse_untrusted_json(body);
  const json reference = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (ours.ok()) {
    if (reference.is_discarded()) fuzz::finding("accepted what nlohmann refuses", body);
    if (ours.value != reference) fuzz::finding("parsed to another value than nlohmann's", body);
  } else if (ours.problem == JsonProblem::invalid) {
    if (!reference.is_discarded()) fuzz::finding("refused as invalid what nlohmann accepts", body);
  } else if (!reference.is_discarded() && depth_of(reference, kMaxJsonDepth + 1) <= kMaxJsonDepth) {
    // too_deep: valid JSON deeper than the limit, or text that turns invalid
    // only past the point where the parse stopped.
    fuzz::finding("refused as too deep a value within the limit", body);
  }

  // net/request_validation.cpp, as the routes call it.
  json value;
  if (auto error = net::parse_json_value(body, value)) {
    if (error->http_status() != 400) fuzz::finding("parse_json_value answered " + error->type);
    return 0;
  }
  const std::string dumped = value.dump();  // strict: throws on invalid UTF-8
  if (!parse_untrusted_json(dumped).ok()) fuzz::finding("its own dump does not parse", dumped);
  const std::vector<uint8_t> packed = json::to_msgpack(value);
  const UntrustedJson unpacked = parse_untrusted_msgpack(packed.data(), packed.size());
  if (!unpacked.ok() || unpacked.value != value) {
    fuzz::finding("the value does not survive msgpack", body);
  }

  json object;
  if (net::parse_json_object(body, object)) return 0;
  std::string session;
  if (net::read_session(object, session)) return 0;
  if (session.empty()) fuzz::finding("read_session accepted an empty session", body);

  // AgentRoutes::prompt / dispatch / abort and seal_idempotency.
  std::string input_text;
  if (auto message = object.find("message"); message != object.end() && message->is_string()) {
    input_text = message->get<std::string>();
  }
  if (auto input = object.find("input"); input != object.end()) {
    input_text = input->is_string() ? input->get<std::string>() : input->dump();
  }
  if (auto id = object.find("submissionId"); id != object.end() && id->is_string()) {
    input_text += id->get<std::string>();
  }
  const json canonical = {{"kind", "dispatch"}, {"session", session}, {"input", input_text}};
  if (sha256_hex(canonical.dump()).size() != 64) fuzz::finding("a SHA-256 is not 64 hex digits");
  return 0;
}
