// An agent on a real provider protocol, end to end: the sluice server's agent
// `bench` uses model = "openai/bench-model", and OPENAI_BASE_URL points at a
// fake OpenAI-compatible server in this process (fake_openai_server.hpp) that
// streams its reply at once. So every message crosses the whole path: HTTP
// admission, the durable commits, the session actor, the model turn as a
// streamed chat completion over loopback with the conversation's whole history,
// the settlement and the sync answer.
//
// Throughput: --clients keep-alive connections (one io thread here) carry
// --conversations conversations of --messages sync prompts each
// (POST /agents/bench/conv-ID {"message":"..."}). A conversation's messages go
// one after the other (the next is sent once the previous one's reply came
// back); a free client takes the conversation that has waited longest, so all
// clients stay busy until the last round of messages. Per message: the latency
// from sending it to having read the whole reply; per round: messages/s and
// the server's CPU time per message (on-CPU time of all its threads from
// /proc/PID/task/*/schedstat, in ns; utime+stime from /proc/PID/stat in 10 ms
// ticks as a cross-check). Each round uses new conversations (so it includes
// creating their session actors), after a warm-up that is not counted. Checks:
// every reply is what the fake streams for that message, the fake answered
// exactly one completion per message, and the final request of sampled
// conversations carried the whole history (system + 2 x messages - 1 items).
// Then --latency-conversations conversations from a single client: with 32
// clients in a closed loop, latency is mostly queueing (32 / throughput), so
// this is what one message costs on its own.
//
// Memory: a fresh server per figure gets --memory-conversations conversations
// of one message each; "live" keeps every session actor
// (SLUICE_SESSION_IDLE_MS=86400000), "passivated" waits until
// sluice_live_sessions is 0 (SLUICE_SESSION_IDLE_MS=--idle-ms) and --settle-ms
// more; both report (VmRSS - VmRSS after start-up) / conversations.
//
//   agent_bench [--conversations=100] [--messages=10] [--clients=32] [--db=both|memory|file]
//               [--rounds=3] [--warmup-conversations=32] [--latency-conversations=20]
//               [--memory-conversations=10000]
//               [--skip-memory] [--idle-ms=200] [--settle-ms=1000] [--fake-threads=1]
#include <sys/resource.h>

#include <deque>
#include <set>

#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/parser.hpp>

#include "bench/bench_support.hpp"
#include "bench/fake_openai_server.hpp"

using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr const char* kInstructions = "Answer with the user's words.";

const char* const kUsage =
    "usage: agent_bench [--conversations=100] [--messages=10] [--clients=32]\n"
    "                   [--db=both|memory|file] [--rounds=3] [--warmup-conversations=32]\n"
    "                   [--latency-conversations=20]\n"
    "                   [--memory-conversations=10000] [--skip-memory] [--idle-ms=200]\n"
    "                   [--settle-ms=1000] [--fake-threads=1]\n";

// What a message of a conversation says; unique, so the fake's reply and the
// sampled histories can be matched to it. About the length of a short prompt.
std::string message_text(const std::string& prefix, int64_t conversation, int64_t message) {
  return prefix + "c" + std::to_string(conversation) + "m" + std::to_string(message) +
         " please summarise the quarterly report for the northern region";
}

std::string conversation_path(const std::string& prefix, int64_t conversation) {
  return "/agents/bench/conv-" + prefix + std::to_string(conversation);
}

// On-CPU time of a process: the sum over its threads of schedstat's first
// field (ns, exact), and utime+stime from stat (ticks: coarse, but counts
// threads that already exited).
struct CpuTime {
  double sched_s = 0;
  double ticks_s = 0;
  std::map<int64_t, std::pair<std::string, double>> threads;  // by thread id: name, seconds
};

// Where the server's CPU went between two samples: "name us/message" per
// thread, costliest first (threads the server names share their name).
std::string thread_breakdown(const CpuTime& before, const CpuTime& after, double messages) {
  std::vector<std::pair<double, std::string>> used;
  for (const auto& [tid, thread] : after.threads) {
    const auto earlier = before.threads.find(tid);
    const double start = earlier == before.threads.end() ? 0 : earlier->second.second;
    used.emplace_back((thread.second - start) * 1e6 / messages, thread.first);
  }
  std::sort(used.rbegin(), used.rend());
  std::string text;
  char item[96];
  for (const auto& [us, name] : used) {
    if (us < 0.5) break;
    std::snprintf(item, sizeof item, "%s%s %.1f", text.empty() ? "" : ", ", name.c_str(), us);
    text += item;
  }
  return text;
}

