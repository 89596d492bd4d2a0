// Internal to common::cache: how a key becomes a file name and what an entry file holds. Pure
// functions, no I/O, so the format is tested (and fuzzable) on its own.
//
// An entry file is a two-line text header followed by the namespace, key and data bytes:
//
//   iu-cache 1\n
//   <stored_at: ns since the epoch> <ns bytes> <key bytes> <data bytes> <checksum: 16 hex>\n
//   <ns><key><data>
//
// The sizes must add up to the file size exactly (a truncated or extended file is corrupt) and
// the checksum (FNV-1a 64 over the numbers of line 2, the namespace, the key and the data)
// catches damage in the middle. The key is stored so that a reader can tell its own entry from
// a hash collision or a foreign file.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

namespace common::cache {

inline constexpr std::size_t k_max_namespace_size = 64;
inline constexpr std::size_t k_max_key_size = 8192;
// No valid header is longer (the numbers are at most 20 digits each).
inline constexpr std::size_t k_max_header_size = 128;

// Accepts a namespace of 1..64 characters [A-Za-z0-9._-] and a key of 1..8192 bytes (any
// bytes). Fails with invalid_input naming the bad value.
util::Result<void> check_key(std::string_view ns, std::string_view key);

// Lower-case hex SHA-256 of `ns` '\0' `key` (64 characters of [0-9a-f]). The namespace has no
// '\0', so two different (ns, key) pairs never hash the same input.
std::string key_digest(std::string_view ns, std::string_view key);

// The entry's file name, a function of (ns, key) that never names a path and never collides:
// "ns=" + the key with every byte outside [A-Za-z0-9.-] written as "_xx" (hex), when that is at
// most k_max_entry_name bytes; else "ns#" + key_digest(ns, key). Namespaces hold no '=' or '#'
// and escaped keys no '=', '#' or '/', so the mapping is injective. No hashing on the common
// path: the plugin starts once per render, and loading libcrypto for a digest cost it more than
// a warm resolve's whole remaining work (about 1.5 ms of 5).
inline constexpr std::size_t k_max_entry_name = 180;
std::string entry_name(std::string_view ns, std::string_view key);

// Whether a file name is an entry's: entry_name's forms, or a 64-hex SHA-256 name (the form
// earlier versions wrote, pruned by age like the others).
bool is_entry_name(std::string_view name) noexcept;

// The entry's shard directory, two lower-case hex digits from a cheap hash of (ns, key): it only
// spreads entries over 256 directories, so its collisions do not matter.
std::string shard_of(std::string_view ns, std::string_view key);

// The header that precedes ns, key and data in the entry file.
std::string encode_header(std::string_view ns, std::string_view key, std::string_view data,
                          std::chrono::system_clock::time_point stored_at);

struct Header {
  std::chrono::system_clock::time_point stored_at;
  std::size_t ns_size = 0;
  std::size_t key_size = 0;
  std::size_t data_size = 0;
  std::uint64_t checksum = 0;
  std::size_t header_size = 0; // bytes of the two header lines
  // Size the whole file must have; nullopt when the sizes overflow.
  std::optional<std::size_t> file_size() const;
};

// Parses the header at the start of `bytes` (the whole file or only its first bytes).
// nullopt when it is malformed or incomplete.
std::optional<Header> decode_header(std::string_view bytes);

struct DecodedEntry {
  std::string_view ns;
  std::string_view key;
  std::string_view data; // views into the decoded bytes
  std::chrono::system_clock::time_point stored_at;
};

// Parses a whole entry file. nullopt when the header is malformed, the sizes do not add up to
// the file's size exactly, or the checksum does not match.
std::optional<DecodedEntry> decode_entry(std::string_view bytes);

} // namespace common::cache
