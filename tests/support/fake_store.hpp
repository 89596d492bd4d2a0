// An in-memory store::Store for tests (api, writes): the interface's contract (conflicts, versions,
// generation, paging by (namespace, name) with an opaque token) without persistence. The
// selector is matched here by the fake's own code, so the tests do not depend on the store
// module's implementation; the last ListOptions are kept for inspection.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <string>

#include "common/store/store.hpp"

namespace tests {

namespace store = common::store;
namespace util = common::util;

class FakeStore final : public store::Store {
public:
  util::Result<store::Object> create(store::Object o) override {
    ++calls;
    if (m_objects.contains(o.key)) {
      return util::fail(util::ErrorKind::conflict, "exists");
    }
    o.uid = "uid-" + std::to_string(++m_uids);
    o.resource_version = std::to_string(++m_version);
    o.generation = 1;
    o.creation_timestamp = "2023-11-14T22:13:20Z";
    o.status_json = "{}";
    m_objects[o.key] = o;
    return o;
  }
  util::Result<store::Object> get(const store::Key& key) override {
    ++calls;
    auto it = m_objects.find(key);
    if (it == m_objects.end()) {
      return util::fail(util::ErrorKind::not_found, "absent");
    }
    return it->second;
  }
  util::Result<store::Page> list(const std::string& ns,
                                 const store::ListOptions& options) override {
    ++calls;
    last_namespace = ns;
    last_options = options;
    std::string after;
    if (!options.continue_token.empty()) {
      if (!options.continue_token.starts_with("after:")) {
        return util::fail(util::ErrorKind::invalid_input, "bad continue token");
      }
      after = options.continue_token.substr(6);
    }
    store::Page page;
    page.resource_version = std::to_string(m_version);
    for (const auto& [key, o] : m_objects) {
      std::string id = key.namespace_ + "/" + key.name;
      if ((!ns.empty() && key.namespace_ != ns) || (!after.empty() && id <= after) ||
          !matches(options.selector, o.labels)) {
        continue;
      }
      if (options.limit != 0 && page.items.size() == options.limit) {
        const store::Key& last = page.items.back().key;
        page.continue_token = "after:" + last.namespace_ + "/" + last.name;
        break;
      }
      page.items.push_back(o);
    }
    return page;
  }
  util::Result<store::Object> replace(const store::Object& o) override {
    ++calls;
    if (before_replace) {
      auto hook = before_replace; // it may clear or replace itself
      hook();
    }
    auto it = m_objects.find(o.key);
    if (it == m_objects.end()) {
      return util::fail(util::ErrorKind::not_found, "absent");
    }
    if (o.resource_version.empty()) {
      return util::fail(util::ErrorKind::invalid_input, "no version");
    }
    if (o.resource_version != it->second.resource_version) {
      return util::fail(util::ErrorKind::conflict, "stale");
    }
    store::Object& s = it->second;
    if (s.spec_json != o.spec_json || s.labels != o.labels || s.annotations != o.annotations) {
      ++s.generation;
    }
    s.spec_json = o.spec_json;
    s.labels = o.labels;
    s.annotations = o.annotations;
    s.resource_version = std::to_string(++m_version);
    return s;
  }
  util::Result<store::Object> replace_status(const store::Key& key, const std::string& rv,
                                             const std::string& status_json) override {
    ++calls;
    auto it = m_objects.find(key);
    if (it == m_objects.end()) {
      return util::fail(util::ErrorKind::not_found, "absent");
    }
    if (rv != it->second.resource_version) {
      return util::fail(util::ErrorKind::conflict, "stale");
    }
    it->second.status_json = status_json;
    it->second.resource_version = std::to_string(++m_version);
    return it->second;
  }
  util::Result<void> remove(const store::Key& key, const std::string& rv) override {
    ++calls;
    auto it = m_objects.find(key);
    if (it == m_objects.end()) {
      return util::fail(util::ErrorKind::not_found, "absent");
    }
    if (!rv.empty() && rv != it->second.resource_version) {
      return util::fail(util::ErrorKind::conflict, "stale");
    }
    m_objects.erase(it);
    return {};
  }

  // Equality and existence only: what the tests' selector parser produces.
  static bool matches(const store::Selector& selector,
                      const std::map<std::string, std::string>& labels) {
    return std::all_of(selector.begin(), selector.end(), [&](const store::Requirement& r) {
      auto it = labels.find(r.key);
      switch (r.op) {
      case store::Requirement::Op::equals:
        return it != labels.end() && it->second == r.values.at(0);
      case store::Requirement::Op::not_equals:
        return it == labels.end() || it->second != r.values.at(0);
      case store::Requirement::Op::exists:
        return it != labels.end();
      default:
        return it == labels.end();
      }
    });
  }

  std::size_t size() const { return m_objects.size(); }

  int calls = 0;
  std::string last_namespace;
  // Called at the start of every replace (a test's concurrent writer); may reset itself.
  std::function<void()> before_replace;
  store::ListOptions last_options;

private:
  std::map<store::Key, store::Object> m_objects;
  int m_version = 0;
  int m_uids = 0;
};

} // namespace tests
