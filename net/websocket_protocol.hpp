#pragma once
// The JSON messages of PROTOCOL.md "WebSocket protocol, version 1" and what
// every socket does with them: check the envelope (JSON object, version 1,
// type, requestId), answer ping, answer a malformed frame with an error frame
// and keep the socket open, unless the client keeps sending malformed frames.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/public_error.hpp"
#include "net/http_types.hpp"

namespace sluice::net {

inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kClosePolicyViolation = 1008;
// This many malformed frames in a row close the socket with 1008.
inline constexpr int kMaxMalformedFramesInARow = 16;

// {"version":1,"type":type,...fields}
std::string websocket_frame(const std::string& type, nlohmann::json fields = nlohmann::json::object());
// {"version":1,"type":"error","requestId"?,"runId"?,"error":<public error>}: a
// workflow socket names its run once the run exists; an agent socket never does.
std::string websocket_error_frame(const std::optional<std::string>& request_id,
                                  const PublicError& error, const std::string& run_id = {});

struct ClientFrame {
  std::string type;
  std::optional<std::string> request_id;
  nlohmann::json body;  // the whole object
};

class WebSocketProtocol : public WebSocketHandler {
 public:
  // Frames longer than max_frame_bytes answer payload_too_large.
  WebSocketProtocol(std::shared_ptr<WebSocket> socket, size_t max_frame_bytes);

  void on_message(std::string message, bool text) final;

 protected:
  // A frame whose envelope is fine (ping is answered before). An error makes
  // it a malformed frame: it is answered with the frame's requestId.
  virtual std::optional<PublicError> on_frame(const ClientFrame& frame) = 0;

  const std::shared_ptr<WebSocket>& socket_handle() const { return socket_; }

 private:
  std::optional<PublicError> read_envelope(const std::string& message, ClientFrame& frame) const;
  void malformed(const std::optional<std::string>& request_id, const PublicError& error);

  std::shared_ptr<WebSocket> socket_;
  size_t max_frame_bytes_;
  int malformed_in_a_row_ = 0;
};

// The "requestId" of a frame that needs one: a non-empty string.
std::optional<PublicError> require_request_id(const ClientFrame& frame);

}  // namespace sluice::net
