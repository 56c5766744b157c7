#include "harness/canned_model.hpp"

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


// One turn. Only the runtime's queue owns it (the handle holds it weakly), so
// destroying the runtime's io_context drops pending turns and their timers.
class CannedTurn : public std::enable_shared_from_this<CannedTurn> {
 public:
  CannedTurn(const RuntimeContext& runtime, std::chrono::milliseconds delay,
             std::optional<TurnResult> result, std::optional<PublicError> error,
             std::shared_ptr<TurnObserver> observer)
      : runtime_(runtime),
        delay_(delay),
        deltas_(result ? split_deltas(result->text) : std::vector<std::string>{}),
        result_(std::move(result)),
        error_(std::move(error)),
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
    if (error_) {
      observer_->on_failed(std::move(*error_), false);
    } else {
      observer_->on_finished(std::move(*result_));
    }
  }

  RuntimeContext runtime_;
  std::chrono::milliseconds delay_;
  std::vector<std::string> deltas_;
  std::optional<TurnResult> result_;
  std::optional<PublicError> error_;
  std::shared_ptr<TurnObserver> observer_;
  std::optional<boost::asio::steady_timer> timer_;
  std::atomic<bool> cancelled_{false};
};

class CannedHandle : public TurnHandle {
 public:
  explicit CannedHandle(std::weak_ptr<CannedTurn> turn) : turn_(std::move(turn)) {}
  // A finished or dropped turn has nothing left to cancel.
  void cancel() override {
    if (auto turn = turn_.lock()) turn->cancel();
  }

 private:
  std::weak_ptr<CannedTurn> turn_;
};

class CannedModel : public Model {
 public:
  CannedModel(const RuntimeContext& runtime, std::chrono::milliseconds delay, Answer answer)
      : runtime_(runtime), delay_(delay), answer_(std::move(answer)) {}

  std::shared_ptr<TurnHandle> start_turn(TurnRequest request,
                                         std::shared_ptr<TurnObserver> observer) override {
    std::optional<TurnResult> result;
    std::optional<PublicError> error;
    try {
      result = answer_(request);
    } catch (const CannedAnswerError& e) {
      error = make_error("provider_error", e.what(), "", e.meta);
    }
    auto turn = std::make_shared<CannedTurn>(runtime_, delay_, std::move(result), std::move(error),
                                             std::move(observer));
    // Even an immediate answer goes through the queue: callers never see a
    // callback before start_turn returns.
    boost::asio::post(runtime_.io, [turn] { turn->begin(); });
    return std::make_shared<CannedHandle>(turn);
  }

 private:
  RuntimeContext runtime_;
  std::chrono::milliseconds delay_;
  Answer answer_;
};

}  // namespace

std::shared_ptr<Model> make_canned_model(const RuntimeContext& runtime,
                                         std::chrono::milliseconds delay, Answer answer) {
  return std::make_shared<CannedModel>(runtime, delay, std::move(answer));
}

int64_t count_words(std::string_view text) {
  return static_cast<int64_t>(word_starts(text).size());
}

}  // namespace sluice::harness
