#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <sys/wait.h>
#include <thread>
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

// A raw connection for setting up and inspecting files behind the store's back.
struct RawDb {
  sqlite3* db = nullptr;
  explicit RawDb(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK); }
  ~RawDb() { sqlite3_close(db); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  int exec(const std::string& sql) {
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }
};

Object make(const std::string& ns, const std::string& name,
            std::map<std::string, std::string> labels = {}) {
  Object o;
  o.key = Key{ns, name};
  o.labels = std::move(labels);
  o.annotations = {{"note", "x"}};
  o.spec_json = R"({"image":")" + name + R"("})";
  return o;
}

class SqliteStoreTest : public ::testing::Test {
protected:
  test_support::TempDir m_tmp;
  std::string m_path = m_tmp.path() + "/store.db";
  util::FakeClock m_clock;
  std::uint8_t m_next_byte = 0;

  std::unique_ptr<SqliteStore>
  open_store(std::chrono::milliseconds busy = std::chrono::seconds(5)) {
    SqliteOptions options;
    options.busy_timeout = busy;
    options.random_bytes = [this] {
      std::array<std::uint8_t, 16> b{};
      b.fill(++m_next_byte);
      return b;
    };
    auto s = SqliteStore::open(m_path, m_clock, options);
    EXPECT_TRUE(s.has_value()) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
};

TEST_F(SqliteStoreTest, CreateSetsBookkeepingAndGetReturnsIt) {
  auto store = open_store();
  ASSERT_TRUE(store);
  Object in = make("default", "web", {{"app", "web"}});
  in.uid = "client-uid";       // ignored
  in.resource_version = "999"; // ignored
  in.generation = 7;           // ignored
  auto created = store->create(in);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(created->uid, "01010101-0101-4101-8101-010101010101");
  EXPECT_EQ(created->resource_version, "1");
  EXPECT_EQ(created->generation, 1);
  EXPECT_EQ(created->creation_timestamp, "2023-11-14T22:13:20Z");
  EXPECT_EQ(created->status_json, "{}");
  EXPECT_EQ(created->labels, in.labels);
  EXPECT_EQ(created->annotations, in.annotations);
  EXPECT_EQ(created->spec_json, in.spec_json);

  auto got = store->get(Key{"default", "web"});
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->uid, created->uid);
  EXPECT_EQ(got->resource_version, "1");
  EXPECT_EQ(got->creation_timestamp, created->creation_timestamp);
  EXPECT_EQ(got->labels, in.labels);
  EXPECT_EQ(got->annotations, in.annotations);
  EXPECT_EQ(got->spec_json, in.spec_json);
  EXPECT_EQ(got->status_json, "{}");

  auto second = store->create(make("default", "api"));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->resource_version, "2");
  EXPECT_NE(second->uid, created->uid);
}

