#include <catch2/catch.hpp>

#include "cluster/wire.hpp"

using namespace sluice;
using namespace sluice::cluster;

namespace {

class NullObserver : public actors::SubmissionObserver {
 public:
  void on_admitted(const persistence::SubmissionRecord&, bool) override {}
  void on_rejected(const PublicError&) override {}
  void on_event(const nlohmann::json&) override {}
  void on_settled(const persistence::SubmissionRecord&) override {}
  bool wants_outcome() const override { return true; }
  bool wants_events() const override { return false; }
};

}  // namespace

TEST_CASE("a sealed envelope opens only with the same secret", "[cluster][wire]") {
  const Sealer sealer("s3cret");
  const nlohmann::json body = {{"op", "submit"}, {"input", "héllo"}, {"n", 42}};
  const std::string sealed = sealer.seal(body);
  REQUIRE(sealer.open(sealed) == body);

  CHECK_FALSE(Sealer("other").open(sealed));
  std::string tampered = sealed;
  tampered.back() ^= 0x01;
  CHECK_FALSE(sealer.open(tampered));
  CHECK_FALSE(sealer.open("short"));
  CHECK_FALSE(sealer.open(std::string(40, '\0')));
}

TEST_CASE("records and commands survive the wire form", "[cluster][wire]") {
  persistence::SubmissionRecord record;
  record.id = "sub_1";
  record.dispatch_id = "dsp_1";
  record.key = {"agent", "inst", "sess"};
  record.kind = persistence::SubmissionKind::dispatch;
  record.sequence = 7;
  record.state = persistence::SubmissionState::failed;
  record.input_text = "in";
  record.input_applied = true;
  record.attempts = 2;
  record.abort_requested = true;
  record.released = true;
  record.accepted_at_ms = 1;
  record.started_at_ms = 2;
  record.settled_at_ms = 3;
  record.error_json = R"({"type":"x"})";
  record.last_owner = "node-b";
  record.usage_json = R"({"inputTokens":5,"outputTokens":2})";
  const auto back = record_from_wire(record_to_wire(record));
  CHECK(record_to_wire(back) == record_to_wire(record));
  CHECK_FALSE(back.result_json);
  CHECK(back.error_json == record.error_json);
  CHECK(back.usage_json == record.usage_json);

  actors::SubmitCommand command;
  command.key = {"agent", "inst", "sess"};
  command.kind = persistence::SubmissionKind::direct;
  command.input_text = "hi";
  command.idempotency = persistence::IdempotencyClaim{"k1", "hash"};
  command.observer = std::make_shared<NullObserver>();
  const nlohmann::json wire = submit_to_wire(command);
  CHECK(wire["wantsOutcome"] == true);
  CHECK(wire["wantsEvents"] == false);
  const actors::SubmitCommand decoded = submit_from_wire(wire);
  CHECK(decoded.key == command.key);
  CHECK(decoded.input_text == "hi");
  CHECK(decoded.forwarded);
  REQUIRE(decoded.idempotency);
  CHECK(decoded.idempotency->body_hash == "hash");

  actors::AbortCommand abort;
  abort.key = command.key;
  const actors::AbortCommand abort_back = abort_from_wire(abort_to_wire(abort));
  CHECK(abort_back.key == abort.key);
  CHECK_FALSE(abort_back.submission_id);
  CHECK(abort_back.forwarded);
}

TEST_CASE("a delete survives the wire form and is marked forwarded", "[cluster][wire]") {
  actors::DeleteCommand command;
  command.key = {"agent", "inst", "sess"};
  const nlohmann::json wire = delete_to_wire(command);
  CHECK(wire["op"] == "delete");
  const actors::DeleteCommand back = delete_from_wire(wire);
  CHECK(back.key == command.key);
  CHECK(back.forwarded);
  CHECK_THROWS(delete_from_wire({{"op", "delete"}}));
}
