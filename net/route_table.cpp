#include "net/route_table.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/utf8.hpp"
#include "net/responses.hpp"

namespace sluice::net {
namespace {

// "/a/b" -> {"a", "b"}; "/" -> {""}. The caller checks the leading '/'.
std::vector<std::string> split_segments(std::string_view path) {
  std::vector<std::string> segments;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    segments.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_param(const std::string& pattern_segment) {
  return pattern_segment.size() > 1 && pattern_segment[0] == ':';
}

std::optional<PathParams> match(const std::vector<std::string>& pattern,
                                const std::vector<std::string>& segments) {
  if (pattern.size() != segments.size()) return std::nullopt;
  PathParams params;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (is_param(pattern[i])) {
      if (segments[i].empty()) return std::nullopt;
      params[pattern[i].substr(1)] = segments[i];
    } else if (pattern[i] != segments[i]) {
      return std::nullopt;
    }
  }
  return params;
}

std::string join_sorted_unique(std::vector<std::string> methods) {
  std::sort(methods.begin(), methods.end());
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  std::string joined;
  for (const auto& method : methods) {
    if (!joined.empty()) joined += ", ";
    joined += method;
  }
  return joined;
}

void answer_internal_error(const std::shared_ptr<Responder>& responder) {
  responder->respond(error_response(make_error(
      "internal_error", "The server failed while handling the request.", "Try again later.")));
}

}  // namespace

void RouteTable::add(Route route) {
  patterns_.push_back(split_segments(route.pattern));
  routes_.push_back(std::move(route));
}

void RouteTable::dispatch(HttpRequest request, std::shared_ptr<Responder> responder) const {
  if (request.path.empty() || request.path[0] != '/') {
    responder->respond(error_response(make_error(
        "invalid_request", "The request target is not an absolute path.", "Send a path like /x.")));
    return;
  }
  std::vector<std::string> segments;
  for (auto& raw : split_segments(request.path)) {
    auto decoded = percent_decode(raw);
    if (!decoded) {
      responder->respond(error_response(
          make_error("invalid_request", "The request path contains a malformed percent escape.",
                     "Encode '%' as %25 and write every escape as % followed by two hex digits.")));
      return;
    }
    segments.push_back(std::move(*decoded));
  }
  // Path segments and query parameters become identifiers and filters that
  // reach storage: PostgreSQL text holds neither NUL nor invalid UTF-8.
  const auto clean = [](const std::string& text) { return is_identifier_text(text); };
  bool query_clean = true;
  for (const auto& [name, value] : request.query_params()) {
    query_clean = query_clean && clean(name) && clean(value);
  }
  if (!std::all_of(segments.begin(), segments.end(), clean) || !query_clean) {
    responder->respond(error_response(make_error(
        "invalid_request", "The request path or query holds a NUL or invalid UTF-8.",
        "Percent-encode UTF-8 text; NUL is not allowed in a path or query.")));
    return;
  }

  std::vector<std::string> allowed;
  for (size_t i = 0; i < routes_.size(); ++i) {
    auto params = match(patterns_[i], segments);
    if (!params) continue;
    const Route& route = routes_[i];
    if (route.method != request.method) {
      allowed.push_back(route.method);
      continue;
    }
    try {
      route.handler(request, *params, responder);
    } catch (const std::exception& e) {
      spdlog::error("route {} {} threw: {}", route.method, route.pattern, e.what());
      answer_internal_error(responder);
    } catch (...) {
      spdlog::error("route {} {} threw a non-standard exception", route.method, route.pattern);
      answer_internal_error(responder);
    }
    return;
  }

  if (allowed.empty()) {
    responder->respond(error_response(make_error(
        "route_not_found", "No route matches " + request.method + " " + request.path + ".",
        "See /openapi.json for the available routes.")));
    return;
  }
  std::string allow = join_sorted_unique(std::move(allowed));
  responder->respond(error_response(
      make_error("method_not_allowed",
                 "Method " + request.method + " is not allowed on " + request.path + ".",
                 "Use one of: " + allow + "."),
      {{"Allow", allow}}));
}

}  // namespace sluice::net
