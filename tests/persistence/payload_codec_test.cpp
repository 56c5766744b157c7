#include "persistence/payload_codec.hpp"

#include <catch2/catch.hpp>
#include <msgpack.hpp>

namespace sluice::persistence {
namespace {

// Packs a map written by hand, to stand in for payloads of other versions.
template <class Fill>
std::string handmade(uint32_t fields, Fill fill) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(buffer);
  packer.pack_map(fields);
  fill(packer);
  return std::string(buffer.data(), buffer.size());
}

TEST_CASE("a submission input round-trips", "[payload]") {
  std::string bytes;
  const std::vector<std::string> texts = {"", "hello", std::string("bin\0ary", 7),
                                          std::string(70000, 'x')};
  for (const std::string& text : texts) {
    encode_submission_input(text, bytes);
    CHECK(decode_submission_input(bytes) == text);
  }
}

TEST_CASE("a history entry's content round-trips", "[payload]") {
  HistoryEntry full;
  full.text = "The answer is 42. \xe2\x9c\x93";
  full.tool_name = "calculator";
  full.tool_call_id = "call_9";
  full.args_json = R"({"expr":"6*7"})";
  full.result_json = R"({"value":42})";
  full.is_error = true;
  std::string bytes;
  encode_entry_content(full, bytes);

  HistoryEntry decoded;
  decoded.text = "stale content the decoder must replace";
  decode_entry_content(bytes, decoded);
  CHECK(decoded.text == full.text);
  CHECK(decoded.tool_name == full.tool_name);
  CHECK(decoded.tool_call_id == full.tool_call_id);
  CHECK(decoded.args_json == full.args_json);
  CHECK(decoded.result_json == full.result_json);
  CHECK(decoded.is_error);

  HistoryEntry sparse;
  sparse.text = "only text";
  encode_entry_content(sparse, bytes);
  decode_entry_content(bytes, decoded);
  CHECK(decoded.text == "only text");
  CHECK(decoded.tool_name.empty());
  CHECK(decoded.args_json.empty());
  CHECK_FALSE(decoded.is_error);
}

TEST_CASE("payloads are msgpack maps carrying version 1", "[payload]") {
  std::string bytes;
  encode_submission_input("hi", bytes);
  const msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size());
  const msgpack::object& map = handle.get();
  REQUIRE(map.type == msgpack::type::MAP);
  REQUIRE(map.via.map.size == 2);
  CHECK(map.via.map.ptr[0].key.as<std::string>() == "v");
  CHECK(map.via.map.ptr[0].val.as<int>() == 1);
  CHECK(map.via.map.ptr[1].key.as<std::string>() == "text");
  CHECK(map.via.map.ptr[1].val.as<std::string>() == "hi");
}

TEST_CASE("a payload from a newer version is refused", "[payload]") {
  const std::string future = handmade(2, [](auto& packer) {
    packer.pack(std::string("v"));
    packer.pack(2);
    packer.pack(std::string("text"));
    packer.pack(std::string("from tomorrow"));
  });
  CHECK_THROWS_AS(decode_submission_input(future), PayloadError);
  CHECK_THROWS_WITH(decode_submission_input(future),
                    Catch::Contains("version 2 is newer than this build reads (1)"));
  HistoryEntry entry;
  CHECK_THROWS_WITH(decode_entry_content(future, entry), Catch::Contains("history entry"));
}

TEST_CASE("unknown keys of a known version are ignored", "[payload]") {
  const std::string with_extra = handmade(3, [](auto& packer) {
    packer.pack(std::string("text"));
    packer.pack(std::string("hello"));
    packer.pack(std::string("future_optional_field"));
    packer.pack(17);
    packer.pack(std::string("v"));
    packer.pack(1);
  });
  CHECK(decode_submission_input(with_extra) == "hello");
}

TEST_CASE("malformed payloads are refused with a reason", "[payload]") {
  const std::string no_version = handmade(1, [](auto& packer) {
    packer.pack(std::string("text"));
    packer.pack(std::string("x"));
  });
  CHECK_THROWS_WITH(decode_submission_input(no_version), Catch::Contains("no version"));

  const std::string wrong_type = handmade(2, [](auto& packer) {
    packer.pack(std::string("v"));
    packer.pack(1);
    packer.pack(std::string("text"));
    packer.pack(5);
  });
  CHECK_THROWS_WITH(decode_submission_input(wrong_type), Catch::Contains("'text' is not a string"));

  CHECK_THROWS_AS(decode_submission_input(""), PayloadError);
  CHECK_THROWS_AS(decode_submission_input("\x93\x01\x02\x03"), PayloadError);  // an array
  std::string good;
  encode_submission_input("x", good);
  CHECK_THROWS_WITH(decode_submission_input(good + "\x01"), Catch::Contains("trailing"));
}

TEST_CASE("a declared length the bytes cannot hold is refused before allocating", "[payload]") {
  // fuzz/corpus/payload_codec/crash-map32-*: a map32 header declaring about
  // 2^32 entries made msgpack preallocate 256 GiB for a 24-byte payload.
  const std::string map32 = std::string("\x83\xa1v\xdf\xfb\xff\xff\xfd", 8) + "t";
  CHECK_THROWS_WITH(decode_submission_input(map32), Catch::Contains("size overflow"));
  const std::string array32 = std::string("\x82\xa1v\x01\xa4text\xdd\x7f\xff\xff\xff", 14);
  CHECK_THROWS_WITH(decode_submission_input(array32), Catch::Contains("size overflow"));
  // A string is only taken once all its bytes are there: refused, allocating nothing.
  const std::string str32 = std::string(
      "\x82\xa1v\x01\xa4text\xdb\x7f\xff\xff\xff"
      "ab",
      16);
  CHECK_THROWS_WITH(decode_submission_input(str32), Catch::Contains("insufficient bytes"));
}

}  // namespace
}  // namespace sluice::persistence
