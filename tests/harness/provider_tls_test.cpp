// Provider turns over real TLS: a fake provider on loopback serving a
// certificate made at test time (support/test_tls.hpp), reached through the
// same ModelRuntime and HTTP client the server uses. The client must trust
// only the configured CA, check the host name of the base URL against the
// certificate, and send the host name (SNI).
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "harness/model_runtime.hpp"
#include "harness/providers.hpp"
#include "support/fake_provider.hpp"
#include "support/temp_dir.hpp"
#include "support/test_tls.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;
using sluice::harness::ModelRuntime;
using sluice::harness::ProviderSettings;
using sluice::harness::TurnRequest;
using sluice::harness::TurnResult;
using sluice::test::FakeServer;
using sluice::test::RecordedRequest;
using sluice::test::Reply;
using sluice::test::sse;
using sluice::test::TempDir;
using sluice::test::TestCertificateAuthority;

namespace {

struct Outcome {
  std::string text;  // the deltas, joined
  std::optional<TurnResult> result;
  std::optional<sluice::PublicError> error;
  bool transient = false;
};

// Observer callbacks come on the runtime's thread: they only record, and the
// test thread checks once the turn has ended.
class Recorder : public sluice::harness::TurnObserver {
 public:
  void on_text_delta(std::string_view delta) override {
    std::lock_guard lock(mutex_);
    outcome_.text += delta;
  }
  void on_finished(TurnResult result) override {
    std::lock_guard lock(mutex_);
    outcome_.result = std::move(result);
    ended_.notify_all();
  }
  void on_failed(sluice::PublicError error, bool transient) override {
    std::lock_guard lock(mutex_);
    outcome_.error = std::move(error);
    outcome_.transient = transient;
    ended_.notify_all();
  }
  Outcome wait() {
    std::unique_lock lock(mutex_);
    ended_.wait_for(lock, 30s, [&] { return outcome_.result || outcome_.error; });
    return outcome_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ended_;
  Outcome outcome_;
};

Outcome run_openai_turn(ModelRuntime& runtime) {
  TurnRequest request;
  request.instructions = "Be brief.";
  sluice::harness::ConversationItem hello;
  hello.type = "user";
  hello.text = "hello";
  request.conversation.push_back(hello);
  auto recorder = std::make_shared<Recorder>();
  auto handle = runtime.make_model("openai/gpt-test", nullptr)->start_turn(request, recorder);
  return recorder->wait();
}

std::string openai_chunk(const json& delta, const json& finish = nullptr) {
  return sse("", {{"id", "x"},
                  {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}});
}

void openai_text_stream(const RecordedRequest&, Reply& reply) {
  reply.stream_head();
  reply.chunk(openai_chunk({{"role", "assistant"}, {"content", "secure "}}));
  reply.chunk(openai_chunk({{"content", "hello"}}));
  reply.chunk(openai_chunk(json::object(), "stop"));
  reply.chunk(sse("", {{"choices", json::array()},
                       {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 2}}}}));
  reply.chunk("data: [DONE]\n\n");
  reply.end();
}

ProviderSettings openai_at(const std::string& base_url, const std::string& ca_file) {
  ProviderSettings settings;
  settings.openai_api_key = "sk-tls";
  settings.openai_base_url = base_url + "/v1";
  settings.ca_file = ca_file;
  return settings;
}

// A refused certificate fails the turn at once: retrying cannot fix it, and
// the message must say it was the certificate, not a flaky network.
void check_refused(const Outcome& outcome, const FakeServer& server) {
  REQUIRE(outcome.error);
  INFO(outcome.error->message);
  CHECK_FALSE(outcome.result);
  CHECK(outcome.error->type == "provider_error");
  CHECK(outcome.error->message.starts_with("openai: "));
  CHECK(outcome.error->message.find("certificate") != std::string::npos);
  CHECK_FALSE(outcome.transient);
  CHECK(server.requests().empty());  // nothing, the key included, went over the refused connection
}

}  // namespace

