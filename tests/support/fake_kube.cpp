#include "tests/support/fake_kube.hpp"

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/util/time.hpp"
#include "common/util/try.hpp"

namespace tests {

using json = nlohmann::json;
using Type = kube::WatchEvent::Type;

namespace {

std::string key_of(const kube::Resource& r) {
  return r.group + "/" + r.version + "/" + r.plural;
}

util::Result<json> parse(std::string_view text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) {
      return util::fail(util::ErrorKind::invalid_input, "the body is not a JSON object");
    }
    return j;
  } catch (const json::exception& e) {
    return util::fail(util::ErrorKind::invalid_input, std::string("invalid JSON: ") + e.what());
  }
}

std::string not_found(const kube::Resource& r, std::string_view name) {
  return r.plural + "." + r.group + " \"" + std::string(name) + "\" not found";
}

std::string conflict_message(const kube::Resource& r, std::string_view name) {
  return "Operation cannot be fulfilled on " + r.plural + "." + r.group + " \"" +
         std::string(name) +
         "\": the object has been modified; please apply your changes to the latest version and "
         "try again";
}

// Equality-based selectors: "a=b", "a==b", "a!=b", "a", "!a", comma-separated.
bool matches(const json& object, const std::string& selector) {
  if (selector.empty()) {
    return true;
  }
  const json labels = object.value("/metadata/labels"_json_pointer, json::object());
  std::size_t start = 0;
  while (start <= selector.size()) {
    std::size_t end = selector.find(',', start);
    if (end == std::string::npos) {
      end = selector.size();
    }
    std::string term = selector.substr(start, end - start);
    start = end + 1;
    if (term.empty()) {
      continue;
    }
    auto has = [&](const std::string& k) { return labels.contains(k); };
    auto value = [&](const std::string& k) {
      return has(k) && labels[k].is_string() ? labels[k].get<std::string>() : std::string();
    };
    if (auto p = term.find("!="); p != std::string::npos) {
      std::string k = term.substr(0, p);
      if (has(k) && value(k) == term.substr(p + 2)) {
        return false;
      }
    } else if (auto q = term.find('='); q != std::string::npos) {
      std::string k = term.substr(0, q);
      std::size_t v = term.compare(q, 2, "==") == 0 ? q + 2 : q + 1;
      if (!has(k) || value(k) != term.substr(v)) {
        return false;
      }
    } else if (term[0] == '!') {
      if (has(term.substr(1))) {
        return false;
      }
    } else if (!has(term)) {
      return false;
    }
  }
  return true;
}

// Everything but metadata and status: what a change of bumps generation.
json spec_part(json object) {
  object.erase("metadata");
  object.erase("status");
  return object;
}

bool has_finalizers(const json& object) {
  auto it = object.find("metadata");
  if (it == object.end() || !it->contains("finalizers")) {
    return false;
  }
  const json& f = (*it)["finalizers"];
  return f.is_array() && !f.empty();
}

} // namespace

struct FakeApi::Store {
  std::map<std::pair<std::string, std::string>, json> objects;
  std::vector<Event> log;
};

class FakeApi::Stream final : public kube::WatchStream {
public:
  Stream(FakeApi& api, Store& store, std::string namespace_, kube::WatchOptions options,
         std::size_t index, bool expired)
      : m_api(api), m_store(store), m_namespace(std::move(namespace_)),
        m_options(std::move(options)), m_index(index), m_expired(expired), m_epoch(api.m_epoch) {}
  ~Stream() override {
    std::lock_guard lock(m_api.m_mutex);
    --m_api.m_open_watches;
  }

