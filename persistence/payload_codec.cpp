#include "persistence/payload_codec.hpp"

#include <msgpack.hpp>

namespace sluice::persistence {
namespace {

// msgpack's packer writes to anything with write(const char*, size_t).
struct StringSink {
  std::string& out;
  void write(const char* data, size_t size) { out.append(data, size); }
};

using Packer = msgpack::packer<StringSink>;

void pack_text(Packer& packer, std::string_view key, const std::string& value) {
  packer.pack(key);
  packer.pack(value);
}

// A stored payload is a shallow map; deeper nesting is damage, not data.
constexpr size_t kMaxPayloadDepth = 16;

// msgpack preallocates a container from its declared length, so five bytes
// declaring a map of 2^32 entries asked for 256 GiB (found by
// fuzz/payload_codec_fuzz.cpp). Every element takes at least one byte (a map
// entry two), so no honest length exceeds what the bytes can hold.
msgpack::unpack_limit limits_for(std::string_view bytes) {
  const size_t size = bytes.size();
  return msgpack::unpack_limit(size, size / 2, size, size, size, kMaxPayloadDepth);
}

// The decoded map of one payload, checked for a version this build can read.
class PayloadMap {
 public:
  PayloadMap(std::string_view bytes, const char* what) : what_(what) {
    size_t offset = 0;
    try {
      handle_ =
          msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limits_for(bytes));
    } catch (const std::exception& e) {
      fail(std::string("not valid msgpack (") + e.what() + ")");
    }
    if (offset != bytes.size()) fail("trailing bytes after the msgpack map");
    if (handle_.get().type != msgpack::type::MAP) fail("not a msgpack map");
    check_version();
  }

  // Calls visit(key, value) for every entry but the version.
  template <class Visit>
  void for_each(Visit visit) const {
    const auto& map = handle_.get().via.map;
    for (uint32_t i = 0; i < map.size; ++i) {
      const std::string_view key = key_of(map.ptr[i].key);
      if (key != "v") visit(key, map.ptr[i].val);
    }
  }

  std::string text(const msgpack::object& value, std::string_view key) const {
    if (value.type != msgpack::type::STR) fail("field '" + std::string(key) + "' is not a string");
    return std::string(value.via.str.ptr, value.via.str.size);
  }

  bool boolean(const msgpack::object& value, std::string_view key) const {
    if (value.type != msgpack::type::BOOLEAN) {
      fail("field '" + std::string(key) + "' is not a boolean");
    }
    return value.via.boolean;
  }

 private:
  void check_version() const {
    const auto& map = handle_.get().via.map;
    for (uint32_t i = 0; i < map.size; ++i) {
      if (key_of(map.ptr[i].key) != "v") continue;
      const msgpack::object& v = map.ptr[i].val;
      if (v.type != msgpack::type::POSITIVE_INTEGER) fail("version is not a positive integer");
      if (v.via.u64 > static_cast<uint64_t>(kPayloadVersion)) {
        fail("version " + std::to_string(v.via.u64) + " is newer than this build reads (" +
             std::to_string(kPayloadVersion) + "); upgrade sluice");
      }
      return;
    }
    fail("no version field 'v'");
  }

  std::string_view key_of(const msgpack::object& key) const {
    if (key.type != msgpack::type::STR) fail("a map key is not a string");
    return {key.via.str.ptr, key.via.str.size};
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw PayloadError(std::string("stored ") + what_ + " payload: " + why);
  }

  const char* what_;
  msgpack::object_handle handle_;
};

}  // namespace

void encode_submission_input(const std::string& input_text, std::string& out) {
  out.clear();
  StringSink sink{out};
  Packer packer(sink);
  packer.pack_map(2);
  packer.pack(std::string_view("v"));
  packer.pack(kPayloadVersion);
  pack_text(packer, "text", input_text);
}

std::string decode_submission_input(std::string_view bytes) {
  const PayloadMap map(bytes, "submission input");
  std::string text;
  map.for_each([&](std::string_view key, const msgpack::object& value) {
    if (key == "text") text = map.text(value, key);
  });
  return text;
}

void encode_entry_content(const HistoryEntry& entry, std::string& out) {
  const std::pair<std::string_view, const std::string*> texts[] = {
      {"text", &entry.text},
      {"tool_name", &entry.tool_name},
      {"tool_call_id", &entry.tool_call_id},
      {"args_json", &entry.args_json},
      {"result_json", &entry.result_json},
  };
  uint32_t fields = 1 + (entry.is_error ? 1 : 0);
  for (const auto& [key, value] : texts) fields += value->empty() ? 0 : 1;

  out.clear();
  StringSink sink{out};
  Packer packer(sink);
  packer.pack_map(fields);
  packer.pack(std::string_view("v"));
  packer.pack(kPayloadVersion);
  for (const auto& [key, value] : texts) {
    if (!value->empty()) pack_text(packer, key, *value);
  }
  if (entry.is_error) {
    packer.pack(std::string_view("is_error"));
    packer.pack(true);
  }
}

void decode_entry_content(std::string_view bytes, HistoryEntry& entry) {
  const PayloadMap map(bytes, "history entry");
  entry.text.clear();
  entry.tool_name.clear();
  entry.tool_call_id.clear();
  entry.args_json.clear();
  entry.result_json.clear();
  entry.is_error = false;
  map.for_each([&](std::string_view key, const msgpack::object& value) {
    if (key == "text") {
      entry.text = map.text(value, key);
    } else if (key == "tool_name") {
      entry.tool_name = map.text(value, key);
    } else if (key == "tool_call_id") {
      entry.tool_call_id = map.text(value, key);
    } else if (key == "args_json") {
      entry.args_json = map.text(value, key);
    } else if (key == "result_json") {
      entry.result_json = map.text(value, key);
    } else if (key == "is_error") {
      entry.is_error = map.boolean(value, key);
    }
  });
}

}  // namespace sluice::persistence
