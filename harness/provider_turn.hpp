#pragma once
// What the HTTP providers share for one turn: it is the TurnHandle the caller
// holds and the HttpStreamHandler of the request. It turns HTTP statuses and
// transport failures into on_failed (transient or not, with Retry-After in
// meta.retryAfterMs), feeds a 2xx body through an SseReader to the provider's
// event parser, and makes sure exactly one outcome reaches the observer.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "harness/http_stream_client.hpp"
#include "harness/model.hpp"
#include "harness/providers.hpp"
#include "harness/runtime_context.hpp"
#include "harness/sse_reader.hpp"

namespace sluice::harness {

class ProviderTurn : public TurnHandle, public HttpStreamHandler {
 public:
  // provider: "anthropic" or "openai", the prefix of every message. closing is
  // the runtime's flag (runtime_context.hpp): no observer call once it is set.
  ProviderTurn(std::string provider, const std::atomic<bool>& closing,
               std::shared_ptr<TurnObserver> observer);

  // Set once, right after the request starts. Held weakly: the exchange holds
  // this turn as its handler, and lives exactly as long as the request.
  void attach(const std::shared_ptr<HttpExchange>& exchange);

  void cancel() override;

  void on_head(const HttpResponseHead& head) override;
  void on_data(std::string_view bytes) override;
  void on_complete() override;
  void on_transport_error(const std::string& message, TransportFailure kind) override;

 protected:
  // One SSE event of a 2xx response.
  virtual void on_event(std::string_view event, std::string_view data) = 0;
  // The body ended: finish or fail if the provider's events did not already.
  virtual void on_stream_end() = 0;

  bool done() const { return done_ || cancelled_ || closing_; }
  void delta(std::string_view text);
  void finish(TurnResult result);
  void fail(std::string message, bool transient, std::optional<int64_t> retry_after_ms = {});

  const std::string provider_;

 private:
  const std::atomic<bool>& closing_;
  std::shared_ptr<TurnObserver> observer_;
  void abort_exchange();

  std::mutex exchange_mutex_;  // attach (caller thread) against cancel and fail
  std::weak_ptr<HttpExchange> exchange_;
  std::atomic<bool> cancelled_{false};
  bool done_ = false;         // io thread
  bool response_over_ = false;  // io thread: nothing left to abort, the connection may be reused
  int status_ = 0;
  bool overflowed_ = false;  // the provider refused the request as too long for its context
  std::optional<int64_t> retry_after_ms_;
  std::string error_body_;  // the body of a non-2xx answer, capped
  SseReader reader_;
};

// Retry-After in seconds ("12", "1.5") or retry-after-ms; HTTP dates are not parsed.
std::optional<int64_t> retry_after_ms(const HttpResponseHead& head);

// A failure posted to the runtime's thread, never inside start_turn: for a turn
// that cannot even be sent (no API key, bad base URL).
std::shared_ptr<TurnHandle> fail_turn_later(boost::asio::io_context& io,
                                            std::shared_ptr<TurnObserver> observer,
                                            PublicError error);

// Sends `http` (path, headers, body and idle timeout set by the provider) to
// the provider's endpoint with a Turn (a ProviderTurn) reading the answer; a
// provider that cannot be used (no key, bad base URL) fails the turn at once.
template <class Turn>
std::shared_ptr<TurnHandle> start_streamed_turn(const RuntimeContext& runtime,
                                                ProviderAccess& access, const std::string& provider,
                                                HttpStreamRequest http,
                                                std::shared_ptr<TurnObserver> observer) {
  if (!access.problem.empty()) {
    return fail_turn_later(runtime.io, std::move(observer),
                           make_error("provider_error", provider + ": " + access.problem, "",
                                      {{"provider", provider}}));
  }
  http.endpoint = *access.endpoint;
  auto turn = std::make_shared<Turn>(provider, runtime.closing, std::move(observer));
  turn->attach(access.client->start(std::move(http), turn));
  return turn;
}

}  // namespace sluice::harness
