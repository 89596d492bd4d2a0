#include "common/gitsource/refs.hpp"

#include <algorithm>
#include <optional>

#include "common/semver/constraint.hpp"
#include "common/semver/version.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"

namespace common::gitsource {

namespace {

constexpr std::string_view k_heads = "refs/heads/";
constexpr std::string_view k_tags = "refs/tags/";

util::Error invalid(std::string_view field, std::string_view value, std::string_view why) {
  return util::Error{util::ErrorKind::invalid_input, "ref." + std::string(field) + " " +
                                                         util::quote(value) + ": " +
                                                         std::string(why)};
}

bool is_hex40(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

const RemoteRef* find_ref(const std::vector<RemoteRef>& refs, std::string_view name) {
  for (const auto& r : refs) {
    if (r.name == name) {
      return &r;
    }
  }
  return nullptr;
}

// The commit a ref stands for when the advertisement says (peeled tag), else its oid.
std::string commitish(const RemoteRef& r) {
  return r.peeled.empty() ? r.oid : r.peeled;
}

util::Result<Target> by_name(TargetKind kind, std::string refname, std::string label,
                             const std::vector<RemoteRef>& advertised, std::string_view what,
                             std::string_view url) {
  const RemoteRef* r = find_ref(advertised, refname);
  if (r == nullptr) {
    return util::fail(util::ErrorKind::not_found, std::string(what) + " " + util::quote(label) +
                                                      " not found in " + std::string(url));
  }
  return Target{kind, std::move(refname), commitish(*r), std::move(label), {}};
}

util::Result<Target> by_semver(const Ref& ref, const std::vector<RemoteRef>& advertised,
                               std::string_view url) {
  auto constraint = semver::Constraint::parse(ref.semver);
  if (!constraint) {
    return std::unexpected(invalid("semver", ref.semver, constraint.error().message));
  }
  const RemoteRef* best = nullptr;
  std::optional<semver::Version> best_version;
  for (const auto& r : advertised) {
    if (!r.name.starts_with(k_tags)) {
      continue;
    }
    std::string_view tag = std::string_view(r.name).substr(k_tags.size());
    auto v = semver::parse_flux(tag);
    if (!v || !constraint->check(*v)) {
      continue;
    }
    if (!best_version || semver::compare_with_tiebreak(*v, *best_version) > 0) {
      best = &r;
      best_version = std::move(*v);
    }
  }
  if (best == nullptr) {
    return util::fail(util::ErrorKind::not_found, "no tag of " + std::string(url) +
                                                      " satisfies semver " +
                                                      util::quote(ref.semver));
  }
  return Target{
      TargetKind::semver, best->name, commitish(*best), best->name.substr(k_tags.size()), {}};
}

} // namespace

bool valid_ref_name(std::string_view name) {
  if (!name.starts_with("refs/") || name.ends_with("/") || name.ends_with(".")) {
    return false;
  }
  if (name.find("..") != std::string_view::npos || name.find("@{") != std::string_view::npos) {
    return false;
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' ||
        c == '*' || c == '[' || c == '\\') {
      return false;
    }
  }
  std::string_view rest = name;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (part.empty() || part.front() == '.' || part.ends_with(".lock")) {
      return false;
    }
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
  }
  return true;
}

util::Result<void> validate_ref(const Ref& ref) {
  if (!ref.commit.empty()) {
    if (!is_hex40(ref.commit)) {
      return std::unexpected(invalid("commit", ref.commit, "not a 40-digit hex commit id"));
    }
  } else if (!ref.name.empty()) {
    if (!valid_ref_name(ref.name)) {
      return std::unexpected(
          invalid("name", ref.name, "not a full ref name (refs/heads/..., refs/tags/...)"));
    }
    return {};
  } else if (!ref.semver.empty()) {
    auto constraint = semver::Constraint::parse(ref.semver);
    if (!constraint) {
      return std::unexpected(invalid("semver", ref.semver, constraint.error().message));
    }
    return {};
  } else if (!ref.tag.empty()) {
    if (!valid_ref_name(std::string(k_tags) + ref.tag)) {
      return std::unexpected(invalid("tag", ref.tag, "not a valid tag name"));
    }
    return {};
  }
  // a branch alone, or a branch with a commit
  if (!ref.branch.empty() && !valid_ref_name(std::string(k_heads) + ref.branch)) {
    return std::unexpected(invalid("branch", ref.branch, "not a valid branch name"));
  }
  return {};
}

std::vector<std::string> ignored_fields(const Ref& ref) {
  const std::pair<const std::string*, const char*> fields[] = {
      {&ref.commit, "commit"}, {&ref.name, "name"},     {&ref.semver, "semver"},
      {&ref.tag, "tag"},       {&ref.branch, "branch"},
  };
  std::vector<std::string> out;
  std::string_view winner;
  for (const auto& [value, field] : fields) {
    if (value->empty()) {
      continue;
    }
    if (winner.empty()) {
      winner = field;
    } else if (!(winner == "commit" && std::string_view(field) == "branch")) {
      out.emplace_back(field);
    }
  }
  return out;
}

util::Result<Target> select_target(const Ref& ref, const std::vector<RemoteRef>& advertised,
                                   std::string_view head_target, std::string_view url) {
  IU_TRY(validate_ref(ref));
  if (!ref.commit.empty()) {
    Target t;
    t.kind = TargetKind::commit;
    t.commit = util::to_lower(ref.commit);
    if (!ref.branch.empty()) {
      auto b = by_name(TargetKind::commit, std::string(k_heads) + ref.branch, ref.branch,
                       advertised, "branch", url);
      if (!b) {
        return b;
      }
      t.refname = b->refname;
      t.oid = b->oid;
      t.label = b->label;
    }
    return t;
  }
  if (!ref.name.empty()) {
    return by_name(TargetKind::name, ref.name, ref.name, advertised, "ref", url);
  }
  if (!ref.semver.empty()) {
    return by_semver(ref, advertised, url);
  }
  if (!ref.tag.empty()) {
    return by_name(TargetKind::tag, std::string(k_tags) + ref.tag, ref.tag, advertised, "tag", url);
  }
  if (!ref.branch.empty()) {
    return by_name(TargetKind::branch, std::string(k_heads) + ref.branch, ref.branch, advertised,
                   "branch", url);
  }
  if (head_target.empty() || !head_target.starts_with(k_heads)) {
    return util::fail(util::ErrorKind::not_found,
                      std::string(url) +
                          " advertises no default branch (HEAD); set ref.branch explicitly");
  }
  auto t = by_name(TargetKind::default_branch, std::string(head_target),
                   short_ref_name(head_target), advertised, "default branch", url);
  return t;
}

std::vector<std::string> refspecs_for(const Target& target) {
  if (target.refname.empty()) {
    return {"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"};
  }
  return {"+" + target.refname + ":" + target.refname};
}

std::string format_revision(std::string_view label, std::string_view commit) {
  std::string out;
  if (!label.empty()) {
    out += label;
    out += '@';
  }
  out += "sha1:";
  out += commit;
  return out;
}

std::string short_ref_name(std::string_view refname) {
  if (refname.starts_with(k_heads)) {
    return std::string(refname.substr(k_heads.size()));
  }
  if (refname.starts_with(k_tags)) {
    return std::string(refname.substr(k_tags.size()));
  }
  return std::string(refname);
}

} // namespace common::gitsource
