#include "common/spec/reader.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "common/util/strings.hpp"

namespace common::spec::detail {
namespace {

std::string fold(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '-' && c != '_') {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const char* kind_name(NodeKind kind) {
  switch (kind) {
  case NodeKind::null:
    return "null";
  case NodeKind::scalar:
    return "a string";
  case NodeKind::sequence:
    return "a list";
  case NodeKind::mapping:
    return "a mapping";
  }
  return "?";
}

} // namespace

std::string child_path(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (key.find_first_of(".[]\"") != std::string_view::npos) {
    out += "[\"";
    for (char c : key) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
      }
      out.push_back(c);
    }
    out += "\"]";
    return out;
  }
  if (!out.empty()) {
    out.push_back('.');
  }
  out += key;
  return out;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string closest_name(std::string_view name, std::initializer_list<std::string_view> known) {
  std::string folded = fold(name);
  std::string best;
  std::size_t best_distance = 3;
  for (std::string_view k : known) {
    if (fold(k) == folded) {
      return std::string(k);
    }
    std::size_t d = edit_distance(name, k);
    if (d < best_distance && d < k.size()) {
      best_distance = d;
      best = k;
    }
  }
  return best;
}

Diagnostic make_diagnostic(Severity severity, std::string_view file, std::size_t document,
                           const std::string& field, Location at, std::string message) {
  if (!field.empty() && message.find(field) == std::string::npos) {
    message = field + ": " + message;
  }
  return {severity, std::string(file), static_cast<int>(document), field,
          at.line,  at.column,         std::move(message)};
}

std::string quoting(std::string_view value, std::string_view what, const std::string& message) {
  const std::string quoted = util::quote(value);
  if (message.find(quoted) != std::string::npos) {
    return message;
  }
  return std::string(what) + " " + quoted + ": " + message;
}

void Reader::error(const std::string& field, Location at, std::string message) {
  m_out.push_back(
      make_diagnostic(Severity::error, m_file, m_doc.index, field, at, std::move(message)));
}

void Reader::warning(const std::string& field, Location at, std::string message) {
  m_out.push_back(
      make_diagnostic(Severity::warning, m_file, m_doc.index, field, at, std::move(message)));
}

void Reader::record(const std::string& field, Location at) {
  m_source.fields[field] = at;
}

std::vector<Entry> Reader::entries(NodeId id, const std::string& path, Location at) {
  std::vector<Entry> out;
  const Node& n = node(id);
  if (!path.empty()) {
    record(path, at);
  }
  if (n.kind == NodeKind::null) {
    return out;
  }
  if (n.kind != NodeKind::mapping) {
    error(path, at, path + " must be a mapping, not " + kind_name(n.kind));
    return out;
  }
  std::map<std::string, Location, std::less<>> seen;
  for (std::size_t i = 0; i + 1 < n.children.size(); i += 2) {
    const Node& key = node(n.children[i]);
    const Node& value = node(n.children[i + 1]);
    if (key.kind != NodeKind::scalar) {
      error(path, key.at, "keys of " + path + " must be strings, not " + kind_name(key.kind));
      continue;
    }
    Entry e;
    e.key = key.text;
    e.path = child_path(path, key.text);
    e.value = n.children[i + 1];
    e.key_at = key.at;
    e.at = value.implicit ? key.at : value.at;
    auto [it, inserted] = seen.emplace(e.key, e.key_at);
    if (!inserted) {
      error(e.path, e.key_at,
            "duplicate key \"" + e.key + "\" (first at line " + std::to_string(it->second.line) +
                ")");
      continue;
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Entry> Reader::root_entries() {
  return entries(m_doc.root, "", node(m_doc.root).at);
}

void Reader::check_known(const std::vector<Entry>& list,
                         std::initializer_list<std::string_view> known,
                         std::initializer_list<std::string_view> ignored) {
  for (const Entry& e : list) {
    auto is = [&](std::string_view k) { return k == e.key; };
    if (std::any_of(known.begin(), known.end(), is) ||
        std::any_of(ignored.begin(), ignored.end(), is)) {
      continue;
    }
    std::string message = "unknown field \"" + e.path + "\"";
    std::string suggestion = closest_name(e.key, known);
    if (!suggestion.empty()) {
      message += " (did you mean \"" + suggestion + "\"?)";
    }
    warning(e.path, e.key_at, std::move(message));
  }
}

std::optional<std::string> Reader::text(const Entry& e) {
  return text(e.value, e.path, e.at);
}

std::optional<std::string> Reader::text(NodeId id, const std::string& path, Location at) {
  const Node& n = node(id);
  record(path, at);
  if (n.kind == NodeKind::null) {
    return std::nullopt;
  }
  if (n.kind != NodeKind::scalar) {
    error(path, at, path + " must be a string, not " + kind_name(n.kind));
    return std::nullopt;
  }
  return n.text;
}

std::map<std::string, std::string> Reader::string_map(const Entry& e) {
  std::map<std::string, std::string> out;
  for (const Entry& item : entries(e.value, e.path, e.at)) {
    if (auto value = text(item)) {
      out[item.key] = *value;
    } else if (is_null(item.value)) {
      out[item.key] = "";
    }
  }
  return out;
}

const Entry* Reader::find(const std::vector<Entry>& list, std::string_view key) {
  auto it = std::find_if(list.begin(), list.end(), [&](const Entry& e) { return e.key == key; });
  return it == list.end() ? nullptr : &*it;
}

} // namespace common::spec::detail
