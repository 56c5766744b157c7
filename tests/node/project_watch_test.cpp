// The project watcher on a real directory: it reports created, changed and
// deleted definitions (also in folders created after it started), once per
// burst, and nothing when nothing changed.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "node/project_watch.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using sluice::node::ProjectWatch;
using sluice::test::TempDir;

namespace {

constexpr auto kInterval = 50ms;

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Until the callback count differs from `seen` (or 5 s): the new count.
int wait_change(const std::atomic<int>& calls, int seen) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (calls.load() == seen && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  // A burst is reported once: give a second report the time to show up.
  std::this_thread::sleep_for(kInterval * 4);
  return calls.load();
}

}  // namespace

TEST_CASE("project watch reports created, changed and deleted definitions", "[watch]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "agents");
  write(dir / "agents" / "a.toml", "model = \"sluice/echo\"\n");
  std::atomic<int> calls{0};
  ProjectWatch watch(
      dir.path(), [&calls] { ++calls; }, kInterval);

  // Nothing changes: nothing is reported.
  std::this_thread::sleep_for(kInterval * 8);
  CHECK(calls.load() == 0);

  write(dir / "agents" / "b.toml", "model = \"sluice/echo\"\n");
  int seen = wait_change(calls, 0);
  CHECK(seen == 1);

  // Same size, new content: the modification time tells.
  std::this_thread::sleep_for(10ms);
  write(dir / "agents" / "a.toml", "model = \"sluice/ohce\"\n");
  seen = wait_change(calls, seen);
  CHECK(seen == 2);

  std::filesystem::remove(dir / "agents" / "b.toml");
  seen = wait_change(calls, seen);
  CHECK(seen == 3);

  // A folder that did not exist at the start, then a file in it.
  std::filesystem::create_directories(dir / "workflows");
  seen = wait_change(calls, seen);
  CHECK(seen == 4);
  write(dir / "workflows" / "w.toml", "agent = \"a\"\n");
  seen = wait_change(calls, seen);
  CHECK(seen == 5);

  // Files that are not definitions are not watched.
  write(dir / "agents" / "notes.txt", "scratch");
  write(dir / "README.md", "hello");
  std::this_thread::sleep_for(kInterval * 8);
  CHECK(calls.load() == 5);
}

TEST_CASE("project watch reports a burst of writes once, after it settled", "[watch]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "agents");
  std::atomic<int> calls{0};
  ProjectWatch watch(
      dir.path(), [&calls] { ++calls; }, 200ms);
  // Writes closer together than the interval: the watcher sees the files
  // still changing and waits for them to settle.
  for (int i = 0; i < 8; ++i) {
    write(dir / "agents" / ("f" + std::to_string(i) + ".toml"), "x = " + std::to_string(i));
    std::this_thread::sleep_for(60ms);
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (calls.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(800ms);
  CHECK(calls.load() == 1);
}

TEST_CASE("project watch stops promptly, also while nothing changes", "[watch]") {
  TempDir dir;
  std::atomic<int> calls{0};
  const auto started = std::chrono::steady_clock::now();
  {
    ProjectWatch watch(
        dir.path(), [&calls] { ++calls; }, 10s);
  }
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(calls.load() == 0);
}