CpuTime cpu_of(pid_t pid) {
  CpuTime cpu;
  const fs::path proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  for (const auto& task : fs::directory_iterator(proc / "task", ec)) {
    std::ifstream in(task.path() / "schedstat");
    uint64_t ns = 0;
    if (!(in >> ns)) continue;
    cpu.sched_s += static_cast<double>(ns) / 1e9;
    std::string name = bench::read_text(task.path() / "comm");
    if (name.ends_with('\n')) name.pop_back();
    cpu.threads[std::stoll(task.path().filename().string())] = {name,
                                                                static_cast<double>(ns) / 1e9};
  }
  const std::string stat = bench::read_text(proc / "stat");
  // Fields after the command name, which may hold spaces: state is field 3,
  // utime and stime are fields 14 and 15.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int number = 3; number <= 15 && rest >> field; ++number) {
    if (number == 14) utime = std::stoull(field);
    if (number == 15) stime = std::stoull(field);
  }
  cpu.ticks_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return cpu;
}

double self_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The sluice server serving a temporary project whose only agent, `bench`, talks
// to the fake. Like bench::Server (same environment rules, same
// SLUICE_BENCH_SERVER_WRAPPER), with another agent, and the CPU time of the
// server itself even when a wrapper runs it as a child.
class AgentServer {
 public:
  AgentServer(bool file_db, const std::string& model_url,
              const std::map<std::string, std::string>& extra_env)
      : port_(bench::free_port()) {
    fs::create_directories(dir_.path() / "agents");
    std::ofstream(dir_.path() / "agents" / "bench.toml")
        << "model = \"openai/bench-model\"\ninstructions = \"" << kInstructions
        << "\"\nexpose = [\"http\"]\n";
    auto env = bench::inherited_environment();
    env.erase("DATABASE_URL");
    env.erase("HTTPS_PROXY");  // the fake is plain HTTP on loopback: no proxy on the way
    env.erase("https_proxy");
    env.try_emplace("SLUICE_LOG_LEVEL", "warn");
    env["PORT"] = std::to_string(port_);
    env["HOST"] = "127.0.0.1";
    env["OPENAI_BASE_URL"] = model_url;
    env["OPENAI_API_KEY"] = "bench";
    if (file_db) env["DATABASE_URL"] = "sqlite://" + (dir_.path() / "bench.db").string();
    for (const auto& [name, value] : extra_env) env[name] = value;

    std::vector<std::string> argv;
    if (const char* wrapper = std::getenv("SLUICE_BENCH_SERVER_WRAPPER")) {
      std::istringstream words(wrapper);
      for (std::string word; words >> word;) argv.push_back(word);
    }
    argv.insert(argv.end(), {SLUICE_BINARY, "serve", "--project", dir_.path().string()});
    process_.emplace(argv, env, dir_.path() / "server.out", dir_.path() / "server.log");
    const bool up = bench::wait_until(
        [this] {
          return !process_->running() ||
                 bench::http_request(port_, "GET", "/healthz").status == 200;
        },
        120s, 20ms);
    if (!up || !process_->running()) fail("did not come up");
    // Under a wrapper that forks (perf record) the server is its descendant:
    // CPU, memory and SIGTERM are about the server, not the wrapper.
    server_pid_ = process_->pid();
    for (;;) {
      std::istringstream children(bench::read_text("/proc/" + std::to_string(server_pid_) +
                                                   "/task/" + std::to_string(server_pid_) +
                                                   "/children"));
      pid_t child = 0;
      if (!(children >> child)) break;
      server_pid_ = child;
    }
  }
  ~AgentServer() {  // without stop(): SIGTERM, and ~Process kills it if it lingers
    if (process_->running()) ::kill(server_pid_, SIGTERM);
    process_->wait(60s);
  }
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  uint16_t port() const { return port_; }
  CpuTime cpu() const { return cpu_of(server_pid_); }

  double metric(const std::string& series) const {
    const bench::HttpAnswer answer = bench::http_request(port_, "GET", "/metrics");
    if (answer.status != 200) fail("did not answer /metrics");
    return bench::metric_value(answer.body, series);
  }

