#include "common/plugin/selection.hpp"

#include <algorithm>
#include <map>

#include "common/credentials/source.hpp"
#include "common/image/digest.hpp"

namespace common::plugin {

Selection select_for_app(std::vector<spec::ImageUpdater> all, std::string_view app_name,
                         std::string_view app_namespace) {
  Selection out;
  for (auto& u : all) {
    const std::string who =
        (u.metadata.namespace_.empty() ? std::string("default") : u.metadata.namespace_) + "/" +
        u.metadata.name;
    if (u.kind != spec::Engine::argocd) {
      out.skipped.push_back(who + ": kind fluxcd (served by imageupdater-flux-source)");
      continue;
    }
    const std::string target = u.argocd ? u.argocd->app.name : std::string();
    if (!app_name.empty() && !target.empty() && target != app_name) {
      out.skipped.push_back(who + ": for application " + target + ", not " + std::string(app_name));
      continue;
    }
    const std::string target_ns = u.argocd ? u.argocd->app.namespace_ : std::string();
    if (!app_name.empty() && !target_ns.empty() && !app_namespace.empty() &&
        target_ns != app_namespace) {
      out.skipped.push_back(who + ": for application " + target_ns + "/" + target + ", not " +
                            std::string(app_namespace) + "/" + std::string(app_name));
      continue;
    }
    out.updaters.push_back(std::move(u));
  }
  return out;
}

namespace {

// The spec field that gave an image its credentials, and where it is written.
std::pair<std::string, spec::Location> credential_field(const spec::ImageUpdater& u,
                                                        const std::string& alias) {
  const std::vector<std::string> candidates =
      u.dialect == spec::Dialect::kubesphere
          ? std::vector<std::string>{"spec.argo.secrets." + alias, "spec.argo.secrets"}
          : std::vector<std::string>{"spec.argocd.secret." + alias, "spec.argocd.secret"};
  for (const auto& field : candidates) {
    if (auto it = u.source.fields.find(field); it != u.source.fields.end()) {
      return {field, it->second};
    }
  }
  return {candidates.back(), u.source.at};
}

} // namespace

util::Result<void> check_credentials(const std::vector<spec::ImageUpdater>& updaters,
                                     std::string_view app_namespace) {
  for (const auto& u : updaters) {
    for (const auto& entry : u.images) {
      const std::string credentials = spec::image_settings(u, entry).credentials;
      if (credentials.empty()) {
        continue;
      }
      const auto [field, at] = credential_field(u, entry.spec.alias);
      const std::string where = u.source.file + ":" + std::to_string(at.line) + ": ImageUpdater " +
                                u.metadata.name + ", " + field + " (image " + entry.spec.alias +
                                "): ";
      auto parsed = credentials::parse_source(credentials, app_namespace);
      if (!parsed) {
        return util::fail(util::ErrorKind::invalid_input, where + parsed.error().message);
      }
      const auto refuse = [&](const std::string& why) {
        return util::fail(util::ErrorKind::invalid_input, where + why);
      };
      if (const auto* p = std::get_if<credentials::PullSecret>(&parsed->what)) {
        if (p->ns != app_namespace) {
          return refuse("names a secret of namespace \"" + p->ns + "\"; this Application (" +
                        std::string(app_namespace) + ") may use only secrets of its own namespace");
        }
      } else if (const auto* f = std::get_if<credentials::SecretField>(&parsed->what)) {
        if (f->ns != app_namespace) {
          return refuse("names a secret of namespace \"" + f->ns + "\"; this Application (" +
                        std::string(app_namespace) + ") may use only secrets of its own namespace");
        }
      } else {
        return refuse("env: and ext: credentials read the plugin's environment or run a "
                      "program: they are operator configuration (registries.conf), not allowed "
                      "in a spec from the application's repository");
      }
    }
  }
  return {};
}

std::string fingerprint(const std::vector<resolve::ImageResult>& results) {
  std::vector<std::string> lines;
  lines.reserve(results.size());
  for (const auto& r : results) {
    lines.push_back(r.repository + "=" +
                    (r.error ? "error:" + r.error->message : r.tag + "@" + r.digest));
  }
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  std::string all;
  for (const auto& l : lines) {
    all += l;
    all += '\n';
  }
  return image::sha256_digest(all);
}

} // namespace common::plugin
