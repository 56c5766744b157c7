// UTF-8 checking, repair and cutting (core/utf8.hpp): one table of
// well-formed sequences serves identifiers, tool output and file contents.
#include <string>

#include <catch2/catch.hpp>

#include "core/utf8.hpp"

using sluice::cut_utf8;
using sluice::is_identifier_text;
using sluice::is_valid_utf8;
using sluice::to_valid_utf8;

namespace {
const std::string kFffd = "\xEF\xBF\xBD";
}

TEST_CASE("is_valid_utf8 follows the table of well-formed sequences") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain, \xC3\xA9t\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80"));
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  CHECK_FALSE(is_valid_utf8("bad\xFF"));
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong, three bytes
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("cut \xE2\x82"));      // a sequence cut at the end
}

TEST_CASE("an identifier is valid UTF-8 without NUL") {
  CHECK(is_identifier_text("session-\xC3\xA9"));
  CHECK_FALSE(is_identifier_text(std::string("a\0b", 3)));
  CHECK_FALSE(is_identifier_text("bad\xFF"));
}

TEST_CASE("valid UTF-8 passes unchanged and invalid sequences become U+FFFD") {
  const std::string valid = "plain, \xC3\xA9t\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80";
  CHECK(to_valid_utf8(valid) == valid);
  CHECK(to_valid_utf8(std::string("nul\0ok", 6)) == std::string("nul\0ok", 6));
  CHECK(to_valid_utf8("a\xFF"
                      "b") == "a" + kFffd + "b");
  CHECK(to_valid_utf8("\xC0\xAF") == kFffd + kFffd);                          // overlong '/'
  CHECK(to_valid_utf8("\xED\xA0\x80") == kFffd + kFffd + kFffd);              // a surrogate
  CHECK(to_valid_utf8("\xF4\x90\x80\x80") == kFffd + kFffd + kFffd + kFffd);  // past U+10FFFF
  CHECK(to_valid_utf8("cut \xE2\x82") == "cut " + kFffd + kFffd);
}

TEST_CASE("cut_utf8 never splits a character") {
  const std::string text =
      "ab\xE2\x82\xAC"
      "cd";  // a, b, euro sign, c, d
  CHECK(cut_utf8(text, 100) == text);
  CHECK(cut_utf8(text, 2) == "ab");
  CHECK(cut_utf8(text, 3) == "ab");
  CHECK(cut_utf8(text, 4) == "ab");
  CHECK(cut_utf8(text, 5) == "ab\xE2\x82\xAC");
}
