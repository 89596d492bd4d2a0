#include "common/flux/render.hpp"

#include <algorithm>

#include "common/manifest/marker.hpp"
#include "common/manifest/rewrite.hpp"
#include "common/resolve/overrides.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"

namespace common::flux {

namespace {

bool is_yaml(const std::string& path) {
  const std::string lower = util::to_lower(path);
  return lower.ends_with(".yaml") || lower.ends_with(".yml");
}

} // namespace

util::Result<manifest::Overrides> overrides_for(const spec::ImageUpdater& updater,
                                                const std::vector<resolve::ImageResult>& results) {
  std::vector<std::string> failures;
  util::ErrorKind kind = util::ErrorKind::not_found;
  for (const auto& r : results) {
    if (r.error) {
      if (failures.empty()) {
        kind = r.error->kind; // the first failure's, as plugin::overrides_from
      }
      failures.push_back(r.alias + ": " + r.error->message);
    }
  }
  if (!failures.empty()) {
    std::string message = "not every image resolved, nothing rendered: " + failures.front();
    for (std::size_t i = 1; i < failures.size(); ++i) {
      message += "; " + failures[i];
    }
    return util::fail(kind, message);
  }
  manifest::Overrides overrides;
  const bool images = updater.fluxcd && updater.fluxcd->update.strategy == "SettersAndImages";
  if (images) {
    overrides = IU_TRY(resolve::overrides_from(results, {}));
  }
  const std::string ns =
      updater.metadata.namespace_.empty() ? "default" : updater.metadata.namespace_;
  for (const auto& r : results) {
    manifest::SetterValue value;
    value.name = r.image;
    value.tag = r.tag;
    overrides.setters[ns + ":" + r.alias] = std::move(value);
  }
  return overrides;
}

util::Result<RenderResult> render(util::Tree files, const manifest::Overrides& overrides) {
  const manifest::Rewriter rewriter = IU_TRY(manifest::Rewriter::create(overrides));
  RenderResult out;
  std::sort(files.begin(), files.end(),
            [](const util::TreeFile& a, const util::TreeFile& b) { return a.path < b.path; });
  for (util::TreeFile& f : files) {
    if (!is_yaml(f.path)) {
      continue;
    }
    manifest::RewriteResult rewritten = IU_TRY(rewriter.rewrite(f.content, f.path));
    if (rewritten.changed()) {
      f.content = std::move(rewritten.output);
      out.changes.push_back(std::move(rewritten.changes));
    }
  }
  out.files = std::move(files);
  return out;
}

std::vector<std::string> unknown_setters(const util::Tree& files,
                                         const manifest::Overrides& overrides,
                                         const std::string& namespace_) {
  std::string known;
  for (const auto& [name, value] : overrides.setters) {
    known += (known.empty() ? "" : ", ") + name.substr(name.find(':') + 1);
  }
  std::vector<const util::TreeFile*> sorted;
  for (const auto& f : files) {
    if (is_yaml(f.path)) {
      sorted.push_back(&f);
    }
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const util::TreeFile* a, const util::TreeFile* b) { return a->path < b->path; });
  std::vector<std::string> out;
  for (const util::TreeFile* f : sorted) {
    std::string_view text = f->content;
    std::size_t line_number = 0;
    while (!text.empty()) {
      ++line_number;
      const auto end = text.find('\n');
      const std::string_view line = text.substr(0, end);
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
      const auto key = line.find("$imagepolicy");
      if (key == std::string_view::npos) {
        continue;
      }
      // The comment that holds the marker starts at the last '#' before its '{'.
      const auto brace = line.rfind('{', key);
      const auto hash = brace == std::string_view::npos ? brace : line.rfind('#', brace);
      if (hash == std::string_view::npos) {
        continue;
      }
      const auto setter = manifest::parse_marker(line.substr(hash + 1));
      if (!setter || !setter->starts_with(namespace_ + ":")) {
        continue;
      }
      const auto second = setter->find(':', namespace_.size() + 1);
      const std::string name = setter->substr(0, second);
      if (!overrides.setters.contains(name)) {
        out.push_back(f->path + ":" + std::to_string(line_number) + ": marker " +
                      util::quote(*setter) + " names no image of this ImageUpdater (known: " +
                      (known.empty() ? "none" : known) + ")");
      }
    }
  }
  return out;
}

} // namespace common::flux
