// .env files: the parsing rules, errors naming FILE:LINE, and precedence of
// already exported variables.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "node/dotenv.hpp"
#include "support/temp_dir.hpp"

using sluice::node::apply_dotenv;
using sluice::node::DotenvEntries;
using sluice::node::DotenvError;
using sluice::node::load_dotenv;
using sluice::node::parse_dotenv;
using sluice::test::TempDir;

namespace {

using Pair = std::pair<std::string, std::string>;

std::string error_of(const std::string& text) {
  try {
    parse_dotenv(text, "proj/.env");
  } catch (const DotenvError& error) {
    return error.what();
  }
  return "(no error)";
}

// Removes the variables a test sets, also when it fails.
struct ScopedUnset {
  std::vector<std::string> names;
  ~ScopedUnset() {
    for (const auto& name : names) unsetenv(name.c_str());
  }
};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "(unset)";
}

}  // namespace

TEST_CASE("dotenv: plain, exported, quoted and commented lines", "[dotenv]") {
  const DotenvEntries entries = parse_dotenv(
      "# a comment\n"
      "\n"
      "PLAIN=value\n"
      "  SPACED = padded value   \n"
      "export EXPORTED=yes\n"
      "COMMENTED=abc # not part of it\n"
      "HASH=a#b\n"
      "EMPTY=\n"
      "SINGLE='literal $HOME \\n # kept'\n"
      "DOUBLE=\"line\\nnext \\\"q\\\" back\\\\slash\" # trailing comment\n"
      "UNKNOWN_ESCAPE=\"a\\qb\"\n"
      "MULTI=\"first\n"
      "second\"\n"
      "CRLF=windows\r\n"
      "_under_9=1\n",
      "x");
  CHECK(entries == DotenvEntries{Pair{"PLAIN", "value"}, Pair{"SPACED", "padded value"},
                                 Pair{"EXPORTED", "yes"}, Pair{"COMMENTED", "abc"},
                                 Pair{"HASH", "a#b"}, Pair{"EMPTY", ""},
                                 Pair{"SINGLE", "literal $HOME \\n # kept"},
                                 Pair{"DOUBLE", "line\nnext \"q\" back\\slash"},
                                 Pair{"UNKNOWN_ESCAPE", "a\\qb"}, Pair{"MULTI", "first\nsecond"},
                                 Pair{"CRLF", "windows"}, Pair{"_under_9", "1"}});
}

TEST_CASE("dotenv: malformed lines are errors naming the file and the line", "[dotenv]") {
  CHECK(error_of("A=1\nJUSTAWORD\n") == "proj/.env:2: expected '=' after JUSTAWORD");
  CHECK(error_of("A=1\n\n1ABC=2\n").rfind("proj/.env:3: expected KEY=value", 0) == 0);
  CHECK(error_of("=nokey\n").rfind("proj/.env:1: expected KEY=value", 0) == 0);
  CHECK(error_of("BAD-KEY=1\n") == "proj/.env:1: expected '=' after BAD");
  CHECK(error_of("A=1\nB=\"open\nC=2\n") ==
        "proj/.env:2: unterminated double-quoted value (no closing \")");
  CHECK(error_of("X='open") == "proj/.env:1: unterminated single-quoted value (no closing ')");
  CHECK(error_of("Q=\"done\" extra\n") == "proj/.env:1: unexpected text after the closing quote");
  // The line of a later error counts the lines of a multi-line value before it.
  CHECK(error_of("M=\"a\nb\nc\"\nbroken\n") == "proj/.env:4: expected '=' after broken");
}

TEST_CASE("dotenv: exported variables win, the file's last value fills the rest", "[dotenv]") {
  ScopedUnset cleanup{{"SLUICE_DOTENV_T_EXPORTED", "SLUICE_DOTENV_T_EMPTY", "SLUICE_DOTENV_T_NEW"}};
  setenv("SLUICE_DOTENV_T_EXPORTED", "from-shell", 1);
  setenv("SLUICE_DOTENV_T_EMPTY", "", 1);
  unsetenv("SLUICE_DOTENV_T_NEW");
  const size_t applied = apply_dotenv({{"SLUICE_DOTENV_T_EXPORTED", "from-file"},
                                       {"SLUICE_DOTENV_T_EMPTY", "from-file"},
                                       {"SLUICE_DOTENV_T_NEW", "first"},
                                       {"SLUICE_DOTENV_T_NEW", "second"}});
  CHECK(applied == 1);
  CHECK(env("SLUICE_DOTENV_T_EXPORTED") == "from-shell");
  CHECK(env("SLUICE_DOTENV_T_EMPTY").empty());  // exported empty still counts as exported
  CHECK(env("SLUICE_DOTENV_T_NEW") == "second");
}

TEST_CASE("dotenv: the project's .env is optional, an explicit file is not", "[dotenv]") {
  ScopedUnset cleanup{{"SLUICE_DOTENV_T_DEFAULT", "SLUICE_DOTENV_T_CHOSEN"}};
  TempDir dir;
  CHECK(load_dotenv(dir.path(), "").empty());  // no .env: nothing loaded, no error

  std::ofstream(dir / ".env") << "SLUICE_DOTENV_T_DEFAULT=d\n";
  std::ofstream(dir / "other.env") << "SLUICE_DOTENV_T_CHOSEN=c\n";
  CHECK(load_dotenv(dir.path(), dir / "other.env") == dir / "other.env");
  CHECK(env("SLUICE_DOTENV_T_CHOSEN") == "c");
  CHECK(env("SLUICE_DOTENV_T_DEFAULT") == "(unset)");  // --env replaces the default file
  CHECK(load_dotenv(dir.path(), "") == dir / ".env");
  CHECK(env("SLUICE_DOTENV_T_DEFAULT") == "d");

  const auto missing = dir / "missing.env";
  CHECK_THROWS_WITH(load_dotenv(dir.path(), missing),
                    missing.string() + ": no such file (given with --env)");
  std::ofstream(dir / "bad.env") << "OK=1\n\nnot a line\n";
  CHECK_THROWS_WITH(load_dotenv(dir.path(), dir / "bad.env"),
                    (dir / "bad.env").string() + ":3: expected '=' after not");
}