TEST_F(SqliteStoreTest, ErrorsOfEachMethod) {
  auto store = open_store();
  ASSERT_TRUE(store);
  auto first = store->create(make("ns", "a"));
  ASSERT_TRUE(first.has_value());
  const Key absent{"ns", "absent"};
  struct Case {
    const char* what;
    std::function<util::Error()> run;
    ErrorKind kind;
    const char* in_message;
  };
  auto err = [](auto r) { return r.has_value() ? util::Error{} : r.error(); };
  Object stale = *first;
  stale.resource_version = "12345";
  Object unversioned = *first;
  unversioned.resource_version = "";
  Object missing = make("ns", "absent");
  missing.resource_version = "1";
  Object bad_utf8 = make("ns", "b", {{"app", "\xff"}});
  const Case cases[] = {
      {"create twice", [&] { return err(store->create(make("ns", "a"))); }, ErrorKind::conflict,
       "already exists"},
      {"create empty name", [&] { return err(store->create(make("ns", ""))); },
       ErrorKind::invalid_input, "must not be empty"},
      {"create empty namespace", [&] { return err(store->create(make("", "x"))); },
       ErrorKind::invalid_input, "must not be empty"},
      {"create bad utf-8 label", [&] { return err(store->create(bad_utf8)); },
       ErrorKind::invalid_input, "labels"},
      {"get absent", [&] { return err(store->get(absent)); }, ErrorKind::not_found, "not found"},
      {"replace stale", [&] { return err(store->replace(stale)); }, ErrorKind::conflict,
       "\"12345\""},
      {"replace without version", [&] { return err(store->replace(unversioned)); },
       ErrorKind::invalid_input, "needs a resourceVersion"},
      {"replace absent", [&] { return err(store->replace(missing)); }, ErrorKind::not_found,
       "not found"},
      {"status stale", [&] { return err(store->replace_status(first->key, "77", "{}")); },
       ErrorKind::conflict, "\"77\""},
      {"status without version", [&] { return err(store->replace_status(first->key, "", "{}")); },
       ErrorKind::invalid_input, "needs a resourceVersion"},
      {"status absent", [&] { return err(store->replace_status(absent, "1", "{}")); },
       ErrorKind::not_found, "not found"},
      {"remove stale", [&] { return err(store->remove(first->key, "77")); }, ErrorKind::conflict,
       "\"77\""},
      {"remove absent", [&] { return err(store->remove(absent, "")); }, ErrorKind::not_found,
       "not found"},
      {"list bad token",
       [&] {
         ListOptions o;
         o.continue_token = "garbage!";
         return err(store->list("ns", o));
       },
       ErrorKind::invalid_input, "continue token"},
      {"list token of another namespace",
       [&] {
         ListOptions o;
         o.continue_token = encode_continue(Key{"other", "a"});
         return err(store->list("ns", o));
       },
       ErrorKind::invalid_input, "another namespace"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    util::Error e = c.run();
    EXPECT_EQ(e.kind, c.kind) << e.message;
    EXPECT_NE(e.message.find(c.in_message), std::string::npos) << e.message;
  }
  // None of the failures wrote anything.
  auto still = store->get(first->key);
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->resource_version, first->resource_version);
  EXPECT_EQ(store->list("", {})->resource_version, "1");
}

TEST_F(SqliteStoreTest, ReplaceBumpsGenerationOnlyWhenSpecLabelsOrAnnotationsChange) {
  auto store = open_store();
  ASSERT_TRUE(store);
  struct Case {
    const char* what;
    std::function<void(Object&)> edit;
    std::int64_t generation_delta;
  };
  const Case cases[] = {
      {"nothing", [](Object&) {}, 0},
      {"spec", [](Object& o) { o.spec_json = R"({"image":"other"})"; }, 1},
      {"labels", [](Object& o) { o.labels["new"] = "1"; }, 1},
      {"annotations", [](Object& o) { o.annotations.clear(); }, 1},
      {"status (ignored)", [](Object& o) { o.status_json = R"({"x":1})"; }, 0},
      {"uid and timestamp (ignored)",
       [](Object& o) {
         o.uid = "forged";
         o.creation_timestamp = "1999-01-01T00:00:00Z";
       },
       0},
  };
  auto current = store->create(make("ns", "obj", {{"app", "web"}}));
  ASSERT_TRUE(current.has_value());
  const Object original = *current;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    Object edited = *current;
    c.edit(edited);
    auto replaced = store->replace(edited);
    ASSERT_TRUE(replaced.has_value()) << replaced.error().message;
    EXPECT_EQ(replaced->generation, current->generation + c.generation_delta);
    EXPECT_EQ(std::stoll(replaced->resource_version), std::stoll(current->resource_version) + 1);
    EXPECT_EQ(replaced->uid, original.uid);
    EXPECT_EQ(replaced->creation_timestamp, original.creation_timestamp);
    EXPECT_EQ(replaced->status_json, "{}");
    auto got = store->get(edited.key);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->generation, replaced->generation);
    EXPECT_EQ(got->resource_version, replaced->resource_version);
    EXPECT_EQ(got->spec_json, edited.spec_json);
    EXPECT_EQ(got->labels, edited.labels);
    EXPECT_EQ(got->annotations, edited.annotations);
    current = std::move(*replaced);
  }
}

