// Plain directories: what Argo CD's directory source reads, concatenated into one stream.
#include <algorithm>

#include "common/policy/glob.hpp"
#include "common/render/detail.hpp"
#include "common/util/dir.hpp"
#include "common/util/file.hpp"

namespace common::render::detail {

namespace {

using util::ErrorKind;

// The offset of the first byte that is not part of valid UTF-8 (overlong forms, surrogates and
// code points past U+10FFFF are invalid), or of a NUL; npos when the text is clean.
std::size_t first_bad_byte(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) {
      return i;
    }
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      lo = c == 0xe0 ? 0xa0 : 0x80;
      hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      lo = c == 0xf0 ? 0x90 : 0x80;
      hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
      return i;
    }
    if (i + len > s.size()) {
      return i;
    }
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      const unsigned char min = k == 1 ? lo : 0x80;
      const unsigned char max = k == 1 ? hi : 0xbf;
      if (b < min || b > max) {
        return i;
      }
    }
    i += len;
  }
  return std::string_view::npos;
}

bool starts_with_document_marker(std::string_view text) {
  return text.starts_with("---") && (text.size() == 3 || text[3] == '\n' || text[3] == '\r' ||
                                     text[3] == ' ' || text[3] == '\t');
}

// Argo CD matches include/exclude with gobwas/glob compiled without separators, so '*' and '?'
// match '/' too ("*.yaml" selects "env/prod/a.yaml"). policy::Glob is Go's filepath.Match, where
// they do not; hiding '/' (in patterns and paths alike) behind a byte no path holds gives Argo
// CD's semantics with the same class and escape syntax.
std::string hide_slashes(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '/', '\x01');
  return out;
}

util::Result<std::vector<policy::Glob>> globs(const std::vector<std::string>& patterns,
                                              const char* what) {
  std::vector<policy::Glob> out;
  for (const auto& p : patterns) {
    auto g = policy::Glob::parse(hide_slashes(p));
    if (!g) {
      return util::fail(ErrorKind::invalid_input,
                        std::string(what) + " pattern \"" + p + "\": " + g.error().message);
    }
    out.push_back(std::move(*g));
  }
  return out;
}

bool any_match(const std::vector<policy::Glob>& globs, std::string_view path) {
  const std::string hidden = hide_slashes(path);
  return std::any_of(globs.begin(), globs.end(),
                     [&](const policy::Glob& g) { return g.matches(hidden); });
}

} // namespace

util::Result<Rendered> render_plain(const std::string& app_dir, const RenderOptions& options) {
  auto include = globs(options.include, "include");
  if (!include) {
    return std::unexpected(include.error());
  }
  auto exclude = globs(options.exclude, "exclude");
  if (!exclude) {
    return std::unexpected(exclude.error());
  }
  auto listed = util::list_files(app_dir, util::ListOptions{});
  if (!listed) {
    return std::unexpected(listed.error());
  }
  Rendered out;
  out.mode = RenderMode::plain;
  for (const auto& file : *listed) {
    if (!options.recurse && file.relative.find('/') != std::string::npos) {
      continue;
    }
    // Argo CD matches the path relative to the app directory, '*' crossing '/'.
    if (!any_match(*include, file.relative) || any_match(*exclude, file.relative)) {
      continue;
    }
    if (!file.skipped.empty()) {
      out.skipped.push_back(file.relative + ": " + file.skipped);
      continue;
    }
    auto text = util::read_file(file.path, options.max_output);
    if (!text) {
      return std::unexpected(text.error());
    }
    std::string_view body = *text;
    if (body.starts_with("\xef\xbb\xbf")) {
      body.remove_prefix(3); // a BOM is allowed only at the start of the stream
    }
    if (const std::size_t bad = first_bad_byte(body); bad != std::string_view::npos) {
      return util::fail(ErrorKind::invalid_input,
                        file.relative + ": not UTF-8 text (" +
                            (body[bad] == '\0' ? std::string("a NUL byte") : "invalid UTF-8") +
                            " at byte " + std::to_string(bad) + ")");
    }
    out.files.push_back(file.relative);
    if (body.empty()) {
      continue;
    }
    if (!out.manifests.empty() && !starts_with_document_marker(body)) {
      out.manifests += "---\n";
    }
    out.manifests += body;
    if (!out.manifests.ends_with('\n')) {
      out.manifests += '\n';
    }
    if (out.manifests.size() > options.max_output) {
      return util::fail(ErrorKind::too_large, app_dir + ": the manifests are larger than " +
                                                  std::to_string(options.max_output) + " bytes");
    }
  }
  return out;
}

} // namespace common::render::detail
