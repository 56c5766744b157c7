#pragma once
// A request Beast has parsed, as the routes see it: method, raw path and
// query, header fields in arrival order (duplicates kept, so the front door
// can refuse them), body.
#include <utility>  // before Asio (GCC 12 + C++20)

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/http_types.hpp"

namespace sluice::net {

HttpRequest to_http_request(boost::beast::http::request<boost::beast::http::string_body>&& message);

}  // namespace sluice::net
