#pragma once
// Incremental parser of a text/event-stream body (the WHATWG SSE framing):
// bytes arrive in arbitrary pieces, events come out whole. Providers stream
// their responses this way.
#include <functional>
#include <string>
#include <string_view>

namespace sluice::harness {

class SseReader {
 public:
  // event is "message" when the stream named none; data joins "data:" lines with '\n'.
  using Sink = std::function<void(std::string_view event, std::string_view data)>;

  explicit SseReader(Sink sink) : sink_(std::move(sink)) {}

  // Feeds the next piece of the body; calls the sink for every completed event.
  void feed(std::string_view bytes);

 private:
  void line(std::string_view text);

  Sink sink_;
  std::string pending_;  // an incomplete last line
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  bool skip_lf_ = false;  // the previous piece ended in '\r' of a "\r\n"
};

}  // namespace sluice::harness
