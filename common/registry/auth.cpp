#include "common/registry/auth.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <nlohmann/json.hpp>

#include "common/registry/detail.hpp"
#include "common/util/strings.hpp"

namespace common::registry {
namespace {

using util::ErrorKind;

bool is_tchar(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u) != 0) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token68_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || std::string_view("-._~+/").find(c) != std::string_view::npos;
}


class ChallengeParser {
public:
  explicit ChallengeParser(std::string_view s) : m_s(s) {}

  util::Result<std::vector<Challenge>> parse() {
    std::vector<Challenge> out;
    while (true) {
      skip_separators();
      if (at_end()) {
        return out;
      }
      Challenge challenge;
      challenge.scheme = util::to_lower(read_token());
      if (challenge.scheme.empty()) {
        return fail("expected an authentication scheme");
      }
      if (auto token68 = try_token68()) {
        challenge.params[""] = *token68;
      } else if (auto params = parse_params(challenge); !params) {
        return std::unexpected(params.error());
      }
      out.push_back(std::move(challenge));
    }
  }

private:
  bool at_end() const noexcept { return m_i >= m_s.size(); }
  void skip_ws() noexcept {
    while (!at_end() && (m_s[m_i] == ' ' || m_s[m_i] == '\t')) {
      ++m_i;
    }
  }
  void skip_separators() noexcept {
    while (!at_end() && (m_s[m_i] == ' ' || m_s[m_i] == '\t' || m_s[m_i] == ',')) {
      ++m_i;
    }
  }
  std::string_view read_token() noexcept {
    const std::size_t start = m_i;
    while (!at_end() && is_tchar(m_s[m_i])) {
      ++m_i;
    }
    return m_s.substr(start, m_i - start);
  }

  // `Scheme abc+/==` (the whole credentials in one opaque value), only when the run is followed
  // by the end or a comma and is not the start of `name=value`.
  std::optional<std::string> try_token68() {
    const std::size_t save = m_i;
    skip_ws();
    const std::size_t start = m_i;
    while (!at_end() && is_token68_char(m_s[m_i])) {
      ++m_i;
    }
    const std::size_t body_end = m_i;
    while (!at_end() && m_s[m_i] == '=') {
      ++m_i;
    }
    const std::size_t end = m_i;
    skip_ws();
    // "realm=x" stops at 'x', which is neither the end nor a comma: parameters follow.
    if (body_end > start && (at_end() || m_s[m_i] == ',')) {
      return std::string(m_s.substr(start, end - start));
    }
    m_i = save;
    return std::nullopt;
  }

  util::Result<bool> parse_params(Challenge& challenge) {
    while (true) {
      skip_ws();
      if (at_end()) {
        return true;
      }
      if (m_s[m_i] == ',') {
        ++m_i;
        continue;
      }
      const std::size_t save = m_i;
      const std::string name = util::to_lower(read_token());
      if (name.empty()) {
        return fail("unexpected character '" + std::string(1, m_s[m_i]) + "'");
      }
      skip_ws();
      if (at_end() || m_s[m_i] != '=') {
        m_i = save; // the next challenge's scheme
        return true;
      }
      ++m_i;
      skip_ws();
      std::string value;
      if (!at_end() && m_s[m_i] == '"') {
        auto quoted = read_quoted();
        if (!quoted) {
          return std::unexpected(quoted.error());
        }
        value = std::move(*quoted);
      } else {
        value = std::string(read_token());
      }
      challenge.params[name] = std::move(value);
    }
  }

  util::Result<std::string> read_quoted() {
    ++m_i; // opening quote
    std::string out;
    while (!at_end()) {
      const char c = m_s[m_i++];
      if (c == '"') {
        return out;
      }
      if (c == '\\') {
        if (at_end()) {
          break;
        }
        out += m_s[m_i++];
      } else {
        out += c;
      }
    }
    return fail("unterminated quoted string");
  }

  std::unexpected<util::Error> fail(const std::string& why) const {
    return util::fail(ErrorKind::invalid_input, "invalid WWW-Authenticate header at offset " +
                                                    std::to_string(m_i) + ": " + why);
  }

  std::string_view m_s;
  std::size_t m_i = 0;
};

} // namespace

std::string Challenge::param(std::string_view name) const {
  const auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

util::Result<std::vector<Challenge>> parse_challenges(std::string_view header) {
  return ChallengeParser(header).parse();
}

util::Result<Token> parse_token_response(std::string_view body, std::string_view source) {
  const std::string where = "token service " + std::string(source);
  const nlohmann::json doc = detail::json_parsable(body)
                                 ? nlohmann::json::parse(body, nullptr, false)
                                 : nlohmann::json(nlohmann::json::value_t::discarded);
  if (doc.is_discarded() || !doc.is_object()) {
    return util::fail(ErrorKind::invalid_input, where + " answered something that is not a JSON "
                                                        "object");
  }
  Token token;
  for (const char* field : {"token", "access_token"}) {
    const auto it = doc.find(field);
    if (it != doc.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      token.value = it->get<std::string>();
      break;
    }
  }
  if (token.value.empty()) {
    return util::fail(ErrorKind::invalid_input, where + " answered without a token");
  }
  if (const auto it = doc.find("expires_in"); it != doc.end() && it->is_number()) {
    const double seconds = it->get<double>();
    // Shorter lifetimes than the spec's 60 s minimum are honoured: using a token past its
    // real expiry only costs a 401 and a new token, trusting it longer would cost every call.
    if (seconds >= 1 && seconds < 1e9) {
      token.expires_in = std::chrono::seconds(static_cast<long long>(seconds));
    }
  }
  return token;
}

std::string basic_authorization(const credentials::Credential& credential) {
  std::ostringstream out;
  try {
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << credential.username << ':' << credential.password;
    encoder.close();
  } catch (const Poco::Exception&) {
    return "Basic ";
  }
  return "Basic " + out.str();
}

std::optional<std::string> TokenCache::find(const std::string& realm, const std::string& service,
                                            const std::string& scope) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_entries.find(Key{realm, service, scope});
  if (it == m_entries.end() || m_clock.steady_now() >= it->second.valid_until) {
    return std::nullopt;
  }
  return it->second.token;
}

void TokenCache::store(const std::string& realm, const std::string& service,
                       const std::string& scope, const Token& token) {
  // Expire early so that a token is not sent in its last seconds and rejected in flight.
  const std::chrono::seconds margin = std::min(std::chrono::seconds(10), token.expires_in / 2);
  std::lock_guard lock(m_mutex);
  m_entries[Key{realm, service, scope}] =
      Entry{token.value, m_clock.steady_now() + token.expires_in - margin};
}

void TokenCache::erase(const std::string& realm, const std::string& service,
                       const std::string& scope) {
  std::lock_guard lock(m_mutex);
  m_entries.erase(Key{realm, service, scope});
}

} // namespace common::registry
