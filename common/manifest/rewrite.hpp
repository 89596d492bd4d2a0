// Manifest injection: rewrite exactly the image values that the overrides govern in a YAML
// stream, and nothing else. Bytes in, bytes out, plus a change record. Pure: no I/O (the CLI
// reads and writes; `file` only names the input in changes and errors).
//
// Where images are found, per document (documents are independent; a `kind: List` / `*List`
// document's `items` are objects too):
//  - containers, initContainers and ephemeralContainers [*].image of the pod spec of
//      Pod                                         spec
//      PodTemplate                                 template.spec
//      CronJob                                     spec.jobTemplate.spec.template.spec
//      Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, Rollout and
//      any other kind (CRDs)                       spec.template.spec
//    Kinds are told by `kind` alone. For kinds not listed by name the pod template must be
//    unambiguous: at least one of the three lists is there and every one present is a sequence
//    of mappings; otherwise the object is left alone. (Pod templates elsewhere, as in Argo
//    Workflows or Kubeflow jobs, are not searched.)
//  - Kustomize `images:` entries (name, newName, newTag, digest) of a Kustomization or Component
//    (apiVersion kustomize.config.k8s.io/*), and `spec.images` of a Flux Kustomization
//    (kustomize.toolkit.fluxcd.io/*). An entry is governed when its `name` (else its `newName`)
//    matches. The entry is edited as `kustomize edit set image` would: newName set when the
//    override renames, newTag/digest set by the override's rules; a key that must go (newTag
//    for a digest-only override, digest for a tag-only one) is removed when it sits on its own
//    line, else set to "" (which Kustomize reads as unset); a missing key is added after the
//    entry's last key, at its indentation and with the document's line ends. (`tagSuffix` and
//    Kustomize's `replacements` are not looked at.)
//  - Helm values: the paths of ImageOverride::helm, in documents that are not Kubernetes
//    objects (no top-level apiVersion and kind). Those paths are trusted configuration: the
//    value there is not matched against the repository. `spec` gets the full reference (the
//    name as written there when it names the governed repository, else the override's
//    repository, or new_name on a rename); `tag` gets helm_tag_value(); `name` is written only
//    on a rename. A path that is missing is skipped (the document may be another values file);
//    a path that ends on a mapping or sequence is an error.
//  - Flux markers `# {"$imagepolicy": "ns:name[:tag|:name|:digest]"}` on any scalar value at
//    any depth of any document (keys never), by Flux's rules (marker.hpp); only setters present
//    in Overrides::setters apply, others are ignored. A marked scalar is written by its setter
//    only, even when it is also an image an override governs. Setter changes name the
//    document's object (a List's, not its item's).
//
// Matching: an image value is governed when it parses as a reference whose normalised name
// (image::Reference::name()) equals the override's; values that do not parse are not images
// (left alone). Replacement: ImageOverride's rules (Kustomize's), keeping the repository as
// written unless the override renames it.
//
// Writing: only the [begin, end) bytes of the changed scalars change. The quote style is kept
// (yamlscan::encode_scalar); a plain value that would read as a non-string ("1.10", "true") or
// cannot be plain becomes double-quoted, and a plain value in a flow collection that holds
// ",[]{}" too. A block scalar (| or >) that holds a changed value is replaced by a
// double-quoted scalar (a comment on its indicator line is kept). No change is recorded, and no
// byte changes, when the new value equals the old one.
//
// Aliases: an image (or Kustomize entry, or Helm path) reached through an alias (`image: *img`,
// `containers: *list`, a `<<` merge key) is never silently skipped: if its value would change,
// rewrite fails (invalid_input, "file:line: field ... is given by alias *name ...") unless the
// anchored scalar itself is rewritten to the same value at a place reached directly. (Editing
// an anchored scalar changes every alias of it: that is what the anchor says.) Lookups through
// `<<` merges are bounded (16 levels, 256 merged mappings per lookup); beyond, the key reads as
// absent, so a merge bomb costs bounded work. A merge of an inline mapping is direct.
//
// Errors (the whole rewrite fails; stream mode may have emitted earlier documents already):
//  - YAML that does not scan: invalid_input "file: line L, column C: ..." (the scanner's
//    message) or too_large when a yamlscan limit is hit;
//  - Helm template syntax: a flow mapping opening with "{{" in any document (changed or not),
//    a line the scanner rejects that holds "{{" outside quotes, or "{{" in a plain scalar read
//    as an image, a Kustomize entry field or at a Helm path: invalid_input
//    "file:line: Helm template syntax ...". "{{" elsewhere is data: quoted and block scalars
//    and comments (Argo Workflows, config files) and plain scalars that are no image
//    (`summary: Instance {{ $labels.instance }} down` in a rendered PrometheusRule);
//  - aliases as above; a Helm path ending on a collection.
//  Messages name file, line, field and value.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/manifest/changes.hpp"
#include "common/manifest/overrides.hpp"
#include "common/util/error.hpp"
#include "common/yamlscan/scan.hpp"

namespace common::manifest {

struct RewriteOptions {
  yamlscan::Limits limits; // per document
};

struct RewriteResult {
  std::string output;  // the input with the changed scalars patched; equal to it when unchanged
  FileChanges changes; // changes.file is the `file` argument
  // Per Overrides::images entry, in order: how many values it governed (container images,
  // Kustomize entries, Helm paths found), changed or not. 0: the override matched nothing.
  std::vector<std::size_t> matches;

  bool changed() const noexcept { return !changes.empty(); }
};

// Receives the output in order, as pieces. Unchanged bytes come as views into the input text
// (valid as long as it is), replacements as views into temporaries (valid during the call).
using Sink = std::function<void(std::string_view)>;

// Validated overrides, applied to any number of files. Immutable after create(); rewrite calls
// may run concurrently.
class Rewriter {
public:
  // Fails (invalid_input) when an override does not validate() or two overrides govern the
  // same normalised repository.
  static util::Result<Rewriter> create(Overrides overrides, RewriteOptions options = {});

  // The whole output in memory (file mode): about the input's size once more.
  util::Result<RewriteResult> rewrite(std::string_view text, std::string_view file) const;

  // Stream mode: one document at a time, each document's output handed to `sink` before the
  // next is scanned, so memory stays at one document's nodes plus the caller's buffers.
  // Returns the change record.
  util::Result<FileChanges> rewrite_stream(std::string_view text, std::string_view file,
                                           const Sink& sink) const;

  const Overrides& overrides() const noexcept;

  struct Prepared; // normalised repositories, parsed Helm paths (rewrite.cpp)

private:
  explicit Rewriter(std::shared_ptr<const Prepared> prepared);
  std::shared_ptr<const Prepared> m_prepared;
};

// Rewriter::create(overrides) then rewrite(text, file).
util::Result<RewriteResult> rewrite(std::string_view text, std::string_view file,
                                    const Overrides& overrides);

} // namespace common::manifest