  int64_t status_kb(const std::string& field) const {
    std::ifstream status("/proc/" + std::to_string(server_pid_) + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with(field + ":")) return std::stoll(line.substr(field.size() + 1));
    }
    fail("has no " + field);
  }

  void stop() {
    if (process_->running()) ::kill(server_pid_, SIGTERM);
    if (process_->wait(60s) != 0) fail("did not exit cleanly after SIGTERM");
  }

  [[noreturn]] void fail(const std::string& what) const {
    std::cerr << "sluice server " << what << "; its log:\n"
              << bench::read_text(dir_.path() / "server.log") << "\n";
    throw std::runtime_error("sluice server " + what);
  }

 private:
  bench::TempDir dir_;
  uint16_t port_;
  std::optional<bench::Process> process_;
  pid_t server_pid_ = -1;
};

// What one load run saw.
struct LoadResult {
  int64_t answered = 0;  // 200 with the expected reply
  int64_t failures = 0;  // transport errors, other statuses, wrong replies
  std::vector<std::string> first_failures;
  double seconds = 0;
  std::vector<double> latencies_ms;  // of the answered messages, sorted

  double percentile(double p) const {
    if (latencies_ms.empty()) return 0;
    const auto rank = static_cast<size_t>(p / 100.0 * static_cast<double>(latencies_ms.size()));
    return latencies_ms[std::min(rank, latencies_ms.size() - 1)];
  }
};

// The closed-loop client: --clients connections on one io thread, each with at
// most one message in flight, each conversation with at most one message in
// flight.
class ConversationLoad {
 public:
  ConversationLoad(uint16_t port, std::string prefix, int64_t conversations, int64_t messages,
                   int64_t clients)
      : endpoint_(asio::ip::make_address("127.0.0.1"), port),
        prefix_(std::move(prefix)),
        messages_(messages),
        clients_(clients),
        next_message_(static_cast<size_t>(conversations), 0) {
    for (int64_t c = 0; c < conversations; ++c) ready_.push_back(c);
  }

  LoadResult run() {
    result_.latencies_ms.reserve(next_message_.size() * static_cast<size_t>(messages_));
    const auto start = bench::Clock::now();
    for (int64_t i = 0; i < clients_; ++i) std::make_shared<Client>(*this)->next();
    io_.run();
    result_.seconds = bench::seconds_since(start);
    std::sort(result_.latencies_ms.begin(), result_.latencies_ms.end());
    return std::move(result_);
  }

 private:
  class Client : public std::enable_shared_from_this<Client> {
   public:
    explicit Client(ConversationLoad& load) : load_(load), socket_(load.io_), timer_(load.io_) {}

    // Sends the next message of the conversation that waited longest, or
    // closes the connection when none is left.
    void next() {
      if (load_.ready_.empty()) return close();
      conversation_ = load_.ready_.front();
      load_.ready_.pop_front();
      message_ = load_.next_message_[static_cast<size_t>(conversation_)]++;
      text_ = message_text(load_.prefix_, conversation_, message_);
      if (socket_.is_open()) return send();
      buffer_.clear();
      socket_.async_connect(load_.endpoint_, [self = shared_from_this()](error_code ec) {
        if (ec) return self->failed("connect: " + ec.message());
        self->socket_.set_option(tcp::no_delay(true), ec);
        self->send();
      });
    }

   private:
    void send() {
      request_ = {http::verb::post, conversation_path(load_.prefix_, conversation_), 11};
      request_.set(http::field::host, "127.0.0.1");
      request_.set(http::field::content_type, "application/json");
      request_.body() = nlohmann::json{{"message", text_}}.dump();
      request_.prepare_payload();
      sent_at_ = bench::Clock::now();
      timer_.expires_after(60s);
      timer_.async_wait([self = shared_from_this()](error_code ec) {
        if (!ec) self->socket_.close(ec);  // the pending write or read fails
      });
      http::async_write(socket_, request_, [self = shared_from_this()](error_code ec, size_t) {
        if (ec) return self->failed("write: " + ec.message());
        self->parser_.emplace();
        http::async_read(self->socket_, self->buffer_, *self->parser_,
                         [self](error_code read_ec, size_t) {
                           if (read_ec) return self->failed("read: " + read_ec.message());
                           self->answered();
                         });
      });
    }

