// http_load: a closed-loop HTTP/1.1 load generator. Each of --connections
// keep-alive connections runs one request at a time, all on one io thread (the
// machine has two cores and the server under test needs one). Prints
// requests/s, status counts and latency percentiles; --json prints the same as
// one JSON object, for benchmark programs that run this one as a child.
//
//   http_load --port 3000 --method POST --connections 32 --sessions 1000
//             --path-template '/agents/echo/s{session}/dispatch'
//             --body-template '{"input":"m{n}"}' --duration-s 10
//
// In templates {n} is the request's number (from 0) and {session} is n modulo
// --sessions, so consecutive requests spread over the sessions.
#include <utility>  // before Asio: GCC 12 + C++20 needs std::exchange declared

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string method = "GET";
  std::string path_template = "/healthz";
  std::string body_template;
  std::vector<std::pair<std::string, std::string>> headers;
  uint64_t sessions = 1;
  int connections = 1;
  uint64_t requests = 0;  // 0: no count limit
  double duration_s = 0;  // 0: no time limit
  double timeout_s = 30;  // per request
  bool json = false;
};

const char* const kUsage =
    "usage: http_load --port P [--host H] [--method GET|POST|...] [--path P]\n"
    "                 [--path-template T] [--body-template T] [--header 'Name: value']...\n"
    "                 [--sessions N] [--connections C] [--requests N] [--duration-s S]\n"
    "                 [--timeout-s S] [--json]\n"
    "Templates: {n} = request number, {session} = n % sessions. Without --requests\n"
    "and --duration-s it sends 1000 requests.\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "http_load: " << message << "\n" << kUsage;
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg != "--json" && arg != "--help") {
      if (i + 1 >= argc) usage_error("missing value for " + arg);
      value = argv[++i];
    }
    try {
      if (arg == "--help") {
        std::cout << kUsage;
        std::exit(0);
      } else if (arg == "--json") {
        options.json = true;
      } else if (arg == "--host") {
        options.host = value;
      } else if (arg == "--port") {
        options.port = static_cast<uint16_t>(std::stoul(value));
      } else if (arg == "--method") {
        options.method = value;
      } else if (arg == "--path" || arg == "--path-template") {
        options.path_template = value;
      } else if (arg == "--body-template") {
        options.body_template = value;
      } else if (arg == "--header") {
        auto colon = value.find(':');
        if (colon == std::string::npos) usage_error("--header needs 'Name: value'");
        auto start = value.find_first_not_of(' ', colon + 1);
        options.headers.emplace_back(value.substr(0, colon),
                                     start == std::string::npos ? "" : value.substr(start));
      } else if (arg == "--sessions") {
        options.sessions = std::max<uint64_t>(1, std::stoull(value));
      } else if (arg == "--connections") {
        options.connections = std::max(1, std::stoi(value));
      } else if (arg == "--requests") {
        options.requests = std::stoull(value);
      } else if (arg == "--duration-s") {
        options.duration_s = std::stod(value);
      } else if (arg == "--timeout-s") {
        options.timeout_s = std::stod(value);
      } else {
        usage_error("unknown option " + arg);
      }
    } catch (const std::logic_error&) {
      usage_error("bad value for " + arg + ": " + value);
    }
  }
  if (options.port == 0) usage_error("--port is required");
  if (options.requests == 0 && options.duration_s <= 0) options.requests = 1000;
  return options;
}

