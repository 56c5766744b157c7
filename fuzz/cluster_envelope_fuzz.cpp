// Fuzz target: a node-to-node envelope (CAF BASP carries it as an opaque
// string): 32 bytes of HMAC-SHA256, then a msgpack body.
//
// Mirrors:
//   cluster/wire.cpp          Sealer::open: the seal check, then
//                             parse_untrusted_msgpack (core/untrusted_json.cpp,
//                             depth-limited) and "must be an object";
//   cluster/gate_actor.cpp    the gate's handler for a forwarded request:
//                             "op", then submit_from_wire (+ wantsOutcome,
//                             wantsEvents), abort_from_wire or delete_from_wire,
//                             under the gate's own catch (std::exception ->
//                             a "rejected" answer);
//   cluster/relay_actor.cpp   SubmitRelay / AbortRelay / DeleteRelay::on_answer
//                             for an answer from the owner (record_from_wire,
//                             PublicError::from_json, ids), under the relay's
//                             own catch (std::exception -> logged, dropped),
//                             calling the real HTTP channels of
//                             net/submission_channels.cpp (sync prompt, SSE
//                             prompt, dispatch, abort, delete) as node A's
//                             relay does.
// Each input is opened twice: as it is (a forgery: it must not open unless it
// carries the right seal), and sealed by the harness with the cluster secret,
// which is what a member of the cluster can send. The router, the actors and
// BASP itself are not involved.
//
// Checks: a decoded request or record re-encodes (submit/abort/delete/
// record_to_wire, Sealer::seal) to an envelope that opens and decodes to the
// same fields (outside any catch: our own encoding must always decode).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "cluster/wire.hpp"
#include "fuzz_support.hpp"
#include "net/submission_channels.hpp"

namespace {

using namespace sluice;
using nlohmann::json;

const std::string kSecret = "fuzz-cluster-secret";

// What Sealer::seal does, for bytes that are not (necessarily) msgpack.
std::string seal_bytes(std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &length);
  std::string sealed(reinterpret_cast<const char*>(mac), length);
  sealed.append(body);
  return sealed;
}

// A stand-in for the observer of a forwarded command: what it answers is
// sealed on the owner's node, never read here.
struct FlagsObserver final : actors::SubmissionObserver {
  FlagsObserver(bool outcome, bool events) : outcome_(outcome), events_(events) {}
  void on_admitted(const persistence::SubmissionRecord&, bool) override {}
  void on_rejected(const PublicError&) override {}
  void on_event(const json&) override {}
  void on_settled(const persistence::SubmissionRecord&) override {}
  bool wants_outcome() const override { return outcome_; }
  bool wants_events() const override { return events_; }
  bool outcome_, events_;
};

bool same_key(const SessionKey& a, const SessionKey& b) {
  return a.agent == b.agent && a.instance == b.instance && a.session == b.session;
}

bool same_record(const persistence::SubmissionRecord& a, const persistence::SubmissionRecord& b) {
  return a.id == b.id && a.dispatch_id == b.dispatch_id && same_key(a.key, b.key) &&
         a.kind == b.kind && a.sequence == b.sequence && a.state == b.state &&
         a.input_text == b.input_text && a.input_applied == b.input_applied &&
         a.attempts == b.attempts && a.abort_requested == b.abort_requested &&
         a.released == b.released && a.accepted_at_ms == b.accepted_at_ms &&
         a.started_at_ms == b.started_at_ms && a.settled_at_ms == b.settled_at_ms &&
         a.result_json == b.result_json && a.error_json == b.error_json &&
         a.last_owner == b.last_owner && a.usage_json == b.usage_json;
}

const cluster::Sealer& sealer() {
  static const cluster::Sealer* instance = new cluster::Sealer(kSecret);
  return *instance;
}

// Seals `wire` again and opens it, as the other node would.
json reopened(const json& wire, std::string_view input) {
  std::optional<json> opened = sealer().open(sealer().seal(wire));
  if (!opened) fuzz::finding("an envelope of our own encoding does not open", input);
  return *opened;
}

