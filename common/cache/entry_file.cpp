#include "common/cache/entry_file.hpp"

#include <charconv>
#include <cstdint>

#include "common/util/sha256.hpp"

namespace common::cache {

namespace {

constexpr std::string_view k_magic = "iu-cache 1\n";

// FNV-1a 64: a checksum against accidental damage, not an authenticator (the directory's
// permissions are what keeps others out).
class Fnv1a64 {
public:
  void update(std::string_view bytes) {
    for (unsigned char c : bytes) {
      m_value ^= c;
      m_value *= 0x100000001b3ULL;
    }
  }
  std::uint64_t value() const { return m_value; }

private:
  std::uint64_t m_value = 0xcbf29ce484222325ULL;
};

std::string numbers_line(std::int64_t stored_ns, std::size_t ns_size, std::size_t key_size,
                         std::size_t data_size) {
  return std::to_string(stored_ns) + ' ' + std::to_string(ns_size) + ' ' +
         std::to_string(key_size) + ' ' + std::to_string(data_size);
}

std::uint64_t checksum(std::string_view numbers, std::string_view ns, std::string_view key,
                       std::string_view data) {
  Fnv1a64 h;
  h.update(numbers);
  h.update(ns);
  h.update(key);
  h.update(data);
  return h.value();
}

std::string hex16(std::uint64_t v) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = k_digits[v & 0xf];
    v >>= 4;
  }
  return out;
}

// Parses one whole token as a number in `base`; nothing else may be left over.
template <class T>
bool parse_number(std::string_view token, T& out, int base = 10) {
  if (token.empty() || token.front() == '+') {
    return false;
  }
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), out, base);
  return ec == std::errc{} && end == token.data() + token.size();
}

bool next_token(std::string_view& line, std::string_view& token) {
  auto space = line.find(' ');
  token = line.substr(0, space);
  line = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  return !token.empty();
}

} // namespace

util::Result<void> check_key(std::string_view ns, std::string_view key) {
  bool ns_ok = !ns.empty() && ns.size() <= k_max_namespace_size;
  for (char c : ns) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
    ns_ok = ns_ok && allowed;
  }
  if (!ns_ok) {
    return util::fail(util::ErrorKind::invalid_input,
                      "cache namespace \"" + std::string(ns.substr(0, k_max_namespace_size)) +
                          "\": must be 1 to 64 characters of [A-Za-z0-9._-]");
  }
  if (key.empty() || key.size() > k_max_key_size) {
    return util::fail(util::ErrorKind::invalid_input,
                      "cache key in namespace " + std::string(ns) + ": must be 1 to " +
                          std::to_string(k_max_key_size) + " bytes, got " +
                          std::to_string(key.size()));
  }
  return {};
}

std::string key_digest(std::string_view ns, std::string_view key) {
  util::Sha256 engine;
  engine.update(ns).update(std::string_view("\0", 1)).update(key);
  return engine.hex();
}

namespace {

bool kept_as_is(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

bool namespace_char(unsigned char c) noexcept {
  return kept_as_is(c) || c == '_';
}

} // namespace

std::string entry_name(std::string_view ns, std::string_view key) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string name(ns);
  name += '=';
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (kept_as_is(c)) {
      name += ch;
    } else {
      name += '_';
      name += k_hex[c >> 4];
      name += k_hex[c & 0xf];
    }
    if (name.size() > k_max_entry_name) {
      return std::string(ns) + "#" + key_digest(ns, key);
    }
  }
  return name;
}

