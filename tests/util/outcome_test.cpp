// The one table from error kinds to outcomes: every kind has a row, and each row says what the
// controller, the command-line verbs, the API and the conditions rely on.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "common/util/outcome.hpp"

namespace common::util {
namespace {

TEST(UtilOutcome, EveryKindHasItsRow) {
  struct Row {
    ErrorKind kind;
    Retry retry;
    int exit_code;
    int http_status;
    const char* http_reason;
    const char* condition_reason;
  };
  const Row rows[] = {
      {ErrorKind::invalid_input, Retry::stalled, 2, 400, "BadRequest", "InvalidSpec"},
      {ErrorKind::not_found, Retry::stalled, 1, 404, "NotFound", "NotFound"},
      {ErrorKind::auth, Retry::backoff, 1, 500, "InternalError", "AuthFailed"},
      {ErrorKind::transient, Retry::backoff, 1, 503, "ServiceUnavailable", "Unavailable"},
      {ErrorKind::conflict, Retry::now, 1, 409, "Conflict", "Conflict"},
      {ErrorKind::too_large, Retry::stalled, 2, 413, "RequestEntityTooLarge", "TooLarge"},
      {ErrorKind::unsupported, Retry::stalled, 2, 500, "InternalError", "Unsupported"},
      {ErrorKind::internal, Retry::backoff, 1, 500, "InternalError", "InternalError"},
      {ErrorKind::gone, Retry::now, 1, 410, "Expired", "Expired"},
  };
  ASSERT_EQ(std::size(rows), std::size(k_error_kinds)) << "a kind without a row here";
  for (std::size_t i = 0; i < std::size(rows); ++i) {
    const Row& r = rows[i];
    SCOPED_TRACE(to_string(r.kind));
    EXPECT_EQ(r.kind, k_error_kinds[i]);
    const Outcome& o = outcome(r.kind);
    EXPECT_EQ(o.retry, r.retry) << to_string(o.retry);
    EXPECT_EQ(o.exit_code, r.exit_code);
    EXPECT_EQ(o.http_status, r.http_status);
    EXPECT_EQ(o.http_reason, r.http_reason);
    EXPECT_EQ(o.condition_reason, r.condition_reason);
    EXPECT_EQ(retryable(r.kind), r.retry != Retry::stalled);
  }
}

TEST(UtilOutcome, ValuesStayInTheirContracts) {
  std::set<std::string> reasons;
  for (ErrorKind kind : k_error_kinds) {
    SCOPED_TRACE(to_string(kind));
    const Outcome& o = outcome(kind);
    // The verbs document 1 (failed, or "no") and 2 (bad arguments or input) only.
    EXPECT_TRUE(o.exit_code == 1 || o.exit_code == 2);
    EXPECT_GE(o.http_status, 400);
    EXPECT_LT(o.http_status, 600);
    // Kubernetes condition reasons are CamelCase identifiers.
    ASSERT_FALSE(o.condition_reason.empty());
    EXPECT_TRUE(o.condition_reason.front() >= 'A' && o.condition_reason.front() <= 'Z');
    for (char c : o.condition_reason) {
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
          << o.condition_reason;
    }
    EXPECT_TRUE(reasons.insert(std::string(o.condition_reason)).second)
        << "two kinds share the condition reason " << o.condition_reason;
  }
}

} // namespace
} // namespace common::util
