#include "common/store/sqlite_db.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include <sqlite3.h>

#include "common/util/strings.hpp"

namespace common::store::detail {

util::Error map_sqlite_error(int rc, const std::string& path, std::string_view op,
                             std::string_view detail) {
  util::ErrorKind kind = util::ErrorKind::internal;
  std::string what;
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    kind = util::ErrorKind::transient;
    what = "the database is locked by another writer: ";
    break;
  case SQLITE_CONSTRAINT:
    kind = util::ErrorKind::conflict;
    break;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
    kind = util::ErrorKind::invalid_input;
    what = "the file is not a usable SQLite database: ";
    break;
  default:
    break;
  }
  return util::Error{kind, "store " + util::quote(path) + ": " + std::string(op) + ": " + what +
                               std::string(detail) + " (" + ::sqlite3_errstr(rc) + ")"};
}

util::Result<Db> Db::open(const std::string& path, std::chrono::milliseconds busy_timeout) {
  // The store holds every tenant's objects: readable by the service's user only. SQLite gives
  // its -wal and -shm files the database file's mode, so creating the file 0600 first (and
  // tightening an existing one) covers all three.
  if (path != ":memory:" && !path.empty()) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      // As SQLite's own SQLITE_CANTOPEN: the place is wrong, not the input.
      return util::fail(util::ErrorKind::internal,
                        "store " + util::quote(path) + ": open: " + std::strerror(errno));
    }
    const int rc = ::fchmod(fd, 0600);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) {
      return util::fail(util::ErrorKind::invalid_input,
                        "store " + util::quote(path) + ": chmod 0600: " + std::strerror(saved));
    }
  }
  sqlite3* raw = nullptr;
  int rc =
      ::sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  Db db(raw, path); // owns the handle even when the open failed (sqlite3_close it)
  if (rc != SQLITE_OK) {
    return std::unexpected(db.error(rc, "open"));
  }
  ::sqlite3_extended_result_codes(raw, 1);
  auto ms = std::min<std::chrono::milliseconds::rep>(busy_timeout.count(),
                                                     std::numeric_limits<int>::max());
  ::sqlite3_busy_timeout(raw, static_cast<int>(ms));
  return db;
}

Db::Db(Db&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_path(std::move(other.m_path)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (m_db != nullptr) {
      ::sqlite3_close_v2(m_db);
    }
    m_db = std::exchange(other.m_db, nullptr);
    m_path = std::move(other.m_path);
  }
  return *this;
}

Db::~Db() {
  if (m_db != nullptr) {
    // close_v2: the connection goes once its last statement is finalised (none outlive us).
    ::sqlite3_close_v2(m_db);
  }
}

util::Error Db::error(int rc, std::string_view op) const {
  const char* msg = m_db != nullptr ? ::sqlite3_errmsg(m_db) : ::sqlite3_errstr(rc);
  return map_sqlite_error(rc, m_path, op, msg);
}

util::Result<void> Db::exec(const std::string& sql, std::string_view op) {
  char* msg = nullptr;
  int rc = ::sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string detail = msg != nullptr ? msg : ::sqlite3_errstr(rc);
    ::sqlite3_free(msg);
    return std::unexpected(map_sqlite_error(rc, m_path, op, detail));
  }
  return {};
}

util::Result<Stmt> Db::prepare(std::string_view sql, std::string_view op) {
  sqlite3_stmt* raw = nullptr;
  int rc = ::sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  if (rc != SQLITE_OK) {
    ::sqlite3_finalize(raw);
    return std::unexpected(error(rc, op));
  }
  return Stmt(raw, this, std::string(op));
}

Stmt::Stmt(Stmt&& other) noexcept
    : m_stmt(std::exchange(other.m_stmt, nullptr)), m_db(other.m_db), m_op(std::move(other.m_op)),
      m_bind_rc(other.m_bind_rc) {}

Stmt::~Stmt() {
  ::sqlite3_finalize(m_stmt);
}

Stmt& Stmt::bind(int index, std::string_view text) {
  int rc =
      ::sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && m_bind_rc == SQLITE_OK) {
    m_bind_rc = rc;
  }
  return *this;
}

Stmt& Stmt::bind(int index, std::int64_t value) {
  int rc = ::sqlite3_bind_int64(m_stmt, index, value);
  if (rc != SQLITE_OK && m_bind_rc == SQLITE_OK) {
    m_bind_rc = rc;
  }
  return *this;
}

util::Result<bool> Stmt::step() {
  if (m_bind_rc != SQLITE_OK) {
    return std::unexpected(m_db->error(m_bind_rc, m_op));
  }
  int rc = ::sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return std::unexpected(m_db->error(rc, m_op));
}

std::string Stmt::text(int column) const {
  const auto* p = ::sqlite3_column_text(m_stmt, column);
  int n = ::sqlite3_column_bytes(m_stmt, column);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
                      : std::string();
}

std::int64_t Stmt::integer(int column) const {
  return ::sqlite3_column_int64(m_stmt, column);
}

util::Result<Txn> Txn::begin(Db& db, Mode mode, std::string_view op) {
  auto r = db.exec(mode == Mode::write ? "BEGIN IMMEDIATE" : "BEGIN", op);
  if (!r) {
    return std::unexpected(r.error());
  }
  return Txn(&db);
}

util::Result<void> Txn::commit(std::string_view op) {
  auto r = m_db->exec("COMMIT", op);
  if (r) {
    m_db = nullptr;
  }
  return r; // on failure the destructor rolls back
}

Txn::~Txn() {
  if (m_db != nullptr) {
    (void)m_db->exec("ROLLBACK", "rollback");
  }
}

} // namespace common::store::detail
