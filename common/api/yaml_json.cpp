// YAML::Load is not used: it builds yaml-cpp's node graph without bounds, a walker over it
// expands aliases without limit (the "billion laughs"), and yaml-cpp 0.7 returns the same empty
// document forever for a stream starting with ',' (jbeder/yaml-cpp#1040), so LoadAll never
// ends. Here parser events build the JSON value directly, every node (and every node an alias
// copies) counts against a bound, and at most two documents are asked for.
#include "common/api/yaml_json.hpp"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "common/util/json_depth.hpp"

namespace common::api::detail {
namespace {

using nlohmann::json;

struct Failure {
  std::string message;
};

std::string where(const YAML::Mark& m) {
  return "line " + std::to_string(m.line + 1) + ", column " + std::to_string(m.column + 1);
}

bool all_digits(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool float_shape(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    ++i;
  }
  std::size_t int_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    ++i;
    ++int_digits;
  }
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ++i;
      ++frac_digits;
    }
  }
  if (int_digits == 0 && frac_digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
      ++i;
    }
    if (!all_digits(s.substr(i))) {
      return false;
    }
    i = s.size();
  }
  return i == s.size();
}

// A plain scalar by the YAML 1.2 core schema.
json plain_scalar(const std::string& v) {
  if (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL") {
    return nullptr;
  }
  if (v == "true" || v == "True" || v == "TRUE") {
    return true;
  }
  if (v == "false" || v == "False" || v == "FALSE") {
    return false;
  }
  std::string_view s = v;
  bool negative = false;
  std::string_view digits = s;
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (s.starts_with("0x") || s.starts_with("0o")) {
    base = s[1] == 'x' ? 16 : 8;
    digits = s.substr(2);
    negative = false;
  }
  if (!digits.empty() && (base != 10 || all_digits(digits))) {
    std::uint64_t u = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
    if (ec == std::errc() && end == digits.data() + digits.size()) {
      if (!negative) {
        return u;
      }
      if (u <= static_cast<std::uint64_t>(INT64_MAX) + 1) {
        return u == static_cast<std::uint64_t>(INT64_MAX) + 1 ? json(INT64_MIN)
                                                              : json(-static_cast<std::int64_t>(u));
      }
    }
  }
  if (float_shape(s)) {
    return std::strtod(v.c_str(), nullptr);
  }
  return v; // .inf and .nan have no JSON form: kept as text
}

class Builder final : public YAML::EventHandler {
public:
  explicit Builder(const YamlLimits& limits) : m_limits(limits) {}

  bool has_root() const { return m_root.has_value(); }
  json take_root() { return std::move(*m_root); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(mark, json(nullptr), anchor, 1, /*key_ok=*/false);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = m_anchors.find(anchor);
    if (it == m_anchors.end()) {
      throw Failure{where(mark) + ": alias to an anchor not yet complete"};
    }
    add(mark, it->second.first, YAML::NullAnchor, it->second.second, false);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (expecting_key()) {
      Frame& f = m_stack.back();
      if (f.value.contains(value)) {
        throw Failure{where(mark) + ": duplicate mapping key \"" + value + "\""};
      }
      count(mark, 1);
      f.key = value;
      return;
    }
    bool text = tag == "!" || tag == "tag:yaml.org,2002:str";
    add(mark, text ? json(value) : plain_scalar(value), anchor, 1, true);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, json::array(), anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, json::object(), anchor);
  }
  void OnMapEnd() override { close(); }

private:
  struct Frame {
    json value;
    YAML::anchor_t anchor = YAML::NullAnchor;
    std::size_t nodes = 1;
    std::optional<std::string> key; // a mapping's key awaiting its value
  };

  bool expecting_key() const {
    return !m_stack.empty() && m_stack.back().value.is_object() && !m_stack.back().key;
  }

  void count(const YAML::Mark& mark, std::size_t n) {
    m_nodes += n;
    if (m_nodes > m_limits.max_nodes) {
      throw Failure{where(mark) + ": more than " + std::to_string(m_limits.max_nodes) +
                    " YAML nodes (aliases count every copy)"};
    }
  }

  void open(const YAML::Mark& mark, json value, YAML::anchor_t anchor) {
    if (expecting_key()) {
      throw Failure{where(mark) + ": mapping keys must be strings"};
    }
    if (m_stack.size() >= m_limits.max_depth) {
      throw Failure{where(mark) + ": more than " + std::to_string(m_limits.max_depth) +
                    " nested collections"};
    }
    count(mark, 1);
    m_stack.push_back(Frame{std::move(value), anchor, 1, std::nullopt});
  }

  void close() {
    Frame f = std::move(m_stack.back());
    m_stack.pop_back();
    place(std::move(f.value), f.anchor, f.nodes);
  }

  void add(const YAML::Mark& mark, json value, YAML::anchor_t anchor, std::size_t nodes,
           bool key_ok) {
    if (expecting_key()) {
      if (!key_ok || !value.is_null()) {
        throw Failure{where(mark) + ": mapping keys must be strings"};
      }
      throw Failure{where(mark) + ": empty mapping key"};
    }
    count(mark, nodes);
    place(std::move(value), anchor, nodes);
  }

  void place(json value, YAML::anchor_t anchor, std::size_t nodes) {
    if (anchor != YAML::NullAnchor) {
      m_anchors[anchor] = {value, nodes};
    }
    if (m_stack.empty()) {
      m_root = std::move(value);
      return;
    }
    Frame& parent = m_stack.back();
    parent.nodes += nodes;
    if (parent.value.is_array()) {
      parent.value.push_back(std::move(value));
    } else {
      parent.value[*parent.key] = std::move(value);
      parent.key.reset();
    }
  }

  const YamlLimits& m_limits;
  std::vector<Frame> m_stack;
  std::map<YAML::anchor_t, std::pair<json, std::size_t>> m_anchors;
  std::optional<json> m_root;
  std::size_t m_nodes = 0;
};

} // namespace

util::Result<std::string> yaml_to_json(std::string_view text, const YamlLimits& limits) {
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    Builder builder(limits);
    if (!parser.HandleNextDocument(builder) || !builder.has_root()) {
      return util::fail(util::ErrorKind::invalid_input, "invalid YAML: no document");
    }
    json root = builder.take_root();
    Builder rest(limits);
    if (parser.HandleNextDocument(rest)) {
      return util::fail(util::ErrorKind::invalid_input,
                        "invalid YAML: more than one document (send one object)");
    }
    return root.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const Failure& f) {
    return util::fail(util::ErrorKind::invalid_input, "invalid YAML: " + f.message);
  } catch (const YAML::Exception& e) {
    return util::fail(util::ErrorKind::invalid_input,
                      "invalid YAML: " + where(e.mark) + ": " + e.msg);
  } catch (const json::exception& e) {
    return util::fail(util::ErrorKind::invalid_input, std::string("invalid YAML: ") + e.what());
  }
}

util::Result<void> check_json_bounds(std::string_view text) {
  if (util::json_values(text, k_max_json_values) > k_max_json_values) {
    return util::fail(util::ErrorKind::invalid_input,
                      "invalid JSON: more than " + std::to_string(k_max_json_values) + " values");
  }
  if (util::json_nesting(text, k_max_json_depth) > k_max_json_depth) {
    return util::fail(util::ErrorKind::invalid_input, "invalid JSON: more than " +
                                                          std::to_string(k_max_json_depth) +
                                                          " nested values");
  }
  return {};
}

} // namespace common::api::detail
