// sluice/echo through a real ModelRuntime: answers, streaming, delay, cancel,
// and runtime shutdown with turns still pending.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "harness/model_runtime.hpp"

using namespace std::chrono_literals;
using sluice::harness::ConversationItem;
using sluice::harness::ModelConfigError;
using sluice::harness::ModelRuntime;
using sluice::harness::TurnHandle;
using sluice::harness::TurnObserver;
using sluice::harness::TurnRequest;
using sluice::harness::TurnResult;

namespace {

using Clock = std::chrono::steady_clock;

// Records every call; Catch2 assertions stay on the test thread.
class Recorder : public TurnObserver {
 public:
  std::function<void()> on_first_delta;  // runs on the runtime thread

  void on_text_delta(std::string_view delta) override {
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      first = deltas_.empty();
      deltas_.emplace_back(delta);
      note_call();
    }
    if (first && on_first_delta) on_first_delta();
  }
  void on_finished(TurnResult result) override {
    std::lock_guard lock(mutex_);
    result_ = std::move(result);
    finished_at_ = Clock::now();
    note_call();
    changed_.notify_all();
  }
  void on_failed(sluice::PublicError error, bool) override {
    std::lock_guard lock(mutex_);
    failure_ = error.message;
    note_call();
    changed_.notify_all();
  }

  bool wait_finished(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return result_.has_value(); });
  }
  int calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::vector<std::string> deltas() const {
    std::lock_guard lock(mutex_);
    return deltas_;
  }
  std::optional<TurnResult> result() const {
    std::lock_guard lock(mutex_);
    return result_;
  }
  Clock::time_point finished_at() const {
    std::lock_guard lock(mutex_);
    return finished_at_;
  }
  bool called_on(std::thread::id thread) const {
    std::lock_guard lock(mutex_);
    for (const auto& id : threads_) {
      if (id == thread) return true;
    }
    return false;
  }
  std::optional<std::string> failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
  }

 private:
  void note_call() {
    ++calls_;
    threads_.push_back(std::this_thread::get_id());
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int calls_ = 0;
  std::vector<std::string> deltas_;
  std::vector<std::thread::id> threads_;
  std::optional<TurnResult> result_;
  std::optional<std::string> failure_;
  Clock::time_point finished_at_;
};

TurnRequest conversation(std::vector<std::pair<std::string, std::string>> items) {
  TurnRequest request;
  request.instructions = "Repeat it";
  for (auto& [type, text] : items) {
    ConversationItem item;
    item.type = type;
    item.text = text;
    request.conversation.push_back(std::move(item));
  }
  return request;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string all;
  for (const auto& part : parts) all += part;
  return all;
}

