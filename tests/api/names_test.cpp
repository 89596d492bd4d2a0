#include <gtest/gtest.h>

#include "common/api/api.hpp"

namespace {

using namespace common::api;

struct Case {
  std::string value;
  bool valid;
};

TEST(Names, Dns1123Label) {
  const Case cases[] = {{"demo", true},
                        {"a", true},
                        {"a-1", true},
                        {"1a", true},
                        {std::string(63, 'a'), true},
                        {std::string(64, 'a'), false},
                        {"", false},
                        {"-a", false},
                        {"a-", false},
                        {"Demo", false},
                        {"a.b", false},
                        {"a_b", false}};
  for (const Case& c : cases) {
    EXPECT_EQ(check_dns1123_label(c.value).empty(), c.valid) << c.value;
  }
}

TEST(Names, Dns1123Subdomain) {
  const Case cases[] = {{"web", true},
                        {"web.example.com", true},
                        {"a-b.c-d", true},
                        {std::string(253, 'a'), true},
                        {std::string(254, 'a'), false},
                        {"", false},
                        {".a", false},
                        {"a.", false},
                        {"a..b", false},
                        {"A.b", false},
                        {"a_b", false},
                        {"a.-b", false}};
  for (const Case& c : cases) {
    EXPECT_EQ(check_dns1123_subdomain(c.value).empty(), c.valid) << c.value;
  }
}

TEST(Names, LabelKeys) {
  const Case cases[] = {{"app", true},
                        {"app.kubernetes.io/name", true},
                        {"A_b.c-D", true},
                        {std::string(63, 'k'), true},
                        {std::string(64, 'k'), false},
                        {"", false},
                        {"/app", false},
                        {"Example.com/app", false},
                        {"example.com/", false},
                        {"a b", false},
                        {"_a", false}};
  for (const Case& c : cases) {
    EXPECT_EQ(check_label_key(c.value).empty(), c.valid) << c.value;
  }
}

TEST(Names, LabelValues) {
  const Case cases[] = {{"", true},
                        {"v1", true},
                        {"A.b_c-D", true},
                        {"-a", false},
                        {"a-", false},
                        {"a b", false},
                        {"a/b", false},
                        {std::string(63, 'v'), true},
                        {std::string(64, 'v'), false}};
  for (const Case& c : cases) {
    EXPECT_EQ(check_label_value(c.value).empty(), c.valid) << c.value;
  }
}

} // namespace
