// Label selectors as k8s.io/apimachinery/pkg/labels parses them: a hand-written lexer and
// recursive-descent parser (no std::regex: GCC 12 warns inside it and it is slow).
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/store/store.hpp"
#include "common/util/strings.hpp"

namespace common::store {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
// Characters that end an identifier (Kubernetes' isSpecialSymbol plus white space). '<' and '>'
// are lexed so that `k>1` is reported as an unsupported operator, not as a strange key.
bool is_special(char c) {
  return c == '!' || c == '=' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>';
}
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 bytes (a label name or value).
bool is_label_token(std::string_view s) {
  if (s.empty() || s.size() > 63 || !is_alnum(s.front()) || !is_alnum(s.back())) {
    return false;
  }
  return std::ranges::all_of(
      s, [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A DNS-1123 subdomain: lower-case labels joined by '.', at most 253 bytes.
bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (part.empty() || part.size() > 63) {
      return false;
    }
    auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lower_alnum(part.front()) || !lower_alnum(part.back()) ||
        !std::ranges::all_of(part, [&](char c) { return lower_alnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return true;
}

bool is_label_key(std::string_view key) {
  std::size_t slash = key.find('/');
  if (slash == std::string_view::npos) {
    return is_label_token(key);
  }
  return is_dns_subdomain(key.substr(0, slash)) && is_label_token(key.substr(slash + 1));
}

bool is_label_value(std::string_view value) {
  return value.empty() || is_label_token(value);
}

enum class Tok { end, ident, not_, eq, eqeq, neq, lparen, rparen, comma, in, notin, other };

struct Token {
  Tok kind = Tok::end;
  std::string_view text;
  std::size_t pos = 0;
};

class Parser {
public:
  explicit Parser(std::string_view text) : m_text(text) {}

  util::Result<Selector> parse() {
    Selector out;
    Token t = peek();
    if (t.kind == Tok::end) {
      return out; // "" selects everything
    }
    for (;;) {
      auto req = requirement();
      if (!req) {
        return std::unexpected(req.error());
      }
      out.push_back(std::move(*req));
      t = next();
      if (t.kind == Tok::end) {
        return out;
      }
      if (t.kind != Tok::comma) {
        return error(t, "',' or the end");
      }
    }
  }

private:
  std::string_view m_text;
  std::size_t m_pos = 0;

  Token lex(std::size_t& pos) const {
    while (pos < m_text.size() && is_space(m_text[pos])) {
      ++pos;
    }
    Token t{Tok::end, {}, pos};
    if (pos >= m_text.size()) {
      return t;
    }
    const char c = m_text[pos];
    auto two = [&](std::string_view s) { return m_text.substr(pos, 2) == s; };
    auto take = [&](Tok kind, std::size_t n) {
      t = Token{kind, m_text.substr(pos, n), pos};
      pos += n;
      return t;
    };
    if (two("!=")) {
      return take(Tok::neq, 2);
    }
    if (two("==")) {
      return take(Tok::eqeq, 2);
    }
    switch (c) {
    case '!':
      return take(Tok::not_, 1);
    case '=':
      return take(Tok::eq, 1);
    case '(':
      return take(Tok::lparen, 1);
    case ')':
      return take(Tok::rparen, 1);
    case ',':
      return take(Tok::comma, 1);
    case '<':
    case '>':
      return take(Tok::other, 1);
    default:
      break;
    }
    std::size_t end = pos;
    while (end < m_text.size() && !is_space(m_text[end]) && !is_special(m_text[end])) {
      ++end;
    }
    std::string_view word = m_text.substr(pos, end - pos);
    Tok kind = word == "in" ? Tok::in : word == "notin" ? Tok::notin : Tok::ident;
    return take(kind, end - pos);
  }

  Token peek() const {
    std::size_t p = m_pos;
    return lex(p);
  }
  Token next() { return lex(m_pos); }

  std::unexpected<util::Error> error(const Token& t, std::string_view expected) const {
    std::string found = t.kind == Tok::end ? "the end" : util::quote(t.text);
    return util::fail(util::ErrorKind::invalid_input, "label selector " + util::quote(m_text) +
                                                          ": at position " + std::to_string(t.pos) +
                                                          ": expected " + std::string(expected) +
                                                          ", found " + found);
  }
  std::unexpected<util::Error> invalid(const Token& t, std::string_view what) const {
    return util::fail(util::ErrorKind::invalid_input, "label selector " + util::quote(m_text) +
                                                          ": at position " + std::to_string(t.pos) +
                                                          ": " + std::string(what) + " " +
                                                          util::quote(t.text));
  }

  util::Result<std::string> key() {
    Token t = next();
    if (t.kind != Tok::ident) {
      return error(t, "a label key");
    }
    if (!is_label_key(t.text)) {
      return invalid(t, "invalid label key");
    }
    return std::string(t.text);
  }

  util::Result<Requirement> requirement() {
    if (peek().kind == Tok::not_) {
      next();
      auto k = key();
      if (!k) {
        return std::unexpected(k.error());
      }
      return Requirement{Requirement::Op::not_exists, std::move(*k), {}};
    }
    auto k = key();
    if (!k) {
      return std::unexpected(k.error());
    }
    Token op = peek();
    switch (op.kind) {
    case Tok::end:
    case Tok::comma:
      return Requirement{Requirement::Op::exists, std::move(*k), {}};
    case Tok::eq:
    case Tok::eqeq:
    case Tok::neq: {
      next();
      auto v = exact_value();
      if (!v) {
        return std::unexpected(v.error());
      }
      auto kind = op.kind == Tok::neq ? Requirement::Op::not_equals : Requirement::Op::equals;
      return Requirement{kind, std::move(*k), {std::move(*v)}};
    }
    case Tok::in:
    case Tok::notin: {
      next();
      auto vs = value_set();
      if (!vs) {
        return std::unexpected(vs.error());
      }
      auto kind = op.kind == Tok::in ? Requirement::Op::in : Requirement::Op::not_in;
      return Requirement{kind, std::move(*k), std::move(*vs)};
    }
    case Tok::other:
      return invalid(op, "unsupported operator");
    default:
      return error(op, "'=', '==', '!=', 'in', 'notin', ',' or the end");
    }
  }

  // The value after =, == or !=; absent (the end or ',') is the empty value, as in Kubernetes.
  util::Result<std::string> exact_value() {
    Token t = peek();
    if (t.kind == Tok::end || t.kind == Tok::comma) {
      return std::string();
    }
    next();
    if (t.kind != Tok::ident) {
      return error(t, "a label value");
    }
    if (!is_label_value(t.text)) {
      return invalid(t, "invalid label value");
    }
    return std::string(t.text);
  }

  // "(" value {"," value} ")", values sorted and without duplicates; a value may be empty
  // ("(a,)" holds "" and "a"), the set may not ("()").
  util::Result<std::vector<std::string>> value_set() {
    Token t = next();
    if (t.kind != Tok::lparen) {
      return error(t, "'('");
    }
    if (t = peek(); t.kind == Tok::rparen) {
      return error(t, "at least one value in the set");
    }
    std::vector<std::string> values;
    for (;;) {
      t = peek();
      if (t.kind == Tok::ident) {
        next();
        if (!is_label_value(t.text)) {
          return invalid(t, "invalid label value");
        }
        values.emplace_back(t.text);
      } else if (t.kind == Tok::comma || t.kind == Tok::rparen) {
        values.emplace_back();
      } else {
        return error(t, "a label value, ',' or ')'");
      }
      t = next();
      if (t.kind == Tok::rparen) {
        break;
      }
      if (t.kind != Tok::comma) {
        return error(t, "',' or ')'");
      }
    }
    std::ranges::sort(values);
    auto dup = std::ranges::unique(values);
    values.erase(dup.begin(), dup.end());
    return values;
  }
};

} // namespace

util::Result<Selector> parse_selector(std::string_view text) {
  return Parser(text).parse();
}

bool matches(const Selector& selector, const std::map<std::string, std::string>& labels) {
  for (const auto& r : selector) {
    auto it = labels.find(r.key);
    const bool present = it != labels.end();
    const bool in_values = present && std::ranges::find(r.values, it->second) != r.values.end();
    bool ok = false;
    switch (r.op) {
    case Requirement::Op::equals:
    case Requirement::Op::in:
      ok = in_values;
      break;
    case Requirement::Op::not_equals:
    case Requirement::Op::not_in:
      ok = !in_values;
      break;
    case Requirement::Op::exists:
      ok = present;
      break;
    case Requirement::Op::not_exists:
      ok = !present;
      break;
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

} // namespace common::store
