// One fake resolve::TagSource for every test that resolves without a registry (resolve,
// generator, controller, server). Thread-safe, so resolve_all may run it with jobs > 1.
//   - tags: per repository name (Reference::name(), e.g. "127.0.0.1:5000/demo/web"), else
//     `default_tags`;
//   - failures: a repository whose name contains a key of `failing` fails with that error;
//     `down` fails every list with a transient error;
//   - created: `created_at[tag]` seconds since the epoch; a tag missing there is not_found;
//   - digest: "sha256:" + zeros + tag (stable, distinct per tag);
//   - requests(): every call counted; `delay` slept in list_tags to let threads overlap.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/resolve/tag_source.hpp"

namespace tests {

class FakeTagSource : public common::resolve::TagSource {
public:
  using Error = common::util::Error;

  common::util::Result<common::resolve::TagList>
  list_tags(const common::resolve::Target& target) override {
    ++m_requests;
    if (delay.count() > 0) {
      std::this_thread::sleep_for(delay);
    }
    const std::lock_guard lock(m_mutex);
    max_ages.push_back(target.max_age);
    if (down) {
      return common::util::fail(common::util::ErrorKind::transient, "connection refused");
    }
    const std::string name = target.repository.name();
    for (const auto& [needle, error] : failing) {
      if (name.find(needle) != std::string::npos) {
        return std::unexpected(error);
      }
    }
    const auto it = tags.find(name);
    return common::resolve::TagList{it != tags.end() ? it->second : default_tags, warning};
  }

  common::util::Result<common::util::Timestamp>
  created(const common::resolve::Target&, const std::string& tag,
          const std::vector<common::image::Platform>&) override {
    ++m_requests;
    const std::lock_guard lock(m_mutex);
    const auto failed = failing_created.find(tag);
    if (failed != failing_created.end()) {
      return std::unexpected(failed->second);
    }
    const auto it = created_at.find(tag);
    if (it == created_at.end()) {
      return common::util::fail(common::util::ErrorKind::not_found,
                                "no build time for " + tag + " on the wanted platforms");
    }
    return common::util::Timestamp{std::chrono::sys_seconds(std::chrono::seconds(it->second))};
  }

  common::util::Result<std::string> digest(const common::resolve::Target&,
                                           const std::string& tag) override {
    ++m_requests;
    return digest_of(tag);
  }

  // The digest this fake reports for `tag`.
  static std::string digest_of(const std::string& tag) {
    return "sha256:" + std::string(tag.size() < 64 ? 64 - tag.size() : 0, '0') + tag;
  }

  int requests() const { return m_requests; }

  // Settings: change them before resolving (or under no concurrent resolve).
  std::vector<std::string> default_tags = {"1.0.0", "1.2.0"};
  std::map<std::string, std::vector<std::string>> tags;
  std::map<std::string, Error> failing;         // repository-name substring -> list_tags error
  std::map<std::string, Error> failing_created; // tag -> created() error
  std::map<std::string, long long> created_at;  // tag -> seconds since the epoch
  std::string warning;                          // TagList::warning of every list
  bool down = false;
  std::chrono::microseconds delay{0};
  // Target::max_age of every list_tags call, in order (read when no resolve runs).
  std::vector<std::chrono::nanoseconds> max_ages;

private:
  std::atomic<int> m_requests{0};
  std::mutex m_mutex;
};

} // namespace tests
