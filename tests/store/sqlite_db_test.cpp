#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/store/sqlite_db.hpp"

#include "tests/support/process.hpp"

namespace common::store::detail {
namespace {

using util::ErrorKind;

TEST(StoreSqliteDb, MapsResultCodesToKinds) {
  struct Case {
    int rc;
    ErrorKind kind;
  };
  const Case cases[] = {
      {SQLITE_BUSY, ErrorKind::transient},
      {SQLITE_BUSY_SNAPSHOT, ErrorKind::transient},
      {SQLITE_LOCKED, ErrorKind::transient},
      {SQLITE_CONSTRAINT, ErrorKind::conflict},
      {SQLITE_CONSTRAINT_PRIMARYKEY, ErrorKind::conflict},
      {SQLITE_CONSTRAINT_UNIQUE, ErrorKind::conflict},
      {SQLITE_CORRUPT, ErrorKind::invalid_input},
      {SQLITE_NOTADB, ErrorKind::invalid_input},
      {SQLITE_IOERR_FSYNC, ErrorKind::internal},
      {SQLITE_FULL, ErrorKind::internal},
      {SQLITE_CANTOPEN, ErrorKind::internal},
      {SQLITE_READONLY, ErrorKind::internal},
      {SQLITE_ERROR, ErrorKind::internal},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.rc);
    auto e = map_sqlite_error(c.rc, "/data/store.db", "replace", "detail text");
    EXPECT_EQ(e.kind, c.kind);
    EXPECT_NE(e.message.find("\"/data/store.db\""), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("replace"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("detail text"), std::string::npos) << e.message;
  }
}

TEST(StoreSqliteDb, TransactionsRollBackUnlessCommitted) {
  test_support::TempDir tmp;
  auto db = Db::open(tmp.path() + "/t.db", std::chrono::milliseconds(100));
  ASSERT_TRUE(db.has_value()) << db.error().message;
  ASSERT_TRUE(db->exec("CREATE TABLE t (x INTEGER PRIMARY KEY)", "setup").has_value());
  auto count = [&] {
    auto s = db->prepare("SELECT count(*) FROM t", "count");
    EXPECT_TRUE(s.has_value());
    EXPECT_TRUE(s->step().value_or(false));
    return s->integer(0);
  };
  {
    auto txn = Txn::begin(*db, Txn::Mode::write, "w");
    ASSERT_TRUE(txn.has_value());
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)", "insert").has_value());
  } // dropped: rolled back
  EXPECT_EQ(count(), 0);
  {
    auto txn = Txn::begin(*db, Txn::Mode::write, "w");
    ASSERT_TRUE(txn.has_value());
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)", "insert").has_value());
    ASSERT_TRUE(txn->commit("commit").has_value());
  }
  EXPECT_EQ(count(), 1);
  // A duplicate key is a conflict naming the operation; a bad statement is internal.
  auto dup = db->exec("INSERT INTO t VALUES (1)", "insert again");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().kind, ErrorKind::conflict);
  EXPECT_NE(dup.error().message.find("insert again"), std::string::npos);
  auto bad = db->prepare("SELEKT 1", "typo");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, ErrorKind::internal);
  EXPECT_NE(bad.error().message.find("typo"), std::string::npos);
  // Binding text and integers and reading them back.
  auto ins = db->prepare("INSERT INTO t VALUES (?1)", "bind");
  ASSERT_TRUE(ins.has_value());
  ins->bind(1, std::int64_t{42});
  ASSERT_TRUE(ins->step().has_value());
  auto sel = db->prepare("SELECT ?1, x FROM t WHERE x = 42", "read");
  ASSERT_TRUE(sel.has_value());
  sel->bind(1, std::string_view("text\0with nul", 13));
  ASSERT_TRUE(sel->step().value_or(false));
  EXPECT_EQ(sel->text(0), std::string("text\0with nul", 13));
  EXPECT_EQ(sel->integer(1), 42);
  EXPECT_FALSE(sel->step().value_or(true));
  // Binding a parameter that does not exist is reported by step().
  auto over = db->prepare("SELECT ?1", "overbind");
  ASSERT_TRUE(over.has_value());
  over->bind(2, std::int64_t{1});
  auto r = over->step();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("overbind"), std::string::npos);
}

} // namespace
} // namespace common::store::detail

namespace {

TEST(StoreSqliteDb, TheFileIsTheServicesAlone) {
  // Every tenant's objects: 0600, also for a file created with looser bits before, and for the
  // journal files SQLite creates beside it.
  test_support::TempDir tmp;
  const std::string path = tmp.path() + "/t.db";
  for (int round = 0; round < 2; ++round) {
    {
      auto db = common::store::detail::Db::open(path, std::chrono::milliseconds(100));
      ASSERT_TRUE(db.has_value()) << db.error().message;
      ASSERT_TRUE(db->exec("PRAGMA journal_mode=WAL", "wal").has_value());
      ASSERT_TRUE(db->exec("CREATE TABLE IF NOT EXISTS t (x)", "t").has_value());
      for (const std::string& p : {path, path + "-wal"}) {
        struct stat st{};
        ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
        EXPECT_EQ(st.st_mode & 0777, 0600u) << p;
      }
    }
    ::chmod(path.c_str(), 0644);
  }
  // A symlink is not followed to create or chmod something elsewhere.
  const std::string target = tmp.path() + "/elsewhere";
  ASSERT_EQ(::symlink(target.c_str(), (tmp.path() + "/link.db").c_str()), 0);
  EXPECT_FALSE(
      common::store::detail::Db::open(tmp.path() + "/link.db", std::chrono::milliseconds(100)));
}

} // namespace
