// The remote sandbox connector end to end: a real loopback HTTP server of
// the protocol (fake_sandbox_server.hpp) backed by a LocalSandbox.
#include <sys/stat.h>

#include "sandbox/local_sandbox.hpp"
#include "sandbox/remote_sandbox.hpp"
#include "sandbox/tools.hpp"
#include "tests/sandbox/fake_sandbox_server.hpp"
#include "tests/sandbox/sandbox_test_support.hpp"
#include "tests/support/temp_dir.hpp"

using namespace std::chrono_literals;
using sluice::sandbox::ErrorKind;
using sluice::sandbox::ExecRequest;
using sluice::sandbox::LocalSandbox;
using sluice::sandbox::LocalSandboxOptions;
using sluice::sandbox::RemoteSandbox;
using sluice::sandbox::RemoteSandboxOptions;
using sluice::sandbox::ToolSet;
using sluice::sandbox::test::error_of;
using sluice::sandbox::test::FakeSandboxServer;
using sluice::sandbox::test::read_text;
using sluice::sandbox::test::write_text;
using sluice::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A folder served by a fake remote sandbox, and a connector to it.
struct Remote {
  TempDir dir;
  std::shared_ptr<LocalSandbox> backend;
  FakeSandboxServer server;
  std::shared_ptr<RemoteSandbox> shared;  // for a ToolSet
  RemoteSandbox& sandbox;

  explicit Remote(std::string token = {}, std::string client_token = {}, std::string prefix = {})
      : backend(std::make_shared<LocalSandbox>([&] {
          LocalSandboxOptions options;
          options.cwd = dir.path();
          options.output_cap_bytes = 1000;
          return options;
        }())),
        server(backend, std::move(token), prefix),
        shared(std::make_shared<RemoteSandbox>([&] {
          RemoteSandboxOptions options;
          options.base_url = server.base_url() + "/";
          options.bearer_token = std::move(client_token);
          return options;
        }())),
        sandbox(*shared) {}
};

}  // namespace

TEST_CASE("remote: file operations reach the server's files") {
  Remote r;
  r.sandbox.write("docs/a.txt", "hello\n");
  CHECK(read_text(r.dir / "docs/a.txt") == "hello\n");
  CHECK(r.sandbox.read("docs/a.txt") == "hello\n");

  const std::string binary(
      "\0\x01\xFF\xFE"
      "end",
      7);
  r.sandbox.write("blob.bin", binary);
  CHECK(read_text(r.dir / "blob.bin") == binary);
  CHECK(r.sandbox.read_bytes("blob.bin") == binary);
  CHECK(r.sandbox.read("blob.bin") == std::string("\0\x01", 2) +
                                          "\xEF\xBF\xBD\xEF\xBF\xBD"
                                          "end");

  timespec times[2] = {{1'700'000'000, 0}, {1'700'000'000, 456'000'000}};
  REQUIRE(::utimensat(AT_FDCWD, (r.dir / "docs/a.txt").c_str(), times, 0) == 0);
  auto stat = r.sandbox.stat("docs/a.txt");
  CHECK(stat.size == 6);
  CHECK_FALSE(stat.is_dir);
  CHECK(stat.mtime == std::chrono::system_clock::time_point(1'700'000'000'456ms));
  CHECK(r.sandbox.stat("docs").is_dir);

  r.sandbox.mkdir("x/y");
  CHECK(fs::is_directory(r.dir / "x/y"));
  auto entries = r.sandbox.readdir(".");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].name == "blob.bin");
  CHECK_FALSE(entries[0].is_dir);
  CHECK(entries[1].name == "docs");
  CHECK(entries[1].is_dir);
  CHECK(entries[2].name == "x");

  CHECK(r.sandbox.exists("docs/a.txt"));
  CHECK_FALSE(r.sandbox.exists("docs/b.txt"));
  r.sandbox.rm("x", true);
  r.sandbox.rm("blob.bin", false);
  CHECK_FALSE(fs::exists(r.dir / "x"));
  CHECK_FALSE(fs::exists(r.dir / "blob.bin"));
}

TEST_CASE("remote: errors keep their kind and message") {
  Remote r;
  auto missing = error_of([&] { r.sandbox.read("nope.txt"); });
  CHECK(missing.kind() == ErrorKind::kNotFound);
  CHECK_THAT(missing.what(), Catch::Contains("nope.txt"));

  write_text(r.dir / "full/x.txt", "x");
  auto not_empty = error_of([&] { r.sandbox.rm("full", false); });
  CHECK(not_empty.kind() == ErrorKind::kNotEmpty);
  CHECK_THAT(not_empty.what(), Catch::Contains("recursively"));
  CHECK(error_of([&] { r.sandbox.read("full"); }).kind() == ErrorKind::kIsADirectory);
  CHECK(error_of([&] { r.sandbox.readdir("full/x.txt"); }).kind() == ErrorKind::kNotADirectory);
  CHECK(error_of([&] { r.sandbox.stat(""); }).kind() == ErrorKind::kInvalidArgument);
}

