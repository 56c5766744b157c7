// Fuzz target: what a client sends on an agent or workflow WebSocket.
//
// Mirrors:
//   net/websocket_protocol.cpp WebSocketProtocol::on_message (envelope: JSON
//                              object, version 1, type, requestId; ping;
//                              malformed frames and the close after 16), and
//   net/websocket_agent.cpp    the agent socket (prompt -> SubmitCommand; the
//                              gateway has no router, so the command is dropped
//                              and the prompt answers its error frame), or
//   net/websocket_workflow.cpp the workflow socket (one invoke -> the run
//                              starter of fuzz_runs.hpp: payload checked by the
//                              declarative workflow's template, then 503),
// as opened by net/websocket_routes.cpp (open_*_socket, frame limit, message
// limit twice that). Every frame the server sends must be a JSON object with
// version 1 and a type (fuzz_support.hpp FrameSink).
//
// Input: the first byte chooses (its value mod 8, so '0'..'7' in seeds):
//   bit 0  0: the agent socket of "echo"; 1: the workflow socket of "greet";
//   bit 1  0: messages: the rest split on 0x1e (RS), a message starting with
//             0x1f (US) is a binary one (without that byte);
//          1: raw client bytes (masked frames) read by Beast's
//             websocket::stream over beast::test::stream, in memory, with
//             async_read on a one-thread io_context and the same
//             read_message_max as net/websocket_session.cpp; each message
//             read goes to on_message with got_text(), as Session::on_read does;
//   bit 2  0: the default frame limit (1 MiB); 1: 64 bytes, to reach the
//             payload_too_large and message-too-big paths with small inputs.
// What is not covered: Session's write queue, its close handshake and
// timeouts (set_option(timeout) is not applied: the harness has no timers).
//
// Session::on_read catches std::exception from on_message and closes with
// 1011; that is the server's last resort for a bug, so it is not mirrored:
// an exception escaping on_message is a finding here.
#include <utility>  // before Asio (GCC 12 + C++20)

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <caf/actor.hpp>

#include "actors/session_gateway.hpp"
#include "fuzz_runs.hpp"
#include "fuzz_support.hpp"
#include "net/websocket_agent.hpp"
#include "net/websocket_workflow.hpp"

namespace {

using namespace sluice;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::system::error_code;

constexpr size_t kDefaultFrameLimit = 1 << 20;  // SLUICE_MAX_BODY_BYTES default
constexpr size_t kSmallFrameLimit = 64;
constexpr int kMaxMessagesPerInput = 64;

struct World {
  actors::SessionGateway gateway{caf::actor{}};
  std::unique_ptr<fuzz::FuzzRuns> runs = fuzz::fuzz_runs("websocket_message");
};

World& world() {
  static World* instance = new World();  // never destroyed: libFuzzer exits from anywhere
  return *instance;
}

void deliver_messages(std::string_view rest, net::WebSocketHandler& handler) {
  for (int i = 0; i < kMaxMessagesPerInput; ++i) {
    const size_t end = rest.find('\x1e');
    std::string_view message = rest.substr(0, end);
    bool text = true;
    if (!message.empty() && message.front() == '\x1f') {
      text = false;
      message.remove_prefix(1);
    }
    handler.on_message(std::string(message), text);
    if (end == std::string_view::npos) return;
    rest.remove_prefix(end + 1);
  }
}

// net/websocket_session.cpp Session::start (the accept of an already checked
// handshake) and Session::read/on_read, over an in-memory stream whose peer
// has sent `bytes` and then closed.
void deliver_frames(std::string_view bytes, size_t max_message_bytes,
                    net::WebSocketHandler& handler) {
  boost::asio::io_context ioc;
  beast::test::stream peer(ioc);
  websocket::stream<beast::test::stream> ws(ioc);
  beast::get_lowest_layer(ws).connect(peer);
  ws.read_message_max(max_message_bytes);

  http::request<http::empty_body> handshake{http::verb::get, "/agents/echo/fuzz", 11};
  handshake.set(http::field::host, "localhost");
  handshake.set(http::field::upgrade, "websocket");
  handshake.set(http::field::connection, "upgrade");
  handshake.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  handshake.set(http::field::sec_websocket_version, "13");
  error_code accept_error = boost::asio::error::would_block;
  ws.async_accept(handshake, [&](error_code ec) { accept_error = ec; });
  ioc.run();
  ioc.restart();
  if (accept_error) fuzz::finding("Beast refused a valid handshake: " + accept_error.message());

  beast::get_lowest_layer(ws).append(beast::string_view(bytes.data(), bytes.size()));
  peer.close();  // after the bytes, the client's end of file

  beast::flat_buffer buffer;
  for (int i = 0; i < kMaxMessagesPerInput; ++i) {
    bool done = false;
    error_code read_error;
    ws.async_read(buffer, [&](error_code ec, size_t) {
      read_error = ec;
      done = true;
    });
    ioc.run();
    ioc.restart();
    if (!done) fuzz::finding("a WebSocket read did not complete on a closed stream");
    if (read_error) return;  // closed, too big (1009), protocol error: Session::finish
    std::string message = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    handler.on_message(std::move(message), ws.got_text());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  World& w = world();
  const int flags = data[0] % 8;
  const bool workflow = flags & 1;
  const bool frames = flags & 2;
  const size_t frame_limit = (flags & 4) ? kSmallFrameLimit : kDefaultFrameLimit;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto sink = std::make_shared<fuzz::FrameSink>();
  std::shared_ptr<net::WebSocketHandler> handler =
      workflow ? net::open_workflow_socket(sink, {w.runs.get(), "greet", frame_limit})
               : net::open_agent_socket(sink, {&w.gateway, "echo", "fuzz", frame_limit});
  if (sink->frames != 1) fuzz::finding("a socket did not open with exactly one ready frame");

  if (frames) {
    deliver_frames(rest, frame_limit * 2, *handler);  // net/websocket_routes.cpp message_limit
  } else {
    deliver_messages(rest, *handler);
  }
  return 0;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world();
  return 0;
}
