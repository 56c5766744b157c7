// The small codecs under the sandbox: base64 and error kind names.
#include <catch2/catch.hpp>

#include "sandbox/base64.hpp"
#include "sandbox/sandbox.hpp"

using sluice::sandbox::base64_decode;
using sluice::sandbox::base64_encode;
using sluice::sandbox::error_kind_from_name;
using sluice::sandbox::error_kind_name;
using sluice::sandbox::ErrorKind;

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
