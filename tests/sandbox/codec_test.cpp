// The small codecs under the sandbox: UTF-8 repair and cutting, base64.
#include <catch2/catch.hpp>

#include "sandbox/base64.hpp"
#include "sandbox/sandbox.hpp"
#include "sandbox/utf8.hpp"

using sluice::sandbox::base64_decode;
using sluice::sandbox::base64_encode;
using sluice::sandbox::cut_utf8;
using sluice::sandbox::error_kind_from_name;
using sluice::sandbox::error_kind_name;
using sluice::sandbox::ErrorKind;
using sluice::sandbox::to_valid_utf8;

namespace {
const std::string kFffd = "\xEF\xBF\xBD";
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

TEST_CASE("base64 round trips every byte and refuses bad input") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t length : {0, 1, 2, 3, 4, 5, 256}) {
    std::string bytes = all.substr(0, length);
    CHECK(base64_decode(base64_encode(bytes)) == bytes);
  }
  CHECK(base64_encode("Man") == "TWFu");
  CHECK(base64_encode("Ma") == "TWE=");
  CHECK(base64_encode("M") == "TQ==");
  CHECK_FALSE(base64_decode("TWF").has_value());   // not a multiple of 4
  CHECK_FALSE(base64_decode("TW=u").has_value());  // padding inside
  CHECK_FALSE(base64_decode("TW\nu").has_value());
  CHECK_FALSE(base64_decode("====").has_value());
}

TEST_CASE("error kinds have stable wire names") {
  CHECK(error_kind_name(ErrorKind::kNotFound) == "not_found");
  CHECK(error_kind_name(ErrorKind::kNoSandbox) == "no_sandbox");
  CHECK(error_kind_from_name("not_empty") == ErrorKind::kNotEmpty);
  CHECK(error_kind_from_name("io_error") == ErrorKind::kIo);
  CHECK_FALSE(error_kind_from_name("unauthorized").has_value());
}
