// Sync prompt round trip: one keep-alive connection sends POST /agents/echo/rt
// {"message":"m{n}"} one at a time and waits for each {"result":...}: admission,
// the start, the echo turn and the settlement, every step committed before the
// answer. Two server runs: in-memory SQLite, then file SQLite (WAL,
// synchronous=FULL). The first --warmup prompts of each run are not counted.
//
//   roundtrip_bench [--requests=5000] [--warmup=200]
#include "bench/bench_support.hpp"

namespace {

bench::LoadResult prompts(const bench::Server& server, const std::string& count) {
  return bench::run_http_load(server.port(),
                              {"--method", "POST", "--path", "/agents/echo/rt", "--body-template",
                               R"({"message":"m{n}"})", "--connections", "1", "--requests", count});
}

void run(bool file_db, const std::string& requests, const std::string& warmup) {
  bench::Server server({.file_db = file_db, .env = {}});
  prompts(server, warmup);
  bench::print_load(file_db ? "file SQLite" : "in-memory SQLite", prompts(server, requests));
  server.stop();
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options options(argc, argv, "usage: roundtrip_bench [--requests=5000] [--warmup=200]\n");
  const std::string requests = std::to_string(options.integer("requests", 5000));
  const std::string warmup = std::to_string(options.integer("warmup", 200));
  options.done();
  std::printf("roundtrip_bench: %s sequential sync prompts on one connection\n", requests.c_str());
  bench::print_fdatasync();
  run(false, requests, warmup);
  run(true, requests, warmup);
  return 0;
}
