#pragma once
// The session key (agent, instance id, session name): the unit of ordering,
// ownership and storage.
#include <compare>
#include <string>

namespace sluice {

struct SessionKey {
  std::string agent;
  std::string instance;
  std::string session = "default";

  // Unambiguous string form: each part percent-escapes '/' and '%', so parts that
  // themselves contain '/' can never collide with another key.
  std::string str() const;
  // Agent instance id as events show it: "<agent>/<instance>" with the same escaping.
  std::string instance_id() const;

  auto operator<=>(const SessionKey&) const = default;
};

struct SessionKeyHash {
  size_t operator()(const SessionKey& key) const;
};

}  // namespace sluice
