#pragma once
// A server of the remote sandbox protocol (docs/remote-sandbox.md), written
// from the document and backed by a real Sandbox (a LocalSandbox in the
// tests), so the connector is proven end to end over a real loopback socket.
// One thread, one connection at a time: enough for sequential tests.
#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "sandbox/base64.hpp"
#include "sandbox/sandbox.hpp"

namespace sluice::sandbox::test {
namespace http = boost::beast::http;

class FakeSandboxServer {
 public:
  // token empty: no authentication. prefix: "" or "/something".
  explicit FakeSandboxServer(std::shared_ptr<Sandbox> backend, std::string token = {},
                             std::string prefix = {})
      : backend_(std::move(backend)),
        token_(std::move(token)),
        prefix_(std::move(prefix)),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeSandboxServer() {
    stopping_ = true;
    // Wakes the blocking accept with a connection of our own.
    boost::system::error_code ignored;
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket waker(io);
    waker.connect({boost::asio::ip::make_address("127.0.0.1"), port()}, ignored);
    thread_.join();
  }

  FakeSandboxServer(const FakeSandboxServer&) = delete;
  FakeSandboxServer& operator=(const FakeSandboxServer&) = delete;

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()) + prefix_; }
  // The Authorization header of each request so far, in order ("" when absent).
  std::vector<std::string> authorizations() const {
    std::lock_guard lock(mutex_);
    return authorizations_;
  }

 private:
  using json = nlohmann::json;

  void serve() {
    while (!stopping_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) continue;
      boost::beast::flat_buffer buffer;
      for (;;) {  // requests on this connection until the client closes it
        http::request<http::string_body> request;
        http::read(socket, buffer, request, ec);
        if (ec) break;
        auto response = answer(request);
        http::write(socket, response, ec);
        if (ec || !request.keep_alive()) break;
      }
      socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
  }

  http::response<http::string_body> answer(const http::request<http::string_body>& request) {
    std::string authorization(request[http::field::authorization]);
    {
      std::lock_guard lock(mutex_);
      authorizations_.push_back(authorization);
    }
    auto [status, body] = [&]() -> std::pair<int, json> {
      if (!token_.empty() && authorization != "Bearer " + token_) {
        return error(401, "unauthorized", "missing or wrong bearer token");
      }
      std::string target(request.target());
      std::string start = prefix_ + "/v1/";
      if (request.method() != http::verb::post || !target.starts_with(start)) {
        return error(400, "invalid_argument", "expected POST " + start + "{operation}");
      }
      json parsed = json::parse(request.body(), nullptr, false);
      if (!parsed.is_object()) return error(400, "invalid_argument", "the body must be an object");
      return run(target.substr(start.size()), parsed);
    }();
    http::response<http::string_body> response{static_cast<http::status>(status),
                                               request.version()};
    response.set(http::field::content_type, "application/json");
    response.keep_alive(request.keep_alive());
    response.body() = body.dump();
    response.prepare_payload();
    return response;
  }

  static std::pair<int, json> error(int status, const std::string& type,
                                    const std::string& message) {
    return {status, {{"error", {{"type", type}, {"message", message}}}}};
  }

  static int status_of(ErrorKind kind) {
    static const std::map<ErrorKind, int> statuses{
        {ErrorKind::kInvalidArgument, 400}, {ErrorKind::kPermissionDenied, 403},
        {ErrorKind::kNotFound, 404},        {ErrorKind::kAlreadyExists, 409},
        {ErrorKind::kNotADirectory, 409},   {ErrorKind::kIsADirectory, 409},
        {ErrorKind::kNotEmpty, 409},        {ErrorKind::kTooLarge, 413},
        {ErrorKind::kUnavailable, 503}};
    auto it = statuses.find(kind);
    return it == statuses.end() ? 500 : it->second;
  }

  std::pair<int, json> run(const std::string& operation, const json& body) {
    try {
      Sandbox& sandbox = *backend_;
      if (operation == "read") return {200, {{"text", sandbox.read(body.at("path"))}}};
      if (operation == "read_bytes") {
        return {200, {{"base64", base64_encode(sandbox.read_bytes(body.at("path")))}}};
      }
      if (operation == "write") {
        auto bytes = base64_decode(body.at("base64").get<std::string>());
        if (!bytes) return error(400, "invalid_argument", "base64 is not valid base64");
        sandbox.write(body.at("path"), *bytes);
        return {200, json::object()};
      }
      if (operation == "stat") {
        FileStat stat = sandbox.stat(body.at("path"));
        auto mtime_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(stat.mtime.time_since_epoch())
                .count();
        return {200, {{"size", stat.size}, {"is_dir", stat.is_dir}, {"mtime_ms", mtime_ms}}};
      }
      if (operation == "readdir") {
        json entries = json::array();
        for (const DirEntry& entry : sandbox.readdir(body.at("path"))) {
          entries.push_back({{"name", entry.name}, {"is_dir", entry.is_dir}});
        }
        return {200, {{"entries", entries}}};
      }
      if (operation == "exists") return {200, {{"exists", sandbox.exists(body.at("path"))}}};
      if (operation == "mkdir") {
        sandbox.mkdir(body.at("path"));
        return {200, json::object()};
      }
      if (operation == "rm") {
        sandbox.rm(body.at("path"), body.at("recursive").get<bool>());
        return {200, json::object()};
      }
      if (operation == "exec") {
        ExecRequest request;
        request.command = body.at("command");
        request.cwd = body.value("cwd", "");
        request.env = body.value("env", json::object()).get<std::map<std::string, std::string>>();
        request.timeout = std::chrono::milliseconds(body.at("timeout_ms").get<int64_t>());
        ExecResult result = sandbox.exec(request);
        return {200,
                {{"exit_code", result.exit_code},
                 {"stdout", result.stdout_text},
                 {"stderr", result.stderr_text},
                 {"timed_out", result.timed_out},
                 {"truncated", result.truncated}}};
      }
      return error(400, "invalid_argument", "unknown operation " + operation);
    } catch (const SandboxError& failure) {
      return error(status_of(failure.kind()), std::string(error_kind_name(failure.kind())),
                   failure.what());
    } catch (const json::exception& failure) {
      return error(400, "invalid_argument", failure.what());
    }
  }

  std::shared_ptr<Sandbox> backend_;
  std::string token_;
  std::string prefix_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> authorizations_;
  std::thread thread_;
};

}  // namespace sluice::sandbox::test
