#include "cluster/wire.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/untrusted_json.hpp"

namespace sluice::cluster {
namespace {

constexpr size_t kMacSize = 32;

std::string mac_of(const std::string& secret, const uint8_t* data, size_t size) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), data, size, out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

nlohmann::json key_to_wire(const SessionKey& key) {
  return {{"agent", key.agent}, {"instance", key.instance}, {"session", key.session}};
}

SessionKey key_from_wire(const nlohmann::json& wire) {
  return {wire.at("agent").get<std::string>(), wire.at("instance").get<std::string>(),
          wire.at("session").get<std::string>()};
}

nlohmann::json optional_text(const std::optional<std::string>& text) {
  return text ? nlohmann::json(*text) : nlohmann::json(nullptr);
}

std::optional<std::string> optional_text(const nlohmann::json& wire) {
  if (wire.is_null()) return std::nullopt;
  return wire.get<std::string>();
}

}  // namespace

Sealer::Sealer(std::string secret) : secret_(std::move(secret)) {}

std::string Sealer::seal(const nlohmann::json& body) const {
  const std::vector<uint8_t> packed = nlohmann::json::to_msgpack(body);
  std::string sealed = mac_of(secret_, packed.data(), packed.size());
  sealed.append(reinterpret_cast<const char*>(packed.data()), packed.size());
  return sealed;
}

std::optional<nlohmann::json> Sealer::open(const std::string& sealed) const {
  if (sealed.size() < kMacSize) return std::nullopt;
  const auto* body = reinterpret_cast<const uint8_t*>(sealed.data()) + kMacSize;
  const size_t size = sealed.size() - kMacSize;
  const std::string expected = mac_of(secret_, body, size);
  if (CRYPTO_memcmp(expected.data(), sealed.data(), kMacSize) != 0) return std::nullopt;
  UntrustedJson parsed = parse_untrusted_msgpack(body, size);
  if (!parsed.ok() || !parsed.value.is_object()) return std::nullopt;
  return std::move(parsed.value);
}

nlohmann::json record_to_wire(const persistence::SubmissionRecord& r) {
  return {{"id", r.id},
          {"dispatchId", r.dispatch_id},
          {"key", key_to_wire(r.key)},
          {"kind", persistence::to_string(r.kind)},
          {"sequence", r.sequence},
          {"state", persistence::to_string(r.state)},
          {"input", r.input_text},
          {"inputApplied", r.input_applied},
          {"attempts", r.attempts},
          {"abortRequested", r.abort_requested},
          {"released", r.released},
          {"acceptedAt", r.accepted_at_ms},
          {"startedAt", r.started_at_ms},
          {"settledAt", r.settled_at_ms},
          {"result", optional_text(r.result_json)},
          {"error", optional_text(r.error_json)},
          {"lastOwner", r.last_owner},
          {"usage", optional_text(r.usage_json)}};
}

persistence::SubmissionRecord record_from_wire(const nlohmann::json& w) {
  persistence::SubmissionRecord r;
  r.id = w.at("id").get<std::string>();
  r.dispatch_id = w.at("dispatchId").get<std::string>();
  r.key = key_from_wire(w.at("key"));
  r.kind = persistence::parse_submission_kind(w.at("kind").get<std::string>())
               .value_or(persistence::SubmissionKind::direct);
  r.sequence = w.at("sequence").get<int64_t>();
  r.state = persistence::parse_submission_state(w.at("state").get<std::string>())
                .value_or(persistence::SubmissionState::queued);
  r.input_text = w.at("input").get<std::string>();
  r.input_applied = w.at("inputApplied").get<bool>();
  r.attempts = w.at("attempts").get<int>();
  r.abort_requested = w.at("abortRequested").get<bool>();
  r.released = w.at("released").get<bool>();
  r.accepted_at_ms = w.at("acceptedAt").get<int64_t>();
  r.started_at_ms = w.at("startedAt").get<int64_t>();
  r.settled_at_ms = w.at("settledAt").get<int64_t>();
  r.result_json = optional_text(w.at("result"));
  r.error_json = optional_text(w.at("error"));
  r.last_owner = w.at("lastOwner").get<std::string>();
  // Absent from a peer built before usage was recorded.
  if (w.contains("usage")) r.usage_json = optional_text(w["usage"]);
  return r;
}

nlohmann::json submit_to_wire(const actors::SubmitCommand& c) {
  nlohmann::json wire = {{"op", "submit"},
                         {"key", key_to_wire(c.key)},
                         {"kind", persistence::to_string(c.kind)},
                         {"input", c.input_text},
                         {"wantsOutcome", c.observer->wants_outcome()},
                         {"wantsEvents", c.observer->wants_events()}};
  if (c.idempotency) {
    wire["idempotency"] = {{"key", c.idempotency->key}, {"bodyHash", c.idempotency->body_hash}};
  }
  return wire;
}

actors::SubmitCommand submit_from_wire(const nlohmann::json& w) {
  actors::SubmitCommand c;
  c.key = key_from_wire(w.at("key"));
  c.kind = persistence::parse_submission_kind(w.at("kind").get<std::string>())
               .value_or(persistence::SubmissionKind::direct);
  c.input_text = w.at("input").get<std::string>();
  if (auto it = w.find("idempotency"); it != w.end()) {
    c.idempotency = persistence::IdempotencyClaim{it->at("key").get<std::string>(),
                                                  it->at("bodyHash").get<std::string>()};
  }
  c.forwarded = true;
  return c;
}

nlohmann::json abort_to_wire(const actors::AbortCommand& c) {
  return {{"op", "abort"}, {"key", key_to_wire(c.key)}, {"submissionId", optional_text(c.submission_id)}};
}

actors::AbortCommand abort_from_wire(const nlohmann::json& w) {
  actors::AbortCommand c;
  c.key = key_from_wire(w.at("key"));
  c.submission_id = optional_text(w.at("submissionId"));
  c.forwarded = true;
  return c;
}

nlohmann::json delete_to_wire(const actors::DeleteCommand& c) {
  return {{"op", "delete"}, {"key", key_to_wire(c.key)}};
}

actors::DeleteCommand delete_from_wire(const nlohmann::json& w) {
  actors::DeleteCommand c;
  c.key = key_from_wire(w.at("key"));
  c.forwarded = true;
  return c;
}

}  // namespace sluice::cluster
