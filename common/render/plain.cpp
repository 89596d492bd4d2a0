// Plain directories: what Argo CD's directory source reads, concatenated into one stream.
#include <algorithm>
#include <filesystem>
#include <optional>

#include "common/policy/glob.hpp"
#include "common/render/confine.hpp"
#include "common/render/detail.hpp"
#include "common/render/jsonnet.hpp"
#include "common/util/dir.hpp"
#include "common/util/file.hpp"
#include "common/util/strings.hpp"
#include "common/yamlscan/scan.hpp"

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

// gobwas/glob's {a,b} alternatives, expanded into plain patterns (nested braces too; a '\\'
// escapes the next byte). Bounded: more than 1,000 expansions is an error.
util::Result<std::vector<std::string>> expand_braces(const std::string& pattern) {
  constexpr std::size_t k_max = 1000;
  std::size_t open = std::string::npos;
  int depth = 0;
  std::vector<std::size_t> commas;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      if (depth++ == 0) {
        open = i;
      }
    } else if (c == ',' && depth == 1) {
      commas.push_back(i);
    } else if (c == '}' && depth > 0 && --depth == 0) {
      std::vector<std::string> out;
      const std::string head = pattern.substr(0, open);
      const std::string tail = pattern.substr(i + 1);
      std::size_t from = open + 1;
      commas.push_back(i);
      for (const std::size_t to : commas) {
        auto more = expand_braces(head + pattern.substr(from, to - from) + tail);
        if (!more) {
          return more;
        }
        out.insert(out.end(), more->begin(), more->end());
        if (out.size() > k_max) {
          return util::fail(ErrorKind::invalid_input, "pattern " + util::quote(pattern) +
                                                          " expands to more than " +
                                                          std::to_string(k_max) + " alternatives");
        }
        from = to + 1;
      }
      return out;
    }
  }
  if (depth != 0) {
    return util::fail(ErrorKind::invalid_input,
                      "pattern " + util::quote(pattern) + " has an unclosed '{'");
  }
  return std::vector<std::string>{pattern};
}

util::Result<std::vector<policy::Glob>> globs(const std::vector<std::string>& patterns,
                                              const char* what) {
  std::vector<policy::Glob> out;
  for (const auto& p : patterns) {
    auto expanded = expand_braces(p);
    if (!expanded) {
      return util::fail(ErrorKind::invalid_input,
                        std::string(what) + " " + expanded.error().message);
    }
    for (const auto& one : *expanded) {
      auto g = policy::Glob::parse(hide_slashes(one));
      if (!g) {
        return util::fail(ErrorKind::invalid_input, std::string(what) + " pattern " +
                                                        util::quote(p) + ": " + g.error().message);
      }
      out.push_back(std::move(*g));
    }
  }
  return out;
}

// Argo CD's manifest file names: ^.*\\.(yaml|yml|json|jsonnet)$.
bool manifest_name(std::string_view name) {
  return name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json") ||
         name.ends_with(".jsonnet");
}

// Whether a directory's YAML/JSON file holds manifests, as Argo CD's directory source reads it:
// documents must be Kubernetes objects (a mapping with a `kind`; empty documents are skipped).
// A file with no such document is left out (false), unless it reads like a broken manifest
// (it names apiVersion:, kind: and metadata:): then, like a file mixing objects with other
// documents or YAML that does not parse, it is an error naming the file and the document.
util::Result<bool> manifest_file(const std::string& relative, std::string_view body) {
  yamlscan::Scanner scanner(body);
  std::size_t objects = 0;
  std::optional<std::string> problem;
  for (std::size_t index = 0;; ++index) {
    auto doc = scanner.next();
    if (!doc) {
      problem = doc.error().message;
      break;
    }
    if (!*doc) {
      break;
    }
    const yamlscan::Document& d = **doc;
    if (d.root == yamlscan::k_no_node) {
      continue;
    }
    const yamlscan::Node& root = d.nodes[d.root];
    if (root.kind == yamlscan::NodeKind::scalar && root.value.empty()) {
      continue; // "null"-like
    }
    const yamlscan::NodeId kind = yamlscan::value_of(d, d.root, "kind");
    const bool object = kind != yamlscan::k_no_node &&
                        d.nodes[kind].kind == yamlscan::NodeKind::scalar &&
                        !d.nodes[kind].value.empty();
    if (object) {
      ++objects;
    } else if (!problem) {
      problem = "document " + std::to_string(index + 1) + " (line " + std::to_string(d.begin.line) +
                ") is not a Kubernetes object (no kind)";
    }
  }
  if (!problem) {
    return true;
  }
  const bool looks_like_manifest = body.find("apiVersion:") != std::string_view::npos &&
                                   body.find("kind:") != std::string_view::npos &&
                                   body.find("metadata:") != std::string_view::npos;
  if (objects == 0 && !looks_like_manifest) {
    return false;
  }
  return util::fail(ErrorKind::invalid_input, relative + ": " + *problem);
}

