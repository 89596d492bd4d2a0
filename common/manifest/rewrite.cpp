#include "common/manifest/rewrite.hpp"

#include <algorithm>
#include <utility>

#include "common/image/reference.hpp"
#include "common/manifest/detail.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"

namespace common::manifest {
namespace {

using util::ErrorKind;

std::size_t line_of(std::string_view text, std::size_t offset) {
  return 1 + static_cast<std::size_t>(std::count(
                 text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// Whether "{{" at `pos` of `line` is outside quotes and comments (a rough lexer of one line:
// enough to tell `image: {{ .Values.image }}` from `args: ["{{workflow.name}}"]`).
bool unquoted_template(std::string_view line, std::size_t pos) {
  char quote = 0;
  for (std::size_t i = 0; i < pos; ++i) {
    const char c = line[i];
    if (quote == '"') {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quote = 0;
      }
    } else if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return false;
    }
  }
  return quote == 0;
}

// A scan error becomes a Helm template error when a line from the failing document up to the
// error's line holds "{{" outside quotes: that, not the scanner's complaint, is the cause.
util::Error scan_error(std::string_view text, std::string_view file, std::size_t doc_start,
                       util::Error error) {
  // The scanner's line (0 = unknown: every line to the end is looked at).
  const std::size_t last_line =
      error.where && error.where->line > 0 ? static_cast<std::size_t>(error.where->line) : 0;
  std::size_t line = line_of(text, doc_start);
  std::size_t pos = doc_start;
  // Start at the beginning of the line that holds doc_start.
  while (pos > 0 && text[pos - 1] != '\n') {
    --pos;
  }
  while (pos < text.size() && (last_line == 0 || line <= last_line)) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t stop = nl == std::string_view::npos ? text.size() : nl;
    const std::string_view content = text.substr(pos, stop - pos);
    for (std::size_t at = content.find("{{"); at != std::string_view::npos;
         at = content.find("{{", at + 2)) {
      if (unquoted_template(content, at)) {
        std::string_view shown = util::trim(content);
        return util::located(ErrorKind::invalid_input,
                             util::at_line(std::string(file), static_cast<int>(line)),
                             "Helm template syntax (\"{{\") in " + util::quote(shown, 120) +
                                 ": render the chart before injecting images");
      }
    }
    if (nl == std::string_view::npos) {
      break;
    }
    pos = nl + 1;
    ++line;
  }
  // "<file>: line L, column C: ..." (the scanner's words), and the file in the location.
  return util::in_file(std::move(error), file);
}

util::Result<FileChanges> run(const Rewriter::Prepared& prepared, std::string_view text,
                              std::string_view file, const Sink& sink,
                              std::vector<std::size_t>* matches = nullptr) {
  yamlscan::Scanner scanner(text, prepared.options.limits);
  detail::MatchCache cache(prepared);
  detail::DocumentPlan plan;
  ChangeCollector collector{std::string(file)};
  std::size_t emitted = 0;   // input bytes handed to the sink so far
  std::size_t doc_start = 0; // where the next document starts (for error lines)
  auto emit = [&](std::size_t end) {
    if (end > emitted) {
      sink(text.substr(emitted, end - emitted));
      emitted = end;
    }
  };
  for (;;) {
    auto next = scanner.next();
    if (!next) {
      return std::unexpected(scan_error(text, file, doc_start, std::move(next.error())));
    }
    if (!*next) {
      break;
    }
    const yamlscan::Document& doc = **next;
    plan.clear();
    IU_TRY(detail::plan_document(doc, text, file, prepared, cache, plan));
    for (const detail::Edit& edit : plan.edits) {
      emit(edit.begin);
      if (!edit.text.empty()) {
        sink(edit.text);
      }
      emitted = edit.end;
    }
    for (auto& [object, change] : plan.changes) {
      collector.add(object, std::move(change));
    }
    emit(doc.end);
    doc_start = doc.end;
  }
  emit(text.size());
  if (matches != nullptr) {
    *matches = cache.take_hits();
  }
  return collector.take();
}

} // namespace

util::Result<Rewriter> Rewriter::create(Overrides overrides, RewriteOptions options) {
  auto prepared = std::make_shared<Prepared>();
  prepared->options = options;
  for (std::size_t i = 0; i < overrides.images.size(); ++i) {
    const ImageOverride& o = overrides.images[i];
    IU_TRY(validate(o));
    Prepared::Image image;
    image.normalized = image::parse_reference(o.repository)->name();
    if (o.new_name) {
      image.renames = image::parse_reference(*o.new_name)->name() != image.normalized;
    }
    image.label = o.label.empty() ? o.repository : o.label;
    if (!o.helm.spec.empty()) {
      image.helm_spec = *parse_helm_path(o.helm.spec);
    }
    if (!o.helm.name.empty()) {
      image.helm_name = *parse_helm_path(o.helm.name);
    }
    if (!o.helm.tag.empty()) {
      image.helm_tag = *parse_helm_path(o.helm.tag);
    }
    prepared->any_helm = prepared->any_helm || !o.helm.empty();
    const auto [it, inserted] = prepared->by_name.try_emplace(image.normalized, i);
    if (!inserted) {
      return util::fail(ErrorKind::invalid_input,
                        "image overrides " + util::quote(overrides.images[it->second].repository) +
                            " and " + util::quote(o.repository) + " govern the same repository " +
                            util::quote(image.normalized));
    }
    prepared->images.push_back(std::move(image));
  }
  prepared->overrides = std::move(overrides);
  return Rewriter(std::move(prepared));
}

Rewriter::Rewriter(std::shared_ptr<const Prepared> prepared) : m_prepared(std::move(prepared)) {}

const Overrides& Rewriter::overrides() const noexcept {
  return m_prepared->overrides;
}

util::Result<RewriteResult> Rewriter::rewrite(std::string_view text, std::string_view file) const {
  RewriteResult result;
  result.output.reserve(text.size() + 64);
  result.changes = IU_TRY(run(
      *m_prepared, text, file, [&result](std::string_view piece) { result.output.append(piece); },
      &result.matches));
  return result;
}

util::Result<FileChanges> Rewriter::rewrite_stream(std::string_view text, std::string_view file,
                                                   const Sink& sink) const {
  return run(*m_prepared, text, file, sink);
}

util::Result<RewriteResult> rewrite(std::string_view text, std::string_view file,
                                    const Overrides& overrides) {
  return IU_TRY(Rewriter::create(overrides)).rewrite(text, file);
}

} // namespace common::manifest
