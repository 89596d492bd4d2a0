// In-process driver of bench/flux.sh: the Flux source generator's reconciler
// (common/generator/reconciler.hpp) wired as `imageupdater-flux-source serve` wires it
// (SqliteStore, RegistryWiring with its shared disk cache, make_sources with a git cache,
// artifact::Storage, RegistryPusher), in a work directory, timed per reconcile. Prints one JSON
// object per line on stdout; bench/flux.sh turns them into tables.
//
//   bench_flux single --work DIR --spec FILE --stats URL [--oci REF] [--warm N] [--colds N]
//                     [--new-tag-cmd CMD] [--ttl SECONDS] [--no-cache 1]
//     Workload A: one fluxcd ImageUpdater (spec.* of FILE, namespace "bench", name "fleet").
//     `--colds` times the first reconcile that many times, each with a fresh store, git cache,
//     registry cache and storage (and OCI repository REF-<i>, so every cold run really pushes);
//     the last stack then goes on: `--warm` reconciles with the registry cache fresh, `--warm`
//     more each after the clock moved past the cache TTL (the next interval: tags and digests
//     fetched again, unchanged), then CMD (which pushes a newer tag), the clock moved again, one
//     reconcile (a new artifact), and one more (warm again). Then the phases of one render are
//     timed apart (tree read from the mirror, setters, render, pack). `--no-cache 1` wires the
//     registries without the disk cache, as `serve --no-cache` does.
//   bench_flux fleet --work DIR --specs FILE --stats URL [--workers N] [--interval-workers N,M..]
//                    [--ttl SECONDS] [--registries-conf FILE] [--name SUBDIR]
//     Workload B: every object of FILE (a JSON array of {"name", "spec"}, namespace "fleet")
//     created, then reconciled once by a controller::Controller with N workers (what serve does
//     at start-up and at every interval); then one round per --interval-workers count, each
//     after the clock moved past the cache TTL and the interval. Counts tag-list requests
//     through the pager's /_stats. FILE: registries.conf (e.g. to lift the default rate limit).
//
// "Pushed" is counted by wrapping the real pusher (calls, and PushResult::pushed: false when
// the registry already had the content); "stored" by watching the current artifact's digest.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <openssl/evp.h>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <git2.h>
#include <nlohmann/json.hpp>

#include "common/artifact/archive.hpp"
#include "common/artifact/storage.hpp"
#include "common/controller/controller.hpp"
#include "common/flux/render.hpp"
#include "common/generator/oci_pusher.hpp"
#include "common/generator/reconciler.hpp"
#include "common/generator/source.hpp"
#include "common/generator/stages.hpp"
#include "common/gitsource/mirror.hpp"
#include "common/image/digest.hpp"
#include "common/oci/flux_artifact.hpp"
#include "common/resolve/resolver.hpp"
#include "common/resolve/wiring.hpp"
#include "common/store/sqlite_store.hpp"
#include "common/util/clock.hpp"

namespace {

namespace fs = std::filesystem;
namespace cg = common::generator;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

double ms_since(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "bench_flux: %s\n", message.c_str());
  std::exit(1);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    die("cannot read " + path);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void emit(const json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

// Cumulative tag-list requests the harness's pager has seen (all repositories).
long tag_requests(const std::string& stats_url) {
  FILE* p = ::popen(("curl -sf '" + stats_url + "'").c_str(), "r");
  if (p == nullptr) {
    die("cannot run curl");
  }
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) {
    text.append(buf, n);
  }
  if (::pclose(p) != 0) {
    die("GET " + stats_url + " failed");
  }
  long sum = 0;
  const json doc = json::parse(text); // outlives the loop (GCC 12: no P2718 lifetime extension)
  for (const auto& [repo, count] : doc.at("tags_requests").items()) {
    sum += count.get<long>();
  }
  return sum;
}

// The system clock plus an offset the driver moves forward: "the next interval" without
// waiting for it. Cache expiry, status times and storage mtimes all read this clock.
class OffsetClock final : public common::util::Clock {
public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now() +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(
               std::chrono::nanoseconds(m_offset.load()));
  }
  // Moved too: rate limits (20 requests/s per registry by default) refill across the interval.
  std::chrono::steady_clock::time_point steady_now() const override {
    return Steady::now() +
           std::chrono::duration_cast<Steady::duration>(std::chrono::nanoseconds(m_offset.load()));
  }
  void sleep_for(std::chrono::nanoseconds d) override { std::this_thread::sleep_for(d); }
  void advance(std::chrono::nanoseconds d) { m_offset += d.count(); }

private:
  std::atomic<std::int64_t> m_offset{0};
};

