// list_files and grep over a real folder tree.
#include "tests/sandbox/tool_fixture.hpp"

using sluice::sandbox::test::ToolFixture;

namespace {

void make_tree(ToolFixture& f) {
  f.put("README.md", "# Project\nTODO: write docs\n");
  f.put("main.cpp", "int main() {}\n");
  f.put("src/a.cpp", "// TODO: a\nint a();\n");
  f.put("src/a.hpp", "int a();\n");
  f.put("src/net/b.cpp", "int b() { return 0; } // todo lower case\n");
  f.put(".git/config.cpp", "TODO hidden\n");
  f.put("src/.cache/c.cpp", "TODO hidden too\n");
  f.put(".env", "SECRET=1\n");
}

}  // namespace

TEST_CASE("list_files matches glob patterns, sorted, hidden entries left out") {
  ToolFixture f;
  make_tree(f);
  CHECK(f.call("list_files", {{"pattern", "**/*.cpp"}}).content ==
        "main.cpp\nsrc/a.cpp\nsrc/net/b.cpp\n");
  CHECK(f.call("list_files", {{"pattern", "src/**/*.cpp"}}).content ==
        "src/a.cpp\nsrc/net/b.cpp\n");
  CHECK(f.call("list_files", {{"pattern", "src/*"}}).content == "src/a.cpp\nsrc/a.hpp\n");
  CHECK(f.call("list_files", {{"pattern", "*"}}).content == "README.md\nmain.cpp\n");
  CHECK(f.call("list_files", {{"pattern", ".*"}}).content == ".env\n");
  CHECK(f.call("list_files", {{"pattern", ".git/*"}}).content == ".git/config.cpp\n");
  CHECK(f.call("list_files", {{"pattern", "src/a.hpp"}}).content == "src/a.hpp\n");
}

TEST_CASE("list_files from a path, with an absolute pattern, and with no match") {
  ToolFixture f;
  make_tree(f);
  CHECK(f.call("list_files", {{"pattern", "*.cpp"}, {"path", "src"}}).content == "src/a.cpp\n");
  std::string root = std::filesystem::canonical(f.dir.path()).string();
  CHECK(f.call("list_files", {{"pattern", root + "/src/net/*.cpp"}}).content ==
        root + "/src/net/b.cpp\n");

  auto none = f.call("list_files", {{"pattern", "**/*.rs"}});
  CHECK_FALSE(none.is_error);
  CHECK(none.content == "no files match **/*.rs");
  auto nowhere = f.call("list_files", {{"pattern", "missing/**/*.rs"}});
  CHECK_FALSE(nowhere.is_error);
  CHECK_THAT(nowhere.content, Catch::StartsWith("no files match missing/**/*.rs"));
  CHECK(f.call("list_files", {{"pattern", ""}}).is_error);
}

TEST_CASE("list_files stops at its cap and says so") {
  ToolFixture f;
  for (int i = 0; i < 1005; ++i) f.put("many/f" + std::to_string(10000 + i) + ".txt", "");
  auto result = f.call("list_files", {{"pattern", "many/*.txt"}});
  CHECK_FALSE(result.is_error);
  CHECK_THAT(result.content, Catch::StartsWith("many/f10000.txt\n"));
  CHECK_THAT(result.content,
             Catch::EndsWith("many/f10999.txt\n[stopped after 1000 files; narrow the pattern]\n"));
}

TEST_CASE("grep returns file:line:text, hidden folders left out") {
  ToolFixture f;
  make_tree(f);
  auto result = f.call("grep", {{"pattern", "TODO"}});
  CHECK_FALSE(result.is_error);
  CHECK(result.content == "README.md:2:TODO: write docs\nsrc/a.cpp:1:// TODO: a\n");
  CHECK(f.call("grep", {{"pattern", "[Tt][Oo][Dd][Oo]"}, {"path", "src"}}).content ==
        "src/a.cpp:1:// TODO: a\nsrc/net/b.cpp:1:int b() { return 0; } // todo lower case\n");
}

TEST_CASE("grep narrows by file, by glob on names and by glob on paths") {
  ToolFixture f;
  make_tree(f);
  CHECK(f.call("grep", {{"pattern", "int a"}, {"path", "src/a.hpp"}}).content ==
        "src/a.hpp:1:int a();\n");
  CHECK(f.call("grep", {{"pattern", "int"}, {"glob", "*.hpp"}}).content ==
        "src/a.hpp:1:int a();\n");
  CHECK(f.call("grep", {{"pattern", "int"}, {"glob", "src/net/*.cpp"}}).content ==
        "src/net/b.cpp:1:int b() { return 0; } // todo lower case\n");
  CHECK(f.call("grep", {{"pattern", "int"}, {"path", "src"}, {"glob", "net/**"}}).content ==
        "src/net/b.cpp:1:int b() { return 0; } // todo lower case\n");
}

TEST_CASE("grep: no match, bad regex, missing path, binary files, the cap") {
  ToolFixture f;
  make_tree(f);
  auto none = f.call("grep", {{"pattern", "nothing-like-this"}});
  CHECK_FALSE(none.is_error);
  CHECK(none.content == "no matches for nothing-like-this\n");

  auto bad = f.call("grep", {{"pattern", "(unclosed"}});
  CHECK(bad.is_error);
  CHECK_THAT(bad.content, Catch::StartsWith("invalid regular expression \"(unclosed\""));

  auto missing = f.call("grep", {{"pattern", "x"}, {"path", "nope"}});
  CHECK(missing.is_error);
  CHECK_THAT(missing.content, Catch::Contains("nope"));

  f.put("bin/blob.dat", std::string("TODO\0binary", 11));
  CHECK(f.call("grep", {{"pattern", "TODO"}, {"path", "bin"}}).content == "no matches for TODO\n");

  std::string many;
  for (int i = 0; i < 300; ++i) many += "hit " + std::to_string(i) + "\n";
  f.put("many/hits.txt", many);
  auto capped = f.call("grep", {{"pattern", "^hit"}, {"path", "many"}});
  CHECK_THAT(capped.content, Catch::StartsWith("many/hits.txt:1:hit 0\n"));
  CHECK_THAT(capped.content,
             Catch::EndsWith("many/hits.txt:200:hit 199\n[stopped after 200 matches; narrow the "
                             "pattern, path or glob]\n"));
}

TEST_CASE("grep cuts long lines and survives huge ones") {
  ToolFixture f;
  f.put("min.js", std::string(1'000'000, 'a') + "needle\n");
  f.put("wide.txt", "needle" + std::string(1000, 'b') + "\n");
  auto result = f.call("grep", {{"pattern", "needle"}});
  CHECK_FALSE(result.is_error);
  // min.js: the needle is past the matched head of its line.
  CHECK(result.content == "wide.txt:1:needle" + std::string(494, 'b') + " [line cut]\n");
}
