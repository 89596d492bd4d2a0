// Which ref of a remote a request means, as Flux's GitRepository `spec.ref` reads it, and the
// revision string Flux reports for it. Pure: works on the list of refs a remote advertises.
//
// Precedence (Flux): commit > name > semver > tag > branch. The fields a higher one overrides
// are ignored (ignored_fields() names them, for a warning), except that a commit is combined
// with a branch when both are set: the commit must then be the branch's tip or one of its
// ancestors (Flux clones that branch only).
// With no field set, the remote's default branch (its HEAD) is used, as `git clone` does; Flux
// defaults to "master" instead, which modern repositories no longer have.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/util/error.hpp"

namespace common::gitsource {

struct Ref {
  std::string branch; // "main" (refs/heads/main)
  std::string tag;    // "v1.0.0" (refs/tags/v1.0.0); an annotated tag is peeled to its commit
  std::string semver; // a constraint (">=1.0.0 <2.0.0"): the highest tag that satisfies it
  std::string name;   // a full ref name ("refs/heads/main", "refs/pull/42/head")
  std::string commit; // 40 hex digits (any case)
};

// One ref of the remote's advertisement.
struct RemoteRef {
  std::string name;   // "refs/heads/main", "refs/tags/v1.0.0", "HEAD"
  std::string oid;    // 40 hex, lower case: what the ref points at (a tag object for an
                      // annotated tag)
  std::string peeled; // the commit of an annotated tag (from its "^{}" entry), else ""
};

enum class TargetKind { default_branch, branch, tag, semver, name, commit };

// What to fetch and how to name it.
struct Target {
  TargetKind kind = TargetKind::default_branch;
  std::string refname; // the ref to fetch ("refs/heads/main"); "" for a commit alone
  std::string oid;     // what the remote advertises for refname (peeled when it can), "" for a
                       // commit alone
  std::string label;   // the revision's name part: "main", "v1.0.0", "refs/pull/42/head"; ""
                       // for a commit alone
  std::string commit;  // the requested commit (lower case), "" unless kind == commit
};

// Checks the fields that are used: branch and tag names are valid ref name components, name is
// a full ref under "refs/", semver parses as a constraint, commit is 40 hex digits. Fails with
// invalid_input naming the field and the value.
util::Result<void> validate_ref(const Ref& ref);

// The non-empty fields that `ref`'s precedence overrides ("tag", "branch"), for warnings.
std::vector<std::string> ignored_fields(const Ref& ref);

// The target of `ref` in `advertised` (the remote's refs in any order). `head_target` is the ref
// the remote's HEAD points at ("refs/heads/main"), "" when it advertises none. Fails with
// not_found naming `url` when the branch, tag or name is not advertised, when no tag satisfies
// the semver constraint, when the default branch is unknown; invalid_input as validate_ref.
// For a commit alone nothing needs to be advertised (the caller looks the commit up).
// semver: the tags that parse as Flux parses versions (three dot-separated parts, optional
// 'v') and satisfy the constraint; the highest wins, equal versions ordered by tag name (Flux
// orders those by the tag's time, which the advertisement does not carry).
util::Result<Target> select_target(const Ref& ref, const std::vector<RemoteRef>& advertised,
                                   std::string_view head_target, std::string_view url);

// The refspecs that bring `target` into a bare mirror under the same name ("+refs/heads/main:
// refs/heads/main"); for a commit alone every branch and tag.
std::vector<std::string> refspecs_for(const Target& target);

// Flux's revision: "<label>@sha1:<commit>", or "sha1:<commit>" when the label is empty.
std::string format_revision(std::string_view label, std::string_view commit);

// "refs/heads/main" -> "main", "refs/tags/v1" -> "v1", anything else unchanged.
std::string short_ref_name(std::string_view refname);

// True when `name` is a valid full ref name for git (git check-ref-format): starts with
// "refs/", '/'-separated components that are not empty, do not start with '.', do not end with
// ".lock"; no "..", "@{", control characters, space, ~ ^ : ? * [ \ ; does not end with '/' or
// '.'.
bool valid_ref_name(std::string_view name);

} // namespace common::gitsource
