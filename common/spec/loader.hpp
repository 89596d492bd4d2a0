// Reading ImageUpdater specs from a YAML stream (a file, stdin, a rendered manifest set).
//
// The stream may hold any number of documents of any kinds: only documents with
// `apiVersion: gitops.kubesphere.io/v1alpha1` and `kind: ImageUpdater` are read; the others
// (Deployments, ConfigMaps, empty documents, non-mapping documents) are skipped silently.
// An ImageUpdater of another gitops.kubesphere.io version is an error (this build cannot read
// it); one of another API group (argocd-image-updater's own CRD) is skipped with a warning.
//
// Every problem is a Diagnostic (file, document, field path, 1-based line:column of the value
// at fault, message quoting the value); reading never throws and never stops at the first
// problem. A YAML syntax error ("FILE:L:C: error: invalid YAML: ...") or an exceeded bound ends
// the document it is in (reading goes on with the next one); the stream's size and document
// count bounds end the stream. Documents that mention neither "ImageUpdater" (in any case) nor
// "gitops.kubesphere.io" are not parsed at all, so their syntax errors go unreported.
// Pure: no I/O. Deterministic: diagnostics are ordered by file, line, column (then document,
// severity, field, message).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/spec/diagnostic.hpp"
#include "common/spec/model.hpp"

namespace common::spec {

// Bounds that keep hostile input (alias bombs, deep nesting, huge files) cheap. Aliases are
// never expanded: an alias costs one node; a YAML merge key ("<<") costs one node per merged
// entry. Only documents that may be ImageUpdaters are parsed (see above); the per-document
// bounds apply to those.
struct Limits {
  std::size_t max_bytes = 64u << 20;           // the whole stream
  std::size_t max_document_bytes = 256u << 10; // one ImageUpdater document
  std::size_t max_documents = 100'000;         // documents in the stream
  std::size_t max_nodes = 100'000;             // nodes per document (scalars, collections, aliases)
  std::size_t max_depth = 100;                 // nesting of collections
};

struct LoadResult {
  // Every ImageUpdater document read, in stream order, including those with errors (their
  // model is then incomplete: whatever could not be read is left at its default). Check
  // has_errors() (or document_has_errors()) before acting on one.
  std::vector<ImageUpdater> updaters;
  std::vector<Diagnostic> diagnostics;
};

// Reads and validates (validate()) every ImageUpdater in the stream. `default_namespace` is
// what a bare secret name ("regcred") means for a document without metadata.namespace; empty:
// "default". (The Argo CD plugin passes the Application's namespace.)
LoadResult parse_stream(std::string_view yaml_text, std::string_view file_name,
                        const Limits& limits = {}, std::string_view default_namespace = {});

// True when some error diagnostic is about this updater's document.
bool document_has_errors(const LoadResult& result, const ImageUpdater& updater) noexcept;

// Semantic checks of a model (parse_stream runs them; a model built in code can use them):
// metadata.name a DNS-1123 subdomain, metadata.namespace a DNS-1123 label, at least one image,
// unique aliases, the engine's settings present (argocd: app.name; fluxcd: interval, exactly one
// policy), constraints that parse under the image's strategy (digest: a tag to track;
// alphabetical/newest-build: a constraint is ignored, warned), allow-tags regexps, ignore-tags
// globs, Flux semver range and filterTags, per-alias settings for aliases not in `images`
// (warned). Locations come from updater.source.
std::vector<Diagnostic> validate(const ImageUpdater& updater);

} // namespace common::spec
