#include "core/untrusted_json.hpp"

namespace sluice {
namespace {

using nlohmann::json;

// Builds the value as nlohmann's DOM parser does, and stops the parse (which
// then unwinds the reader's recursion too) past the depth limit.
class DepthLimitedDom {
 public:
  DepthLimitedDom(json& result, int max_depth) : dom_(result, false), max_depth_(max_depth) {}

  bool null() { return dom_.null(); }
  bool boolean(bool value) { return dom_.boolean(value); }
  bool number_integer(json::number_integer_t value) { return dom_.number_integer(value); }
  bool number_unsigned(json::number_unsigned_t value) { return dom_.number_unsigned(value); }
  bool number_float(json::number_float_t value, const json::string_t& text) {
    return dom_.number_float(value, text);
  }
  bool string(json::string_t& value) { return dom_.string(value); }
  bool binary(json::binary_t& value) { return dom_.binary(value); }
  bool key(json::string_t& value) { return dom_.key(value); }
  bool start_object(std::size_t size) { return enter() && dom_.start_object(size); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t size) { return enter() && dom_.start_array(size); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& error) {
    invalid_ = true;
    return dom_.parse_error(position, token, error);
  }

  JsonProblem problem() const {
    if (too_deep_) return JsonProblem::too_deep;
    return invalid_ || dom_.is_errored() ? JsonProblem::invalid : JsonProblem::none;
  }

 private:
  bool enter() {
    if (++depth_ <= max_depth_) return true;
    too_deep_ = true;
    return false;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  const int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
  bool invalid_ = false;
};

template <typename Parse>
UntrustedJson parse_with(int max_depth, Parse parse) {
  UntrustedJson out;
  DepthLimitedDom sax(out.value, max_depth);
  const bool complete = parse(sax);
  out.problem = sax.problem();
  if (out.problem == JsonProblem::none && !complete) out.problem = JsonProblem::invalid;
  if (!out.ok()) out.value = json(json::value_t::discarded);
  return out;
}

}  // namespace

UntrustedJson parse_untrusted_json(std::string_view text, int max_depth) {
  return parse_with(max_depth, [&](DepthLimitedDom& sax) {
    return json::sax_parse(text.begin(), text.end(), &sax);
  });
}

UntrustedJson parse_untrusted_msgpack(const uint8_t* data, size_t size, int max_depth) {
  return parse_with(max_depth, [&](DepthLimitedDom& sax) {
    return json::sax_parse(data, data + size, &sax, json::input_format_t::msgpack);
  });
}

}  // namespace sluice
