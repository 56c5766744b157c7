#include "core/session_key.hpp"

#include <functional>

namespace sluice {
namespace {

void append_escaped(std::string& out, const std::string& part) {
  for (char c : part) {
    if (c == '%') {
      out += "%25";
    } else if (c == '/') {
      out += "%2F";
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string SessionKey::str() const {
  std::string out;
  out.reserve(agent.size() + instance.size() + session.size() + 2);
  append_escaped(out, agent);
  out += '/';
  append_escaped(out, instance);
  out += '/';
  append_escaped(out, session);
  return out;
}

std::string SessionKey::instance_id() const {
  std::string out;
  append_escaped(out, agent);
  out += '/';
  append_escaped(out, instance);
  return out;
}

size_t SessionKeyHash::operator()(const SessionKey& key) const {
  std::hash<std::string> h;
  size_t seed = h(key.agent);
  seed ^= h(key.instance) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  seed ^= h(key.session) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  return seed;
}

}  // namespace sluice