// cluster/gate_actor.cpp: a forwarded request on the owner's node.
void gate(const json& request, std::string_view input) {
  std::optional<actors::SubmitCommand> submit;
  std::optional<actors::AbortCommand> abort;
  std::optional<actors::DeleteCommand> remove;
  bool outcome = false, events = false;
  try {
    const std::string op = request.at("op").get<std::string>();
    if (op == "submit") {
      submit = cluster::submit_from_wire(request);
      outcome = request.at("wantsOutcome").get<bool>();
      events = request.at("wantsEvents").get<bool>();
    } else if (op == "abort") {
      abort = cluster::abort_from_wire(request);
    } else if (op == "delete") {
      remove = cluster::delete_from_wire(request);
    } else {
      throw std::runtime_error("unknown op " + op);
    }
  } catch (const std::exception&) {
    // The gate answers {"op":"rejected", "error": internal_error}.
    (void)sealer().seal(
        {{"op", "rejected"},
         {"error", make_error("internal_error", "A node sent a malformed command.").to_json()}});
    return;
  }
  if (submit) {
    if (!submit->forwarded) fuzz::finding("a forwarded submit is not marked forwarded");
    submit->observer = std::make_shared<FlagsObserver>(outcome, events);
    const json again = reopened(cluster::submit_to_wire(*submit), input);
    actors::SubmitCommand back = cluster::submit_from_wire(again);
    const bool same =
        same_key(back.key, submit->key) && back.kind == submit->kind &&
        back.input_text == submit->input_text &&
        back.idempotency.has_value() == submit->idempotency.has_value() &&
        (!back.idempotency || (back.idempotency->key == submit->idempotency->key &&
                               back.idempotency->body_hash == submit->idempotency->body_hash)) &&
        again.at("wantsOutcome") == outcome && again.at("wantsEvents") == events;
    if (!same)
      fuzz::finding("a submit does not survive submit_to_wire(submit_from_wire(x))", input);
  } else if (abort) {
    actors::AbortCommand back =
        cluster::abort_from_wire(reopened(cluster::abort_to_wire(*abort), input));
    if (!same_key(back.key, abort->key) || back.submission_id != abort->submission_id) {
      fuzz::finding("an abort does not survive abort_to_wire(abort_from_wire(x))", input);
    }
  } else if (remove) {
    actors::DeleteCommand back =
        cluster::delete_from_wire(reopened(cluster::delete_to_wire(*remove), input));
    if (!same_key(back.key, remove->key)) {
      fuzz::finding("a delete does not survive delete_to_wire(delete_from_wire(x))", input);
    }
  }
}

// The responder of node A's HTTP request; a peer may name any error type, so
// a 5xx answer is legitimate here (the body must still be JSON).
struct PeerResponder final : net::Responder {
  void respond(net::HttpResponse response) override {
    if (response.content_type == "application/json" && !json::accept(response.body)) {
      fuzz::finding("a relayed answer is not valid JSON", response.body);
    }
  }
  void open_stream(net::Headers) override {}
  void stream_write(std::string frame) override {
    if (frame.rfind("event: ", 0) != 0) fuzz::finding("a relayed SSE frame is malformed", frame);
  }
  void close_stream() override {}
  bool client_gone() const override { return false; }
};

// cluster/relay_actor.cpp SubmitRelay::on_answer, on a fresh relay whose
// client waits through `observer`.
void submit_relay(const json& answer, std::shared_ptr<actors::SubmissionObserver> observer,
                  std::string_view input) {
  std::optional<persistence::SubmissionRecord> record;
  try {
    actors::SubmissionObserver& o = *observer;
    const std::string op = answer.at("op").get<std::string>();
    if (op == "admitted") {
      record = cluster::record_from_wire(answer.at("record"));
      o.on_admitted(*record, answer.at("replayed").get<bool>());
      if (persistence::is_terminal(record->state)) o.on_settled(*record);
    } else if (op == "event") {
      o.on_event(answer.at("event"));
    } else if (op == "settled") {
      record = cluster::record_from_wire(answer.at("record"));
      o.on_settled(*record);
    } else if (op == "rejected") {
      o.on_rejected(PublicError::from_json(answer.at("error")));
    }
  } catch (const std::exception&) {
    // "malformed answer from the owner": logged, the relay waits on.
  }
  if (record) {
    const persistence::SubmissionRecord back =
        cluster::record_from_wire(reopened(cluster::record_to_wire(*record), input));
    if (!same_record(back, *record)) {
      fuzz::finding("a record does not survive record_to_wire(record_from_wire(x))", input);
    }
  }
}

void relays(const json& answer, std::string_view input) {
  auto responder = std::make_shared<PeerResponder>();
  submit_relay(answer, net::make_prompt_channel(responder, net::PromptMode::sync), input);
  submit_relay(answer, net::make_prompt_channel(responder, net::PromptMode::stream), input);
  submit_relay(answer, net::make_dispatch_channel(responder), input);
  try {  // AbortRelay::on_answer
    auto observer = net::make_abort_channel(responder);
    if (answer.at("op").get<std::string>() == "aborted") {
      observer->on_aborted(answer.at("ids").get<std::vector<std::string>>());
    } else {
      observer->on_failed(PublicError::from_json(answer.at("error")));
    }
  } catch (const std::exception&) {
  }
  try {  // DeleteRelay::on_answer
    auto observer = net::make_delete_channel(responder);
    if (answer.at("op").get<std::string>() == "deleted") {
      observer->on_deleted();
    } else {
      observer->on_failed(PublicError::from_json(answer.at("error")));
    }
  } catch (const std::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const cluster::Sealer& s = sealer();

  // A forgery opens only with the right seal in front (which the fuzzer would
  // have to find by chance).
  if (auto forged = s.open(std::string(input))) {
    if (seal_bytes(input.substr(std::min<size_t>(32, input.size()))) != input) {
      fuzz::finding("an envelope without this cluster's seal opened", input);
    }
  }

  std::optional<json> opened = s.open(seal_bytes(input));
  if (!opened) return 0;
  if (!opened->is_object()) fuzz::finding("an opened envelope is not an object", input);
  gate(*opened, input);
  relays(*opened, input);
  return 0;
}
