#pragma once
// What the fuzz targets share: stand-ins for a connection's responder and a
// WebSocket (no sockets, no threads), and the checks that turn a wrong answer
// into a crash libFuzzer records. Header-only; each target is one executable.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "net/http_types.hpp"
#include "net/responses.hpp"
#include "net/websocket_handshake.hpp"

namespace sluice::fuzz {

// A finding: something production should never do on any input. Aborts, so
// libFuzzer saves the input and prints the stack.
[[noreturn]] inline void finding(const std::string& what, std::string_view detail = {}) {
  std::fprintf(stderr, "\n== sluice fuzz finding: %s\n", what.c_str());
  if (!detail.empty()) {
    std::fprintf(stderr, "== detail (%zu bytes): %.*s\n", detail.size(),
                 static_cast<int>(std::min<size_t>(detail.size(), 2000)), detail.data());
  }
  std::abort();
}

// SLUICE_FUZZ_VERBOSE=1: print what the harness sees and answers (to check
// that seeds reach what they are meant to; far too slow for fuzzing).
inline bool verbose() {
  static const bool on = std::getenv("SLUICE_FUZZ_VERBOSE") != nullptr;
  return on;
}

// The input being run (set by each target), for note().
inline std::string_view current_input;

// A contract broken without a crash (for example: text that must be checked
// before it reaches storage is not). Reported once per kind on stderr and,
// when SLUICE_FUZZ_NOTES names a folder (scripts/fuzz.sh sets it), the input
// kept there as note-N; the run goes on, so one known problem does not end a
// fuzzing session. scripts/fuzz.sh fails a run that printed a note.
inline void note(const std::string& what, std::string_view detail) {
  static std::vector<std::string> seen;
  for (const auto& known : seen) {
    if (known == what) return;
  }
  seen.push_back(what);
  std::fprintf(stderr, "\n== sluice fuzz note: %s; detail: %.*s\n", what.c_str(),
               static_cast<int>(std::min<size_t>(detail.size(), 500)), detail.data());
  if (const char* folder = std::getenv("SLUICE_FUZZ_NOTES")) {
    const std::string file = std::string(folder) + "/note-" + std::to_string(seen.size());
    std::ofstream(file, std::ios::binary)
        .write(current_input.data(), static_cast<std::streamsize>(current_input.size()));
    std::fprintf(stderr, "== input saved as %s\n", file.c_str());
  }
}

// Every server frame of the WebSocket protocol is a JSON object with
// "version": 1 and a string "type" (net/websocket_protocol.cpp).
inline void check_server_frame(const std::string& text) {
  nlohmann::json frame = nlohmann::json::parse(text, nullptr, false);
  if (frame.is_discarded() || !frame.is_object())
    finding("server frame is not a JSON object", text);
  auto version = frame.find("version");
  auto type = frame.find("type");
  if (version == frame.end() || *version != 1 || type == frame.end() || !type->is_string()) {
    finding("server frame lacks version 1 or a string type", text);
  }
}

// A socket's sending side: checks each frame the protocol code sends.
class FrameSink final : public net::WebSocket {
 public:
  void send(std::string text) override {
    if (verbose()) std::fprintf(stderr, "  frame: %.300s\n", text.c_str());
    check_server_frame(text);
    ++frames;
  }
  void close(uint16_t code, std::string) override {
    if (code < 1000 || code > 4999) finding("close code out of range: " + std::to_string(code));
    closed = true;
  }
  size_t frames = 0;
  bool closed = false;
};

// A request's answer, as the connection would take it. An answer the server
// writes must be well-formed JSON (every route answers JSON but /metrics) and
// never a 500: nothing in these harnesses can fail on the server's side, so a
// 500 means a handler threw on client input (RouteTable::dispatch and
// Connection::hand_to_handler catch it and answer internal_error).
inline void check_response(const net::HttpResponse& response, std::string_view input) {
  if (response.status >= 500 && response.status != 503) {
    finding("answered " + std::to_string(response.status) + ": " + response.body, input);
  }
  if (response.content_type == "application/json") {
    if (nlohmann::json::accept(response.body) == false) {
      finding("a JSON answer is not valid JSON: " + response.body, input);
    }
  }
}

// The connection's responder, recording instead of writing. upgrade_to_websocket
// does what Connection::upgrade_to_websocket does up to the hand-over: the
// handshake check, then (in place of Beast's accept) on_open with a FrameSink.
class RecordingResponder final : public net::Responder {
 public:
  RecordingResponder(std::string_view input, bool http11) : input_(input), http11_(http11) {}

  void respond(net::HttpResponse response) override {
    if (verbose()) {
      std::fprintf(stderr, "  answer %d: %.300s\n", response.status, response.body.c_str());
    }
    check_response(response, input_);
    ++answers;
    responses.push_back(std::move(response));
  }
  void open_stream(net::Headers) override { ++answers; }
  void stream_write(std::string frame) override {
    if (frame.rfind("event: ", 0) != 0 && frame.rfind(": ", 0) != 0) {
      finding("an SSE frame does not start with 'event: '", frame);
    }
  }
  void close_stream() override {}
  bool client_gone() const override { return false; }
  void upgrade_to_websocket(net::HttpRequest request, net::WebSocketUpgrade upgrade) override {
    if (auto error = net::websocket_handshake_error(request, http11_)) {
      respond(net::error_response(*error, {{"Sec-WebSocket-Version", "13"}}));
      return;
    }
    ++answers;
    upgraded = true;
    if (verbose()) std::fprintf(stderr, "  upgraded to a WebSocket\n");
    auto sink = std::make_shared<FrameSink>();
    handler = upgrade.on_open(sink);
    if (!handler) finding("on_open returned no handler");
    if (sink->frames != 1) finding("a socket did not start with exactly one ready frame");
  }

  int answers = 0;
  bool upgraded = false;
  std::vector<net::HttpResponse> responses;
  std::shared_ptr<net::WebSocketHandler> handler;

 private:
  std::string_view input_;
  bool http11_;
};

// A folder of this process's own under /tmp, removed at exit: targets whose
// production entry point takes a path write their input there.
inline const std::filesystem::path& scratch_dir(const char* target) {
  static const std::filesystem::path dir = [target] {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() /
        ("sluice-fuzz-" + std::string(target) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    return path;
  }();
  static const bool cleanup_registered = [] {
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    });
    return true;
  }();
  (void)cleanup_registered;
  return dir;
}

inline void write_file(const std::filesystem::path& file, std::string_view bytes) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) finding("cannot write the scratch file " + file.string());
}

}  // namespace sluice::fuzz