    void answered() {
      timer_.cancel();
      const double ms =
          std::chrono::duration<double, std::milli>(bench::Clock::now() - sent_at_).count();
      const auto& response = parser_->get();
      const auto body = nlohmann::json::parse(response.body(), nullptr, false);
      const std::string expected = bench::FakeOpenAiServer::reply_for(text_);
      if (response.result_int() != 200) {
        record_failure("status " + std::to_string(response.result_int()) + ": " + response.body());
      } else if (!body.is_object() || body.value("result", nlohmann::json()) != expected) {
        record_failure("expected {\"result\":\"" + expected + "\"}, got " + response.body());
      } else {
        ++load_.result_.answered;
        load_.result_.latencies_ms.push_back(ms);
      }
      if (!response.keep_alive()) close();
      done_with_message();
    }

    void failed(const std::string& what) {
      timer_.cancel();
      record_failure(what);
      close();
      done_with_message();
    }

    void record_failure(const std::string& what) {
      auto& result = load_.result_;
      if (++result.failures <= 5) {
        result.first_failures.push_back(conversation_path(load_.prefix_, conversation_) +
                                        " message " + std::to_string(message_) + ": " + what);
      }
    }

    void done_with_message() {
      if (load_.next_message_[static_cast<size_t>(conversation_)] < load_.messages_) {
        load_.ready_.push_back(conversation_);
      }
      next();
    }

    void close() {
      error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
    }

    ConversationLoad& load_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    boost::beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    std::optional<http::response_parser<http::string_body>> parser_;
    int64_t conversation_ = 0;
    int64_t message_ = 0;
    std::string text_;
    bench::Clock::time_point sent_at_;
  };

  asio::io_context io_{1};
  tcp::endpoint endpoint_;
  std::string prefix_;
  int64_t messages_;
  int64_t clients_;
  std::vector<int64_t> next_message_;  // per conversation
  std::deque<int64_t> ready_;          // conversations with no message in flight, oldest first
  LoadResult result_;
};

struct Settings {
  int64_t conversations = 100;
  int64_t messages = 10;
  int64_t clients = 32;
  int64_t rounds = 3;
  int64_t warmup_conversations = 32;
  int64_t latency_conversations = 20;
  int64_t memory_conversations = 10000;
  int64_t idle_ms = 200;
  int64_t settle_ms = 1000;
};

std::string round_prefix(const std::string& db, int64_t round) {
  return db + std::to_string(round) + "-";
}

// The conversations whose final request the fake keeps: the first, a middle
// and the last of every round.
std::set<std::string> sampled_texts(const Settings& settings, const std::vector<std::string>& dbs) {
  std::set<std::string> texts;
  const int64_t last = settings.conversations - 1;
  for (const auto& db : dbs) {
    for (int64_t round = 1; round <= settings.rounds; ++round) {
      for (int64_t c : {int64_t{0}, last / 2, last}) {
        texts.insert(message_text(round_prefix(db, round), c, settings.messages - 1));
      }
    }
  }
  return texts;
}

bool report_failures(const char* label, const LoadResult& result) {
  if (result.failures == 0) return true;
  std::printf("  FAILED %s: %lld messages failed, e.g.\n", label,
              static_cast<long long>(result.failures));
  for (const auto& failure : result.first_failures) std::printf("    %s\n", failure.c_str());
  return false;
}