TEST_F(SqliteStoreTest, ReplaceStatusKeepsGenerationAndSpec) {
  auto store = open_store();
  ASSERT_TRUE(store);
  auto created = store->create(make("ns", "obj"));
  ASSERT_TRUE(created.has_value());
  auto updated = store->replace_status(created->key, created->resource_version, R"({"ok":true})");
  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  EXPECT_EQ(updated->status_json, R"({"ok":true})");
  EXPECT_EQ(updated->generation, 1);
  EXPECT_EQ(updated->resource_version, "2");
  EXPECT_EQ(updated->spec_json, created->spec_json);
  auto got = store->get(created->key);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status_json, R"({"ok":true})");
  // A later replace leaves the status alone.
  auto replaced = store->replace(*got);
  ASSERT_TRUE(replaced.has_value());
  EXPECT_EQ(replaced->status_json, R"({"ok":true})");
}

TEST_F(SqliteStoreTest, Remove) {
  auto store = open_store();
  ASSERT_TRUE(store);
  auto a = store->create(make("ns", "a"));
  auto b = store->create(make("ns", "b"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(store->remove(a->key, "").has_value());                  // unconditional
  ASSERT_TRUE(store->remove(b->key, b->resource_version).has_value()); // checked
  EXPECT_EQ(store->get(a->key).error().kind, ErrorKind::not_found);
  EXPECT_EQ(store->get(b->key).error().kind, ErrorKind::not_found);
  EXPECT_EQ(store->list("", {})->resource_version, "4"); // deletes are writes too
  // The name is free again, with a new uid.
  auto again = store->create(make("ns", "a"));
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->uid, a->uid);
  EXPECT_EQ(again->generation, 1);
}

TEST_F(SqliteStoreTest, ListPagesFiltersAndOrders) {
  auto store = open_store();
  ASSERT_TRUE(store);
  // Created out of order: lists come back ordered by (namespace, name).
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"b", "x"}, {"a", "z"}, {"a", "b"}, {"c", "a"}, {"a", "y"}, {"b", "a"}, {"a", "a"}};
  for (const auto& [ns, name] : keys) {
    const bool web = name < "y";
    ASSERT_TRUE(store->create(make(ns, name, {{"app", web ? "web" : "api"}})).has_value());
  }
  struct Case {
    std::string namespace_;
    std::size_t limit;
    std::string selector;
    std::vector<std::string> pages; // each "ns/name ns/name"
  };
  const Case cases[] = {
      {"", 0, "", {"a/a a/b a/y a/z b/a b/x c/a"}},
      {"", 3, "", {"a/a a/b a/y", "a/z b/a b/x", "c/a"}},
      {"", 7, "", {"a/a a/b a/y a/z b/a b/x c/a"}},
      {"", 100, "", {"a/a a/b a/y a/z b/a b/x c/a"}},
      {"a", 0, "", {"a/a a/b a/y a/z"}},
      {"a", 2, "", {"a/a a/b", "a/y a/z"}},
      {"a", 1, "app=api", {"a/y", "a/z"}},
      {"", 2, "app=web", {"a/a a/b", "b/a b/x", "c/a"}},
      {"", 0, "app notin (web,api)", {""}},
      {"none", 5, "", {""}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.namespace_ + " limit " + std::to_string(c.limit) + " " + c.selector);
    ListOptions options;
    options.limit = c.limit;
    auto sel = parse_selector(c.selector);
    ASSERT_TRUE(sel.has_value());
    options.selector = *sel;
    std::vector<std::string> pages;
    for (int guard = 0; guard < 20; ++guard) {
      auto page = store->list(c.namespace_, options);
      ASSERT_TRUE(page.has_value()) << page.error().message;
      EXPECT_EQ(page->resource_version, "7");
      std::string text;
      for (const auto& o : page->items) {
        text += (text.empty() ? "" : " ") + o.key.namespace_ + "/" + o.key.name;
      }
      pages.push_back(text);
      if (page->continue_token.empty()) {
        break;
      }
      options.continue_token = page->continue_token;
    }
    EXPECT_EQ(pages, c.pages);
  }
}

