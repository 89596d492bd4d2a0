// Thin RAII wrappers over the sqlite3 C API, private to the store module: a connection, a
// prepared statement, a transaction. sqlite3.h stays in the .cpp (the handles are forward
// declared). Every failure is an util::Error naming the database path and the operation, with
// the SQLite result code mapped to an ErrorKind (see map_sqlite_error).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace common::store::detail {

// BUSY/LOCKED -> transient, CONSTRAINT -> conflict, CORRUPT/NOTADB -> invalid_input (the file
// is not a usable database), anything else -> internal. `rc` may be an extended code.
util::Error map_sqlite_error(int rc, const std::string& path, std::string_view op,
                             std::string_view detail);

class Stmt;

class Db {
public:
  // Opens or creates `path` (read-write), extended result codes on, the busy timeout set. No
  // file I/O happens yet: a bad file shows up at the first statement.
  static util::Result<Db> open(const std::string& path, std::chrono::milliseconds busy_timeout);
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs one or more statements, discarding rows.
  util::Result<void> exec(const std::string& sql, std::string_view op);
  util::Result<Stmt> prepare(std::string_view sql, std::string_view op);
  // The error for `rc` with the connection's current message.
  util::Error error(int rc, std::string_view op) const;
  const std::string& path() const { return m_path; }

private:
  Db(sqlite3* db, std::string path) : m_db(db), m_path(std::move(path)) {}
  sqlite3* m_db = nullptr;
  std::string m_path;
};

class Stmt {
public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Parameters are 1-based. A failed bind is reported by the next step().
  Stmt& bind(int index, std::string_view text);
  Stmt& bind(int index, std::int64_t value);
  // true: a row is available; false: done.
  util::Result<bool> step();
  // Columns are 0-based; NULL reads as "" / 0.
  std::string text(int column) const;
  std::int64_t integer(int column) const;

private:
  friend class Db;
  Stmt(sqlite3_stmt* stmt, const Db* db, std::string op)
      : m_stmt(stmt), m_db(db), m_op(std::move(op)) {}
  sqlite3_stmt* m_stmt = nullptr;
  const Db* m_db = nullptr;
  std::string m_op;
  int m_bind_rc = 0;
};

// BEGIN (IMMEDIATE for writers: the write lock is taken up front, so a busy database fails at
// BEGIN rather than half-way); rolled back on destruction unless committed.
class Txn {
public:
  enum class Mode { read, write };
  static util::Result<Txn> begin(Db& db, Mode mode, std::string_view op);
  Txn(Txn&& other) noexcept : m_db(other.m_db) { other.m_db = nullptr; }
  Txn& operator=(Txn&&) = delete;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn();
  util::Result<void> commit(std::string_view op);

private:
  explicit Txn(Db* db) : m_db(db) {}
  Db* m_db = nullptr;
};

} // namespace common::store::detail
