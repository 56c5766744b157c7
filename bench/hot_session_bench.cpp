// One hot session, file SQLite (WAL, synchronous=FULL; --db=memory for
// in-memory SQLite, to see what is not the disk), echo answering at once:
// --requests dispatches to the same session (POST /agents/echo/hot/dispatch,
// {"input":"m{n}"}) from --connections connections as fast as admission
// allows, then the settled rate of that one session: the submissions from the
// first acceptedAt to the last settledAt, read back from the submissions route
// (server clock), and by wall clock from the first request to the moment
// /metrics shows them all completed, also split into while admitting / after.
// The session queue limit (SLUICE_MAX_QUEUE_DEPTH) is raised to --requests so
// no dispatch is refused.
//
//   hot_session_bench [--requests=20000] [--connections=8] [--db=file|memory]
#include <ctime>

#include "bench/bench_support.hpp"

using namespace std::chrono_literals;

namespace {

// "2026-11-26T05:42:38.123Z" in ms since the epoch.
int64_t iso_ms(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    throw std::runtime_error("not an ISO 8601 UTC time: " + text);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

// The submission of the hot session with this sequence.
nlohmann::json submission(const bench::Server& server, uint64_t sequence) {
  const bench::HttpAnswer answer = bench::http_request(
      server.port(), "GET",
      "/agents/echo/hot/submissions?after=" + std::to_string(sequence - 1) + "&limit=1");
  if (answer.status != 200) throw std::runtime_error("submissions route: " + answer.body);
  return nlohmann::json::parse(answer.body).at("submissions").at(0);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options options(argc, argv,
                         "usage: hot_session_bench [--requests=20000] [--connections=8] "
                         "[--db=file|memory]\n");
  const int64_t requests = options.integer("requests", 20000);
  const std::string connections = std::to_string(options.integer("connections", 8));
  const std::string db = options.text("db", "file");
  options.done();
  if (db != "memory" && db != "file") options.fail("--db must be file or memory");

  bench::print_fdatasync();
  bench::Server server(
      {.file_db = db == "file",
       .env = {{"SLUICE_MAX_QUEUE_DEPTH", std::to_string(std::max<int64_t>(requests, 10000))}}});
  std::printf("hot_session_bench: %lld dispatches to one session, %s connections, %s SQLite\n",
              static_cast<long long>(requests), connections.c_str(), db.c_str());
  const auto start = bench::Clock::now();
  const bench::LoadResult load = bench::run_http_load(
      server.port(), {"--method", "POST", "--path", "/agents/echo/hot/dispatch", "--body-template",
                      R"({"input":"m{n}"})", "--connections", connections, "--requests",
                      std::to_string(requests)});
  const auto load_end = bench::Clock::now();
  const std::string completed = "sluice_settlements_total{outcome=\"completed\"}";
  const double settled_while_admitting = server.metric(completed);
  bench::print_load("admission", load);

  const auto admitted = static_cast<double>(load.status(202));
  const bool settled =
      bench::wait_until([&] { return server.metric(completed) >= admitted; }, 600s);
  const double wall_s = bench::seconds_since(start);
  const nlohmann::json first = submission(server, 1);
  const nlohmann::json last = submission(server, static_cast<uint64_t>(admitted));
  const double server_s =
      static_cast<double>(iso_ms(last.at("settledAt")) - iso_ms(first.at("acceptedAt"))) / 1e3;
  std::printf("%-28s %.0f admitted, %s; the last is %s\n", "settlement", admitted,
              settled ? "all completed" : "NOT all completed", last.at("state").dump().c_str());
  std::printf("%-28s %8.0f msg/s  (first acceptedAt to last settledAt: %.3f s, server clock)\n",
              "settled rate, one session", admitted / server_s, server_s);
  std::printf("%-28s %8.0f msg/s  (first request to all completed: %.3f s, wall clock)\n", "",
              admitted / wall_s, wall_s);
  const double admitting_s = std::chrono::duration<double>(load_end - start).count();
  std::printf("%-28s %8.0f msg/s  while admitting (%.0f settled in %.3f s), %.0f msg/s after\n", "",
              settled_while_admitting / admitting_s, settled_while_admitting, admitting_s,
              (admitted - settled_while_admitting) / (wall_s - admitting_s));
  server.stop();
  return settled ? 0 : 1;
}
