#include "argocd-cmp/policy_cmd.hpp"

#include <cstring>
#include <string_view>

#include "common/image/platform.hpp"
#include "common/policy/policy.hpp"
#include "common/policy/strategy.hpp"
#include "common/util/file.hpp"
#include "common/util/outcome.hpp"
#include "common/util/strings.hpp"
#include "common/util/time.hpp"

namespace argocd_cmp {

namespace {

using common::util::ErrorKind;

using common::util::trim;

// "a,b" items from every --ignore-tags occurrence; empty items are dropped.
std::vector<std::string> split_globs(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& value : values) {
    std::string_view rest = value;
    for (;;) {
      auto comma = rest.find(',');
      auto item = trim(rest.substr(0, comma));
      if (!item.empty()) {
        out.emplace_back(item);
      }
      if (comma == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

// Builds the policy options from the flags; errors name the flag and the value.
common::util::Result<common::policy::Options> to_options(const PolicyArgs& args) {
  namespace policy = common::policy;
  policy::Options o;
  auto strategy = policy::parse_strategy(args.strategy);
  if (!strategy) {
    return std::unexpected(
        common::util::Error{ErrorKind::invalid_input, "--strategy: " + strategy.error().message});
  }
  o.strategy = *strategy;
  auto order = policy::parse_order(args.order);
  if (!order) {
    return std::unexpected(
        common::util::Error{ErrorKind::invalid_input, "--order: " + order.error().message});
  }
  o.order = *order;
  if (args.dialect == "flux") {
    o.dialect = policy::SemverDialect::flux;
  } else if (args.dialect != "argocd") {
    return common::util::fail(ErrorKind::invalid_input, "--dialect: unknown dialect \"" +
                                                            args.dialect +
                                                            "\" (valid: argocd, flux)");
  }
  if (!args.filter_extract.empty() && args.filter_pattern.empty()) {
    return common::util::fail(ErrorKind::invalid_input, "--filter-extract needs --filter-pattern");
  }
  if (!args.platforms.empty()) {
    // Tags from stdin carry no manifests, so platforms only get checked here; `resolve` uses them.
    auto platforms = common::image::parse_platforms(args.platforms);
    if (!platforms) {
      return std::unexpected(common::util::Error{ErrorKind::invalid_input,
                                                 "--platforms: " + platforms.error().message});
    }
  }
  o.constraint = args.constraint;
  o.allow_tags = args.allow_tags;
  o.ignore_tags = split_globs(args.ignore_tags);
  o.filter_pattern = args.filter_pattern;
  o.filter_extract = args.filter_extract;
  o.exclude_signature_tags = !args.include_signature_tags;
  return o;
}

// Splits the input into tags without copying: each Tag borrows from `text`.
common::util::Result<std::vector<common::policy::Tag>> parse_tag_lines(std::string_view text) {
  std::vector<common::policy::Tag> tags;
  tags.reserve(text.size() / 8);
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    auto tab = line.find('\t');
    std::string_view name = trim(line.substr(0, tab));
    if (name.empty()) {
      if (tab != std::string_view::npos) {
        return common::util::fail(ErrorKind::invalid_input,
                                  "stdin:" + std::to_string(line_no) + ": empty tag before TAB");
      }
      continue; // blank line
    }
    common::policy::Tag tag{name, std::nullopt};
    if (tab != std::string_view::npos) {
      auto created_text = trim(line.substr(tab + 1));
      auto created = common::util::parse_rfc3339(created_text);
      if (!created) {
        return common::util::fail(ErrorKind::invalid_input,
                                  "stdin:" + std::to_string(line_no) + ": tag \"" +
                                      std::string(name) + "\": invalid created time \"" +
                                      std::string(created_text) + "\": " + created.error().message);
      }
      tag.created = *created;
    }
    tags.push_back(tag);
  }
  return tags;
}

void print_explanation(const std::vector<common::policy::Verdict>& verdicts, std::FILE* err) {
  for (const auto& v : verdicts) {
    std::fprintf(err, "%-7s %s: %s\n", v.kept ? "kept" : "dropped", v.tag.c_str(),
                 v.reason.c_str());
  }
}

} // namespace

int run_policy(const PolicyArgs& args, const Io& io) {
  auto options = to_options(args);
  if (!options) {
    std::fprintf(io.err, "imageupdater-cmp policy: error: %s\n", options.error().message.c_str());
    return k_exit_usage;
  }
  auto policy = common::policy::Policy::compile(*options);
  if (!policy) {
    std::fprintf(io.err, "imageupdater-cmp policy: error: %s\n", policy.error().message.c_str());
    return k_exit_usage;
  }
  auto input = common::util::read_stream(io.in, "stdin");
  if (!input) {
    std::fprintf(io.err, "imageupdater-cmp policy: error: %s\n", input.error().message.c_str());
    return k_exit_usage;
  }
  auto tags = parse_tag_lines(*input);
  if (!tags) {
    std::fprintf(io.err, "imageupdater-cmp policy: error: %s\n", tags.error().message.c_str());
    return k_exit_usage;
  }

  std::vector<common::policy::Verdict> verdicts;
  auto chosen = policy->select(*tags, args.explain ? &verdicts : nullptr);
  if (args.explain) {
    print_explanation(verdicts, io.err);
  }
  if (!chosen) {
    std::fprintf(io.err, "imageupdater-cmp policy: %s\n", chosen.error().message.c_str());
    // no tag qualifies (not_found) is the answer "no", 1; a bad tag list or option is 2.
    return common::util::outcome(chosen.error().kind).exit_code;
  }
  if (args.explain) {
    std::fprintf(io.err, "chosen: %s\n", chosen->tag.c_str());
  }
  std::fprintf(io.out, "%s\n", chosen->tag.c_str());
  return k_exit_ok;
}

} // namespace argocd_cmp
