// The embedded Store: one SQLite file (the service's data directory holds it).
//
// Durability: WAL journal with synchronous=FULL, so a method that returned success has its
// transaction fsync'ed to the WAL; kill -9 or a power cut after that loses nothing.
// Concurrency: one connection behind a mutex; every method takes it for its whole transaction,
// so calls from many threads are serialised (reads included: simple, and SQLite is fast enough
// for an API of this size). Other processes opening the same file are tolerated (writes use
// BEGIN IMMEDIATE and a busy timeout; a lock still held after it is `transient`).
//
// Schema: a `schema_version` table and forward-only migrations applied by open() in one
// transaction (migration 1: the `objects` table and the resourceVersion counter; migration 2: a
// unique index on uid). A file written by a newer build (version above k_schema_version) is
// refused with `unsupported`; a file that is not a SQLite database with `invalid_input`.
//
// resourceVersion: a counter stored in the database, +1 on every write (create, replace,
// replace_status, remove), so versions keep increasing across restarts. A list reports the
// counter's current value.
//
// Errors: every failure names the database path and the operation. SQLITE_BUSY/LOCKED ->
// transient, constraint violations -> conflict, corrupt file / not a database -> invalid_input,
// anything else (I/O, full disk, permissions) -> internal.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/store/store.hpp"
#include "common/util/clock.hpp"
#include "common/util/error.hpp"

namespace common::store {

inline constexpr int k_schema_version = 2;

struct SqliteOptions {
  // How long a write waits for another connection's lock before failing with transient.
  std::chrono::milliseconds busy_timeout{5000};
  // 16 random bytes per call, for uids. Empty: a std::random_device owned by the store.
  std::function<std::array<std::uint8_t, 16>()> random_bytes;
};

class SqliteStore final : public Store {
public:
  // Opens (creating when absent) the database file at `path` (its directory must exist) and
  // migrates it to k_schema_version. `clock` stamps creationTimestamp and must outlive the
  // store; the overload without it uses a SystemClock the store owns.
  static util::Result<std::unique_ptr<SqliteStore>>
  open(const std::string& path, util::Clock& clock, SqliteOptions options = {});
  static util::Result<std::unique_ptr<SqliteStore>> open(const std::string& path);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  util::Result<Object> create(Object object) override;
  util::Result<Object> get(const Key& key) override;
  util::Result<Page> list(const std::string& namespace_, const ListOptions& options) override;
  util::Result<Object> replace(const Object& object) override;
  util::Result<Object> replace_status(const Key& key, const std::string& resource_version,
                                      const std::string& status_json) override;
  util::Result<void> remove(const Key& key, const std::string& resource_version) override;

  const std::string& path() const;

private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (RFC 4122 version 4, variant 10) from 16 random bytes.
std::string format_uuid_v4(std::array<std::uint8_t, 16> bytes);

// The continue token of a page that ended at `last`, and its inverse. The token is opaque to
// clients (base64url of a versioned encoding); decode fails with invalid_input on anything
// encode did not produce.
std::string encode_continue(const Key& last);
util::Result<Key> decode_continue(std::string_view token);

} // namespace common::store