// When the reconcile running on this thread started (set by whoever calls reconcile()): the time
// before its source fetch is its resolve (store read, spec load, tag lists and digests).
thread_local Steady::time_point t_reconcile_start{};

// Times the source fetch of each reconcile (git connect, ref listing, download when needed,
// reading the tree).
class TimedSources final : public cg::Sources {
public:
  explicit TimedSources(cg::Sources& inner) : m_inner(inner) {}
  common::util::Result<cg::Fetched> fetch(const common::spec::ImageUpdater& updater,
                                          const std::string& known_revision) override {
    const auto t = Steady::now();
    auto r = m_inner.fetch(updater, known_revision);
    const double ms = ms_since(t);
    const std::lock_guard lock(m_mutex);
    m_totals.ms += ms;
    ++m_totals.calls;
    if (t_reconcile_start != Steady::time_point{}) {
      // Only the first fetch of a reconcile ends its resolve (a second one reads the files).
      m_totals.resolve_ms +=
          std::chrono::duration<double, std::milli>(t - t_reconcile_start).count();
      t_reconcile_start = Steady::time_point{};
    }
    return r;
  }
  struct Totals {
    double ms = 0; // summed over the fetches (waiting for the URL's lock included)
    int calls = 0;
    double resolve_ms = 0; // summed: from each reconcile's start to its fetch
  };
  Totals take() {
    const std::lock_guard lock(m_mutex);
    return std::exchange(m_totals, {});
  }

private:
  cg::Sources& m_inner;
  std::mutex m_mutex;
  Totals m_totals;
};

// Counts and times pushes, and whether the registry got new content.
class CountingPusher final : public cg::OciPusher {
public:
  explicit CountingPusher(cg::OciPusher& inner) : m_inner(inner) {}
  common::util::Result<common::oci::PushResult>
  push(const std::string& reference, std::string_view layer_targz,
       const common::oci::Annotations& annotations) override {
    const auto t = Steady::now();
    auto r = m_inner.push(reference, layer_targz, annotations);
    const std::lock_guard lock(m_mutex);
    m_ms += ms_since(t);
    ++m_calls;
    if (r && r->pushed) {
      ++m_pushed;
    }
    return r;
  }
  struct Totals {
    double ms = 0;
    int calls = 0;
    int pushed = 0;
  };
  Totals take() {
    const std::lock_guard lock(m_mutex);
    Totals t{m_ms, m_calls, m_pushed};
    m_ms = 0;
    m_calls = 0;
    m_pushed = 0;
    return t;
  }

private:
  cg::OciPusher& m_inner;
  std::mutex m_mutex;
  double m_ms = 0;
  int m_calls = 0;
  int m_pushed = 0;
};

