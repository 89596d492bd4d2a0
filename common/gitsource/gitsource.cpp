#include "common/gitsource/gitsource.hpp"

#include <filesystem>
#include <map>
#include <mutex>

#include "common/gitsource/git.hpp"
#include "common/gitsource/mirror.hpp"
#include "common/gitsource/remote_url.hpp"
#include "common/gitsource/session.hpp"
#include "common/util/file.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"

namespace common::gitsource {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_max_ca_file = std::size_t{1} << 20;

util::Result<void> check_auth(const Auth& a, const RemoteUrl& url, std::string_view display) {
  auto bad = [&](std::string why) {
    return util::fail(util::ErrorKind::invalid_input,
                      "auth for " + std::string(display) + ": " + std::move(why));
  };
  bool basic = !a.username.empty() || !a.password.empty();
  bool bearer = !a.bearer_token.empty();
  bool ssh = !a.ssh_private_key.empty();
  if (int(basic) + int(bearer) + int(ssh) > 1) {
    return bad("give one kind of credentials (username/password, bearer_token or "
               "ssh_private_key), not several");
  }
  if (!a.username.empty() && a.password.empty()) {
    return bad("username without password");
  }
  if (!a.ssh_passphrase.empty() && !ssh) {
    return bad("ssh_passphrase without ssh_private_key");
  }
  if (url.scheme == Scheme::ssh) {
    if (basic || bearer) {
      return bad("an ssh URL takes ssh_private_key, not a password or token");
    }
    if (!ssh) {
      return bad("an ssh URL needs ssh_private_key");
    }
    if (util::trim(a.ssh_known_hosts).empty()) {
      return bad("an ssh URL needs ssh_known_hosts (host keys are never trusted on first use)");
    }
  } else {
    if (ssh) {
      return bad("ssh_private_key needs an ssh:// URL");
    }
    if (url.scheme == Scheme::git && (basic || bearer)) {
      return bad("git:// has no authentication");
    }
  }
  return {};
}

} // namespace

util::Result<std::string> normalize_path(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return util::fail(util::ErrorKind::invalid_input,
                      "path " + util::quote(path) + ": " + std::string(why));
  };
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) {
      return bad("control character");
    }
  }
  std::string_view p = path;
  while (p.starts_with("./")) {
    p.remove_prefix(2);
  }
  while (p.ends_with('/') && p.size() > 1) {
    p.remove_suffix(1);
  }
  if (p.empty() || p == ".") {
    return std::string();
  }
  if (p.front() == '/') {
    return bad("must be relative to the repository root");
  }
  std::string_view rest = p;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part.empty() || part == "." || part == "..") {
      return bad("no empty, \".\" or \"..\" segments");
    }
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
  }
  return std::string(p);
}

util::Result<void> validate_request(const FetchRequest& request) {
  auto url = parse_remote_url(request.url);
  if (!url) {
    return std::unexpected(url.error());
  }
  if (auto r = validate_ref(request.ref); !r) {
    return r;
  }
  IU_TRY(normalize_path(request.path));
  if (request.timeout.count() <= 0) {
    return util::fail(util::ErrorKind::invalid_input, "timeout must be positive");
  }
  if (request.max_files == 0) {
    return util::fail(util::ErrorKind::invalid_input, "max_files must be positive");
  }
  return check_auth(request.auth, *url, canonical_url(*url));
}

struct GitSource::Impl {
  std::string cache_dir;
  detail::Libgit2 libgit2;
  std::mutex locks_mutex;
  // one per mirror ever fetched by this GitSource; a handful of URLs, never erased
  std::map<std::string, std::unique_ptr<std::timed_mutex>> locks;

  std::timed_mutex& lock_for(const std::string& name) {
    std::lock_guard guard(locks_mutex);
    auto& m = locks[name];
    if (!m) {
      m = std::make_unique<std::timed_mutex>();
    }
    return *m;
  }

  util::Result<Snapshot> fetch(const FetchRequest& request);
};

GitSource::GitSource(std::string cache_dir) : m_impl(std::make_unique<Impl>()) {
  m_impl->cache_dir = std::move(cache_dir);
}

GitSource::~GitSource() = default;

const std::string& GitSource::cache_dir() const {
  return m_impl->cache_dir;
}

util::Result<Snapshot> GitSource::fetch(const FetchRequest& request) {
  return m_impl->fetch(request);
}

