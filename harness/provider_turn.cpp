#include "harness/provider_turn.hpp"

#include <utility>  // before asio: GCC 12 in C++20 mode needs it (see STACK-NOTES.md)

#include <charconv>
#include <cctype>
#include <cmath>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "core/untrusted_json.hpp"

namespace sluice::harness {
namespace {

constexpr size_t kMaxErrorBody = 64 * 1024;

bool transient_status(int status) {
  // 408 timeout, 409 (OpenAI: conflict, retried by its SDKs), 429 rate limit,
  // 5xx including Anthropic's 529 overloaded.
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

// Both APIs answer errors as {"error":{"type","message"}} (Anthropic adds an outer
// "type":"error"); anything else is quoted as it came.
std::string error_message(const std::string& body) {
  const auto parsed = parse_untrusted_json(body).value;
  if (parsed.is_object() && parsed.contains("error")) {
    const auto& error = parsed["error"];
    if (error.is_object()) {
      std::string message = error.value("message", "");
      const std::string type = error.is_object() && error.contains("type") && error["type"].is_string()
                                   ? error["type"].get<std::string>()
                                   : "";
      if (!type.empty()) message = type + ": " + message;
      if (!message.empty()) return message;
    } else if (error.is_string()) {
      return error.get<std::string>();
    }
  }
  if (body.empty()) return "no details";
  return body.size() > 500 ? body.substr(0, 500) + "..." : body;
}

// The conversation no longer fits the model's context window. OpenAI says so
// with code context_length_exceeded; Anthropic with "prompt is too long" (or
// 413 for a request over its byte limit); OpenAI-compatible servers in words
// of their own, of which these are the common ones.
bool context_overflow(int status, const std::string& body) {
  if (status == 413) return true;
  if (status != 400) return false;
  const auto parsed = parse_untrusted_json(body).value;
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object() &&
      parsed["error"].value("code", nlohmann::json()) == "context_length_exceeded") {
    return true;
  }
  std::string lower = body;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* phrase : {"prompt is too long", "maximum context length", "context length",
                             "context window", "exceeds the available context"}) {
    if (lower.find(phrase) != std::string::npos) return true;
  }
  return false;
}

class FailedHandle : public TurnHandle {
 public:
  void cancel() override { cancelled = true; }
  std::atomic<bool> cancelled{false};
};

}  // namespace

std::optional<int64_t> retry_after_ms(const HttpResponseHead& head) {
  const auto& exact = head.retry_after_ms;
  if (!exact.empty()) {
    double value = 0;
    const auto [end, error] = std::from_chars(exact.data(), exact.data() + exact.size(), value);
    if (error == std::errc() && end == exact.data() + exact.size() && value >= 0) {
      return static_cast<int64_t>(std::ceil(value));
    }
  }
  const auto& seconds = head.retry_after;
  double value = 0;
  const auto [end, error] = std::from_chars(seconds.data(), seconds.data() + seconds.size(), value);
  if (seconds.empty() || error != std::errc() || end != seconds.data() + seconds.size() || value < 0) {
    return std::nullopt;
  }
  return static_cast<int64_t>(std::ceil(value * 1000));
}

ProviderTurn::ProviderTurn(std::string provider, const std::atomic<bool>& closing,
                           std::shared_ptr<TurnObserver> observer)
    : provider_(std::move(provider)),
      closing_(closing),
      observer_(std::move(observer)),
      reader_([this](std::string_view event, std::string_view data) {
        if (!done()) on_event(event, data);
      }) {}

void ProviderTurn::attach(const std::shared_ptr<HttpExchange>& exchange) {
  std::lock_guard lock(exchange_mutex_);
  exchange_ = exchange;
}

void ProviderTurn::abort_exchange() {
  std::shared_ptr<HttpExchange> exchange;
  {
    std::lock_guard lock(exchange_mutex_);
    exchange = exchange_.lock();
  }
  if (exchange) exchange->cancel();
}

void ProviderTurn::cancel() {
  cancelled_ = true;
  abort_exchange();
}

void ProviderTurn::on_head(const HttpResponseHead& head) {
  status_ = head.status;
  retry_after_ms_ = retry_after_ms(head);
}

void ProviderTurn::on_data(std::string_view bytes) {
  if (done()) return;
  if (status_ >= 200 && status_ < 300) {
    reader_.feed(bytes);
  } else if (error_body_.size() < kMaxErrorBody) {
    error_body_.append(bytes.substr(0, kMaxErrorBody - error_body_.size()));
  }
}

void ProviderTurn::on_complete() {
  response_over_ = true;
  if (done()) return;
  if (status_ >= 200 && status_ < 300) {
    on_stream_end();
    return;
  }
  if (context_overflow(status_, error_body_)) {
    overflowed_ = true;
    fail("HTTP " + std::to_string(status_) + ": " + error_message(error_body_), false);
    return;
  }
  fail("HTTP " + std::to_string(status_) + ": " + error_message(error_body_),
       transient_status(status_), transient_status(status_) ? retry_after_ms_ : std::nullopt);
}

void ProviderTurn::on_transport_error(const std::string& message, TransportFailure kind) {
  response_over_ = true;
  if (done()) return;
  switch (kind) {
    case TransportFailure::stalled:
      fail("the response stalled: " + message, true);
      break;
    case TransportFailure::broken:
      fail("connection failed: " + message, true);
      break;
    case TransportFailure::untrusted:
      fail("the server's TLS certificate was refused: " + message, false);
      break;
  }
}

void ProviderTurn::delta(std::string_view text) {
  if (!done() && !text.empty()) observer_->on_text_delta(text);
}

void ProviderTurn::finish(TurnResult result) {
  if (done()) return;
  done_ = true;
  observer_->on_finished(std::move(result));
}

void ProviderTurn::fail(std::string message, bool transient, std::optional<int64_t> retry_after) {
  if (done()) return;
  done_ = true;
  nlohmann::json meta = {{"provider", provider_}};
  if (status_ != 0) meta["status"] = status_;
  if (retry_after) meta["retryAfterMs"] = *retry_after;
  if (overflowed_) meta["reason"] = kReasonContextOverflow;
  // A stream failing mid-way (a malformed event, an error event) is useless:
  // stop reading it and drop the connection.
  if (!response_over_) abort_exchange();
  observer_->on_failed(make_error("provider_error", provider_ + ": " + message, "", std::move(meta)),
                       transient);
}

std::shared_ptr<TurnHandle> fail_turn_later(boost::asio::io_context& io,
                                            std::shared_ptr<TurnObserver> observer,
                                            PublicError error) {
  auto handle = std::make_shared<FailedHandle>();
  boost::asio::post(io, [handle, observer = std::move(observer), error = std::move(error)]() mutable {
    if (!handle->cancelled) observer->on_failed(std::move(error), false);
  });
  return handle;
}

}  // namespace sluice::harness