// Waits for the runtime to let go of an observer (the turn was dropped).
bool released(const std::shared_ptr<Recorder>& recorder, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (recorder.use_count() > 1) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace

TEST_CASE("echo answers with the last user message, streamed", "[echo]") {
  ModelRuntime runtime;
  auto model = runtime.make_model("sluice/echo", nullptr);
  auto recorder = std::make_shared<Recorder>();
  auto handle = model->start_turn(conversation({{"user", "first question"},
                                                {"assistant", "first question"},
                                                {"user", "and the second one now"},
                                                {"assistant", "ignored words"}}),
                                  recorder);
  REQUIRE(handle != nullptr);
  REQUIRE(recorder->wait_finished());

  const auto result = *recorder->result();
  CHECK(result.text == "and the second one now");
  CHECK(result.output_tokens == 5);
  CHECK(result.input_tokens == 2 + 2 + 2 + 5 + 2);  // instructions + every item's words
  const auto deltas = recorder->deltas();
  CHECK(deltas.size() == 5);
  CHECK(joined(deltas) == result.text);
  CHECK_FALSE(recorder->failure());
}

TEST_CASE("echo without a user message answers empty text", "[echo]") {
  ModelRuntime runtime;
  auto recorder = std::make_shared<Recorder>();
  runtime.make_model("sluice/echo", {})
      ->start_turn(conversation({{"assistant", "hello"}}), recorder);
  REQUIRE(recorder->wait_finished());
  CHECK(recorder->result()->text.empty());
  CHECK(recorder->result()->output_tokens == 0);
  CHECK(recorder->deltas().empty());
}

TEST_CASE("long answers stream in at most eight deltas that rebuild the text", "[echo]") {
  std::string text = "  lead\tspace";
  for (int i = 0; i < 40; ++i) text += (i % 3 == 0 ? "\n word" : " w") + std::to_string(i);
  text += "  ";
  ModelRuntime runtime;
  auto recorder = std::make_shared<Recorder>();
  runtime.make_model("sluice/echo", nullptr)->start_turn(conversation({{"user", text}}), recorder);
  REQUIRE(recorder->wait_finished());
  const auto deltas = recorder->deltas();
  CHECK(deltas.size() == 8);
  CHECK(joined(deltas) == text);
  for (const auto& delta : deltas) CHECK_FALSE(delta.empty());
  CHECK(recorder->result()->output_tokens == 42);
}

TEST_CASE("a one-word answer is a single delta", "[echo]") {
  ModelRuntime runtime;
  auto recorder = std::make_shared<Recorder>();
  runtime.make_model("sluice/echo", nullptr)->start_turn(conversation({{"user", "hi"}}), recorder);
  REQUIRE(recorder->wait_finished());
  CHECK(recorder->deltas() == std::vector<std::string>{"hi"});
}

TEST_CASE("an immediate answer still arrives on the runtime thread", "[echo]") {
  ModelRuntime runtime;
  auto recorder = std::make_shared<Recorder>();
  runtime.make_model("sluice/echo", nullptr)
      ->start_turn(conversation({{"user", "not re-entrant"}}), recorder);
  REQUIRE(recorder->wait_finished());
  CHECK_FALSE(recorder->called_on(std::this_thread::get_id()));
}

TEST_CASE("delay_ms holds the answer back at least that long", "[echo]") {
  ModelRuntime runtime;
  auto model = runtime.make_model("sluice/echo", {{"delay_ms", 150}});
  auto recorder = std::make_shared<Recorder>();
  const auto started = Clock::now();
  model->start_turn(conversation({{"user", "slowly now"}}), recorder);
  REQUIRE(recorder->wait_finished());
  CHECK(recorder->finished_at() - started >= 150ms);
  CHECK(recorder->result()->text == "slowly now");
}

TEST_CASE("cancel before the delay ends means no calls and frees the turn", "[echo]") {
  ModelRuntime runtime;
  auto model = runtime.make_model("sluice/echo", {{"delay_ms", 600000}});
  auto recorder = std::make_shared<Recorder>();
  auto handle = model->start_turn(conversation({{"user", "never seen"}}), recorder);
  std::this_thread::sleep_for(20ms);  // let the timer start
  handle->cancel();
  // The timer is cancelled rather than left to run out: the observer comes back long before 10 min.
  REQUIRE(released(recorder));
  CHECK(recorder->calls() == 0);
  handle->cancel();  // again, on a finished turn: nothing happens
}

TEST_CASE("cancel with a short delay: nothing arrives after the delay either", "[echo]") {
  ModelRuntime runtime;
  auto model = runtime.make_model("sluice/echo", {{"delay_ms", 50}});
  auto recorder = std::make_shared<Recorder>();
  model->start_turn(conversation({{"user", "never seen"}}), recorder)->cancel();
  std::this_thread::sleep_for(200ms);
  CHECK(recorder->calls() == 0);
}

TEST_CASE("cancel from inside a delta stops the rest of the turn", "[echo]") {
  ModelRuntime runtime;
  auto model = runtime.make_model("sluice/echo", nullptr);
  auto recorder = std::make_shared<Recorder>();
  std::promise<std::shared_ptr<TurnHandle>> handle_promise;
  auto handle_future = handle_promise.get_future().share();
  recorder->on_first_delta = [handle_future] { handle_future.get()->cancel(); };
  handle_promise.set_value(
      model->start_turn(conversation({{"user", "one two three four"}}), recorder));
  REQUIRE(released(recorder));
  CHECK(recorder->deltas() == std::vector<std::string>{"one "});
  CHECK_FALSE(recorder->result());
}

TEST_CASE("destroying the runtime drops a pending slow turn safely", "[echo][shutdown]") {
  auto runtime = std::make_unique<ModelRuntime>();
  auto model = runtime->make_model("sluice/echo", {{"delay_ms", 600000}});
  auto recorder = std::make_shared<Recorder>();
  auto handle = model->start_turn(conversation({{"user", "too late"}}), recorder);
  std::this_thread::sleep_for(20ms);  // let the timer start

  const auto started = Clock::now();
  runtime.reset();
  CHECK(Clock::now() - started < 5s);  // it did not wait for the delay
  CHECK(recorder->calls() == 0);
  CHECK(recorder.use_count() == 1);  // the dropped turn released its observer
  handle->cancel();                  // a handle outliving the runtime is harmless
  std::this_thread::sleep_for(50ms);
  CHECK(recorder->calls() == 0);
}

TEST_CASE("destroying the runtime mid-stream stops the turn", "[echo][shutdown]") {
  auto runtime = std::make_unique<ModelRuntime>();
  auto recorder = std::make_shared<Recorder>();
  std::promise<void> in_delta, destroying;
  auto destroying_future = destroying.get_future().share();
  recorder->on_first_delta = [&in_delta, destroying_future] {
    in_delta.set_value();
    // Hold the runtime thread until the destructor is under way, then keep
    // going as a slow observer would.
    destroying_future.wait();
    std::this_thread::sleep_for(300ms);
  };
  runtime->make_model("sluice/echo", nullptr)
      ->start_turn(conversation({{"user", "one two three four"}}), recorder);
  in_delta.get_future().wait();

  std::thread destroyer([&] {
    destroying.set_value();
    runtime.reset();
  });
  destroyer.join();
  CHECK(recorder->deltas() == std::vector<std::string>{"one "});
  CHECK_FALSE(recorder->result());
}

TEST_CASE("destroying the runtime with many turns queued is safe", "[echo][shutdown]") {
  std::vector<std::shared_ptr<Recorder>> recorders;
  {
    ModelRuntime runtime;
    auto fast = runtime.make_model("sluice/echo", nullptr);
    auto slow = runtime.make_model("sluice/echo", {{"delay_ms", 30}});
    for (int i = 0; i < 200; ++i) {
      recorders.push_back(std::make_shared<Recorder>());
      (i % 2 ? slow : fast)->start_turn(conversation({{"user", "a b c"}}), recorders.back());
    }
  }
  for (const auto& recorder : recorders) {
    CHECK(recorder.use_count() == 1);
    // Each turn either completed or never started: destruction waited for the
    // one in progress, and a finished turn has all its deltas.
    if (recorder->result()) CHECK(joined(recorder->deltas()) == "a b c");
  }
}

TEST_CASE("make_model checks the model and its options", "[echo][config]") {
  ModelRuntime runtime;
  CHECK_NOTHROW(runtime.make_model("sluice/echo", nlohmann::json::object()));
  CHECK_THROWS_AS(runtime.make_model("acme/echo", nullptr), ModelConfigError);
  CHECK_THROWS_WITH(runtime.make_model("sluice/echo", {{"delay_ms", "10"}}),
                    Catch::StartsWith("model_options.delay_ms: "));
}
