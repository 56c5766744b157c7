// The bash tool over a LocalSandbox.
#include "tests/sandbox/tool_fixture.hpp"

using sluice::sandbox::test::ToolFixture;

TEST_CASE("bash returns the exit code and both streams") {
  ToolFixture f;
  auto ok = f.call("bash", {{"command", "echo out; echo err >&2"}});
  CHECK_FALSE(ok.is_error);
  CHECK(ok.content == "exit code: 0\n<stdout>\nout\n</stdout>\n<stderr>\nerr\n</stderr>\n");

  auto quiet = f.call("bash", {{"command", "true"}});
  CHECK(quiet.content == "exit code: 0\n(no output)\n");

  auto partial = f.call("bash", {{"command", "printf 'no newline'"}});
  CHECK(partial.content == "exit code: 0\n<stdout>\nno newline\n</stdout>\n");
}

TEST_CASE("bash runs in the working directory") {
  ToolFixture f;
  f.put("here.txt", "x");
  auto result = f.call("bash", {{"command", "ls"}});
  CHECK(result.content == "exit code: 0\n<stdout>\nhere.txt\n</stdout>\n");
}

TEST_CASE("bash: a failing command is an error result carrying its output") {
  ToolFixture f;
  auto failed = f.call("bash", {{"command", "echo 'no such thing' >&2; exit 2"}});
  CHECK(failed.is_error);
  CHECK(failed.content == "exit code: 2\n<stderr>\nno such thing\n</stderr>\n");
}

TEST_CASE("bash: timeout_ms kills the command") {
  ToolFixture f;
  auto slow = f.call("bash", {{"command", "echo begun; sleep 300"}, {"timeout_ms", 3000}});
  CHECK(slow.is_error);
  CHECK_THAT(slow.content, Catch::StartsWith("exit code: 124\n<stdout>\nbegun\n</stdout>\n"));
  CHECK_THAT(slow.content, Catch::Contains("sluice: command timed out after 3000 ms"));
}
