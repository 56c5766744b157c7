#include "net/http_wire.hpp"

#include <array>
#include <cstdio>

#include <spdlog/spdlog.h>
#include <boost/beast/http/status.hpp>

#include "core/text.hpp"

namespace sluice::net::wire {
namespace {

// RFC 9110 token characters.
bool is_token(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool is_safe_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_server_owned(std::string_view name) {
  for (std::string_view owned :
       {"Content-Length", "Transfer-Encoding", "Connection", "Server", "Content-Type"}) {
    if (iequals(name, owned)) return true;
  }
  return false;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

std::pair<std::string, std::string> split_target(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!istarts_with(target, scheme)) continue;
    std::string_view rest = target.substr(scheme.size());
    size_t path_start = rest.find_first_of("/?");
    if (path_start == std::string_view::npos) return {"/", ""};
    target = rest.substr(path_start);
    if (target[0] == '?') return {"/", std::string(target.substr(1))};
    break;
  }
  size_t question = target.find('?');
  if (question == std::string_view::npos) return {std::string(target), ""};
  return {std::string(target.substr(0, question)), std::string(target.substr(question + 1))};
}

std::string encode_head(const ResponseHead& head) {
  namespace http = boost::beast::http;
  std::string out;
  out.reserve(256);
  out.append("HTTP/1.1 ");
  out.append(std::to_string(head.status));
  out.push_back(' ');
  auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(head.status)));
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  append_field(out, "Server", "sluice");
  if (!head.content_type.empty()) append_field(out, "Content-Type", head.content_type);
  if (head.headers) {
    for (const auto& [name, value] : *head.headers) {
      if (!is_token(name) || !is_safe_value(value) || is_server_owned(name)) {
        spdlog::warn("dropping response header field '{}'", name);
        continue;
      }
      append_field(out, name, value);
    }
  }
  switch (head.framing) {
    case Framing::kContentLength:
      if (has_body_status(head.status)) {
        append_field(out, "Content-Length", std::to_string(head.content_length));
      }
      break;
    case Framing::kChunked:
      append_field(out, "Transfer-Encoding", "chunked");
      break;
    case Framing::kUntilClose:
      break;
  }
  if (!head.keep_alive) {
    append_field(out, "Connection", "close");
  } else if (head.http10_client) {
    append_field(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
  return out;
}

bool has_body_status(int status) {
  return status != 204 && status != 304;
}

std::string encode_chunk(std::string_view data) {
  std::array<char, 20> size{};
  int length = std::snprintf(size.data(), size.size(), "%zx\r\n", data.size());
  std::string out;
  out.reserve(static_cast<size_t>(length) + data.size() + 2);
  out.append(size.data(), static_cast<size_t>(length));
  out.append(data);
  out.append("\r\n");
  return out;
}

}  // namespace sluice::net::wire
