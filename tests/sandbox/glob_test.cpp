// Glob matching as list_files and grep use it.
#include <catch2/catch.hpp>

#include "sandbox/glob.hpp"

using sluice::sandbox::glob_match;
using sluice::sandbox::glob_may_match_below;

TEST_CASE("wildcards stay within one segment and ** spans segments") {
  CHECK(glob_match("*.cpp", "main.cpp"));
  CHECK_FALSE(glob_match("*.cpp", "src/main.cpp"));
  CHECK(glob_match("src/*.cpp", "src/main.cpp"));
  CHECK(glob_match("src/**/*.cpp", "src/main.cpp"));
  CHECK(glob_match("src/**/*.cpp", "src/a/b/main.cpp"));
  CHECK_FALSE(glob_match("src/**/*.cpp", "lib/main.cpp"));
  CHECK(glob_match("**", "a/b/c"));
  CHECK(glob_match("**/x", "x"));
  CHECK(glob_match("a?c", "abc"));
  CHECK_FALSE(glob_match("a?c", "ac"));
  CHECK(glob_match("[ab]*.[ch]", "beta.h"));
  CHECK(glob_match("[a-c]x", "bx"));
  CHECK_FALSE(glob_match("[!a-c]x", "bx"));
  CHECK(glob_match("[x", "[x"));  // an unclosed [ is literal
  CHECK(glob_match("*a*b*", "xxaxxbxx"));
  CHECK_FALSE(glob_match("*a*b", "xxaxxbxx"));
}

TEST_CASE("hidden entries match only when the pattern names the dot") {
  CHECK_FALSE(glob_match("*", ".env"));
  CHECK(glob_match(".*", ".env"));
  CHECK_FALSE(glob_match("**/*.txt", ".git/a.txt"));
  CHECK(glob_match(".git/*.txt", ".git/a.txt"));
  CHECK(glob_match("**/.env", "app/.env"));
}

TEST_CASE("a search can skip folders a pattern cannot reach") {
  CHECK(glob_may_match_below("src/**/*.cpp", "src"));
  CHECK(glob_may_match_below("src/**/*.cpp", "src/a/b"));
  CHECK_FALSE(glob_may_match_below("src/**/*.cpp", "lib"));
  CHECK_FALSE(glob_may_match_below("*.txt", "sub"));
  CHECK(glob_may_match_below("*/*.txt", "sub"));
  CHECK_FALSE(glob_may_match_below("*/*.txt", "sub/deeper"));
  CHECK_FALSE(glob_may_match_below("**/*.txt", ".git"));
}