// Checks that the final request of each sampled conversation carried the whole
// history: the instructions, then every user message with the fake's reply.
bool check_histories(const Settings& settings, const std::string& db,
                     const bench::FakeOpenAiServer& fake) {
  const size_t expected_size = 1 + 2 * static_cast<size_t>(settings.messages) - 1;
  const std::vector<nlohmann::json> sampled = fake.sampled();
  int checked = 0;
  bool ok = true;
  const int64_t last = settings.conversations - 1;
  for (int64_t round = 1; round <= settings.rounds; ++round) {
    for (int64_t c : {int64_t{0}, last / 2, last}) {
      const std::string prefix = round_prefix(db, round);
      const std::string final_text = message_text(prefix, c, settings.messages - 1);
      const auto found = std::find_if(sampled.begin(), sampled.end(), [&](const auto& messages) {
        return !messages.empty() && messages.back().value("content", "") == final_text;
      });
      std::string problem;
      if (found == sampled.end()) {
        problem = "the fake never saw its final message";
      } else if (found->size() != expected_size) {
        problem = "carried " + std::to_string(found->size()) + " messages, expected " +
                  std::to_string(expected_size);
      } else {
        const auto& messages = *found;
        const auto is = [](const nlohmann::json& item, const char* role, const std::string& text) {
          return item.value("role", "") == role && item.value("content", "") == text;
        };
        if (!is(messages[0], "system", kInstructions)) problem = "no system message first";
        for (int64_t m = 0; problem.empty() && m < settings.messages; ++m) {
          const std::string text = message_text(prefix, c, m);
          const auto at = static_cast<size_t>(1 + 2 * m);
          if (!is(messages[at], "user", text) ||
              (at + 1 < messages.size() &&
               !is(messages[at + 1], "assistant", bench::FakeOpenAiServer::reply_for(text)))) {
            problem = "item " + std::to_string(at) + " or " + std::to_string(at + 1) +
                      " is not message " + std::to_string(m) + " and its reply";
          }
        }
      }
      if (!problem.empty()) {
        std::printf("  FAILED history of %s: %s\n", conversation_path(prefix, c).c_str(),
                    problem.c_str());
        ok = false;
      }
      ++checked;
    }
  }
  if (ok) {
    std::printf("  history: the final request of %d sampled conversations carried all %zu items\n",
                checked, expected_size);
  }
  return ok;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// Rounds of conversations on one server; false when a check failed.
bool throughput(const Settings& settings, const std::string& db, bench::FakeOpenAiServer& fake) {
  const bool file_db = db == "file";
  std::printf("\n%s SQLite: %lld conversations x %lld messages, %lld clients, %lld rounds\n",
              file_db ? "file" : "in-memory", static_cast<long long>(settings.conversations),
              static_cast<long long>(settings.messages), static_cast<long long>(settings.clients),
              static_cast<long long>(settings.rounds));
  if (file_db) bench::print_fdatasync();
  AgentServer server(file_db, fake.base_url(), {});
  bool ok = true;

  const uint64_t warmup_from = fake.completions();
  ok &= report_failures(
      "warm-up", ConversationLoad(server.port(), db + "warmup-", settings.warmup_conversations, 2,
                                  settings.clients)
                     .run());

  std::vector<double> rates, p50s, p99s, cpus;
  for (int64_t round = 1; round <= settings.rounds; ++round) {
    const uint64_t fake_before = fake.completions();
    const CpuTime cpu_before = server.cpu();
    const double self_before = self_cpu_s();
    const LoadResult result =
        ConversationLoad(server.port(), round_prefix(db, round), settings.conversations,
                         settings.messages, settings.clients)
            .run();
    const CpuTime cpu_after = server.cpu();
    const double self_used = self_cpu_s() - self_before;
    const uint64_t fake_seen = fake.completions() - fake_before;

    const auto messages = static_cast<double>(result.answered);
    const double rate = messages / result.seconds;
    const double cpu_us = (cpu_after.sched_s - cpu_before.sched_s) * 1e6 / messages;
    const double ticks_us = (cpu_after.ticks_s - cpu_before.ticks_s) * 1e6 / messages;
    std::printf(
        "  round %lld: %6.0f messages/s  %lld in %.3f s   latency ms p50 %.3f  p90 %.3f  p99 %.3f  "
        "max %.3f\n",
        static_cast<long long>(round), rate, static_cast<long long>(result.answered),
        result.seconds, result.percentile(50), result.percentile(90), result.percentile(99),
        result.latencies_ms.empty() ? 0.0 : result.latencies_ms.back());
    std::printf(
        "           server CPU %.1f us/message (utime+stime %.0f us; %.2f cores busy)  "
        "bench process (client + fake) %.1f us/message\n",
        cpu_us, ticks_us, (cpu_after.sched_s - cpu_before.sched_s) / result.seconds,
        self_used * 1e6 / messages);
    std::printf("           server CPU by thread, us/message: %s\n",
                thread_breakdown(cpu_before, cpu_after, messages).c_str());
    ok &= report_failures("round", result);
    const auto expected = static_cast<uint64_t>(settings.conversations * settings.messages);
    if (fake_seen != expected) {
      std::printf("  FAILED: the fake answered %llu completions, expected %llu\n",
                  static_cast<unsigned long long>(fake_seen),
                  static_cast<unsigned long long>(expected));
      ok = false;
    }
    rates.push_back(rate);
    p50s.push_back(result.percentile(50));
    p99s.push_back(result.percentile(99));
    cpus.push_back(cpu_us);
  }
  // The aims ask for p50 < 2 ms with 32 clients, which a closed loop only
  // allows above 32 / 2 ms = 16,000 messages/s; one client shows what a
  // message costs when it never waits behind others.
  if (settings.latency_conversations > 0) {
    const uint64_t fake_before = fake.completions();
    const CpuTime cpu_before = server.cpu();
    const LoadResult result = ConversationLoad(server.port(), db + "single-",
                                               settings.latency_conversations, settings.messages, 1)
                                  .run();
    const CpuTime cpu_after = server.cpu();
    const auto messages = static_cast<double>(result.answered);
    std::printf(
        "  1 client: %6.0f messages/s  %lld in %.3f s   latency ms p50 %.3f  p90 %.3f  p99 %.3f  "
        "max %.3f   server CPU %.1f us/message\n",
        messages / result.seconds, static_cast<long long>(result.answered), result.seconds,
        result.percentile(50), result.percentile(90), result.percentile(99),
        result.latencies_ms.empty() ? 0.0 : result.latencies_ms.back(),
        (cpu_after.sched_s - cpu_before.sched_s) * 1e6 / messages);
    std::printf("           server CPU by thread, us/message: %s\n",
                thread_breakdown(cpu_before, cpu_after, messages).c_str());
    ok &= report_failures("1 client", result);
    if (fake.completions() - fake_before !=
        static_cast<uint64_t>(settings.latency_conversations * settings.messages)) {
      std::printf("  FAILED: the fake answered %llu completions for the 1-client run\n",
                  static_cast<unsigned long long>(fake.completions() - fake_before));
      ok = false;
    }
  }
  ok &= check_histories(settings, db, fake);
  const uint64_t expected_total = static_cast<uint64_t>(
      settings.warmup_conversations * 2 +
      (settings.rounds * settings.conversations + settings.latency_conversations) *
          settings.messages);
  const uint64_t answered_total = fake.completions() - warmup_from;
  std::printf(
      "  fake: %llu completions for %llu messages, %llu rejected, %llu connections so far\n",
      static_cast<unsigned long long>(answered_total),
      static_cast<unsigned long long>(expected_total),
      static_cast<unsigned long long>(fake.rejected()),
      static_cast<unsigned long long>(fake.connections()));
  if (answered_total != expected_total || fake.rejected() != 0) {
    std::printf("  FAILED: the fake did not answer exactly one completion per message\n");
    ok = false;
  }
  const double rate = median(rates), p50 = median(p50s);
  std::printf(
      "  median of %lld rounds: %.0f messages/s (aim >= 4000: %s), p50 %.3f ms (aim < 2: %s), "
      "p99 %.3f ms, server CPU %.1f us/message\n",
      static_cast<long long>(settings.rounds), rate, rate >= 4000 ? "met" : "MISSED", p50,
      p50 < 2 ? "met" : "MISSED", median(p99s), median(cpus));
  server.stop();
  return ok;
}

// One server run for the memory figure; false when a check failed.
bool memory(const Settings& settings, const std::string& db, bool passivate,
            bench::FakeOpenAiServer& fake) {
  const int64_t count = settings.memory_conversations;
  const int64_t idle = passivate ? settings.idle_ms : 86'400'000;
  AgentServer server(db == "file", fake.base_url(),
                     {{"SLUICE_SESSION_IDLE_MS", std::to_string(idle)}});
  std::this_thread::sleep_for(500ms);  // let start-up allocations finish
  const int64_t baseline_kb = server.status_kb("VmRSS");
  const uint64_t fake_before = fake.completions();
  const LoadResult result =
      ConversationLoad(server.port(), db + (passivate ? "p-" : "l-"), count, 1, settings.clients)
          .run();
  bool ok = report_failures("memory load", result);
  if (fake.completions() - fake_before != static_cast<uint64_t>(count)) {
    std::printf("  FAILED: the fake answered %llu completions, expected %lld\n",
                static_cast<unsigned long long>(fake.completions() - fake_before),
                static_cast<long long>(count));
    ok = false;
  }
  const auto settle_start = bench::Clock::now();
  const auto metric_is_zero = [&](const char* series) {
    return bench::wait_until([&] { return server.metric(series) == 0; }, 600s, 50ms);
  };
  if (!metric_is_zero("sluice_queue_depth") ||
      (passivate && !metric_is_zero("sluice_live_sessions"))) {
    std::printf("  FAILED: the sessions did not settle in time\n");
    return false;
  }
  if (passivate) std::this_thread::sleep_for(std::chrono::milliseconds(settings.settle_ms));
  const double settle_s = bench::seconds_since(settle_start);
  const double live = server.metric("sluice_live_sessions");
  const int64_t rss_kb = server.status_kb("VmRSS");
  const int64_t peak_kb = server.status_kb("VmHWM");
  const double kb_per = static_cast<double>(rss_kb - baseline_kb) / static_cast<double>(count);
  std::printf(
      "  %-10s baseline %6.1f MB  after %6.1f MB  peak %6.1f MB  live sessions %6.0f  "
      "%5.2f kB/conversation (aim < 5: %s)  (load %.1f s at %.0f/s, settle %.1f s)\n",
      passivate ? "passivated" : "live", static_cast<double>(baseline_kb) / 1024.0,
      static_cast<double>(rss_kb) / 1024.0, static_cast<double>(peak_kb) / 1024.0, live, kb_per,
      kb_per < 5 ? "met" : "MISSED", result.seconds,
      static_cast<double>(result.answered) / result.seconds, settle_s);
  server.stop();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  // --skip-memory is a flag: give it the form Options expects.
  std::vector<std::string> args(argv, argv + argc);
  bool skip_memory = false;
  std::erase_if(args, [&](const std::string& arg) {
    if (arg != "--skip-memory") return false;
    skip_memory = true;
    return true;
  });
  std::vector<char*> pointers;
  for (auto& arg : args) pointers.push_back(arg.data());
  bench::Options options(static_cast<int>(pointers.size()), pointers.data(), kUsage);
  Settings settings;
  settings.conversations = options.integer("conversations", 100);
  settings.messages = options.integer("messages", 10);
  settings.clients = options.integer("clients", 32);
  settings.rounds = options.integer("rounds", 3);
  settings.warmup_conversations = options.integer("warmup-conversations", 32);
  settings.latency_conversations = options.integer("latency-conversations", 20);
  settings.memory_conversations = options.integer("memory-conversations", 10000);
  settings.idle_ms = options.integer("idle-ms", 200);
  settings.settle_ms = options.integer("settle-ms", 1000);
  const int64_t fake_threads = options.integer("fake-threads", 1);
  const std::string db = options.text("db", "both");
  options.done();
  if (db != "both" && db != "memory" && db != "file") {
    options.fail("--db must be both, memory or file");
  }
  if (settings.conversations < 1 || settings.messages < 1 || settings.clients < 1 ||
      settings.rounds < 1 || settings.warmup_conversations < 0 ||
      settings.latency_conversations < 0 || settings.memory_conversations < 1 || fake_threads < 1) {
    options.fail("counts must be positive");
  }
  const std::vector<std::string> dbs =
      db == "both" ? std::vector<std::string>{"memory", "file"} : std::vector<std::string>{db};

  const std::set<std::string> samples = sampled_texts(settings, dbs);
  bench::FakeOpenAiServer fake(static_cast<int>(fake_threads), [samples](std::string_view text) {
    return samples.contains(std::string(text));
  });
  std::printf(
      "agent_bench: agent model openai/bench-model, fake OpenAI server at %s (%lld io thread%s)\n",
      fake.base_url().c_str(), static_cast<long long>(fake_threads), fake_threads == 1 ? "" : "s");
  bool ok = true;
  // Caught, not left to std::terminate, so that the servers' temporary
  // folders are removed on the way out.
  try {
    for (const auto& name : dbs) ok &= throughput(settings, name, fake);
    if (!skip_memory) {
      for (const auto& name : dbs) {
        std::printf("\nmemory, %s SQLite: %lld conversations of one message, %lld clients\n",
                    name == "file" ? "file" : "in-memory",
                    static_cast<long long>(settings.memory_conversations),
                    static_cast<long long>(settings.clients));
        ok &= memory(settings, name, false, fake);
        ok &= memory(settings, name, true, fake);
      }
    }
  } catch (const std::exception& error) {
    std::printf("\nagent_bench: %s\n", error.what());
    return 1;
  }
  if (!ok) std::printf("\nagent_bench: some checks FAILED (see above)\n");
  return ok ? 0 : 1;
}