  util::Result<std::optional<kube::WatchEvent>> next() override {
    std::unique_lock lock(m_api.m_mutex);
    if (m_expired) {
      m_expired = false;
      return util::fail(util::ErrorKind::gone, "too old resource version");
    }
    for (;;) {
      if (m_cancelled) {
        return std::nullopt;
      }
      if (m_api.m_epoch != m_epoch) {
        auto it = m_api.m_epoch_errors.find(m_epoch);
        if (it != m_api.m_epoch_errors.end() && it->second) {
          return std::unexpected(*it->second);
        }
        return std::nullopt;
      }
      while (m_index < m_store.log.size()) {
        const Event& e = m_store.log[m_index++];
        if (e.type == Type::bookmark) {
          if (m_options.allow_bookmarks) {
            return kube::WatchEvent{e.type, e.object_json, std::to_string(e.version)};
          }
          continue;
        }
        if (!m_namespace.empty() && e.namespace_ != m_namespace) {
          continue;
        }
        if (!m_options.label_selector.empty() &&
            !matches(json::parse(e.object_json), m_options.label_selector)) {
          continue;
        }
        return kube::WatchEvent{e.type, e.object_json, std::to_string(e.version)};
      }
      m_api.m_changed.wait(lock);
    }
  }

  void cancel() override {
    std::lock_guard lock(m_api.m_mutex);
    m_cancelled = true;
    m_api.m_changed.notify_all();
  }

private:
  FakeApi& m_api;
  Store& m_store;
  std::string m_namespace;
  kube::WatchOptions m_options;
  std::size_t m_index;
  bool m_expired;
  std::uint64_t m_epoch;
  bool m_cancelled = false;
};

FakeApi::FakeApi(util::Clock* clock) : m_clock(clock) {}
FakeApi::~FakeApi() = default;

FakeApi::Store& FakeApi::store_of(const kube::Resource& resource) {
  auto& slot = m_stores[key_of(resource)];
  if (!slot) {
    slot = std::make_unique<Store>();
  }
  return *slot;
}

std::optional<util::Error> FakeApi::take_failure(Verb verb) {
  ++m_counts[verb];
  auto& queue = m_failures[verb];
  if (queue.empty()) {
    return std::nullopt;
  }
  util::Error e = queue.front().first;
  if (--queue.front().second == 0) {
    queue.pop_front();
  }
  return e;
}

std::string FakeApi::now_text() const {
  auto t = m_clock != nullptr
               ? m_clock->now()
               : std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  return util::format_rfc3339(std::chrono::time_point_cast<std::chrono::seconds>(t));
}

#define FAKE_FAIL(verb)                                                                            \
  if (auto failure = take_failure(verb)) {                                                         \
    return std::unexpected(*failure);                                                              \
  }

util::Result<std::string> FakeApi::get(const kube::Resource& resource, std::string_view namespace_,
                                       std::string_view name) {
  std::lock_guard lock(m_mutex);
  FAKE_FAIL(Verb::get);
  Store& s = store_of(resource);
  auto it = s.objects.find({std::string(namespace_), std::string(name)});
  if (it == s.objects.end()) {
    return util::fail(util::ErrorKind::not_found, not_found(resource, name));
  }
  return it->second.dump();
}

util::Result<kube::ListPage> FakeApi::list(const kube::Resource& resource,
                                           std::string_view namespace_,
                                           const kube::ListOptions& options) {
  std::lock_guard lock(m_mutex);
  FAKE_FAIL(Verb::list);
  Store& s = store_of(resource);
  kube::ListPage page;
  std::pair<std::string, std::string> after;
  bool has_after = false;
  page.resource_version = std::to_string(m_version);
  if (!options.continue_token.empty()) {
    // "<version>\n<namespace>\n<name>": the list's version and the last key returned.
    auto a = options.continue_token.find('\n');
    auto b = a == std::string::npos ? a : options.continue_token.find('\n', a + 1);
    if (b == std::string::npos) {
      return util::fail(util::ErrorKind::invalid_input, "invalid continue token");
    }
    std::uint64_t version = std::stoull(options.continue_token.substr(0, a));
    if (version <= m_compacted) {
      return util::fail(util::ErrorKind::gone, "the provided continue parameter is too old");
    }
    page.resource_version = std::to_string(version);
    after = {options.continue_token.substr(a + 1, b - a - 1), options.continue_token.substr(b + 1)};
    has_after = true;
  }
  const std::pair<std::string, std::string>* last = nullptr;
  for (auto it = has_after ? s.objects.upper_bound(after) : s.objects.begin();
       it != s.objects.end(); ++it) {
    if (!namespace_.empty() && it->first.first != namespace_) {
      continue;
    }
    if (!matches(it->second, options.label_selector)) {
      continue;
    }
    if (options.limit != 0 && page.items.size() == options.limit) {
      page.continue_token = page.resource_version + "\n" + last->first + "\n" + last->second;
      break;
    }
    page.items.push_back(it->second.dump());
    last = &it->first;
  }
  return page;
}