bool is_entry_name(std::string_view name) noexcept {
  const auto hex = [](std::string_view s) {
    for (const char c : s) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  };
  if (name.size() == 64 && hex(name)) {
    return true;
  }
  const auto sep = name.find_first_of("=#");
  if (sep == 0 || sep == std::string_view::npos || sep > k_max_namespace_size) {
    return false;
  }
  for (std::size_t i = 0; i < sep; ++i) {
    if (!namespace_char(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  const std::string_view rest = name.substr(sep + 1);
  if (name[sep] == '#') {
    return rest.size() == 64 && hex(rest);
  }
  if (rest.empty() || name.size() > k_max_entry_name) {
    return false;
  }
  for (const char c : rest) {
    if (!namespace_char(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

std::string shard_of(std::string_view ns, std::string_view key) {
  // FNV-1a over ns '\0' key, folded to one byte.
  std::uint32_t h = 2166136261u;
  const auto mix = [&h](std::string_view bytes) {
    for (const char c : bytes) {
      h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    }
  };
  mix(ns);
  mix(std::string_view("\0", 1));
  mix(key);
  const unsigned byte = (h ^ (h >> 8) ^ (h >> 16) ^ (h >> 24)) & 0xffu;
  static constexpr char k_hex[] = "0123456789abcdef";
  return {k_hex[byte >> 4], k_hex[byte & 0xf]};
}

std::string encode_header(std::string_view ns, std::string_view key, std::string_view data,
                          std::chrono::system_clock::time_point stored_at) {
  auto stored_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(stored_at.time_since_epoch()).count();
  std::string numbers = numbers_line(stored_ns, ns.size(), key.size(), data.size());
  std::string out(k_magic);
  out += numbers;
  out += ' ';
  out += hex16(checksum(numbers, ns, key, data));
  out += '\n';
  return out;
}

std::optional<std::size_t> Header::file_size() const {
  std::size_t total = header_size;
  for (std::size_t part : {ns_size, key_size, data_size}) {
    if (part > SIZE_MAX - total) {
      return std::nullopt;
    }
    total += part;
  }
  return total;
}

std::optional<Header> decode_header(std::string_view bytes) {
  if (!bytes.starts_with(k_magic)) {
    return std::nullopt;
  }
  std::string_view rest = bytes.substr(k_magic.size());
  auto newline = rest.find('\n');
  if (newline == std::string_view::npos || k_magic.size() + newline + 1 > k_max_header_size) {
    return std::nullopt;
  }
  std::string_view line = rest.substr(0, newline);
  std::string_view t_stored, t_ns, t_key, t_data, t_sum;
  Header h;
  std::int64_t stored_ns = 0;
  if (!next_token(line, t_stored) || !next_token(line, t_ns) || !next_token(line, t_key) ||
      !next_token(line, t_data) || !next_token(line, t_sum) || !line.empty() ||
      t_sum.size() != 16 || !parse_number(t_stored, stored_ns) || !parse_number(t_ns, h.ns_size) ||
      !parse_number(t_key, h.key_size) || !parse_number(t_data, h.data_size) ||
      !parse_number(t_sum, h.checksum, 16)) {
    return std::nullopt;
  }
  // Only the canonical spelling: a header the encoder would not write is damage.
  if (numbers_line(stored_ns, h.ns_size, h.key_size, h.data_size) !=
          rest.substr(0, static_cast<std::size_t>(t_sum.data() - rest.data()) - 1) ||
      hex16(h.checksum) != t_sum) {
    return std::nullopt;
  }
  h.stored_at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(stored_ns)));
  h.header_size = k_magic.size() + newline + 1;
  return h;
}

std::optional<DecodedEntry> decode_entry(std::string_view bytes) {
  auto h = decode_header(bytes);
  if (!h || h->file_size() != bytes.size()) {
    return std::nullopt;
  }
  DecodedEntry e;
  e.ns = bytes.substr(h->header_size, h->ns_size);
  e.key = bytes.substr(h->header_size + h->ns_size, h->key_size);
  e.data = bytes.substr(h->header_size + h->ns_size + h->key_size);
  e.stored_at = h->stored_at;
  std::string_view numbers = bytes.substr(k_magic.size(), h->header_size - k_magic.size() - 1 - 17);
  if (checksum(numbers, e.ns, e.key, e.data) != h->checksum) {
    return std::nullopt;
  }
  return e;
}

} // namespace common::cache