// Everything serve builds for its control loop, in one directory.
struct Stack {
  // `oci_prefix`: the repository prefix namespace "bench" may push to (the operator's
  // --oci-repository-allow), "" for none.
  Stack(const std::string& dir, std::chrono::seconds ttl, bool use_cache = true,
        const std::string& registries_conf = "", const std::string& oci_prefix = "") {
    fs::create_directories(dir);
    auto opened = common::store::SqliteStore::open(dir + "/imageupdater.db", clock);
    if (!opened) {
      die(opened.error().message);
    }
    store = std::move(*opened);
    common::resolve::RegistrySettings rs;
    rs.cache_dir = dir + "/cache";
    rs.cache_ttl = ttl;
    rs.use_cache = use_cache;
    rs.registries_conf = registries_conf;
    std::vector<std::string> notes;
    auto wired = common::resolve::RegistryWiring::open(rs, clock, notes);
    if (!wired) {
      die(wired.error().message);
    }
    for (const auto& n : notes) {
      std::fprintf(stderr, "bench_flux: note: %s\n", n.c_str());
    }
    registries = std::move(*wired);
    cg::SourceSettings ss;
    ss.git_cache_dir = dir + "/git";
    ss.timeout = std::chrono::minutes(5);
    sources = cg::make_sources(ss);
    timed_sources = std::make_unique<TimedSources>(*sources);
    storage = std::make_unique<common::artifact::Storage>(dir + "/artifacts", clock);
    registry_pusher = std::make_unique<cg::RegistryPusher>(*registries);
    pusher = std::make_unique<CountingPusher>(*registry_pusher);
    cg::GeneratorOptions go;
    go.artifact_base_url = "http://127.0.0.1:9090";
    go.external_artifacts_dir = dir + "/externalartifacts";
    if (!oci_prefix.empty()) {
      go.oci_allowed = {{"bench", {oci_prefix}}};
    }
    reconciler = std::make_unique<cg::GeneratorReconciler>(
        *store, registries->source(), *timed_sources, *storage, pusher.get(), clock, nullptr, go);
  }
  void create(const common::store::Key& key, const json& spec,
              std::map<std::string, std::string> annotations) {
    common::store::Object o;
    o.key = key;
    o.spec_json = spec.dump();
    o.status_json = "{}";
    o.annotations = std::move(annotations);
    if (auto c = store->create(o); !c) {
      die("create " + key.name + ": " + c.error().message);
    }
  }
  json status(const common::store::Key& key) {
    auto o = store->get(key);
    if (!o) {
      die(o.error().message);
    }
    return json::parse(o->status_json);
  }

  OffsetClock clock;
  std::unique_ptr<common::store::SqliteStore> store;
  std::unique_ptr<common::resolve::RegistryWiring> registries;
  std::unique_ptr<cg::Sources> sources;
  std::unique_ptr<TimedSources> timed_sources;
  std::unique_ptr<common::artifact::Storage> storage;
  std::unique_ptr<cg::RegistryPusher> registry_pusher;
  std::unique_ptr<CountingPusher> pusher;
  std::unique_ptr<cg::GeneratorReconciler> reconciler;
};

std::string ready(const json& status) {
  if (!status.contains("conditions") || status["conditions"].empty()) {
    return "none";
  }
  const json& c = status["conditions"][0];
  return c.value("status", "") + " " + c.value("reason", "") + ": " + c.value("message", "");
}

// One timed reconcile of `key`, with what it did.
json timed_reconcile(Stack& s, const common::store::Key& key, const std::string& phase,
                     const std::string& stats_url) {
  const json before = s.status(key);
  const auto current_before = s.storage->current("externalartifact", key.namespace_, key.name);
  const std::string digest_before =
      current_before && *current_before ? (*current_before)->digest : "";
  const long requests_before = tag_requests(stats_url);
  const auto t = Steady::now();
  t_reconcile_start = t;
  auto r = s.reconciler->reconcile(key);
  const double total = ms_since(t);
  t_reconcile_start = {};
  const long requests = tag_requests(stats_url) - requests_before;
  if (!r) {
    die(phase + ": reconcile failed: " + r.error().message);
  }
  const auto src = s.timed_sources->take();
  const auto push = s.pusher->take();
  const json after = s.status(key);
  const auto current = s.storage->current("externalartifact", key.namespace_, key.name);
  const std::string digest = current && *current ? (*current)->digest : "";
  const std::string state = ready(after);
  if (!state.starts_with("True Succeeded")) {
    die(phase + ": not ready: " + state);
  }
  // Resolve runs first (store read, spec load, tag lists and digests), then the fetch.
  const double resolve_ms = src.resolve_ms;
  json images = json::array();
  for (const auto& i : after.value("images", json::array())) {
    images.push_back(i.value("alias", "") + "=" + i.value("tag", ""));
  }
  return {{"phase", phase},
          {"ms", total},
          {"resolve_ms", resolve_ms},
          {"fetch_ms", src.ms},
          {"push_ms", push.ms},
          {"rest_ms", total - resolve_ms - src.ms - push.ms},
          {"new_artifact", digest != digest_before},
          {"artifact_digest", digest},
          {"artifact_size", after["artifact"].value("size", 0)},
          {"push_calls", push.calls},
          {"pushed", push.pushed},
          {"tag_requests", requests},
          {"revision", after["source"].value("revision", "")},
          {"inputs_changed", before.value("inputsDigest", "") != after.value("inputsDigest", "")},
          {"images", images}};
}

