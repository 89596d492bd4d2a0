// Internals shared by rewrite.cpp and plan.cpp; not part of the module's interface.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/manifest/changes.hpp"
#include "common/manifest/overrides.hpp"
#include "common/manifest/rewrite.hpp"
#include "common/util/error.hpp"
#include "common/yamlscan/scan.hpp"

namespace common::manifest {

struct Rewriter::Prepared {
  struct Image {
    std::string normalized; // Reference::name() of the repository
    bool renames = false;   // new_name set and normalising to another name
    std::string label;      // Change::by
    std::vector<HelmPathSegment> helm_name;
    std::vector<HelmPathSegment> helm_tag;
    std::vector<HelmPathSegment> helm_spec;
  };
  Overrides overrides;
  RewriteOptions options;
  std::vector<Image> images;                               // parallel to overrides.images
  std::map<std::string, std::size_t, std::less<>> by_name; // normalised name -> index
  bool any_helm = false;
};

namespace detail {

// Which override governs an image string, computed once per distinct string per call
// (a stream repeats the same few images thousands of times).
class MatchCache {
public:
  explicit MatchCache(const Rewriter::Prepared& prepared)
      : m_prepared(prepared), m_hits(prepared.images.size(), 0) {}
  // Index into Prepared::images, or -1 when the text is no reference or not governed. A governed
  // lookup counts as a hit of that override.
  int lookup(std::string_view image);
  // Counts a value an override governs without a lookup (a Helm values path).
  void hit(std::size_t index) { ++m_hits[index]; }
  // Per override: the values it governed, changed or not.
  std::vector<std::size_t> take_hits() { return std::move(m_hits); }

private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  const Rewriter::Prepared& m_prepared;
  std::unordered_map<std::string, int, Hash, std::equal_to<>> m_map; // lookup only
  std::vector<std::size_t> m_hits;
};

struct Edit {
  std::size_t begin = 0; // byte range of the input replaced by `text`; begin == end inserts
  std::size_t end = 0;
  std::string text;
};

struct DocumentPlan {
  std::vector<Edit> edits;                          // sorted by (begin, end), non-overlapping
  std::vector<std::pair<ObjectId, Change>> changes; // document order

  void clear() {
    edits.clear();
    changes.clear();
  }
};

// Plans the edits of one document. Fails as rewrite.hpp describes (aliases, Helm template
// syntax, Helm paths on collections); messages start with "file:line: ".
util::Result<void> plan_document(const yamlscan::Document& doc, std::string_view text,
                                 std::string_view file, const Rewriter::Prepared& prepared,
                                 MatchCache& cache, DocumentPlan& out);

} // namespace detail
} // namespace common::manifest