// A .jsonnet file evaluated in a child process (jsonnet.hpp), its objects as documents.
util::Result<std::string> render_jsonnet(const util::ListedFile& file, const std::string& root,
                                         const std::string& app_dir, const RenderOptions& options,
                                         process::Runner& runner) {
  if (options.jsonnet_program.empty()) {
    return util::fail(ErrorKind::unsupported,
                      file.relative + ": Jsonnet is not available in this build");
  }
  JsonnetJob job;
  std::error_code ec;
  job.file = std::filesystem::canonical(file.path, ec).string();
  if (ec || !is_within(root, job.file)) {
    return util::fail(ErrorKind::invalid_input,
                      file.relative + " resolves outside the application's repository");
  }
  job.root = root;
  job.app_dir = std::filesystem::canonical(app_dir, ec).string();
  for (const auto& lib : options.jsonnet_libs) {
    auto dir = resolve_inside(root, root, lib, "jsonnet-libs");
    if (!dir) {
      return std::unexpected(dir.error());
    }
    job.libs.push_back(std::move(*dir));
  }
  job.ext_vars = options.jsonnet_ext_vars;
  job.ext_code = options.jsonnet_ext_code;
  job.tlas = options.jsonnet_tlas;
  job.tla_code = options.jsonnet_tla_code;
  process::Command command;
  command.argv = options.jsonnet_program;
  command.cwd = app_dir;
  command.env = {"PATH=/nonexistent"}; // the evaluator runs no program and reads no variable
  command.stdin_data = to_json(job);
  command.timeout = options.timeout;
  command.max_stdout = options.max_output;
  auto ran = runner.run(command);
  if (!ran) {
    return util::fail(ran.error().kind, file.relative + ": Jsonnet: " + ran.error().message);
  }
  if (!ran->success()) {
    std::string why(util::trim(ran->stderr_data));
    if (why.size() > options.max_error_tail) {
      why = "..." + why.substr(why.size() - options.max_error_tail);
    }
    return util::fail(ErrorKind::invalid_input, file.relative + ": Jsonnet evaluation failed (" +
                                                    ran->status_text() + "):\n" + why);
  }
  return jsonnet_documents(ran->stdout_data, file.relative);
}

bool any_match(const std::vector<policy::Glob>& globs, std::string_view path) {
  const std::string hidden = hide_slashes(path);
  return std::any_of(globs.begin(), globs.end(),
                     [&](const policy::Glob& g) { return g.matches(hidden); });
}

} // namespace

util::Result<Rendered> render_plain(const std::string& app_dir, const std::string& root,
                                    const RenderOptions& options, process::Runner& runner) {
  auto include = globs(options.include, "include");
  if (!include) {
    return std::unexpected(include.error());
  }
  auto exclude = globs(options.exclude, "exclude");
  if (!exclude) {
    return std::unexpected(exclude.error());
  }
  util::ListOptions list;
  list.select = manifest_name;
  auto listed = util::list_files(app_dir, list);
  if (!listed) {
    return std::unexpected(listed.error());
  }
  Rendered out;
  out.mode = RenderMode::plain;
  for (const auto& file : *listed) {
    if (!options.recurse && file.relative.find('/') != std::string::npos) {
      continue;
    }
    // Argo CD matches the path relative to the app directory, '*' crossing '/'; exclude first,
    // then include (none: every manifest file).
    if (any_match(*exclude, file.relative) ||
        (!include->empty() && !any_match(*include, file.relative))) {
      continue;
    }
    if (!file.skipped.empty()) {
      out.skipped.push_back(file.relative + ": " + file.skipped);
      continue;
    }
    util::Result<std::string> text = file.relative.ends_with(".jsonnet")
                                         ? render_jsonnet(file, root, app_dir, options, runner)
                                         : util::read_file(file.path, options.max_output);
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
    auto use = manifest_file(file.relative, body);
    if (!use) {
      return std::unexpected(use.error());
    }
    if (!*use) {
      out.skipped.push_back(file.relative +
                            ": no Kubernetes object in it (left out, as Argo CD's directory "
                            "source does)");
      continue;
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
