// Opening files in every state: fresh, empty, older schema versions, a newer one, not a
// database at all, and a crash: writes acknowledged before kill -9 are all there afterwards.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "common/store/sqlite_store.hpp"
#include "common/util/clock.hpp"

#include "tests/support/process.hpp"

namespace common::store {
namespace {

using util::ErrorKind;

// Sets up a file the way an older build (or something else) left it.
void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

std::string query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// The schema as build with schema version 1 wrote it (a frozen copy: migration 1 must never
// change, and this checks that files it made still open).
constexpr const char* k_version1_file =
    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
    "INSERT INTO schema_version VALUES (1);"
    "CREATE TABLE objects ("
    "  namespace TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,"
    "  resource_version INTEGER NOT NULL, generation INTEGER NOT NULL,"
    "  creation_timestamp TEXT NOT NULL, labels TEXT NOT NULL, annotations TEXT NOT NULL,"
    "  spec_json TEXT NOT NULL, status_json TEXT NOT NULL,"
    "  PRIMARY KEY (namespace, name)) WITHOUT ROWID;"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters (name, value) VALUES ('resource_version', 3);"
    "INSERT INTO objects VALUES ('ns', 'old', 'u-1', 3, 2, '2024-01-01T00:00:00Z',"
    "  '{\"app\":\"web\"}', '{}', '{\"a\":1}', '{}');";

class SqliteOpenTest : public ::testing::Test {
protected:
  test_support::TempDir m_tmp;
  std::string m_path = m_tmp.path() + "/store.db";
  util::FakeClock m_clock;
};

TEST_F(SqliteOpenTest, OlderFilesAreMigrated) {
  struct Case {
    const char* what;
    std::function<void(const std::string&)> setup;
    bool has_old_object;
  };
  const Case cases[] = {
      {"absent file", [](const std::string&) {}, false},
      {"empty file", [](const std::string& p) { std::ofstream(p, std::ios::binary).flush(); },
       false},
      {"version 0 with a foreign table",
       [](const std::string& p) {
         run_sql(p, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                    "INSERT INTO schema_version VALUES (0); CREATE TABLE unrelated (x);");
       },
       false},
      {"version 1", [](const std::string& p) { run_sql(p, k_version1_file); }, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    test_support::TempDir dir;
    const std::string path = dir.path() + "/store.db";
    c.setup(path);
    if (::testing::Test::HasFatalFailure()) {
      return;
    }
    {
      auto store = SqliteStore::open(path, m_clock);
      ASSERT_TRUE(store.has_value()) << store.error().message;
      auto old = (*store)->get(Key{"ns", "old"});
      ASSERT_EQ(old.has_value(), c.has_old_object);
      if (c.has_old_object) {
        EXPECT_EQ(old->uid, "u-1");
        EXPECT_EQ(old->resource_version, "3");
        EXPECT_EQ(old->generation, 2);
        EXPECT_EQ(old->labels.at("app"), "web");
      }
      auto fresh = (*store)->create(Object{Key{"ns", "new"}, "", "", 0, "", {}, {}, "{}", ""});
      ASSERT_TRUE(fresh.has_value()) << fresh.error().message;
      EXPECT_EQ(fresh->resource_version, c.has_old_object ? "4" : "1");
    }
    EXPECT_EQ(query(path, "SELECT version FROM schema_version"), std::to_string(k_schema_version));
    EXPECT_EQ(query(path, "SELECT count(*) FROM schema_version"), "1");
    EXPECT_EQ(query(path, "SELECT name FROM sqlite_master WHERE name = 'objects_uid'"),
              "objects_uid");
    // Opening again is a no-op.
    auto again = SqliteStore::open(path, m_clock);
    ASSERT_TRUE(again.has_value()) << again.error().message;
  }
}

TEST_F(SqliteOpenTest, FilesItCannotUseFailClearly) {
  struct Case {
    const char* what;
    std::function<std::string(const std::string&)> setup; // returns the path to open
    ErrorKind kind;
    std::vector<std::string> in_message;
  };
  const Case cases[] = {
      {"from the future",
       [](const std::string& p) {
         run_sql(p, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                    "INSERT INTO schema_version VALUES (99);");
         return p;
       },
       ErrorKind::unsupported,
       {"schema version 99", "newer"}},
      {"not a database",
       [](const std::string& p) {
         std::ofstream out(p, std::ios::binary);
         for (int i = 0; i < 200; ++i) {
           out << "this is a text file, not a SQLite database\n";
         }
         return p;
       },
       ErrorKind::invalid_input,
       {"not a usable SQLite database"}},
      {"directory missing",
       [](const std::string& p) { return p + ".d/missing/store.db"; },
       ErrorKind::internal,
       {"open"}},
      {"a failing migration is rolled back",
       [](const std::string& p) {
         // Version 1, but something already holds the name migration 2 creates.
         run_sql(p, std::string(k_version1_file) + "CREATE TABLE objects_uid (x);");
         return p;
       },
       ErrorKind::internal,
       {"migrate schema to version 2", "objects_uid"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    test_support::TempDir dir;
    const std::string path = c.setup(dir.path() + "/store.db");
    auto store = SqliteStore::open(path, m_clock);
    ASSERT_FALSE(store.has_value());
    EXPECT_EQ(store.error().kind, c.kind) << store.error().message;
    EXPECT_NE(store.error().message.find(path), std::string::npos) << store.error().message;
    for (const auto& part : c.in_message) {
      EXPECT_NE(store.error().message.find(part), std::string::npos) << store.error().message;
    }
  }
  // The failed migration left the file at version 1, its object intact.
  test_support::TempDir dir;
  const std::string path = dir.path() + "/store.db";
  run_sql(path, std::string(k_version1_file) + "CREATE TABLE objects_uid (x);");
  ASSERT_FALSE(SqliteStore::open(path, m_clock).has_value());
  EXPECT_EQ(query(path, "SELECT version FROM schema_version"), "1");
  EXPECT_EQ(query(path, "SELECT uid FROM objects"), "u-1");
}

// A child writes in a loop and reports each acknowledged write on a pipe; the parent kills it
// with SIGKILL mid-stream, reopens the file and finds every acknowledged write.
TEST_F(SqliteOpenTest, AcknowledgedWritesSurviveKillDashNine) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto store = SqliteStore::open(m_path);
    if (!store) {
      ::_exit(2);
    }
    Object hot{Key{"ns", "hot"}, "", "", 0, "", {}, {}, R"({"i":-1})", ""};
    auto h = (*store)->create(hot);
    if (!h) {
      ::_exit(3);
    }
    for (int i = 0; i < 100000; ++i) {
      Object o{Key{"ns", "k" + std::to_string(i)}, "", "",   0, "",
               {{"i", std::to_string(i)}},         {}, "{}", ""};
      if (!(*store)->create(o)) {
        ::_exit(4);
      }
      h->spec_json = R"({"i":)" + std::to_string(i) + "}";
      auto replaced = (*store)->replace(*h);
      if (!replaced) {
        ::_exit(5);
      }
      h = std::move(replaced);
      const std::string line = std::to_string(i) + "\n"; // create and replace i acknowledged
      if (::write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        ::_exit(6);
      }
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string acked;
  // 1: read something, 0: nothing within the timeout, -1: end of stream.
  auto read_some = [&](int timeout_ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      return 0;
    }
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      return -1;
    }
    acked.append(buf, static_cast<std::size_t>(n));
    return 1;
  };
  // Let it get going (at least 20 acknowledged rounds and 300 ms), then kill it mid-write.
  const auto start_time = std::chrono::steady_clock::now();
  const auto deadline = start_time + std::chrono::seconds(20);
  const auto soonest = start_time + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::ranges::count(acked, '\n') >= 20 && std::chrono::steady_clock::now() >= soonest) {
      break;
    }
    if (read_some(100) < 0) {
      break; // the writer died on its own: the status check below reports it
    }
  }
  ::kill(pid, SIGKILL);
  while (read_some(1000) > 0) {
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended on its own, status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  std::vector<int> indexes;
  std::size_t start = 0;
  while (start < acked.size()) {
    auto nl = acked.find('\n', start);
    if (nl == std::string::npos) {
      break; // a line cut by the kill was not acknowledged
    }
    indexes.push_back(std::stoi(acked.substr(start, nl - start)));
    start = nl + 1;
  }
  ASSERT_GE(indexes.size(), 1u) << "the writer acknowledged nothing";
  RecordProperty("acknowledged_rounds", static_cast<int>(indexes.size()));

  auto store = SqliteStore::open(m_path, m_clock);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  for (int i : indexes) {
    auto o = (*store)->get(Key{"ns", "k" + std::to_string(i)});
    ASSERT_TRUE(o.has_value()) << "acknowledged write k" << i << " lost: " << o.error().message;
    EXPECT_EQ(o->labels.at("i"), std::to_string(i));
  }
  auto hot = (*store)->get(Key{"ns", "hot"});
  ASSERT_TRUE(hot.has_value());
  const int last = indexes.back();
  // The last acknowledged replace is there (a later one may have committed unacknowledged).
  const int stored = std::stoi(hot->spec_json.substr(5));
  EXPECT_GE(stored, last) << hot->spec_json;
  EXPECT_LE(stored, last + 1) << hot->spec_json;
  // And the store keeps working: versions continue above everything written.
  auto next = (*store)->create(Object{Key{"ns", "after"}, "", "", 0, "", {}, {}, "{}", ""});
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_GT(std::stoll(next->resource_version), std::stoll(hot->resource_version));
}

} // namespace
} // namespace common::store
