#include "harness/echo_model.hpp"

#include <utility>  // before asio: GCC 12 in C++20 mode needs it (see STACK-NOTES.md)

#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness/model_runtime.hpp"

namespace sluice::harness {
namespace {

// Enough to exercise streaming clients without making long answers chatty.
constexpr size_t kMaxDeltas = 8;

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

std::vector<size_t> word_starts(std::string_view text) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_space(text[i]) && (i == 0 || is_space(text[i - 1]))) starts.push_back(i);
  }
  return starts;
}

// Cuts at word starts into at most kMaxDeltas pieces that concatenate to `text`.
std::vector<std::string> split_deltas(const std::string& text) {
  if (text.empty()) return {};
  const std::vector<size_t> starts = word_starts(text);
  if (starts.size() <= 1) return {text};
  const size_t pieces = std::min(starts.size(), kMaxDeltas);
  std::vector<std::string> deltas;
  size_t begin = 0;
  for (size_t i = 1; i <= pieces; ++i) {
    const size_t end = i == pieces ? text.size() : starts[i * starts.size() / pieces];
    deltas.push_back(text.substr(begin, end - begin));
    begin = end;
  }
  return deltas;
}

// Token counts are words: a rough, deterministic stand-in for a tokenizer.
int64_t count_words(std::string_view text) {
  return static_cast<int64_t>(word_starts(text).size());
}

TurnResult answer(const TurnRequest& request) {
  TurnResult result;
  result.input_tokens = count_words(request.instructions);
  for (const auto& item : request.conversation) {
    result.input_tokens +=
        count_words(item.text) + count_words(item.args_json) + count_words(item.result_json);
    if (item.type == "user") result.text = item.text;
  }
  result.output_tokens = count_words(result.text);
  return result;
}

// One turn. Only the runtime's queue owns it (the handle holds it weakly), so
// destroying the runtime's io_context drops pending turns and their timers.
class EchoTurn : public std::enable_shared_from_this<EchoTurn> {
 public:
  EchoTurn(const RuntimeContext& runtime, std::chrono::milliseconds delay, TurnResult result,
           std::shared_ptr<TurnObserver> observer)
      : runtime_(runtime),
        delay_(delay),
        deltas_(split_deltas(result.text)),
        result_(std::move(result)),
        observer_(std::move(observer)) {}

  // Runtime thread only, like every use of timer_.
  void begin() {
    if (stopped()) return;
    if (delay_.count() == 0) {
      deliver();
      return;
    }
    timer_.emplace(runtime_.io, delay_);
    timer_->async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (!error) self->deliver();
    });
  }

  // Any thread. The flag stops delivery at once; the timer is cancelled on the
  // runtime thread because asio timers are not thread-safe.
  void cancel() {
    cancelled_ = true;
    boost::asio::post(runtime_.io, [self = shared_from_this()] {
      if (self->timer_) self->timer_->cancel();
    });
  }

 private:
  bool stopped() const { return cancelled_ || runtime_.closing; }

  void deliver() {
    for (const auto& delta : deltas_) {
      if (stopped()) return;
      observer_->on_text_delta(delta);
    }
    if (stopped()) return;
    observer_->on_finished(std::move(result_));
  }

  RuntimeContext runtime_;
  std::chrono::milliseconds delay_;
  std::vector<std::string> deltas_;
  TurnResult result_;
  std::shared_ptr<TurnObserver> observer_;
  std::optional<boost::asio::steady_timer> timer_;
  std::atomic<bool> cancelled_{false};
};

class EchoHandle : public TurnHandle {
 public:
  explicit EchoHandle(std::weak_ptr<EchoTurn> turn) : turn_(std::move(turn)) {}
  // A finished or dropped turn has nothing left to cancel.
  void cancel() override {
    if (auto turn = turn_.lock()) turn->cancel();
  }

 private:
  std::weak_ptr<EchoTurn> turn_;
};

class EchoModel : public Model {
 public:
  EchoModel(const RuntimeContext& runtime, EchoOptions options)
      : runtime_(runtime), options_(options) {}

  std::shared_ptr<TurnHandle> start_turn(TurnRequest request,
                                         std::shared_ptr<TurnObserver> observer) override {
    auto turn =
        std::make_shared<EchoTurn>(runtime_, options_.delay, answer(request), std::move(observer));
    // Even an immediate answer goes through the queue: callers never see a
    // callback before start_turn returns.
    boost::asio::post(runtime_.io, [turn] { turn->begin(); });
    return std::make_shared<EchoHandle>(turn);
  }

 private:
  RuntimeContext runtime_;
  EchoOptions options_;
};

std::string describe(const nlohmann::json& value) {
  return std::string(value.type_name()) + " " + value.dump();
}

}  // namespace

EchoOptions parse_echo_options(const nlohmann::json& options) {
  EchoOptions parsed;
  for (const auto& [key, value] : options.items()) {
    if (key != "delay_ms") {
      throw ModelConfigError("model_options." + key,
                             "unknown option for sluice/echo; known options: delay_ms");
    }
    if (!value.is_number_integer() || value < 0 || value > kMaxEchoDelayMs) {
      throw ModelConfigError("model_options.delay_ms",
                             "expected a whole number of milliseconds from 0 to " +
                                 std::to_string(kMaxEchoDelayMs) + ", got " + describe(value));
    }
    parsed.delay = std::chrono::milliseconds(value.get<int64_t>());
  }
  return parsed;
}

std::shared_ptr<Model> make_echo_model(const RuntimeContext& runtime, EchoOptions options) {
  return std::make_shared<EchoModel>(runtime, options);
}

}  // namespace sluice::harness
