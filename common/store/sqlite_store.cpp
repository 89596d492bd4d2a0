#include "common/store/sqlite_store.hpp"

#include <chrono>
#include <mutex>
#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/store/sqlite_db.hpp"
#include "common/util/strings.hpp"
#include "common/util/time.hpp"
#include "common/util/try.hpp"

namespace common::store {

namespace {

using detail::Db;
using detail::Stmt;
using detail::Txn;
using util::ErrorKind;

// Forward-only: entry i brings a database from version i to i+1. Never edit a shipped entry;
// append a new one (and bump k_schema_version).
constexpr const char* k_migrations[] = {
    // 1: the objects and the resourceVersion counter. WITHOUT ROWID: the key is the primary
    // key, and lists walk it in (namespace, name) order.
    "CREATE TABLE objects ("
    "  namespace TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,"
    "  resource_version INTEGER NOT NULL, generation INTEGER NOT NULL,"
    "  creation_timestamp TEXT NOT NULL, labels TEXT NOT NULL, annotations TEXT NOT NULL,"
    "  spec_json TEXT NOT NULL, status_json TEXT NOT NULL,"
    "  PRIMARY KEY (namespace, name)) WITHOUT ROWID;"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters (name, value) VALUES ('resource_version', 0);",
    // 2: uids are unique (a collision of random uids would be a conflict, never a duplicate).
    "CREATE UNIQUE INDEX objects_uid ON objects (uid);",
};
static_assert(std::size(k_migrations) == k_schema_version);

constexpr std::string_view k_columns =
    "namespace, name, uid, resource_version, generation, creation_timestamp, labels, "
    "annotations, spec_json, status_json";

std::string describe(const Key& key) {
  return util::quote(key.namespace_ + "/" + key.name);
}

util::Result<std::string> to_json(const std::map<std::string, std::string>& map,
                                  std::string_view what, const Key& key) {
  try {
    return nlohmann::json(map).dump(); // std::map: keys sorted, so equal maps give equal text
  } catch (const nlohmann::json::exception& e) {
    return util::fail(ErrorKind::invalid_input,
                      "object " + describe(key) + ": " + std::string(what) + ": " + e.what());
  }
}

util::Result<std::map<std::string, std::string>>
from_json(const std::string& text, const std::string& path, std::string_view what, const Key& key) {
  try {
    return nlohmann::json::parse(text).get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return util::fail(ErrorKind::internal, "store " + util::quote(path) + ": object " +
                                               describe(key) + ": stored " + std::string(what) +
                                               " are not a JSON object of strings: " + e.what());
  }
}

util::Result<Object> read_row(const Stmt& s, const std::string& path) {
  Object o;
  o.key = Key{s.text(0), s.text(1)};
  o.uid = s.text(2);
  o.resource_version = std::to_string(s.integer(3));
  o.generation = s.integer(4);
  o.creation_timestamp = s.text(5);
  auto labels = from_json(s.text(6), path, "labels", o.key);
  if (!labels) {
    return std::unexpected(labels.error());
  }
  auto annotations = from_json(s.text(7), path, "annotations", o.key);
  if (!annotations) {
    return std::unexpected(annotations.error());
  }
  o.labels = std::move(*labels);
  o.annotations = std::move(*annotations);
  o.spec_json = s.text(8);
  o.status_json = s.text(9);
  return o;
}

util::Result<void> check_key(const Key& key) {
  if (key.namespace_.empty() || key.name.empty()) {
    return util::fail(ErrorKind::invalid_input,
                      "object " + describe(key) + ": namespace and name must not be empty");
  }
  return {};
}

} // namespace

struct SqliteStore::Impl {
  Db db;
  std::mutex mutex; // the one connection: every method holds it for its whole transaction
  std::unique_ptr<util::SystemClock> own_clock;
  util::Clock* clock = nullptr;
  SqliteOptions options;
  std::random_device random;

  explicit Impl(Db d) : db(std::move(d)) {}

  std::string new_uid() {
    std::array<std::uint8_t, 16> bytes{};
    if (options.random_bytes) {
      bytes = options.random_bytes();
    } else {
      for (auto& b : bytes) {
        b = static_cast<std::uint8_t>(random() & 0xff);
      }
    }
    return format_uuid_v4(bytes);
  }

