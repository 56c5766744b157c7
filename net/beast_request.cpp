#include "net/beast_request.hpp"

#include <iterator>
#include <string>
#include <string_view>
#include <tuple>

#include "net/http_wire.hpp"

namespace sluice::net {
namespace {

std::string view(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

}  // namespace

HttpRequest to_http_request(
    boost::beast::http::request<boost::beast::http::string_body>&& message) {
  HttpRequest request;
  request.method = view(message.method_string());
  std::tie(request.path, request.query) = wire::split_target(view(message.target()));
  request.headers.reserve(static_cast<size_t>(std::distance(message.begin(), message.end())));
  for (const auto& field : message) {
    request.headers.emplace_back(view(field.name_string()), view(field.value()));
  }
  request.body = std::move(message.body());
  return request;
}

}  // namespace sluice::net
