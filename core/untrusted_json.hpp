#pragma once
// JSON from outside the process (a client's body or frame, a peer's envelope,
// a model provider's stream, a model's tool arguments, a remote sandbox's
// answer), parsed with a bound on nesting. nlohmann's own parser is iterative,
// but dumping, comparing and the msgpack reader recurse once per level: a
// value nested 100,000 levels deep would overflow the stack wherever it goes
// next. Anything deeper than the limit is refused at the door instead.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sluice {

inline constexpr int kMaxJsonDepth = 512;

enum class JsonProblem { none, invalid, too_deep };

struct UntrustedJson {
  nlohmann::json value;  // discarded unless problem is none
  JsonProblem problem = JsonProblem::none;

  bool ok() const { return problem == JsonProblem::none; }
};

// JSON text; never throws.
UntrustedJson parse_untrusted_json(std::string_view text, int max_depth = kMaxJsonDepth);
// MessagePack bytes (the node-to-node envelope); never throws.
UntrustedJson parse_untrusted_msgpack(const uint8_t* data, size_t size,
                                      int max_depth = kMaxJsonDepth);

}  // namespace sluice