struct Args {
  std::map<std::string, std::string> values;
  std::string get(const std::string& k, const std::string& fallback = "") const {
    auto it = values.find(k);
    return it == values.end() ? fallback : it->second;
  }
  std::string need(const std::string& k) const {
    auto it = values.find(k);
    if (it == values.end()) {
      die("--" + k + " is needed");
    }
    return it->second;
  }
};

// The phases of one cold render, apart: the tree read out of the mirror (no network), the
// setters, the rewrite of every file, the tar.gz.
void profile_render(Stack& s, const common::store::Key& key, const std::string& git_dir) {
  auto object = s.store->get(key);
  const auto loaded = common::generator::load_updater(*object);
  if (!loaded.updater) {
    die("invalid spec: " + loaded.invalid);
  }
  const auto& updater = *loaded.updater;
  const json status = json::parse(object->status_json);
  const std::string revision = status["source"].value("revision", "");
  const std::string commit = revision.substr(revision.find("sha1:") + 5);
  constexpr int k_reps = 5;
  json out = {{"phase", "profile"}, {"reps", k_reps}};

  // The mirror: the one directory under the git cache (one URL).
  std::string mirror;
  for (const auto& e : fs::directory_iterator(git_dir)) {
    if (e.is_directory()) {
      mirror = e.path().string();
    }
  }
  git_libgit2_init();
  {
    std::vector<std::string> warnings;
    auto repo = common::gitsource::detail::open_mirror(mirror, warnings);
    if (!repo) {
      die(repo.error().message);
    }
    std::vector<double> times;
    common::util::Tree tree;
    for (int i = 0; i < k_reps; ++i) {
      std::vector<std::string> w;
      common::gitsource::detail::Warnings collected(w);
      const auto t = Steady::now();
      auto read =
          common::gitsource::detail::read_tree(repo->get(), commit, updater.fluxcd->update.path,
                                               {std::size_t{256} << 20, 20000}, "bench", collected);
      times.push_back(ms_since(t));
      if (!read) {
        die(read.error().message);
      }
      tree = std::move(*read);
    }
    std::size_t bytes = 0;
    for (const auto& f : tree) {
      bytes += f.content.size();
    }
    out["files"] = tree.size();
    out["bytes"] = bytes;
    out["read_tree_ms"] = times;
    std::uintmax_t pack_bytes = 0;
    for (const auto& e : fs::recursive_directory_iterator(mirror)) {
      if (e.is_regular_file() && e.path().extension() == ".pack") {
        pack_bytes += e.file_size();
      }
    }
    out["mirror_pack_bytes"] = pack_bytes;
  }
  git_libgit2_shutdown();

  auto fetched = s.sources->fetch(updater, "");
  if (!fetched) {
    die(fetched.error().message);
  }
  {
    std::vector<double> times;
    for (int i = 0; i < k_reps; ++i) {
      const auto t = Steady::now();
      auto again = s.sources->fetch(updater, "");
      times.push_back(ms_since(t));
    }
    out["fetch_warm_mirror_ms"] = times;
  }
  {
    std::vector<double> times;
    for (int i = 0; i < k_reps; ++i) {
      const auto t = Steady::now();
      (void)cg::tree_revision(fetched->files);
      times.push_back(ms_since(t));
    }
    out["sha256_tree_ms"] = times; // hashing every file once: a floor for anything that reads them
  }
  common::resolve::ResolveOptions ro;
  ro.jobs = 4;
  const auto results = common::resolve::resolve_updater(updater, s.registries->source(), ro);
  auto overrides = common::flux::overrides_for(updater, results);
  if (!overrides) {
    die(overrides.error().message);
  }
  std::vector<double> unknown_ms, render_ms, pack_ms;
  std::size_t changed_files = 0, changed_values = 0, packed = 0;
  std::string targz;
  for (int i = 0; i < k_reps; ++i) {
    auto t = Steady::now();
    (void)common::flux::unknown_setters(fetched->files, *overrides, key.namespace_);
    unknown_ms.push_back(ms_since(t));
    auto files = fetched->files; // render takes the tree (the reconciler moves its own in)
    t = Steady::now();
    auto rendered = common::flux::render(std::move(files), *overrides);
    render_ms.push_back(ms_since(t));
    if (!rendered) {
      die(rendered.error().message);
    }
    changed_files = rendered->changes.size();
    changed_values = 0;
    for (const auto& c : rendered->changes) {
      changed_values += c.count();
    }
    t = Steady::now();
    auto bytes = common::artifact::pack(rendered->files);
    pack_ms.push_back(ms_since(t));
    if (!bytes) {
      die(bytes.error().message);
    }
    packed = bytes->size();
    targz = std::move(*bytes);
  }
  out["unknown_setters_ms"] = unknown_ms;
  out["render_ms"] = render_ms;
  out["pack_ms"] = pack_ms;
  out["changed_files"] = changed_files;
  out["changed_values"] = changed_values;
  out["targz_bytes"] = packed;

  // What the push and the storage do with those bytes before and beside the network.
  std::vector<double> artifact_ms, tar_digest_ms, put_ms, digest_ms, openssl_ms;
  std::string all; // every file's bytes, for the two SHA-256 implementations side by side
  for (const auto& f : fetched->files) {
    all += f.content;
  }
  for (int i = 0; i < k_reps; ++i) {
    auto t = Steady::now();
    auto built = common::oci::build_flux_artifact(targz, {"bench", "main@sha1:" + commit});
    artifact_ms.push_back(ms_since(t));
    if (!built) {
      die(built.error().message);
    }
    t = Steady::now();
    (void)common::artifact::tar_digest(targz, {});
    tar_digest_ms.push_back(ms_since(t));
    std::string distinct = targz; // a new file every time: the put writes and syncs it
    distinct.back() = static_cast<char>(i);
    t = Steady::now();
    if (auto put = s.storage->put("externalartifact", "profile", "put", distinct); !put) {
      die(put.error().message);
    }
    put_ms.push_back(ms_since(t));
    t = Steady::now();
    (void)common::image::sha256_digest(all);
    digest_ms.push_back(ms_since(t));
    t = Steady::now();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(all.data(), all.size(), md, &len, EVP_sha256(), nullptr);
    openssl_ms.push_back(ms_since(t));
  }
  out["build_flux_artifact_ms"] = artifact_ms; // gunzip + SHA-256 of the tar (diff_id) + digests
  out["tar_digest_ms"] = tar_digest_ms;
  out["storage_put_ms"] = put_ms;
  out["sha256_digest_ms"] = digest_ms; // image::sha256_digest (util::sha256_hex, EVP)
  out["sha256_openssl_ms"] = openssl_ms;
  out["sha256_bytes"] = all.size();
  emit(out);
}

