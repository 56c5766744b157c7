#include "net/http_types.hpp"

#include "core/text.hpp"
#include "net/responses.hpp"

namespace sluice::net {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Query strings follow the WHATWG URLSearchParams rules, which is what a Node
// server and every browser apply: '+' means a space, and a malformed escape is
// kept literally instead of rejecting the whole request.
std::string decode_form_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Calls visit(raw name, raw value) for each non-empty '&'-separated pair until
// it returns false. A name without '=' has the value "".
template <typename Visit>
void for_each_query_pair(std::string_view rest, Visit visit) {
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (!visit(pair.substr(0, eq), eq == std::string_view::npos ? "" : pair.substr(eq + 1))) return;
  }
}

}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

std::optional<std::string> HttpRequest::query_param(std::string_view name) const {
  std::optional<std::string> found;
  for_each_query_pair(query, [&](std::string_view raw_name, std::string_view raw_value) {
    if (decode_form_component(raw_name) != name) return true;
    found = decode_form_component(raw_value);
    return false;
  });
  return found;
}

std::vector<std::pair<std::string, std::string>> HttpRequest::query_params() const {
  std::vector<std::pair<std::string, std::string>> params;
  for_each_query_pair(query, [&](std::string_view raw_name, std::string_view raw_value) {
    params.emplace_back(decode_form_component(raw_name), decode_form_component(raw_value));
    return true;
  });
  return params;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

void Responder::upgrade_to_websocket(HttpRequest, WebSocketUpgrade) {
  respond(error_response(make_error("invalid_request", "This connection cannot become a WebSocket.",
                                    "Connect over HTTP/1.1 to the server itself.")));
}

}  // namespace sluice::net
