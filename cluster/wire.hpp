#pragma once
// What travels between nodes: msgpack envelopes (JSON-shaped, encoded with
// nlohmann's msgpack codec) sealed with an HMAC-SHA256 of the cluster secret.
// A node opens only envelopes sealed with the same secret; anything else is
// dropped, so a process that can reach the node-to-node port but does not know
// the secret cannot submit, abort or answer anything.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/commands.hpp"
#include "persistence/records.hpp"

namespace sluice::cluster {

class Sealer {
 public:
  explicit Sealer(std::string secret);
  std::string seal(const nlohmann::json& body) const;
  // nullopt when the seal does not match or the body is not msgpack.
  std::optional<nlohmann::json> open(const std::string& sealed) const;

 private:
  std::string secret_;
};

nlohmann::json record_to_wire(const persistence::SubmissionRecord& record);
persistence::SubmissionRecord record_from_wire(const nlohmann::json& wire);

// Requests: {"op":"submit",...}, {"op":"abort",...} and {"op":"delete",...}
// (a node that does not know an op answers "rejected"). The observer is not
// part of the wire form: the receiving gate supplies one that answers back.
nlohmann::json submit_to_wire(const actors::SubmitCommand& command);
actors::SubmitCommand submit_from_wire(const nlohmann::json& wire);
nlohmann::json abort_to_wire(const actors::AbortCommand& command);
actors::AbortCommand abort_from_wire(const nlohmann::json& wire);
nlohmann::json delete_to_wire(const actors::DeleteCommand& command);
actors::DeleteCommand delete_from_wire(const nlohmann::json& wire);

}  // namespace sluice::cluster