int single(const Args& a) {
  const std::string work = a.need("work");
  const json spec = json::parse(read_text(a.need("spec")));
  const std::string stats = a.need("stats");
  const std::string oci = a.get("oci");
  const int warm = std::stoi(a.get("warm", "10"));
  const int colds = std::stoi(a.get("colds", "1"));
  const std::chrono::seconds ttl(std::stoi(a.get("ttl", "120")));
  const bool use_cache = a.get("no-cache", "0") != "1";
  const common::store::Key key{"bench", "fleet"};

  std::unique_ptr<Stack> s;
  std::string dir;
  for (int i = 0; i < colds; ++i) {
    dir = work + "/cold-" + std::to_string(i);
    s = std::make_unique<Stack>(dir, ttl, use_cache, "",
                                oci.empty() ? std::string() : oci.substr(0, oci.rfind('/')));
    std::map<std::string, std::string> annotations;
    if (!oci.empty()) {
      annotations[std::string(cg::k_oci_annotation)] = oci + "-" + std::to_string(i) + ":latest";
    }
    s->create(key, spec, annotations);
    emit(timed_reconcile(*s, key, "cold", stats));
  }
  for (int i = 0; i < warm; ++i) {
    emit(timed_reconcile(*s, key, "warm-cached", stats));
  }
  for (int i = 0; i < warm; ++i) {
    s->clock.advance(ttl + std::chrono::seconds(1));
    emit(timed_reconcile(*s, key, "warm-expired", stats));
  }
  if (const std::string cmd = a.get("new-tag-cmd"); !cmd.empty()) {
    if (std::system(cmd.c_str()) != 0) {
      die("failed: " + cmd);
    }
    s->clock.advance(ttl + std::chrono::seconds(1));
    emit(timed_reconcile(*s, key, "new-tag", stats));
    emit(timed_reconcile(*s, key, "warm-after-new-tag", stats));
  }
  profile_render(*s, key, dir + "/git");
  return 0;
}