struct FakeApi::Ops {
  static void put(FakeApi& api, Store& s, const json& key_object, json object, Type type);
  static bool has_status(const FakeApi& api, const kube::Resource& resource);
  static std::string write(FakeApi& api, const kube::Resource& resource, Store& s, const json& old,
                           json body, bool status_only);
};

void FakeApi::Ops::put(FakeApi& api, Store& s, const json& key_object, json object, Type type) {
  object["metadata"]["resourceVersion"] = std::to_string(++api.m_version);
  std::string ns = key_object["metadata"].value("namespace", "");
  std::string name = key_object["metadata"].value("name", "");
  s.log.push_back({api.m_version, type, ns, object.dump()});
  if (type == Type::deleted) {
    s.objects.erase({ns, name});
  } else {
    s.objects[{ns, name}] = std::move(object);
  }
  api.m_changed.notify_all();
}

bool FakeApi::Ops::has_status(const FakeApi& api, const kube::Resource& resource) {
  auto it = api.m_status_override.find(key_of(resource));
  if (it != api.m_status_override.end()) {
    return it->second;
  }
  return resource.plural != "leases" && resource.plural != "events";
}

// The object a write of `body` over `old` leaves (server-owned metadata kept, status or the rest
// ignored by subresource), stored unless nothing changed.
std::string FakeApi::Ops::write(FakeApi& api, const kube::Resource& resource, Store& s,
                                const json& old, json body, bool status_only) {
  json next;
  if (status_only) {
    next = old;
    if (body.contains("status")) {
      next["status"] = body["status"];
    } else {
      next.erase("status");
    }
  } else {
    next = std::move(body);
    json& m = next["metadata"];
    const json& om = old["metadata"];
    for (const char* k : {"uid", "creationTimestamp", "generation", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "namespace", "name", "resourceVersion"}) {
      if (om.contains(k)) {
        m[k] = om[k];
      } else {
        m.erase(k);
      }
    }
    if (has_status(api, resource)) {
      if (old.contains("status")) {
        next["status"] = old["status"];
      } else {
        next.erase("status");
      }
    }
    if (spec_part(next) != spec_part(old)) {
      m["generation"] = om.value("generation", std::int64_t{1}) + 1;
    }
  }
  if (next == old) {
    return old.dump();
  }
  if (next["metadata"].contains("deletionTimestamp") && !has_finalizers(next)) {
    put(api, s, old, next, Type::deleted);
    return next.dump();
  }
  put(api, s, old, next, Type::modified);
  return s.objects[{old["metadata"].value("namespace", ""), old["metadata"].value("name", "")}]
      .dump();
}

