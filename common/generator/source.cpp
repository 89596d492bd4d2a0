#include "common/generator/source.hpp"

#include <algorithm>
#include <filesystem>

#include "common/artifact/archive.hpp"
#include "common/artifact/directory.hpp"
#include "common/gitsource/gitsource.hpp"
#include "common/image/digest.hpp"
#include "common/util/file.hpp"
#include "common/util/strings.hpp"

namespace common::generator {

namespace {

using util::ErrorKind;

constexpr std::size_t k_max_secret_bytes = 1u << 20;

class RealSources final : public Sources {
public:
  explicit RealSources(SourceSettings settings)
      : m_settings(std::move(settings)), m_git(m_settings.git_cache_dir) {}

  util::Result<Fetched> fetch(const spec::ImageUpdater& updater,
                              const std::string& known_revision) override {
    if (!updater.fluxcd) {
      return util::fail(ErrorKind::invalid_input, "spec.fluxcd is missing");
    }
    const spec::FluxSettings& flux = *updater.fluxcd;
    const std::string url = flux.source_ref ? flux.source_ref->url : "";
    if (url.empty()) {
      return util::fail(ErrorKind::invalid_input,
                        "spec.fluxcd.sourceRef.url is needed: the service reads the repository "
                        "itself and does not look up Flux GitRepository objects");
    }
    if (url.starts_with("file://")) {
      return local(updater.metadata.namespace_, url.substr(7), flux.update.path);
    }
    return git(updater, url, flux, known_revision);
  }

private:
  util::Result<Fetched> local(const std::string& ns, const std::string& dir,
                              const std::string& path) {
    std::error_code ec;
    const auto wanted = std::filesystem::weakly_canonical(dir, ec);
    // "DIR": the namespace's own DIR/NS; "NS=DIR": DIR for that namespace only.
    const auto inside = [&](const std::string& entry) {
      std::string root = entry;
      if (const auto eq = entry.find('='); eq != std::string::npos && entry.front() != '/') {
        if (entry.substr(0, eq) != ns) {
          return false;
        }
        root = entry.substr(eq + 1);
      } else {
        if (ns.empty() || ns.find('/') != std::string::npos || ns == "." || ns == "..") {
          return false;
        }
        root = entry + "/" + ns;
      }
      std::error_code root_ec;
      const auto r = std::filesystem::weakly_canonical(root, root_ec);
      if (root_ec) {
        return false;
      }
      const auto rel = wanted.lexically_relative(r);
      return !rel.empty() && *rel.begin() != "..";
    };
    if (ec || dir.empty() || dir.front() != '/' ||
        std::none_of(m_settings.local_roots.begin(), m_settings.local_roots.end(), inside)) {
      return util::fail(ErrorKind::invalid_input,
                        "file://" + dir +
                            " is not inside a directory the service allows namespace " +
                            util::quote(ns) + " (--source-root DIR gives DIR/" + ns +
                            "; NS=DIR gives one namespace a directory)");
    }
    auto read = artifact::read_directory(wanted.string(), path);
    if (!read) {
      return std::unexpected(read.error());
    }
    Fetched out;
    out.url = "file://" + dir;
    out.revision = tree_revision(read->files);
    out.files = std::move(read->files);
    out.warnings = std::move(read->warnings);
    return out;
  }

  // A key of the mounted Secret, "" when absent.
  util::Result<std::string> secret_key(const std::string& ns, const std::string& secret,
                                       const char* key) {
    const std::string file = m_settings.secrets_dir + "/" + ns + "/" + secret + "/" + key;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      return std::string();
    }
    auto text = util::read_file(file, k_max_secret_bytes);
    if (!text) {
      return util::fail(text.error().kind, "secret " + ns + "/" + secret + " key " + key + ": " +
                                               text.error().message);
    }
    return std::move(*text);
  }

  util::Result<gitsource::Auth> auth_for(const spec::ImageUpdater& updater) {
    gitsource::Auth auth;
    const auto it = updater.metadata.annotations.find(std::string(k_git_secret_annotation));
    if (it == updater.metadata.annotations.end() || it->second.empty()) {
      return auth;
    }
    const std::string ns =
        updater.metadata.namespace_.empty() ? "default" : updater.metadata.namespace_;
    const std::string& secret = it->second;
    if (m_settings.secrets_dir.empty() || secret.find('/') != std::string::npos || secret == "." ||
        secret == "..") {
      return util::fail(ErrorKind::invalid_input,
                        "annotation " + std::string(k_git_secret_annotation) + ": secret " +
                            secret + " cannot be read (no --secrets-dir, or not a Secret name)");
    }
    if (!std::filesystem::is_directory(m_settings.secrets_dir + "/" + ns + "/" + secret)) {
      return util::fail(ErrorKind::not_found, "git secret " + ns + "/" + secret +
                                                  " is not mounted under the secrets directory");
    }
    struct Key {
      const char* name;
      std::string* into;
    };
    std::string ca;
    for (const Key& k :
         {Key{"username", &auth.username}, Key{"password", &auth.password},
          Key{"bearerToken", &auth.bearer_token}, Key{"identity", &auth.ssh_private_key},
          Key{"known_hosts", &auth.ssh_known_hosts}, Key{"ca.crt", &ca}}) {
      auto value = secret_key(ns, secret, k.name);
      if (!value) {
        return std::unexpected(value.error());
      }
      *k.into = std::move(*value);
    }
    auto passphrase = secret_key(ns, secret, "password");
    if (!auth.ssh_private_key.empty() && passphrase) {
      auth.ssh_passphrase = *passphrase; // Flux: "password" is the identity's passphrase
      auth.password.clear();
    }
    if (!ca.empty()) {
      auth.ca_file = m_settings.secrets_dir + "/" + ns + "/" + secret + "/ca.crt";
    }
    return auth;
  }

  util::Result<Fetched> git(const spec::ImageUpdater& updater, const std::string& url,
                            const spec::FluxSettings& flux, const std::string& known_revision) {
    auto auth = auth_for(updater);
    if (!auth) {
      return std::unexpected(auth.error());
    }
    gitsource::FetchRequest request;
    request.url = url;
    request.auth = std::move(*auth);
    request.path = flux.update.path;
    request.timeout = m_settings.timeout;
    request.known_revision = known_revision;
    if (flux.git && flux.git->checkout) {
      const spec::GitCheckoutRef& ref = *flux.git->checkout;
      request.ref = {ref.branch, ref.tag, ref.semver, ref.name, ref.commit};
    }
    auto snapshot = m_git.fetch(request);
    if (!snapshot) {
      return std::unexpected(snapshot.error());
    }
    Fetched out;
    out.url = url;
    out.revision = std::move(snapshot->revision);
    out.files = std::move(snapshot->files);
    out.warnings = std::move(snapshot->warnings);
    out.unchanged = snapshot->unchanged;
    return out;
  }

  SourceSettings m_settings;
  gitsource::GitSource m_git;
};

} // namespace

std::unique_ptr<Sources> make_sources(SourceSettings settings) {
  return std::make_unique<RealSources>(std::move(settings));
}

std::string tree_revision(const util::Tree& files) {
  std::vector<const util::TreeFile*> sorted;
  for (const auto& f : files) {
    sorted.push_back(&f);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const util::TreeFile* a, const util::TreeFile* b) { return a->path < b->path; });
  std::string index;
  for (const util::TreeFile* f : sorted) {
    index +=
        f->path + (f->executable ? " 755 " : " 644 ") + image::sha256_digest(f->content) + "\n";
  }
  return image::sha256_digest(index);
}

} // namespace common::generator