// Counts the reconciles a Controller completes, so a round can be waited for.
class CountingReconciler final : public common::controller::Reconciler {
public:
  explicit CountingReconciler(common::controller::Reconciler& inner) : m_inner(inner) {}
  common::util::Result<std::chrono::nanoseconds> reconcile(const common::store::Key& key) override {
    const auto t = Steady::now();
    t_reconcile_start = t;
    auto r = m_inner.reconcile(key);
    const double ms = ms_since(t);
    t_reconcile_start = {};
    {
      const std::lock_guard lock(m_mutex);
      m_ms.push_back(ms);
      if (!r) {
        m_errors.push_back(key.name + ": " + r.error().message);
      }
      m_done.insert(key);
    }
    m_changed.notify_all();
    return r;
  }
  // Waits until `n` distinct keys were reconciled since the last reset.
  void wait_for(std::size_t n) {
    std::unique_lock lock(m_mutex);
    if (!m_changed.wait_for(lock, std::chrono::minutes(10), [&] { return m_done.size() >= n; })) {
      die("timed out: " + std::to_string(m_done.size()) + " of " + std::to_string(n) +
          " reconciled");
    }
  }
  std::vector<double> take_ms() {
    const std::lock_guard lock(m_mutex);
    m_done.clear();
    return std::exchange(m_ms, {});
  }
  std::vector<std::string> errors() {
    const std::lock_guard lock(m_mutex);
    return std::exchange(m_errors, {});
  }

private:
  common::controller::Reconciler& m_inner;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::set<common::store::Key> m_done;
  std::vector<double> m_ms;
  std::vector<std::string> m_errors;
};