util::Result<std::string> FakeApi::create(const kube::Resource& resource,
                                          std::string_view namespace_, std::string_view object_json,
                                          const kube::WriteOptions& /*options*/) {
  std::lock_guard lock(m_mutex);
  FAKE_FAIL(Verb::create);
  json o = IU_TRY(parse(object_json));
  json& m = o["metadata"];
  if (!m.is_object()) {
    return util::fail(util::ErrorKind::invalid_input, "metadata: Required value");
  }
  if (m.value("name", "").empty()) {
    if (m.value("generateName", "").empty()) {
      return util::fail(util::ErrorKind::invalid_input, "metadata.name: Required value");
    }
    m["name"] = m["generateName"].get<std::string>() + std::to_string(m_uids + 1);
  }
  if (m.contains("resourceVersion")) {
    return util::fail(util::ErrorKind::invalid_input,
                      "metadata.resourceVersion: Invalid value: resourceVersion should not be set "
                      "on objects to be created");
  }
  if (resource.namespaced) {
    if (namespace_.empty() || (m.contains("namespace") && m["namespace"] != namespace_)) {
      return util::fail(util::ErrorKind::invalid_input,
                        "the namespace of the object does not match the namespace of the request");
    }
    m["namespace"] = namespace_;
  }
  Store& s = store_of(resource);
  std::string name = m["name"];
  if (s.objects.contains({std::string(namespace_), name})) {
    return util::fail(util::ErrorKind::conflict,
                      resource.plural + "." + resource.group + " \"" + name + "\" already exists");
  }
  m["uid"] = "uid-" + std::to_string(++m_uids);
  m["generation"] = 1;
  m["creationTimestamp"] = now_text();
  m.erase("deletionTimestamp");
  json key = o;
  Ops::put(*this, s, key, std::move(o), Type::added);
  return s.objects[{std::string(namespace_), name}].dump();
}

util::Result<std::string> FakeApi::update(const kube::Resource& resource,
                                          std::string_view namespace_, std::string_view name,
                                          std::string_view object_json,
                                          std::string_view subresource,
                                          const kube::WriteOptions& /*options*/) {
  std::lock_guard lock(m_mutex);
  FAKE_FAIL(subresource == "status" ? Verb::update_status : Verb::update);
  json body = IU_TRY(parse(object_json));
  Store& s = store_of(resource);
  auto it = s.objects.find({std::string(namespace_), std::string(name)});
  if (it == s.objects.end()) {
    return util::fail(util::ErrorKind::not_found, not_found(resource, name));
  }
  std::string wanted = body.value("/metadata/resourceVersion"_json_pointer, std::string());
  if (!wanted.empty() && wanted != it->second["metadata"]["resourceVersion"]) {
    return util::fail(util::ErrorKind::conflict, conflict_message(resource, name));
  }
  json old = it->second;
  return Ops::write(*this, resource, s, old, std::move(body), subresource == "status");
}

util::Result<std::string> FakeApi::patch(const kube::Resource& resource,
                                         std::string_view namespace_, std::string_view name,
                                         kube::PatchType type, std::string_view patch_text,
                                         std::string_view subresource,
                                         const kube::WriteOptions& /*options*/) {
  std::lock_guard lock(m_mutex);
  FAKE_FAIL(Verb::patch);
  Store& s = store_of(resource);
  auto it = s.objects.find({std::string(namespace_), std::string(name)});
  if (it == s.objects.end()) {
    return util::fail(util::ErrorKind::not_found, not_found(resource, name));
  }
  json old = it->second;
  json next = old;
  try {
    json p = json::parse(patch_text);
    if (type == kube::PatchType::json) {
      next = old.patch(p);
    } else {
      std::string wanted = p.value("/metadata/resourceVersion"_json_pointer, std::string());
      if (!wanted.empty() && wanted != old["metadata"]["resourceVersion"]) {
        return util::fail(util::ErrorKind::conflict, conflict_message(resource, name));
      }
      next.merge_patch(p);
    }
  } catch (const json::exception& e) {
    return util::fail(util::ErrorKind::invalid_input, std::string("invalid patch: ") + e.what());
  }
  return Ops::write(*this, resource, s, old, std::move(next), subresource == "status");
}