std::string expand(const std::string& text, uint64_t n, uint64_t session) {
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "{n}") == 0) {
      out += std::to_string(n);
      i += 3;
    } else if (text.compare(i, 9, "{session}") == 0) {
      out += std::to_string(session);
      i += 9;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// What every connection shares; one io thread, so no locking.
struct Run {
  Options options;
  asio::io_context io{1};
  tcp::resolver::results_type endpoints;
  Clock::time_point started;
  std::optional<Clock::time_point> deadline;
  uint64_t issued = 0;
  std::vector<double> latencies_ms;
  std::map<int, uint64_t> statuses;
  uint64_t errors = 0;

  // The number of the next request, or nullopt when the run is over.
  std::optional<uint64_t> take_request() {
    if (options.requests > 0 && issued >= options.requests) return std::nullopt;
    if (deadline && Clock::now() >= *deadline) return std::nullopt;
    return issued++;
  }
};

// One keep-alive connection running one request at a time.
class Worker : public std::enable_shared_from_this<Worker> {
 public:
  explicit Worker(Run& run) : run_(run), socket_(run.io), timer_(run.io) {}

  void start() { send_next(); }

 private:
  void send_next() {
    auto n = run_.take_request();
    if (!n) return close();
    number_ = *n;
    if (!socket_.is_open()) return connect();
    send();
  }

  void connect() {
    buffer_.clear();
    asio::async_connect(socket_, run_.endpoints,
                        [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
                          if (ec) return self->failed("connect", ec);
                          self->socket_.set_option(tcp::no_delay(true), ec);
                          self->send();
                        });
  }

  void send() {
    const Options& options = run_.options;
    uint64_t session = number_ % options.sessions;
    request_ = {};
    request_.method_string(options.method);
    request_.target(expand(options.path_template, number_, session));
    request_.version(11);
    request_.set(http::field::host, options.host);
    for (const auto& [name, value] : options.headers) request_.insert(name, value);
    if (!options.body_template.empty()) {
      if (request_[http::field::content_type].empty()) {
        request_.set(http::field::content_type, "application/json");
      }
      request_.body() = expand(options.body_template, number_, session);
    }
    request_.prepare_payload();
    sent_at_ = Clock::now();
    timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options.timeout_s)));
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->socket_.close(ec);  // the pending write or read fails
    });
    http::async_write(socket_, request_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->failed("write", ec);
      self->read_answer();
    });
  }

  void read_answer() {
    parser_.emplace();
    parser_->body_limit(boost::none);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->failed("read", ec);
                       self->answered();
                     });
  }

  void answered() {
    timer_.cancel();
    std::chrono::duration<double, std::milli> latency = Clock::now() - sent_at_;
    run_.latencies_ms.push_back(latency.count());
    ++run_.statuses[static_cast<int>(parser_->get().result_int())];
    if (!parser_->get().keep_alive()) close();
    send_next();
  }

  void failed(const char* what, error_code ec) {
    timer_.cancel();
    ++run_.errors;
    if (run_.errors <= 5) std::cerr << "http_load: " << what << ": " << ec.message() << "\n";
    close();
    // Back off a little so a server that is down is not hammered in a loop.
    timer_.expires_after(std::chrono::milliseconds(50));
    timer_.async_wait([self = shared_from_this()](error_code wait_ec) {
      if (!wait_ec) self->send_next();
    });
  }

  void close() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Run& run_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  uint64_t number_ = 0;  // of the request in progress
  Clock::time_point sent_at_;
};

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

void report(const Run& run, double seconds) {
  std::vector<double> sorted = run.latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  double completed = static_cast<double>(sorted.size());
  double rps = seconds > 0 ? completed / seconds : 0;
  double p50 = percentile(sorted, 50), p90 = percentile(sorted, 90);
  double p99 = percentile(sorted, 99), max = sorted.empty() ? 0 : sorted.back();
  if (run.options.json) {
    std::printf("{\"requests\":%zu,\"errors\":%llu,\"seconds\":%.3f,\"rps\":%.1f,\"status\":{",
                sorted.size(), static_cast<unsigned long long>(run.errors), seconds, rps);
    bool first = true;
    for (const auto& [status, count] : run.statuses) {
      std::printf("%s\"%d\":%llu", first ? "" : ",", status,
                  static_cast<unsigned long long>(count));
      first = false;
    }
    std::printf("},\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n", p50,
                p90, p99, max);
    return;
  }
  std::printf("requests:   %zu in %.2f s = %.1f req/s (%d connections)\n", sorted.size(), seconds,
              rps, run.options.connections);
  std::printf("status:    ");
  for (const auto& [status, count] : run.statuses) {
    std::printf(" %d=%llu", status, static_cast<unsigned long long>(count));
  }
  std::printf("\nerrors:     %llu\n", static_cast<unsigned long long>(run.errors));
  std::printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", p50, p90, p99, max);
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  run.options = parse_options(argc, argv);
  error_code ec;
  tcp::resolver resolver(run.io);
  run.endpoints = resolver.resolve(run.options.host, std::to_string(run.options.port), ec);
  if (ec) {
    std::cerr << "http_load: cannot resolve " << run.options.host << ": " << ec.message() << "\n";
    return 1;
  }
  if (run.options.requests > 0) run.latencies_ms.reserve(run.options.requests);
  run.started = Clock::now();
  if (run.options.duration_s > 0) {
    run.deadline = run.started + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(run.options.duration_s));
  }
  for (int i = 0; i < run.options.connections; ++i) std::make_shared<Worker>(run)->start();
  run.io.run();
  std::chrono::duration<double> elapsed = Clock::now() - run.started;
  report(run, elapsed.count());
  return run.latencies_ms.empty() ? 1 : 0;
}