int fleet(const Args& a) {
  const std::string work = a.need("work");
  const json specs = json::parse(read_text(a.need("specs")));
  const std::string stats = a.need("stats");
  const std::chrono::seconds ttl(std::stoi(a.get("ttl", "120")));
  // The first round with --workers; then one round at the next interval per --interval-workers.
  std::vector<std::size_t> round_workers = {std::stoul(a.get("workers", "4"))};
  {
    std::stringstream list(a.get("interval-workers", "4"));
    for (std::string w; std::getline(list, w, ',');) {
      round_workers.push_back(std::stoul(w));
    }
  }
  Stack s(work + "/" + a.get("name", "fleet"), ttl, true, a.get("registries-conf"));
  std::vector<common::store::Key> keys;
  std::set<std::string> images;
  std::size_t image_refs = 0;
  for (const json& item : specs) {
    keys.push_back({"fleet", item.at("name").get<std::string>()});
    s.create(keys.back(), item.at("spec"), {});
    for (const auto& i : item["spec"]["images"]) {
      images.insert(i.get<std::string>().substr(i.get<std::string>().find('=') + 1));
      ++image_refs;
    }
  }
  const auto digests = [&] {
    std::map<common::store::Key, std::string> out;
    for (const auto& k : keys) {
      auto current = s.storage->current("externalartifact", k.namespace_, k.name);
      out[k] = current && *current ? (*current)->digest : "";
    }
    return out;
  };
  CountingReconciler counting(*s.reconciler);
  for (std::size_t round = 0; round < round_workers.size(); ++round) {
    const std::size_t workers = round_workers[round];
    if (round > 0) {
      // The next interval: past the cache TTL, so every tag list is due again.
      s.clock.advance(std::max<std::chrono::nanoseconds>(ttl, std::chrono::minutes(5)) +
                      std::chrono::seconds(1));
    }
    (void)s.pusher->take();
    (void)s.timed_sources->take();
    const auto before = digests();
    common::controller::ControllerOptions co;
    co.workers = workers;
    common::controller::Controller controller(counting, co, nullptr, nullptr);
    const long requests_before = tag_requests(stats);
    const auto t = Steady::now();
    for (const auto& k : keys) {
      controller.enqueue(k);
    }
    controller.start();
    counting.wait_for(keys.size());
    const double wall = ms_since(t);
    controller.stop();
    const long requests = tag_requests(stats) - requests_before;
    auto ms = counting.take_ms();
    std::sort(ms.begin(), ms.end());
    const auto src = s.timed_sources->take();
    const auto push = s.pusher->take();
    const auto after = digests();
    std::size_t ready_count = 0;
    std::size_t new_artifacts = 0;
    for (const auto& k : keys) {
      ready_count += ready(s.status(k)).starts_with("True Succeeded") ? 1 : 0;
      new_artifacts += before.at(k) != after.at(k) ? 1 : 0;
    }
    auto errors = counting.errors();
    for (const auto& e : errors) {
      std::fprintf(stderr, "bench_flux: %s\n", e.c_str());
    }
    double sum = 0;
    for (double x : ms) {
      sum += x;
    }
    emit({{"phase", round == 0 ? "fleet-cold" : "fleet-next-interval"},
          {"updaters", keys.size()},
          {"distinct_images", images.size()},
          {"image_refs", image_refs},
          {"workers", workers},
          {"wall_ms", wall},
          {"tag_requests", requests},
          {"ready", ready_count},
          {"new_artifacts", new_artifacts},
          {"push_calls", push.calls},
          {"errors", errors.size()},
          {"reconcile_ms_median", ms.empty() ? 0 : ms[ms.size() / 2]},
          {"reconcile_ms_max", ms.empty() ? 0 : ms.back()},
          {"reconcile_ms_sum", sum},
          {"resolve_ms_sum", src.resolve_ms},
          {"fetch_ms_sum", src.ms}});
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    die("usage: bench_flux single|fleet --key value...");
  }
  Args a;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (!k.starts_with("--")) {
      die("unexpected " + k);
    }
    a.values[k.substr(2)] = argv[i + 1];
  }
  const std::string mode = argv[1];
  if (mode == "single") {
    return single(a);
  }
  if (mode == "fleet") {
    return fleet(a);
  }
  die("unknown mode " + mode);
}