TEST_F(SqliteStoreTest, PersistsAcrossReopenAndVersionsKeepIncreasing) {
  std::string uid;
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    auto a = store->create(make("ns", "a", {{"k", "v"}}));
    ASSERT_TRUE(a.has_value());
    uid = a->uid;
    ASSERT_TRUE(store->replace_status(a->key, a->resource_version, R"({"s":1})").has_value());
    ASSERT_TRUE(store->create(make("ns", "b")).has_value());
    ASSERT_TRUE(store->remove(Key{"ns", "b"}, "").has_value());
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  auto a = store->get(Key{"ns", "a"});
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->uid, uid);
  EXPECT_EQ(a->labels, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(a->status_json, R"({"s":1})");
  EXPECT_EQ(a->resource_version, "2");
  EXPECT_EQ(store->get(Key{"ns", "b"}).error().kind, ErrorKind::not_found);
  auto c = store->create(make("ns", "c"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->resource_version, "5"); // the counter continued: 4 writes before the restart
  // The file is in WAL mode (a persistent property of the database).
  RawDb raw(m_path);
  EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.scalar("SELECT version FROM schema_version"), std::to_string(k_schema_version));
}

TEST_F(SqliteStoreTest, ConcurrentReplacesOfOneVersionHaveExactlyOneWinner) {
  auto store = open_store();
  ASSERT_TRUE(store);
  auto current = store->create(make("ns", "hot"));
  ASSERT_TRUE(current.has_value());
  constexpr int k_threads = 8;
  constexpr int k_rounds = 10;
  for (int round = 0; round < k_rounds; ++round) {
    SCOPED_TRACE(round);
    std::latch start(k_threads);
    std::atomic<int> wins = 0;
    std::atomic<int> conflicts = 0;
    std::atomic<int> others = 0;
    std::vector<std::jthread> threads;
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back([&, t] {
        Object mine = *current;
        mine.spec_json =
            R"({"round":)" + std::to_string(round) + R"(,"writer":)" + std::to_string(t) + "}";
        start.arrive_and_wait();
        auto r = store->replace(mine);
        if (r) {
          ++wins;
        } else if (r.error().kind == ErrorKind::conflict) {
          ++conflicts;
        } else {
          ++others;
        }
      });
    }
    threads.clear(); // joins
    EXPECT_EQ(wins.load(), 1);
    EXPECT_EQ(conflicts.load(), k_threads - 1);
    EXPECT_EQ(others.load(), 0);
    auto now = store->get(current->key);
    ASSERT_TRUE(now.has_value());
    EXPECT_EQ(now->generation, current->generation + 1);
    current = std::move(*now);
  }
}

TEST_F(SqliteStoreTest, ConcurrentCreatesAndReadsAllSucceed) {
  auto store = open_store();
  ASSERT_TRUE(store);
  constexpr int k_threads = 6;
  constexpr int k_each = 20;
  std::atomic<int> failures = 0;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < k_threads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < k_each; ++i) {
          auto name = "t" + std::to_string(t) + "-" + std::to_string(i);
          if (!store->create(make("ns", name)) || !store->get(Key{"ns", name}) ||
              !store->list("ns", {})) {
            ++failures;
          }
        }
      });
    }
  }
  EXPECT_EQ(failures.load(), 0);
  auto all = store->list("", {});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->items.size(), std::size_t{k_threads * k_each});
  std::set<std::string> uids;
  for (const auto& o : all->items) {
    uids.insert(o.uid);
  }
  EXPECT_EQ(uids.size(), all->items.size());
  EXPECT_EQ(all->resource_version, std::to_string(k_threads * k_each));
}

TEST_F(SqliteStoreTest, UidsFromTheDefaultRandomSourceAreV4AndDistinct) {
  auto store = SqliteStore::open(m_path);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto a = (*store)->create(make("ns", "a"));
  auto b = (*store)->create(make("ns", "b"));
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->uid, b->uid);
  for (const auto& uid : {a->uid, b->uid}) {
    ASSERT_EQ(uid.size(), 36u);
    EXPECT_EQ(uid[14], '4');
    EXPECT_NE(std::string("89ab").find(uid[19]), std::string::npos) << uid;
  }
}

TEST_F(SqliteStoreTest, ALockHeldByAnotherConnectionIsTransient) {
  auto store = open_store(std::chrono::milliseconds(50));
  ASSERT_TRUE(store);
  RawDb other(m_path);
  ASSERT_EQ(other.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  auto r = store->create(make("ns", "a"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::transient);
  EXPECT_NE(r.error().message.find(m_path), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("create"), std::string::npos) << r.error().message;
  ASSERT_EQ(other.exec("ROLLBACK"), SQLITE_OK);
  EXPECT_TRUE(store->create(make("ns", "a")).has_value());
}

} // namespace
} // namespace common::store
