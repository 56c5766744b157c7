#include "harness/sse_reader.hpp"

namespace sluice::harness {

void SseReader::feed(std::string_view bytes) {
  for (const char c : bytes) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r' || c == '\n') {
      skip_lf_ = c == '\r';
      line(pending_);
      pending_.clear();
    } else {
      pending_ += c;
    }
  }
}

void SseReader::line(std::string_view text) {
  if (text.empty()) {
    // A blank line dispatches; an event without data lines is dropped (per the spec).
    if (has_data_) sink_(event_.empty() ? std::string_view("message") : std::string_view(event_), data_);
    event_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (text.front() == ':') return;  // comment, e.g. a keep-alive
  const auto colon = text.find(':');
  const std::string_view field = text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "event") {
    event_ = value;
  } else if (field == "data") {
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
  }
  // id and retry concern reconnecting browsers; a model turn never resumes a stream.
}

}  // namespace sluice::harness
