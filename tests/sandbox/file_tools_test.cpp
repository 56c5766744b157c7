// read_file, write_file and edit_file over real files.
#include "tests/sandbox/tool_fixture.hpp"

using sluice::sandbox::test::ToolFixture;

TEST_CASE("read_file numbers lines and pages with offset and limit") {
  ToolFixture f;
  f.put("poem.txt", "one\ntwo\nthree\nfour\nfive\n");
  auto whole = f.call("read_file", {{"path", "poem.txt"}});
  CHECK_FALSE(whole.is_error);
  CHECK(whole.content == "     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour\n     5\tfive\n");

  auto page = f.call("read_file", {{"path", "poem.txt"}, {"offset", 2}, {"limit", 2}});
  CHECK(page.content == "     2\ttwo\n     3\tthree\n[lines 2-3 of 5; pass offset=4 to read on]\n");
  auto tail = f.call("read_file", {{"path", "poem.txt"}, {"offset", 5}});
  CHECK(tail.content == "     5\tfive\n[lines 5-5 of 5]\n");

  auto past = f.call("read_file", {{"path", "poem.txt"}, {"offset", 6}});
  CHECK(past.is_error);
  CHECK(past.content == "poem.txt has 5 lines; offset 6 is past the end");
}

TEST_CASE("read_file: no final newline, empty files, long lines, missing files") {
  ToolFixture f;
  f.put("partial.txt", "a\nb");
  CHECK(f.call("read_file", {{"path", "partial.txt"}}).content == "     1\ta\n     2\tb\n");
  f.put("empty.txt", "");
  auto empty = f.call("read_file", {{"path", "empty.txt"}});
  CHECK_FALSE(empty.is_error);
  CHECK(empty.content == "empty.txt is empty");

  f.put("long.txt", std::string(5000, 'x') + "\n");
  auto long_line = f.call("read_file", {{"path", "long.txt"}});
  CHECK(long_line.content == "     1\t" + std::string(2000, 'x') + " [line cut]\n");

  auto missing = f.call("read_file", {{"path", "nope.txt"}});
  CHECK(missing.is_error);
  CHECK_THAT(missing.content, Catch::Contains("cannot read"));
  CHECK_THAT(missing.content, Catch::Contains("nope.txt"));
}

TEST_CASE("write_file creates or replaces a file, folders included") {
  ToolFixture f;
  auto result = f.call("write_file", {{"path", "src/deep/new.txt"}, {"content", "héllo\n"}});
  CHECK_FALSE(result.is_error);
  CHECK(result.content == "wrote 7 bytes to src/deep/new.txt");
  CHECK(f.get("src/deep/new.txt") == "héllo\n");
  f.call("write_file", {{"path", "src/deep/new.txt"}, {"content", ""}});
  CHECK(f.get("src/deep/new.txt").empty());

  std::filesystem::create_directories(f.dir / "folder");
  auto onto_folder = f.call("write_file", {{"path", "folder"}, {"content", "x"}});
  CHECK(onto_folder.is_error);
  CHECK_THAT(onto_folder.content, Catch::Contains("folder"));
}

TEST_CASE("edit_file replaces exactly one occurrence") {
  ToolFixture f;
  f.put("code.cpp", "int a = 1;\nint b = 2;\n");
  auto result =
      f.call("edit_file", {{"path", "code.cpp"}, {"old_string", "b = 2"}, {"new_string", "b = 3"}});
  CHECK_FALSE(result.is_error);
  CHECK(result.content == "replaced 1 occurrence in code.cpp");
  CHECK(f.get("code.cpp") == "int a = 1;\nint b = 3;\n");
}

TEST_CASE("edit_file keeps bytes that are not UTF-8 elsewhere in the file") {
  ToolFixture f;
  f.put("latin1.txt", "caf\xE9 = old\n");
  auto result =
      f.call("edit_file", {{"path", "latin1.txt"}, {"old_string", "old"}, {"new_string", "new"}});
  CHECK_FALSE(result.is_error);
  CHECK(f.get("latin1.txt") == "caf\xE9 = new\n");
}

TEST_CASE("edit_file fails clearly and changes nothing") {
  ToolFixture f;
  f.put("code.cpp", "x = 1;\nx = 1;\ny = 2;\n");
  auto absent =
      f.call("edit_file", {{"path", "code.cpp"}, {"old_string", "z = 9"}, {"new_string", "q"}});
  CHECK(absent.is_error);
  CHECK_THAT(absent.content, Catch::StartsWith("old_string was not found in code.cpp"));

  auto twice =
      f.call("edit_file", {{"path", "code.cpp"}, {"old_string", "x = 1;"}, {"new_string", "q"}});
  CHECK(twice.is_error);
  CHECK_THAT(twice.content, Catch::StartsWith("old_string occurs 2 times in code.cpp"));

  auto empty = f.call("edit_file", {{"path", "code.cpp"}, {"old_string", ""}, {"new_string", "q"}});
  CHECK(empty.is_error);
  CHECK_THAT(empty.content, Catch::Contains("write_file"));

  auto same = f.call("edit_file", {{"path", "code.cpp"}, {"old_string", "y"}, {"new_string", "y"}});
  CHECK(same.is_error);
  CHECK(same.content == "old_string and new_string are the same");
  CHECK(f.get("code.cpp") == "x = 1;\nx = 1;\ny = 2;\n");

  auto missing =
      f.call("edit_file", {{"path", "nope.cpp"}, {"old_string", "a"}, {"new_string", "b"}});
  CHECK(missing.is_error);
  CHECK_THAT(missing.content, Catch::Contains("nope.cpp"));
}
