#pragma once
// A fake OpenAI-compatible model server for benchmarks: POST /v1/chat/completions
// on 127.0.0.1, answered at once with a streamed reply in the real wire format
// (HTTP/1.1 keep-alive, Transfer-Encoding: chunked, text/event-stream: a role
// chunk, three content deltas, a finish_reason chunk, the usage chunk that
// stream_options.include_usage asks for, then `data: [DONE]`). The reply is
// reply_for(the last user message), so a benchmark can check every answer it
// gets from sluice without asking the fake.
//
// It runs inside the benchmark's process on its own io thread(s), without a
// thread per connection, because the server under test and the load generator
// share two cores with it. Each answer is one write: the sluice client reads
// with read_some, so it still has to reassemble chunks and split events itself.
// An HTTP/1.0 request gets the stream unchunked, ended by closing the
// connection, as the real API does for such clients.
//
// A header, not a .cpp: bench/CMakeLists.txt makes every .cpp here a program.
#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

namespace bench {

class FakeOpenAiServer {
 public:
  // Decides, from a request's last user message, whether its "messages" array is
  // kept for sampled(): keeping every one would slow the fake and grow it.
  using SamplePredicate = std::function<bool(std::string_view last_user)>;

  explicit FakeOpenAiServer(int threads = 1, SamplePredicate sample = {})
      : shared_(std::make_shared<Shared>()),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(0)}) {
    shared_->sample = std::move(sample);
    accept();
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~FakeOpenAiServer() {
    io_.stop();
    for (auto& thread : threads_) thread.join();
  }
  FakeOpenAiServer(const FakeOpenAiServer&) = delete;
  FakeOpenAiServer& operator=(const FakeOpenAiServer&) = delete;

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // What OPENAI_BASE_URL must be for the server to reach this one.
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/v1"; }

  // Chat completions answered with a stream.
  uint64_t completions() const { return shared_->completions.load(); }
  // Requests answered with an error: another route, bad JSON, "stream" not
  // true, no user message.
  uint64_t rejected() const { return shared_->rejected.load(); }
  uint64_t connections() const { return shared_->connections.load(); }

  // The "messages" arrays of the requests the predicate picked, in arrival order.
  std::vector<nlohmann::json> sampled() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->sampled;
  }

  // The assistant text the fake streams for a last user message.
  static std::string reply_for(std::string_view last_user) {
    return "Re: " + std::string(last_user);
  }

 private:
  using tcp = boost::asio::ip::tcp;

  // Outlives the server object while connections still hold it.
  struct Shared {
    SamplePredicate sample;
    std::atomic<uint64_t> completions{0};
    std::atomic<uint64_t> rejected{0};
    std::atomic<uint64_t> connections{0};
    mutable std::mutex mutex;
    std::vector<nlohmann::json> sampled;
  };

  // The text of the last user message, or nullopt when the request has none.
  static std::optional<std::string> last_user_text(const nlohmann::json& messages) {
    if (!messages.is_array()) return std::nullopt;
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
      if (!it->is_object() || it->value("role", "") != "user") continue;
      const auto content = it->find("content");
      if (content == it->end() || !content->is_string()) return std::nullopt;
      return content->get<std::string>();
    }
    return std::nullopt;
  }

  // Where to cut a text into pieces without splitting a UTF-8 sequence.
  static size_t cut_at(std::string_view text, size_t at) {
    while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
    return std::min(at, text.size());
  }

  static void add_event(std::string& out, const std::string& data, bool chunked) {
    const std::string event = "data: " + data + "\n\n";
    if (chunked) {
      char size[24];
      std::snprintf(size, sizeof size, "%zx\r\n", event.size());
      out += size;
      out += event;
      out += "\r\n";
    } else {
      out += event;
    }
  }

  // The whole streamed answer for a chat completion request, head included.
  // The chunks are assembled as text around the one escaped value that
  // varies, rather than built as JSON documents, to keep the fake cheap.
  static std::string stream_answer(const std::string& model, const std::string& last_user,
                                   uint64_t number, bool chunked, bool keep_alive) {
    const std::string reply = reply_for(last_user);
    // "Re: ", then the user's text in two halves: three deltas, as a model's tokens come.
    const size_t first = std::min<size_t>(4, reply.size());
    const size_t second = cut_at(reply, first + (reply.size() - first) / 2);
    const std::string pieces[] = {reply.substr(0, first), reply.substr(first, second - first),
                                  reply.substr(second)};
    const std::string head = R"({"id":"chatcmpl-bench-)" + std::to_string(number) +
                             R"(","object":"chat.completion.chunk","created":)" +
                             std::to_string(std::time(nullptr)) + R"(,"model":)" +
                             nlohmann::json(model).dump() +
                             R"(,"system_fingerprint":"fp_bench","choices":)";
    const auto delta = [&](const std::string& delta_json, const char* finish) {
      return head + R"([{"index":0,"delta":)" + delta_json + R"(,"finish_reason":)" + finish +
             R"(}],"usage":null})";
    };
    const auto tokens = [](std::string_view text) {  // a stand-in for a token count
      return static_cast<int64_t>(text.size() / 4 + 1);
    };

    std::string out =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-cache\r\n";
    out += chunked ? "Transfer-Encoding: chunked\r\n" : "";
    out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    add_event(out, delta(R"({"role":"assistant","content":""})", "null"), chunked);
    for (const auto& piece : pieces) {
      if (piece.empty()) continue;
      add_event(out, delta(R"({"content":)" + nlohmann::json(piece).dump() + "}", "null"), chunked);
    }
    add_event(out, delta("{}", R"("stop")"), chunked);
    const int64_t prompt = tokens(last_user), completion = tokens(reply);
    add_event(out,
              head + R"([],"usage":{"prompt_tokens":)" + std::to_string(prompt) +
                  R"(,"completion_tokens":)" + std::to_string(completion) + R"(,"total_tokens":)" +
                  std::to_string(prompt + completion) + "}}",
              chunked);
    add_event(out, "[DONE]", chunked);
    if (chunked) out += "0\r\n\r\n";
    return out;
  }

  static std::string error_answer(int status, const std::string& reason, const std::string& message,
                                  bool keep_alive) {
    const std::string body =
        nlohmann::json{
            {"error", {{"message", message}, {"type", "invalid_request_error"}, {"code", nullptr}}}}
            .dump();
    return "HTTP/1.1 " + std::to_string(status) + " " + reason +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           (keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n") +
           body;
  }

  class Connection : public std::enable_shared_from_this<Connection> {
   public:
    Connection(tcp::socket socket, std::shared_ptr<Shared> shared)
        : socket_(std::move(socket)), shared_(std::move(shared)) {}

    void start() {
      boost::system::error_code ignored;
      socket_.set_option(tcp::no_delay(true), ignored);
      read();
    }

   private:
    void read() {
      parser_.emplace();
      parser_->body_limit(64 * 1024 * 1024);  // whole conversations come in every request
      boost::beast::http::async_read(
          socket_, buffer_, *parser_,
          [self = shared_from_this()](boost::system::error_code ec, size_t) {
            if (ec) return self->close();
            self->answer();
          });
    }

    void answer() {
      namespace http = boost::beast::http;
      const auto& request = parser_->get();
      const bool keep_alive = request.keep_alive();
      if (request.method() != http::verb::post || request.target() != "/v1/chat/completions") {
        ++shared_->rejected;
        return send(error_answer(404, "Not Found", "no such route", keep_alive), keep_alive);
      }
      const auto body = nlohmann::json::parse(request.body(), nullptr, false);
      std::optional<std::string> last_user;
      std::string problem;
      if (!body.is_object()) {
        problem = "the body is not a JSON object";
      } else if (body.value("stream", false) != true) {
        problem = "this fake only streams";
      } else if (last_user = last_user_text(body.value("messages", nlohmann::json())); !last_user) {
        problem = "no user message with text content";
      }
      if (!problem.empty()) {
        ++shared_->rejected;
        return send(error_answer(400, "Bad Request", problem, keep_alive), keep_alive);
      }
      if (shared_->sample && shared_->sample(*last_user)) {
        std::lock_guard lock(shared_->mutex);
        shared_->sampled.push_back(body.at("messages"));
      }
      const uint64_t number = ++shared_->completions;
      // HTTP/1.0 has no chunked encoding: the end of the stream is the close.
      const bool chunked = request.version() >= 11;
      send(stream_answer(body.value("model", ""), *last_user, number, chunked,
                         keep_alive && chunked),
           keep_alive && chunked);
    }

    void send(std::string bytes, bool keep_alive) {
      out_ = std::move(bytes);
      boost::asio::async_write(
          socket_, boost::asio::buffer(out_),
          [self = shared_from_this(), keep_alive](boost::system::error_code ec, size_t) {
            if (ec || !keep_alive) return self->close();
            self->read();
          });
    }

    void close() {
      boost::system::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
    }

    tcp::socket socket_;
    std::shared_ptr<Shared> shared_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::string out_;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == boost::asio::error::operation_aborted) return;
      if (!ec) {
        ++shared_->connections;
        std::make_shared<Connection>(std::move(socket), shared_)->start();
      }
      accept();
    });
  }

  std::shared_ptr<Shared> shared_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
};

}  // namespace bench