TEST_CASE("remote: exec with cwd, per-call env, exit code, truncation and timeout") {
  Remote r;
  fs::create_directories(r.dir / "sub");
  ExecRequest request;
  request.command = "pwd -P; echo \"$CALL_VAR\"; echo oops >&2; exit 4";
  request.cwd = "sub";
  request.env = {{"CALL_VAR", "from the call"}};
  auto result = r.sandbox.exec(request);
  CHECK(result.exit_code == 4);
  CHECK(result.stdout_text == fs::canonical(r.dir / "sub").string() + "\nfrom the call\n");
  CHECK(result.stderr_text == "oops\n");
  CHECK_FALSE(result.timed_out);
  CHECK_FALSE(result.truncated);

  ExecRequest big;
  big.command = "head -c 3000 /dev/zero | tr '\\0' z";
  auto truncated = r.sandbox.exec(big);
  CHECK(truncated.truncated);
  CHECK_THAT(truncated.stdout_text, Catch::Contains("truncated at 1000 bytes"));

  ExecRequest slow;
  slow.command = "sleep 300";
  slow.timeout = 1500ms;
  auto timed_out = r.sandbox.exec(slow);
  CHECK(timed_out.timed_out);
  CHECK(timed_out.exit_code == 124);
  CHECK_THAT(timed_out.stderr_text, Catch::Contains("timed out after 1500 ms"));
}

TEST_CASE("remote: the bearer token is sent, and a refusal is clear") {
  Remote good("s3cret", "s3cret");
  good.sandbox.write("a.txt", "x");
  CHECK(good.server.authorizations() == std::vector<std::string>{"Bearer s3cret"});

  Remote bad("s3cret", "wrong");
  auto refused = error_of([&] { bad.sandbox.read("a.txt"); });
  CHECK(refused.kind() == ErrorKind::kUnavailable);
  CHECK_THAT(refused.what(), Catch::Contains("refused the credentials"));

  Remote none("s3cret");
  CHECK(error_of([&] { none.sandbox.exists("a.txt"); }).kind() == ErrorKind::kUnavailable);
  CHECK(none.server.authorizations() == std::vector<std::string>{""});
}

TEST_CASE("remote: a base URL with a path prefix") {
  Remote r({}, {}, "/sandboxes/42");
  r.sandbox.write("p.txt", "prefixed");
  CHECK(read_text(r.dir / "p.txt") == "prefixed");
}

TEST_CASE("remote: the built-in tools work through the connector") {
  Remote r;
  write_text(r.dir / "src/a.cpp", "int a = 1;\n");
  write_text(r.dir / "src/b.cpp", "int b = 2;\n");
  ToolSet tools(r.shared);
  CHECK(tools.call("list_files", {{"pattern", "**/*.cpp"}}).content == "src/a.cpp\nsrc/b.cpp\n");
  CHECK(tools.call("grep", {{"pattern", "b ="}}).content == "src/b.cpp:1:int b = 2;\n");
  auto edit =
      tools.call("edit_file", {{"path", "src/a.cpp"}, {"old_string", "1"}, {"new_string", "10"}});
  CHECK_FALSE(edit.is_error);
  CHECK(read_text(r.dir / "src/a.cpp") == "int a = 10;\n");
  CHECK(tools.call("bash", {{"command", "cat src/a.cpp"}}).content ==
        "exit code: 0\n<stdout>\nint a = 10;\n</stdout>\n");
}

TEST_CASE("remote: an unreachable or silent server fails as unavailable within the timeout") {
  // Nothing listens on a port that was just released.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  uint16_t closed_port = probe.local_endpoint().port();
  probe.close();
  RemoteSandboxOptions options;
  options.base_url = "http://127.0.0.1:" + std::to_string(closed_port);
  RemoteSandbox unreachable(options);
  auto refused = error_of([&] { unreachable.exists("a"); });
  CHECK(refused.kind() == ErrorKind::kUnavailable);
  CHECK_THAT(refused.what(), Catch::Contains("cannot connect"));

  // A server that accepts (the kernel's backlog) but never answers.
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  options.base_url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
  options.call_timeout = 300ms;
  RemoteSandbox stalled(options);
  auto timeout = error_of([&] { stalled.read("a"); });
  CHECK(timeout.kind() == ErrorKind::kUnavailable);
  CHECK_THAT(timeout.what(), Catch::Contains("no answer within 300 ms"));
}

TEST_CASE("remote: bad URLs are refused at construction") {
  for (std::string url : {"https://host/", "ftp://x", "http://", "http://host:99999",
                          "http://host:port", "host:80"}) {
    INFO(url);
    RemoteSandboxOptions options;
    options.base_url = url;
    CHECK(error_of([&] { RemoteSandbox s(options); }).kind() == ErrorKind::kInvalidArgument);
  }
  RemoteSandboxOptions ipv6;
  ipv6.base_url = "http://[::1]:8700/x";
  CHECK_NOTHROW(RemoteSandbox(ipv6));
}
