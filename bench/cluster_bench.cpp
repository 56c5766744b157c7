// Cluster figures on real processes over a real PostgreSQL server:
//  1. forwarding overhead: sequential sync prompts to one session, sent to the
//     node that owns it, then to a node that forwards each one to the owner
//     (p50/p99 of both);
//  2. takeover after kill -9: a session's owner is killed and the time until a
//     prompt to that session answers again through the other node is measured,
//     --rounds times (the median is the figure to quote).
// Each run gets a schema of its own on the server.
//
//   scripts/with-postgres.sh sh -c 'build/bench/cluster_bench --postgres-url="$SLUICE_TEST_POSTGRES_URL"'
//   cluster_bench --postgres-url=URL [--requests=2000] [--rounds=10]
#include <pqxx/pqxx>

#include "actors/ownership.hpp"
#include "bench/bench_support.hpp"
#include "core/ids.hpp"

namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "cluster-bench-secret-0123456789";

// A schema of its own, dropped at the end; url() points connections at it.
class Schema {
 public:
  // durable = false: the nodes' sessions commit with synchronous_commit=off, so
  // the figures show the forwarding hop rather than the disk's fsync.
  Schema(std::string server_url, bool durable) : server_url_(std::move(server_url)) {
    name_ = "bench_" + sluice::new_ulid();
    std::transform(name_.begin(), name_.end(), name_.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    run("CREATE SCHEMA " + name_);
    url_ = server_url_ + (server_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + name_ + (durable ? "" : "%20-csynchronous_commit%3Doff");
  }
  ~Schema() {
    try {
      run("DROP SCHEMA " + name_ + " CASCADE");
    } catch (const std::exception&) {
    }
  }
  const std::string& url() const { return url_; }

 private:
  void run(const std::string& sql) const {
    pqxx::connection admin(server_url_);
    pqxx::nontransaction(admin).exec0(sql);
  }
  std::string server_url_, name_, url_;
};

std::unique_ptr<bench::Server> start_node(const std::string& name, const std::string& url) {
  const uint16_t cluster_port = bench::free_port();
  return std::make_unique<bench::Server>(bench::ServerSetup{
      .file_db = false,
      .env = {{"DATABASE_URL", url},
              {"SLUICE_NODE_ID", name},
              {"SLUICE_CLUSTER_SECRET", kSecret},
              {"SLUICE_CLUSTER_PORT", std::to_string(cluster_port)},
              {"SLUICE_ADVERTISE", "127.0.0.1:" + std::to_string(cluster_port)}}});
}

// Until each node's own view lists `count` members.
void wait_for_view(const std::vector<const bench::Server*>& nodes, size_t count) {
  for (const bench::Server* node : nodes) {
    const bool ok = bench::wait_until(
        [&] {
          const auto answer = bench::http_request(node->port(), "GET", "/admin/cluster");
          return answer.status == 200 &&
                 nlohmann::json::parse(answer.body)["view"].size() == count;
        },
        30s, 20ms);
    if (!ok) throw std::runtime_error("the nodes did not agree on the members");
  }
}

std::string session_owned_by(const std::string& owner) {
  const sluice::actors::MemberList members = {{"n1", "", ""}, {"n2", "", ""}};
  for (int i = 0;; ++i) {
    const std::string name = "s" + std::to_string(i);
    if (sluice::actors::owner_of(sluice::SessionKey{"echo", "bench", name}.str(), members)
            ->node_id == owner) {
      return name;
    }
  }
}

bench::LoadResult prompts(uint16_t port, const std::string& session, const std::string& count) {
  return bench::run_http_load(
      port, {"--method", "POST", "--path", "/agents/echo/bench", "--body-template",
             R"({"message":"m{n}","session":")" + session + R"("})", "--connections", "1",
             "--requests", count});
}

void forwarding(const std::string& server_url, const std::string& requests, bool durable) {
  Schema schema(server_url, durable);
  std::printf("  commits %s\n", durable ? "durable (fsync)" : "with synchronous_commit=off");
  auto n1 = start_node("n1", schema.url());
  auto n2 = start_node("n2", schema.url());
  wait_for_view({n1.get(), n2.get()}, 2);
  const std::string session = session_owned_by("n1");
  prompts(n1->port(), session, "200");  // warm-up: claim, connections, caches
  prompts(n2->port(), session, "200");
  bench::print_load("sent to the owner       ", prompts(n1->port(), session, requests));
  bench::print_load("sent to another node    ", prompts(n2->port(), session, requests));
}

void takeover(const std::string& server_url, int rounds) {
  Schema schema(server_url, true);
  auto survivor = start_node("n1", schema.url());
  const std::string session = session_owned_by("n2");
  const std::string body = R"({"message":"ping","session":")" + session + R"("})";
  std::vector<double> seconds;
  for (int round = 0; round < rounds; ++round) {
    auto victim = start_node("n2", schema.url());
    wait_for_view({survivor.get(), victim.get()}, 2);
    if (bench::http_request(survivor->port(), "POST", "/agents/echo/bench", body).status != 200) {
      throw std::runtime_error("the session did not answer before the kill");
    }
    victim->kill_hard();
    const auto killed = bench::Clock::now();
    while (bench::http_request(survivor->port(), "POST", "/agents/echo/bench", body).status !=
           200) {
      if (bench::seconds_since(killed) > 60) throw std::runtime_error("no takeover within 60 s");
      std::this_thread::sleep_for(10ms);
    }
    seconds.push_back(bench::seconds_since(killed));
    std::printf("  round %d: %.2f s\n", round + 1, seconds.back());
    victim.reset();
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("takeover after kill -9 (%d rounds): median %.2f s, min %.2f s, max %.2f s\n",
              rounds, seconds[seconds.size() / 2], seconds.front(), seconds.back());
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options options(
      argc, argv,
      "usage: cluster_bench --postgres-url=URL [--requests=2000] [--rounds=10]\n");
  const std::string url = options.text("postgres-url", "");
  const std::string requests = std::to_string(options.integer("requests", 2000));
  const int rounds = static_cast<int>(options.integer("rounds", 10));
  options.done();
  if (url.empty()) {
    std::fprintf(stderr, "cluster_bench needs --postgres-url\n");
    return 2;
  }
  std::printf("cluster_bench: forwarding overhead (%s sequential sync prompts, one session)\n",
              requests.c_str());
  forwarding(url, requests, false);
  forwarding(url, requests, true);
  std::printf("cluster_bench: takeover\n");
  takeover(url, rounds);
  return 0;
}