  util::Result<std::int64_t> next_version(std::string_view op) {
    auto s = db.prepare("UPDATE counters SET value = value + 1 WHERE name = 'resource_version' "
                        "RETURNING value",
                        op);
    if (!s) {
      return std::unexpected(s.error());
    }
    auto row = s->step();
    if (!row) {
      return std::unexpected(row.error());
    }
    if (!*row) {
      return util::fail(ErrorKind::internal, "store " + util::quote(db.path()) + ": " +
                                                 std::string(op) +
                                                 ": the resourceVersion counter is missing");
    }
    return s->integer(0);
  }

  util::Result<std::int64_t> current_version(std::string_view op) {
    auto s = db.prepare("SELECT value FROM counters WHERE name = 'resource_version'", op);
    if (!s) {
      return std::unexpected(s.error());
    }
    auto row = s->step();
    if (!row) {
      return std::unexpected(row.error());
    }
    return *row ? s->integer(0) : 0;
  }

  // The stored object, or nullopt.
  util::Result<std::optional<Object>> load(const Key& key, std::string_view op) {
    auto s = db.prepare("SELECT " + std::string(k_columns) +
                            " FROM objects WHERE namespace = ?1 AND name = ?2",
                        op);
    if (!s) {
      return std::unexpected(s.error());
    }
    s->bind(1, key.namespace_).bind(2, key.name);
    auto row = s->step();
    if (!row) {
      return std::unexpected(row.error());
    }
    if (!*row) {
      return std::optional<Object>();
    }
    auto o = read_row(*s, db.path());
    if (!o) {
      return std::unexpected(o.error());
    }
    return std::optional<Object>(std::move(*o));
  }

  // load() that fails with not_found, then checks `resource_version` ("" = any).
  util::Result<Object> load_checked(const Key& key, const std::string& resource_version,
                                    std::string_view op) {
    auto found = load(key, op);
    if (!found) {
      return std::unexpected(found.error());
    }
    if (!*found) {
      return util::fail(ErrorKind::not_found, "object " + describe(key) + " not found");
    }
    if (!resource_version.empty() && (*found)->resource_version != resource_version) {
      return util::fail(ErrorKind::conflict,
                        "object " + describe(key) + ": resourceVersion " +
                            util::quote(resource_version) +
                            " is not the stored one (it was changed since it was read)");
    }
    return std::move(**found);
  }

  util::Result<void> run(Stmt& s) {
    auto r = s.step();
    if (!r) {
      return std::unexpected(r.error());
    }
    return {};
  }
};

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

const std::string& SqliteStore::path() const {
  return m_impl->db.path();
}

util::Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  auto clock = std::make_unique<util::SystemClock>();
  auto& ref = *clock;
  auto store = open(path, ref);
  if (store) {
    (*store)->m_impl->own_clock = std::move(clock);
  }
  return store;
}

