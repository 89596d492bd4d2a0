#include "common/registry/tags.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/url.hpp"
#include "common/registry/client.hpp"
#include "common/registry/detail.hpp"
#include "common/util/json_depth.hpp"
#include "common/util/strings.hpp"
#include "common/util/try.hpp"

namespace common::registry {
namespace {

using util::ErrorKind;


using util::trim;

bool rel_has_next(std::string_view rel) {
  std::size_t pos = 0;
  while (pos < rel.size()) {
    std::size_t end = rel.find(' ', pos);
    if (end == std::string_view::npos) {
      end = rel.size();
    }
    if (util::to_lower(rel.substr(pos, end - pos)) == "next") {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

} // namespace

std::optional<std::string> next_link(std::string_view s) {
  std::size_t i = 0;
  const auto skip = [&](std::string_view chars) {
    while (i < s.size() && chars.find(s[i]) != std::string_view::npos) {
      ++i;
    }
  };
  while (true) {
    skip(" \t,");
    if (i >= s.size() || s[i] != '<') {
      return std::nullopt;
    }
    const std::size_t close = s.find('>', i);
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    const std::string target(trim(s.substr(i + 1, close - i - 1)));
    i = close + 1;
    bool is_next = false;
    while (true) {
      skip(" \t");
      if (i >= s.size() || s[i] == ',') {
        break;
      }
      if (s[i] != ';') {
        return std::nullopt;
      }
      ++i;
      const std::size_t name_end = s.find_first_of("=;,", i);
      const std::string name = util::to_lower(trim(s.substr(i, name_end - i)));
      i = name_end == std::string_view::npos ? s.size() : name_end;
      std::string value;
      if (i < s.size() && s[i] == '=') {
        ++i;
        skip(" \t");
        if (i < s.size() && s[i] == '"') {
          ++i;
          while (i < s.size() && s[i] != '"') {
            if (s[i] == '\\' && i + 1 < s.size()) {
              ++i;
            }
            value += s[i++];
          }
          if (i >= s.size()) {
            return std::nullopt;
          }
          ++i;
        } else {
          const std::size_t end = s.find_first_of(";,", i);
          value = std::string(trim(s.substr(i, end - i)));
          i = end == std::string_view::npos ? s.size() : end;
        }
      }
      if (name == "rel" && rel_has_next(value)) {
        is_next = true;
      }
    }
    if (is_next) {
      return target;
    }
    if (i >= s.size()) {
      return std::nullopt;
    }
  }
}

util::Result<std::vector<std::string>> Client::list_tags(std::string_view repository) {
  Impl& impl = *m_impl;
  IU_TRY(impl.usable());
  auto repo = impl.repository_path(repository);
  if (!repo) {
    return std::unexpected(repo.error());
  }
  const ClientOptions& options = impl.options;
  std::string first = "/v2/" + *repo + "/tags/list";
  if (options.page_size > 0) {
    first += "?n=" + std::to_string(options.page_size);
  }
  detail::Fetch fetch;
  fetch.url = impl.url_for(first);
  fetch.repository = *repo;
  fetch.headers.emplace_back("Accept", "application/json");
  std::vector<std::string> tags;
  std::set<std::string> visited;
  for (int page = 1;; ++page) {
    if (page > std::max(1, options.max_pages)) {
      return util::fail(ErrorKind::too_large,
                        impl.label() + ": the tag list of \"" + *repo + "\" has more than " +
                            std::to_string(options.max_pages) + " pages (max_pages)");
    }
    visited.insert(http::to_string(fetch.url));
    auto response = impl.fetch(fetch);
    if (!response) {
      return std::unexpected(response.error());
    }
    if (response->status != 200) {
      return std::unexpected(
          impl.status_error(*response, fetch.url, "GET", "the tags of \"" + *repo + "\""));
    }
    // A page may hold at most max_tags tags: more values than that (plus the object around them)
    // is refused before a tree is built, as is deep nesting.
    const std::size_t max_values = options.max_tags + 16;
    if (util::json_values(response->body, max_values) > max_values) {
      return util::fail(ErrorKind::too_large,
                        impl.label() + ": the tag list of \"" + *repo + "\" has more than " +
                            std::to_string(options.max_tags) + " tags (max_tags)");
    }
    if (!detail::json_parsable(response->body)) {
      return std::unexpected(impl.bad_body(fetch.url, "the tag list nests deeper than " +
                                                          std::to_string(util::k_max_json_nesting) +
                                                          " levels"));
    }
    const nlohmann::json doc = nlohmann::json::parse(response->body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return std::unexpected(impl.bad_body(fetch.url, "the tag list is not a JSON object"));
    }
    const auto list = doc.find("tags");
    if (list != doc.end() && !list->is_null()) {
      if (!list->is_array()) {
        return std::unexpected(impl.bad_body(fetch.url, "\"tags\" is not an array"));
      }
      for (const nlohmann::json& tag : *list) {
        if (!tag.is_string()) {
          return std::unexpected(impl.bad_body(fetch.url, "a tag is not a string"));
        }
        std::string text = tag.get<std::string>();
        // The distribution spec's tag grammar, [A-Za-z0-9_][A-Za-z0-9._-]{0,127}: anything else
        // (a newline that would split into two tags in a cache file, a '/' or ':' that would
        // change the reference it becomes) is a broken or hostile registry.
        if (!detail::valid_tag(text)) {
          return std::unexpected(impl.bad_body(
              fetch.url, "the tag " + util::quote(text, 80) +
                             " is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})"));
        }
        tags.push_back(std::move(text));
      }
    }
    if (tags.size() > options.max_tags) {
      return util::fail(ErrorKind::too_large,
                        impl.label() + ": the tag list of \"" + *repo + "\" has more than " +
                            std::to_string(options.max_tags) + " tags (max_tags)");
    }
    std::optional<std::string> next;
    for (std::string_view value : http::find_headers(response->headers, "Link")) {
      if ((next = next_link(value))) {
        break;
      }
    }
    if (!next) {
      return tags;
    }
    auto target = http::resolve(fetch.url, *next);
    if (!target) {
      return std::unexpected(
          impl.bad_body(fetch.url, "bad pagination link: " + target.error().message));
    }
    // A next page on another origin would receive our token: a registry never needs that,
    // so it is refused rather than followed without credentials and trusted.
    if (!impl.own_origin(*target)) {
      return std::unexpected(
          impl.bad_body(fetch.url, "refusing to follow a pagination link to another origin (" +
                                       detail::origin_text(*target) + ")"));
    }
    if (visited.contains(http::to_string(*target))) {
      return std::unexpected(
          impl.bad_body(fetch.url, "pagination loops back to " + http::to_string(*target)));
    }
    fetch.url = std::move(*target);
  }
}

} // namespace common::registry
