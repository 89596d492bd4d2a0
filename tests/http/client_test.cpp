#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/http/client.hpp"

namespace common::http {
namespace {

TEST(HttpHeaders, FindHeaderIsCaseInsensitiveAndFirstWins) {
  const Headers headers = {{"Content-Type", "application/json"},
                           {"link", "</v2/a/tags/list?last=b>; rel=\"next\""},
                           {"WWW-Authenticate", "Bearer realm=\"a\""},
                           {"Www-Authenticate", "Basic realm=\"b\""}};
  EXPECT_EQ(find_header(headers, "content-type"), "application/json");
  EXPECT_EQ(find_header(headers, "LINK"), "</v2/a/tags/list?last=b>; rel=\"next\"");
  EXPECT_EQ(find_header(headers, "www-authenticate"), "Bearer realm=\"a\"");
  EXPECT_EQ(find_header(headers, "Content-Length"), std::nullopt);
  EXPECT_EQ(find_header(headers, "Content-Typ"), std::nullopt);
  EXPECT_EQ(find_header({}, "x"), std::nullopt);
}

TEST(HttpHeaders, FindHeadersKeepsEveryValueInOrder) {
  const Headers headers = {{"WWW-Authenticate", "Bearer realm=\"a\""},
                           {"Date", "x"},
                           {"www-authenticate", "Basic realm=\"b\""}};
  const auto values = find_headers(headers, "WWW-AUTHENTICATE");
  ASSERT_EQ(values.size(), 2U);
  EXPECT_EQ(values[0], "Bearer realm=\"a\"");
  EXPECT_EQ(values[1], "Basic realm=\"b\"");
  EXPECT_TRUE(find_headers(headers, "Link").empty());
}

TEST(HttpHeaders, MediaTypeDropsParametersSpacesAndCase) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"application/json", "application/json"},
      {"Application/JSON; charset=utf-8", "application/json"},
      {"  application/yaml ;x=y", "application/yaml"},
      {"\tapplication/vnd.oci.image.index.v1+json\t", "application/vnd.oci.image.index.v1+json"},
      {"", ""},
      {"; charset=utf-8", ""},
  };
  for (const auto& [value, want] : cases) {
    EXPECT_EQ(media_type(value), want) << value;
  }
}

} // namespace
} // namespace common::http