util::Result<std::unique_ptr<SqliteStore>>
SqliteStore::open(const std::string& path, util::Clock& clock, SqliteOptions options) {
  auto db = Db::open(path, options.busy_timeout);
  if (!db) {
    return std::unexpected(db.error());
  }
  auto impl = std::make_unique<Impl>(std::move(*db));
  impl->clock = &clock;
  impl->options = std::move(options);
  Db& d = impl->db;

  // The first statement reads the file header: a file that is not a database fails here.
  {
    auto mode = d.prepare("PRAGMA journal_mode = WAL", "set WAL mode");
    if (!mode) {
      return std::unexpected(mode.error());
    }
    auto row = mode->step();
    if (!row) {
      return std::unexpected(row.error());
    }
    std::string got = *row ? util::to_lower(mode->text(0)) : std::string();
    if (got != "wal") {
      return util::fail(ErrorKind::internal, "store " + util::quote(path) +
                                                 ": set WAL mode: journal mode stays " +
                                                 util::quote(got));
    }
  }
  if (auto r = d.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", "set pragmas"); !r) {
    return std::unexpected(r.error());
  }

  // Migrations, all in one write transaction: a crash half-way leaves the old version.
  constexpr std::string_view op = "migrate schema";
  auto txn = Txn::begin(d, Txn::Mode::write, op);
  if (!txn) {
    return std::unexpected(txn.error());
  }
  if (auto r = d.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", op);
      !r) {
    return std::unexpected(r.error());
  }
  std::int64_t version = 0;
  bool has_row = false;
  {
    auto s = d.prepare("SELECT max(version), count(*) FROM schema_version", op);
    if (!s) {
      return std::unexpected(s.error());
    }
    IU_TRY(s->step());
    version = s->integer(0);
    has_row = s->integer(1) > 0;
  }
  if (version > k_schema_version || version < 0) {
    return util::fail(ErrorKind::unsupported,
                      "store " + util::quote(path) + ": schema version " + std::to_string(version) +
                          " is newer than this build understands (" +
                          std::to_string(k_schema_version) + "); use a newer imageupdater");
  }
  for (auto v = version; v < k_schema_version; ++v) {
    const std::string step_op = "migrate schema to version " + std::to_string(v + 1);
    IU_TRY(d.exec(k_migrations[v], step_op));
  }
  if (version < k_schema_version || !has_row) {
    auto set = d.prepare(has_row ? "UPDATE schema_version SET version = ?1"
                                 : "INSERT INTO schema_version (version) VALUES (?1)",
                         op);
    if (!set) {
      return std::unexpected(set.error());
    }
    set->bind(1, std::int64_t{k_schema_version});
    IU_TRY(impl->run(*set));
  }
  IU_TRY(txn->commit(op));
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

util::Result<Object> SqliteStore::create(Object object) {
  constexpr std::string_view op = "create";
  IU_TRY(check_key(object.key));
  auto labels = to_json(object.labels, "labels", object.key);
  if (!labels) {
    return std::unexpected(labels.error());
  }
  auto annotations = to_json(object.annotations, "annotations", object.key);
  if (!annotations) {
    return std::unexpected(annotations.error());
  }
  if (object.status_json.empty()) {
    object.status_json = "{}";
  }
  std::lock_guard lock(m_impl->mutex);
  Db& d = m_impl->db;
  auto txn = Txn::begin(d, Txn::Mode::write, op);
  if (!txn) {
    return std::unexpected(txn.error());
  }
  auto existing = m_impl->load(object.key, op);
  if (!existing) {
    return std::unexpected(existing.error());
  }
  if (*existing) {
    return util::fail(ErrorKind::conflict, "object " + describe(object.key) + " already exists");
  }
  auto version = m_impl->next_version(op);
  if (!version) {
    return std::unexpected(version.error());
  }
  object.uid = m_impl->new_uid();
  object.resource_version = std::to_string(*version);
  object.generation = 1;
  object.creation_timestamp =
      util::format_rfc3339(std::chrono::floor<std::chrono::seconds>(m_impl->clock->now()));
  auto s = d.prepare("INSERT INTO objects (" + std::string(k_columns) +
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                     op);
  if (!s) {
    return std::unexpected(s.error());
  }
  s->bind(1, object.key.namespace_)
      .bind(2, object.key.name)
      .bind(3, object.uid)
      .bind(4, *version)
      .bind(5, object.generation)
      .bind(6, object.creation_timestamp)
      .bind(7, *labels)
      .bind(8, *annotations)
      .bind(9, object.spec_json)
      .bind(10, object.status_json);
  IU_TRY(m_impl->run(*s));
  IU_TRY(txn->commit(op));
  return object;
}

util::Result<Object> SqliteStore::get(const Key& key) {
  std::lock_guard lock(m_impl->mutex);
  return m_impl->load_checked(key, "", "get");
}

util::Result<Page> SqliteStore::list(const std::string& namespace_, const ListOptions& options) {
  constexpr std::string_view op = "list";
  Key after;
  if (!options.continue_token.empty()) {
    auto k = decode_continue(options.continue_token);
    if (!k) {
      return std::unexpected(k.error());
    }
    if (!namespace_.empty() && k->namespace_ != namespace_) {
      return util::fail(ErrorKind::invalid_input,
                        "continue token " + util::quote(options.continue_token, 64) +
                            ": it belongs to a list of another namespace");
    }
    after = std::move(*k);
  }
  std::lock_guard lock(m_impl->mutex);
  Db& d = m_impl->db;
  auto txn = Txn::begin(d, Txn::Mode::read, op); // one snapshot for the rows and the version
  if (!txn) {
    return std::unexpected(txn.error());
  }
  Page page;
  auto version = m_impl->current_version(op);
  if (!version) {
    return std::unexpected(version.error());
  }
  page.resource_version = std::to_string(*version);
  auto s = d.prepare("SELECT " + std::string(k_columns) +
                         " FROM objects WHERE (?1 = '' OR namespace = ?1)"
                         " AND (namespace, name) > (?2, ?3) ORDER BY namespace, name",
                     op);
  if (!s) {
    return std::unexpected(s.error());
  }
  s->bind(1, namespace_).bind(2, after.namespace_).bind(3, after.name);
  for (;;) {
    auto row = s->step();
    if (!row) {
      return std::unexpected(row.error());
    }
    if (!*row) {
      break;
    }
    auto o = read_row(*s, d.path());
    if (!o) {
      return std::unexpected(o.error());
    }
    if (!matches(options.selector, o->labels)) {
      continue;
    }
    if (options.limit != 0 && page.items.size() == options.limit) {
      // Another match exists: the page is full and not the last.
      page.continue_token = encode_continue(page.items.back().key);
      break;
    }
    page.items.push_back(std::move(*o));
  }
  return page;
}

util::Result<Object> SqliteStore::replace(const Object& object) {
  constexpr std::string_view op = "replace";
  IU_TRY(check_key(object.key));
  if (object.resource_version.empty()) {
    return util::fail(ErrorKind::invalid_input,
                      "object " + describe(object.key) + ": replace needs a resourceVersion");
  }
  auto labels = to_json(object.labels, "labels", object.key);
  if (!labels) {
    return std::unexpected(labels.error());
  }
  auto annotations = to_json(object.annotations, "annotations", object.key);
  if (!annotations) {
    return std::unexpected(annotations.error());
  }
  std::lock_guard lock(m_impl->mutex);
  Db& d = m_impl->db;
  auto txn = Txn::begin(d, Txn::Mode::write, op);
  if (!txn) {
    return std::unexpected(txn.error());
  }
  auto stored = m_impl->load_checked(object.key, object.resource_version, op);
  if (!stored) {
    return std::unexpected(stored.error());
  }
  auto version = m_impl->next_version(op);
  if (!version) {
    return std::unexpected(version.error());
  }
  Object out = std::move(*stored);
  const bool changed = out.spec_json != object.spec_json || out.labels != object.labels ||
                       out.annotations != object.annotations;
  out.generation += changed ? 1 : 0;
  out.resource_version = std::to_string(*version);
  out.labels = object.labels;
  out.annotations = object.annotations;
  out.spec_json = object.spec_json;
  auto s = d.prepare("UPDATE objects SET resource_version = ?3, generation = ?4, labels = ?5,"
                     " annotations = ?6, spec_json = ?7 WHERE namespace = ?1 AND name = ?2",
                     op);
  if (!s) {
    return std::unexpected(s.error());
  }
  s->bind(1, out.key.namespace_)
      .bind(2, out.key.name)
      .bind(3, *version)
      .bind(4, out.generation)
      .bind(5, *labels)
      .bind(6, *annotations)
      .bind(7, out.spec_json);
  IU_TRY(m_impl->run(*s));
  IU_TRY(txn->commit(op));
  return out;
}

util::Result<Object> SqliteStore::replace_status(const Key& key,
                                                 const std::string& resource_version,
                                                 const std::string& status_json) {
  constexpr std::string_view op = "replace status";
  if (resource_version.empty()) {
    return util::fail(ErrorKind::invalid_input,
                      "object " + describe(key) + ": replace_status needs a resourceVersion");
  }
  std::lock_guard lock(m_impl->mutex);
  Db& d = m_impl->db;
  auto txn = Txn::begin(d, Txn::Mode::write, op);
  if (!txn) {
    return std::unexpected(txn.error());
  }
  auto stored = m_impl->load_checked(key, resource_version, op);
  if (!stored) {
    return std::unexpected(stored.error());
  }
  auto version = m_impl->next_version(op);
  if (!version) {
    return std::unexpected(version.error());
  }
  Object out = std::move(*stored);
  out.resource_version = std::to_string(*version);
  out.status_json = status_json.empty() ? "{}" : status_json;
  auto s = d.prepare("UPDATE objects SET resource_version = ?3, status_json = ?4"
                     " WHERE namespace = ?1 AND name = ?2",
                     op);
  if (!s) {
    return std::unexpected(s.error());
  }
  s->bind(1, key.namespace_).bind(2, key.name).bind(3, *version).bind(4, out.status_json);
  IU_TRY(m_impl->run(*s));
  IU_TRY(txn->commit(op));
  return out;
}

util::Result<void> SqliteStore::remove(const Key& key, const std::string& resource_version) {
  constexpr std::string_view op = "remove";
  std::lock_guard lock(m_impl->mutex);
  Db& d = m_impl->db;
  auto txn = Txn::begin(d, Txn::Mode::write, op);
  if (!txn) {
    return std::unexpected(txn.error());
  }
  IU_TRY(m_impl->load_checked(key, resource_version, op));
  IU_TRY(m_impl->next_version(op));
  auto s = d.prepare("DELETE FROM objects WHERE namespace = ?1 AND name = ?2", op);
  if (!s) {
    return std::unexpected(s.error());
  }
  s->bind(1, key.namespace_).bind(2, key.name);
  IU_TRY(m_impl->run(*s));
  return txn->commit(op);
}

} // namespace common::store