util::Result<std::string> FakeApi::remove(const kube::Resource& resource,
                                          std::string_view namespace_, std::string_view name,
                                          const kube::DeleteOptions& options) {
  std::lock_guard lock(m_mutex);
  FAKE_FAIL(Verb::remove);
  Store& s = store_of(resource);
  auto it = s.objects.find({std::string(namespace_), std::string(name)});
  if (it == s.objects.end()) {
    return util::fail(util::ErrorKind::not_found, not_found(resource, name));
  }
  json old = it->second;
  const json& m = old["metadata"];
  if ((!options.resource_version.empty() && options.resource_version != m["resourceVersion"]) ||
      (!options.uid.empty() && options.uid != m.value("uid", ""))) {
    return util::fail(util::ErrorKind::conflict, conflict_message(resource, name));
  }
  if (has_finalizers(old)) {
    if (m.contains("deletionTimestamp")) {
      return old.dump();
    }
    json next = old;
    next["metadata"]["deletionTimestamp"] = now_text();
    next["metadata"]["deletionGracePeriodSeconds"] = 0;
    Ops::put(*this, s, old, next, Type::modified);
    return s.objects[{std::string(namespace_), std::string(name)}].dump();
  }
  Ops::put(*this, s, old, old, Type::deleted);
  json status = {
      {"kind", "Status"},
      {"apiVersion", "v1"},
      {"status", "Success"},
      {"details", {{"name", name}, {"kind", resource.plural}, {"uid", m.value("uid", "")}}}};
  return status.dump();
}

util::Result<std::unique_ptr<kube::WatchStream>> FakeApi::watch(const kube::Resource& resource,
                                                                std::string_view namespace_,
                                                                const kube::WatchOptions& options) {
  std::lock_guard lock(m_mutex);
  FAKE_FAIL(Verb::watch);
  Store& s = store_of(resource);
  std::size_t index = s.log.size();
  bool expired = false;
  if (!options.resource_version.empty() && options.resource_version != "0") {
    std::uint64_t from = 0;
    try {
      from = std::stoull(options.resource_version);
    } catch (const std::exception&) {
      return util::fail(util::ErrorKind::invalid_input, "invalid resourceVersion");
    }
    expired = from < m_compacted;
    auto first = std::upper_bound(s.log.begin(), s.log.end(), from,
                                  [](std::uint64_t v, const Event& e) { return v < e.version; });
    index = static_cast<std::size_t>(first - s.log.begin());
  }
  ++m_open_watches;
  return std::make_unique<Stream>(*this, s, std::string(namespace_), options, index, expired);
}

void FakeApi::fail_next(Verb verb, util::Error error, std::size_t times) {
  std::lock_guard lock(m_mutex);
  if (times > 0) {
    m_failures[verb].emplace_back(std::move(error), times);
  }
}

void FakeApi::clear_failures() {
  std::lock_guard lock(m_mutex);
  m_failures.clear();
}

void FakeApi::end_watches(std::optional<util::Error> error) {
  std::lock_guard lock(m_mutex);
  m_epoch_errors[m_epoch] = std::move(error);
  ++m_epoch;
  m_changed.notify_all();
}

void FakeApi::send_bookmark() {
  std::lock_guard lock(m_mutex);
  json bookmark = {{"kind", "Bookmark"},
                   {"metadata", {{"resourceVersion", std::to_string(m_version)}}}};
  for (auto& [key, s] : m_stores) {
    s->log.push_back({m_version, Type::bookmark, "", bookmark.dump()});
  }
  m_changed.notify_all();
}

void FakeApi::compact() {
  std::lock_guard lock(m_mutex);
  m_compacted = m_version;
}

void FakeApi::set_status_subresource(const kube::Resource& resource, bool enabled) {
  std::lock_guard lock(m_mutex);
  m_status_override[key_of(resource)] = enabled;
}

std::uint64_t FakeApi::count(Verb verb) const {
  std::lock_guard lock(m_mutex);
  auto it = m_counts.find(verb);
  return it == m_counts.end() ? 0 : it->second;
}

std::uint64_t FakeApi::total_requests() const {
  std::lock_guard lock(m_mutex);
  std::uint64_t n = 0;
  for (const auto& [verb, c] : m_counts) {
    n += c;
  }
  return n;
}

std::size_t FakeApi::open_watches() const {
  std::lock_guard lock(m_mutex);
  return m_open_watches;
}

std::string FakeApi::resource_version() const {
  std::lock_guard lock(m_mutex);
  return std::to_string(m_version);
}

std::size_t FakeApi::size(const kube::Resource& resource) const {
  std::lock_guard lock(m_mutex);
  auto it = m_stores.find(key_of(resource));
  return it == m_stores.end() ? 0 : it->second->objects.size();
}

} // namespace tests
