// Resident memory of session actors. For each session count N, two server runs
// get one dispatch for each of N sessions of one instance (POST
// /agents/echo/mem/dispatch, {"input":"m{n}","session":"s{session}"}):
//  live:        SLUICE_SESSION_IDLE_MS=86400000, so every session actor stays;
//               once drained, (VmRSS - baseline) / sluice_live_sessions;
//  passivated:  SLUICE_SESSION_IDLE_MS=--idle-ms; once sluice_live_sessions is 0
//               and --settle-ms more passed, (VmRSS - baseline) / N.
// The baseline is VmRSS after start-up. Both include what storage keeps for the
// sessions (an in-memory database lives in the RSS; file SQLite keeps at most
// its 32 MiB page cache). The passivated figure also holds whatever is still
// referenced after passivation (pending timers of the actors) and what glibc
// keeps in its arenas; the server inherits this program's environment, so
// SLUICE_SUBMISSION_TIMEOUT_MS, MALLOC_ARENA_MAX or MALLOC_TRIM_THRESHOLD_ set
// here show how much of each there is (see README.md).
//
//   memory_bench [--sessions=10000,100000] [--db=memory|file] [--connections=64]
//                [--idle-ms=200] [--settle-ms=1000]
#include "bench/bench_support.hpp"

using namespace std::chrono_literals;

namespace {

struct Sample {
  double baseline_mb = 0;
  double rss_mb = 0;
  double peak_mb = 0;  // VmHWM
  double live_sessions = 0;
  double load_s = 0;
  double drain_s = 0;
};

double mb(int64_t kb) {
  return static_cast<double>(kb) / 1024.0;
}

// One server run: one dispatch to each of `sessions` sessions; once drained
// (and, with `passivate`, once every session left memory and `settle` more
// passed), samples the memory.
Sample measure(bool file_db, int64_t sessions, bool passivate, int64_t idle_ms,
               std::chrono::milliseconds settle, const std::string& connections) {
  const int64_t idle = passivate ? idle_ms : 86'400'000;
  bench::Server server({.file_db = file_db,
                        .env = {{"SLUICE_SESSION_IDLE_MS", std::to_string(idle)},
                                {"SLUICE_NODE_ADMISSION_LIMIT", std::to_string(2 * sessions)}}});
  std::this_thread::sleep_for(500ms);  // let start-up allocations finish
  Sample sample;
  sample.baseline_mb = mb(server.status_kb("VmRSS"));
  const std::string count = std::to_string(sessions);
  const bench::LoadResult load = bench::run_http_load(
      server.port(), {"--method", "POST", "--path-template", "/agents/echo/mem/dispatch",
                      "--body-template", R"({"input":"m{n}","session":"s{session}"})", "--sessions",
                      count, "--requests", count, "--connections", connections});
  if (load.status(202) != static_cast<uint64_t>(sessions)) {
    throw std::runtime_error("not every dispatch was admitted: " + load.status_text());
  }
  sample.load_s = load.seconds;
  const auto drain_start = bench::Clock::now();
  const auto metric_is_zero = [&](const char* series) {
    return bench::wait_until([&] { return server.metric(series) == 0; }, 600s, 50ms);
  };
  if (!metric_is_zero("sluice_queue_depth") ||
      (passivate && !metric_is_zero("sluice_live_sessions"))) {
    throw std::runtime_error("the sessions did not settle in time");
  }
  sample.drain_s = bench::seconds_since(drain_start);
  if (passivate) std::this_thread::sleep_for(settle);
  sample.live_sessions = server.metric("sluice_live_sessions");
  sample.rss_mb = mb(server.status_kb("VmRSS"));
  sample.peak_mb = mb(server.status_kb("VmHWM"));
  server.stop();
  return sample;
}

void print_run(const char* label, const Sample& sample, double bytes_per_session) {
  std::printf(
      "  %-11s baseline %6.1f MB  after %7.1f MB  peak %7.1f MB  live sessions %6.0f  "
      "%6.0f B/session  (load %.1f s, drain %.1f s)\n",
      label, sample.baseline_mb, sample.rss_mb, sample.peak_mb, sample.live_sessions,
      bytes_per_session, sample.load_s, sample.drain_s);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options options(argc, argv,
                         "usage: memory_bench [--sessions=10000,100000] [--db=memory|file] "
                         "[--connections=64] [--idle-ms=200] [--settle-ms=1000]\n");
  const std::string counts = options.text("sessions", "10000,100000");
  const std::string db = options.text("db", "memory");
  const std::string connections = std::to_string(options.integer("connections", 64));
  const int64_t idle_ms = options.integer("idle-ms", 200);
  const auto settle = std::chrono::milliseconds(options.integer("settle-ms", 1000));
  options.done();
  if (db != "memory" && db != "file") options.fail("--db must be memory or file");

  std::printf("memory_bench: %s SQLite, one dispatch per session, %s connections\n", db.c_str(),
              connections.c_str());
  std::istringstream list(counts);
  for (std::string item; std::getline(list, item, ',');) {
    const int64_t sessions = std::stoll(item);
    const auto n = static_cast<double>(sessions);
    std::printf("%lld sessions\n", static_cast<long long>(sessions));

    const Sample live = measure(db == "file", sessions, false, idle_ms, settle, connections);
    print_run("live", live, (live.rss_mb - live.baseline_mb) * 1048576.0 / live.live_sessions);
    const Sample passivated = measure(db == "file", sessions, true, idle_ms, settle, connections);
    print_run("passivated", passivated,
              (passivated.rss_mb - passivated.baseline_mb) * 1048576.0 / n);
  }
  return 0;
}
