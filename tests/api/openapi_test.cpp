#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/api/openapi.hpp"

namespace {

using nlohmann::json;

TEST(OpenApi, ParsesAndNamesEveryRoute) {
  json doc = json::parse(common::api::openapi_document());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  const std::string p = "/kapis/gitops.kubesphere.io/v1alpha1";
  const std::pair<std::string, std::string> routes[] = {
      {p + "/imageupdaters", "get"},
      {p + "/namespaces/{namespace}/imageupdaters", "get"},
      {p + "/namespaces/{namespace}/imageupdaters", "post"},
      {p + "/namespaces/{namespace}/imageupdaters/{name}", "get"},
      {p + "/namespaces/{namespace}/imageupdaters/{name}", "put"},
      {p + "/namespaces/{namespace}/imageupdaters/{name}", "patch"},
      {p + "/namespaces/{namespace}/imageupdaters/{name}", "delete"},
      {"/openapi.json", "get"},
  };
  std::size_t operations = 0;
  for (const auto& [path, ops] : doc["paths"].items()) {
    operations += ops.size();
  }
  EXPECT_EQ(operations, std::size(routes));
  for (const auto& [path, method] : routes) {
    ASSERT_TRUE(doc["paths"].contains(path)) << path;
    ASSERT_TRUE(doc["paths"][path].contains(method)) << path << " " << method;
    const json& op = doc["paths"][path][method];
    EXPECT_TRUE(op.contains("operationId"));
    EXPECT_TRUE(op["responses"].is_object());
  }
}

TEST(OpenApi, EveryErrorCodeIsDocumented) {
  json doc = json::parse(common::api::openapi_document());
  const std::string item = "/kapis/gitops.kubesphere.io/v1alpha1/namespaces/{namespace}/"
                           "imageupdaters/{name}";
  const std::string collection =
      "/kapis/gitops.kubesphere.io/v1alpha1/namespaces/{namespace}/imageupdaters";
  for (const char* code : {"201", "400", "409", "413", "415", "422"}) {
    EXPECT_TRUE(doc["paths"][collection]["post"]["responses"].contains(code)) << code;
  }
  for (const char* code : {"200", "400", "404", "409", "413", "415", "422"}) {
    EXPECT_TRUE(doc["paths"][item]["put"]["responses"].contains(code)) << code;
  }
}

TEST(OpenApi, EveryReferenceResolves) {
  std::string text = common::api::openapi_document();
  json doc = json::parse(text);
  const std::string marker = "\"#/components/schemas/";
  for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
    auto start = at + marker.size();
    std::string name = text.substr(start, text.find('"', start) - start);
    EXPECT_TRUE(doc["components"]["schemas"].contains(name)) << name;
  }
}

TEST(OpenApi, Deterministic) {
  EXPECT_EQ(common::api::openapi_document(), common::api::openapi_document());
  EXPECT_EQ(json::parse(common::api::openapi_document(2)),
            json::parse(common::api::openapi_document()));
}

} // namespace