TEST_CASE("tls: a certificate from the configured CA carries a streamed openai turn",
          "[provider][tls]") {
  TempDir dir("sluice-tls");
  TestCertificateAuthority ca(dir.path(), "Sluice Test CA");
  FakeServer server(openai_text_stream, ca.issue("server", {"localhost", "127.0.0.1"}));
  REQUIRE(server.url().starts_with("https://127.0.0.1:"));
  ModelRuntime runtime(openai_at(server.url(), ca.ca_file().string()));

  auto outcome = run_openai_turn(runtime);
  INFO((outcome.error ? outcome.error->message : ""));
  REQUIRE(outcome.result);
  CHECK(outcome.result->text == "secure hello");
  CHECK(outcome.text == "secure hello");
  CHECK(outcome.result->input_tokens == 5);
  CHECK(outcome.result->output_tokens == 2);
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].target == "/v1/chat/completions");
  CHECK(requests[0].headers.at("authorization") == "Bearer sk-tls");
  CHECK(json::parse(requests[0].body)["messages"].back()["content"] == "hello");

  // The TLS connection is kept alive and reused for the next turn.
  outcome = run_openai_turn(runtime);
  REQUIRE(outcome.result);
  CHECK(outcome.result->text == "secure hello");
  CHECK(server.requests().size() == 2);
  CHECK(server.connections() == 1);
  CHECK(server.failed_handshakes() == 0);
  // Reached by its address: no SNI at all (RFC 6066 forbids addresses there).
  CHECK(server.server_names() == std::vector<std::string>{""});
}

TEST_CASE("tls: the host name of the base URL is sent as SNI and matched", "[provider][tls]") {
  TempDir dir("sluice-tls");
  TestCertificateAuthority ca(dir.path(), "Sluice Test CA");
  FakeServer server(openai_text_stream, ca.issue("server", {"localhost"}));
  ModelRuntime runtime(openai_at(server.url("localhost"), ca.ca_file().string()));
  const auto outcome = run_openai_turn(runtime);
  INFO((outcome.error ? outcome.error->message : ""));
  REQUIRE(outcome.result);
  CHECK(outcome.result->text == "secure hello");
  CHECK(server.server_names() == std::vector<std::string>{"localhost"});
  CHECK(server.requests().at(0).headers.at("host") == "localhost:" + std::to_string(server.port()));
}

TEST_CASE("tls: a certificate from an unknown CA fails the turn, not transiently",
          "[provider][tls]") {
  TempDir dir("sluice-tls");
  TestCertificateAuthority ca(dir.path(), "Sluice Test CA");
  TestCertificateAuthority stranger(dir.path(), "Some Other CA");
  FakeServer server(openai_text_stream, ca.issue("server", {"localhost", "127.0.0.1"}));

  SECTION("the system's trust store") {
    ModelRuntime runtime(openai_at(server.url(), ""));
    check_refused(run_openai_turn(runtime), server);
  }
  SECTION("another CA") {
    ModelRuntime runtime(openai_at(server.url(), stranger.ca_file().string()));
    check_refused(run_openai_turn(runtime), server);
  }
}

TEST_CASE("tls: a trusted certificate for another host name fails the turn", "[provider][tls]") {
  TempDir dir("sluice-tls");
  TestCertificateAuthority ca(dir.path(), "Sluice Test CA");

  SECTION("a certificate for otherhost, reached as 127.0.0.1") {
    FakeServer server(openai_text_stream, ca.issue("other", {"otherhost"}));
    ModelRuntime runtime(openai_at(server.url(), ca.ca_file().string()));
    check_refused(run_openai_turn(runtime), server);
  }
  SECTION("a certificate for localhost only, reached by its address") {
    FakeServer server(openai_text_stream, ca.issue("local", {"localhost"}));
    ModelRuntime runtime(openai_at(server.url(), ca.ca_file().string()));
    check_refused(run_openai_turn(runtime), server);
  }
  SECTION("a certificate for 127.0.0.1 only, reached as localhost") {
    FakeServer server(openai_text_stream, ca.issue("ip", {"127.0.0.1"}));
    ModelRuntime runtime(openai_at(server.url("localhost"), ca.ca_file().string()));
    check_refused(run_openai_turn(runtime), server);
  }
}
