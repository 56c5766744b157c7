#include "net/websocket_protocol.hpp"

#include "net/request_validation.hpp"

namespace sluice::net {
namespace {

constexpr int kVersion = 1;

// Frames may echo client input that is not valid UTF-8 (a requestId): replace
// bad bytes rather than throw.
std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string websocket_frame(const std::string& type, nlohmann::json fields) {
  fields["version"] = kVersion;
  fields["type"] = type;
  return dump(fields);
}

std::string websocket_error_frame(const std::optional<std::string>& request_id,
                                  const PublicError& error, const std::string& run_id) {
  nlohmann::json fields = {{"error", error.to_json()}};
  if (request_id) fields["requestId"] = *request_id;
  if (!run_id.empty()) fields["runId"] = run_id;
  return websocket_frame("error", std::move(fields));
}

std::optional<PublicError> require_request_id(const ClientFrame& frame) {
  if (frame.request_id) return std::nullopt;
  return make_error("invalid_request", "A \"" + frame.type + "\" frame needs a \"requestId\".",
                    "Send a non-empty string that names this request in the answers.");
}

WebSocketProtocol::WebSocketProtocol(std::shared_ptr<WebSocket> socket, size_t max_frame_bytes)
    : socket_(std::move(socket)), max_frame_bytes_(max_frame_bytes) {}

void WebSocketProtocol::on_message(std::string message, bool text) {
  if (!text) {
    return malformed(std::nullopt, make_error("invalid_request", "Binary frames are not accepted.",
                                              "Send each message as a JSON text frame."));
  }
  if (message.size() > max_frame_bytes_) {
    return malformed(std::nullopt, make_error("payload_too_large",
                                              "The frame exceeds " +
                                                  std::to_string(max_frame_bytes_) + " bytes.",
                                              "Send a shorter message."));
  }
  ClientFrame frame;
  std::optional<PublicError> error = read_envelope(message, frame);
  if (!error && frame.type == "ping") {
    nlohmann::json fields = nlohmann::json::object();
    if (frame.request_id) fields["requestId"] = *frame.request_id;
    socket_->send(websocket_frame("pong", std::move(fields)));
  } else if (!error) {
    error = on_frame(frame);
  }
  if (error) return malformed(frame.request_id, *error);
  malformed_in_a_row_ = 0;
}

std::optional<PublicError> WebSocketProtocol::read_envelope(const std::string& message,
                                                            ClientFrame& frame) const {
  if (auto error = parse_json_object(message, frame.body)) {
    error->details = "Send a JSON object such as {\"version\":1,\"type\":\"ping\"}.";
    return error;
  }
  // The requestId first, so that every later error can name it.
  if (auto id = frame.body.find("requestId"); id != frame.body.end() && !id->is_null()) {
    if (!id->is_string() || id->get_ref<const std::string&>().empty() ||
        id->get_ref<const std::string&>().size() > kMaxIdBytes) {
      return make_error("invalid_request", "\"requestId\" must be a string of 1 to 512 bytes.");
    }
    frame.request_id = id->get<std::string>();
  }
  auto version = frame.body.find("version");
  if (version == frame.body.end() || !version->is_number_integer() ||
      version->get<int64_t>() != kVersion) {
    return make_error("invalid_request", "This server speaks protocol version 1 only.",
                      "Send \"version\": 1 in every frame.");
  }
  auto type = frame.body.find("type");
  if (type == frame.body.end() || !type->is_string()) {
    return make_error("invalid_request", "\"type\" is required and must be a string.");
  }
  frame.type = type->get<std::string>();
  return std::nullopt;
}

void WebSocketProtocol::malformed(const std::optional<std::string>& request_id,
                                  const PublicError& error) {
  socket_->send(websocket_error_frame(request_id, error));
  if (++malformed_in_a_row_ >= kMaxMalformedFramesInARow) {
    socket_->close(kClosePolicyViolation, "too many malformed frames");
  }
}

}  // namespace sluice::net
