#include <catch2/catch.hpp>

#include "net/http_types.hpp"

using sluice::net::HttpRequest;
using sluice::net::percent_decode;

TEST_CASE("percent_decode decodes escapes and keeps '+'", "[net][http_types]") {
  CHECK(percent_decode("") == "");
  CHECK(percent_decode("plain") == "plain");
  CHECK(percent_decode("a%2Fb") == "a/b");
  CHECK(percent_decode("%41%62%7e") == "Ab~");
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(percent_decode("%25") == "%");
  CHECK(percent_decode("%E2%9C%93") == "\xE2\x9C\x93");
  CHECK(percent_decode("%00") == std::string(1, '\0'));
}

TEST_CASE("percent_decode rejects malformed escapes", "[net][http_types]") {
  CHECK_FALSE(percent_decode("%"));
  CHECK_FALSE(percent_decode("%4"));
  CHECK_FALSE(percent_decode("abc%"));
  CHECK_FALSE(percent_decode("%zz"));
  CHECK_FALSE(percent_decode("%g1"));
  CHECK_FALSE(percent_decode("a%2"));
}

TEST_CASE("header lookup is case-insensitive and takes the first", "[net][http_types]") {
  HttpRequest request;
  request.headers = {
      {"Content-Type", "application/json"}, {"X-Twice", "first"}, {"x-twice", "second"}};
  CHECK(request.header("content-type") == "application/json");
  CHECK(request.header("CONTENT-TYPE") == "application/json");
  CHECK(request.header("X-TWICE") == "first");
  CHECK(request.header("Missing") == "");
  CHECK(request.header("Content-Typ") == "");
}

TEST_CASE("query_param decodes like URLSearchParams", "[net][http_types]") {
  HttpRequest request;
  request.query = "a=1&b=x%20y&c=a+b&flag&e=%zz&a=2&&x%5Fy=under&empty=&types=a,b";
  CHECK(request.query_param("a") == "1");
  CHECK(request.query_param("b") == "x y");
  CHECK(request.query_param("c") == "a b");
  CHECK(request.query_param("flag") == "");
  CHECK(request.query_param("e") == "%zz");
  CHECK(request.query_param("x_y") == "under");
  CHECK(request.query_param("empty") == "");
  CHECK(request.query_param("types") == "a,b");
  CHECK_FALSE(request.query_param("missing"));
  CHECK_FALSE(request.query_param(""));

  HttpRequest no_query;
  CHECK_FALSE(no_query.query_param("a"));
}