util::Result<Snapshot> GitSource::Impl::fetch(const FetchRequest& request) {
  IU_TRY(validate_request(request));
  if (!libgit2.ok()) {
    return util::fail(util::ErrorKind::internal, "libgit2 failed to initialise");
  }
  auto deadline = std::chrono::steady_clock::now() + request.timeout;
  RemoteUrl url = *parse_remote_url(request.url);
  std::string path = *normalize_path(request.path);
  std::string display = canonical_url(url);
  Snapshot snap;
  detail::Warnings warnings(snap.warnings);
  for (const auto& field : ignored_fields(request.ref)) {
    warnings.add("ref." + field + " ignored: a field of higher precedence is set");
  }

  detail::SessionConfig config;
  config.url = url;
  config.display = display;
  config.auth = request.auth;
  config.deadline = deadline;
  config.timeout = request.timeout;
  config.secrets = {request.auth.password, request.auth.bearer_token, request.auth.ssh_private_key,
                    request.auth.ssh_passphrase};
  if (url.scheme == Scheme::https && !request.auth.ca_file.empty()) {
    auto pem = util::read_file(request.auth.ca_file, k_max_ca_file);
    if (!pem) {
      return util::fail(util::ErrorKind::invalid_input, "auth.ca_file: " + pem.error().message);
    }
    config.ca_pem = std::move(*pem);
  }

  std::error_code ec;
  if (!fs::is_directory(cache_dir, ec)) {
    fs::create_directories(cache_dir, ec);
    if (ec) {
      return util::fail(util::ErrorKind::internal,
                        "cannot create the git cache directory " + cache_dir + ": " + ec.message());
    }
    fs::permissions(cache_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  std::string name = mirror_name(url);
  std::string dir = (fs::path(cache_dir) / name).string();

  std::unique_lock guard(lock_for(name), std::defer_lock);
  if (!guard.try_lock_until(deadline)) {
    return util::fail(util::ErrorKind::transient,
                      "timed out waiting for another fetch of " + display);
  }
  auto file_lock = detail::MirrorLock::acquire(dir + ".lock", deadline, display);
  if (!file_lock) {
    return std::unexpected(file_lock.error());
  }
  auto repo = detail::open_mirror(dir, snap.warnings);
  if (!repo) {
    return std::unexpected(repo.error());
  }
  git_repository* r = repo->get();

  if (auto reach = detail::check_reachable(url.host, url.port, deadline, request.timeout, display);
      !reach) {
    return std::unexpected(reach.error());
  }
  auto session = detail::Session::connect(r, std::move(config));
  if (!session) {
    return std::unexpected(session.error());
  }
  auto ad = session->list();
  if (!ad) {
    return std::unexpected(ad.error());
  }
  auto target = select_target(request.ref, ad->refs, ad->head_target, display);
  if (!target) {
    return std::unexpected(target.error());
  }

  std::string want = target->kind == TargetKind::commit ? target->commit : target->oid;
  bool need_tip = !target->refname.empty() && !detail::has_object(r, target->oid);
  if (!detail::has_object(r, want) || need_tip) {
    IU_TRY(session->download(refspecs_for(*target)));
  }
  std::string what = target->kind == TargetKind::commit
                         ? "commit " + target->commit + " in " + display
                         : util::quote(target->label) + " (" + want + ") in " + display;
  auto commit = detail::peel_to_commit(r, want, what);
  if (!commit) {
    return std::unexpected(commit.error());
  }
  if (target->kind == TargetKind::commit && !target->refname.empty()) {
    auto tip = detail::peel_to_commit(r, target->oid, "branch " + util::quote(target->label));
    if (!tip) {
      return std::unexpected(tip.error());
    }
    auto on_branch = detail::is_ancestor(r, *commit, *tip);
    if (!on_branch) {
      return std::unexpected(on_branch.error());
    }
    if (!*on_branch) {
      return util::fail(util::ErrorKind::not_found, "commit " + *commit + " is not on branch " +
                                                        util::quote(target->label) + " of " +
                                                        display);
    }
  }

  if (!request.known_revision.empty() &&
      format_revision(target->label, *commit) == request.known_revision) {
    warnings.finish();
    snap.commit = *commit;
    snap.revision = request.known_revision;
    snap.unchanged = true;
    return snap;
  }
  auto files = detail::read_tree(r, *commit, path, {request.max_bytes, request.max_files}, display,
                                 warnings);
  if (!files) {
    return std::unexpected(files.error());
  }
  warnings.finish();
  snap.commit = *commit;
  snap.revision = format_revision(target->label, *commit);
  snap.files = std::move(*files);
  return snap;
}

} // namespace common::gitsource
