// A keep-alive HTTP/1.1 client on loopback for the black-box server tests, and the ImageUpdater
// bodies they send. Unlike server_test::call (one connection per call), a Client reuses its
// connection, so many writes per second reach the server; any transport failure (refused,
// reset, timeout, a truncated reply) throws, which the crash test takes as "no reply".
#pragma once

#include <cstdint>
#include <sstream>
#include <string>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <nlohmann/json.hpp>

#include "tests/server/http_call.hpp"

namespace server_test {

inline const std::string k_demo_items =
    "/kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters";

// The image's registry is a closed loopback port: the service may resolve images in the
// background, and no test may reach a non-loopback host. `minor` makes specs differ ("^1.<minor>").
inline nlohmann::json loopback_spec(long long minor = 0) {
  return {{"kind", "argocd"},
          {"images", {"app=127.0.0.1:9/demo/app:^1." + std::to_string(minor)}},
          {"argocd", {{"app", {{"name", "web"}}}}}};
}

// The minor of loopback_spec's constraint in a stored spec, -1 when absent or malformed.
inline long long loopback_minor(const nlohmann::json& spec) {
  if (!spec.is_object() || !spec.contains("images") || !spec["images"].is_array() ||
      spec["images"].empty() || !spec["images"][0].is_string()) {
    return -1;
  }
  const std::string image = spec["images"][0].get<std::string>();
  const auto at = image.rfind("^1.");
  if (at == std::string::npos) {
    return -1;
  }
  try {
    return std::stoll(image.substr(at + 3));
  } catch (...) {
    return -1;
  }
}

inline nlohmann::json loopback_updater(const std::string& name, long long minor = 0,
                                       const std::string& resource_version = "") {
  nlohmann::json metadata = {{"name", name}};
  if (!resource_version.empty()) {
    metadata["resourceVersion"] = resource_version;
  }
  return {{"apiVersion", "gitops.kubesphere.io/v1alpha1"},
          {"kind", "ImageUpdater"},
          {"metadata", metadata},
          {"spec", loopback_spec(minor)}};
}

class Client {
public:
  explicit Client(std::uint16_t port) : m_session("127.0.0.1", port) {
    m_session.setKeepAlive(true);
    m_session.setTimeout(Poco::Timespan(10, 0));
  }

  Reply send(const std::string& method, const std::string& target, const std::string& body = "",
             const std::string& type = "application/json") {
    try {
      Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
      request.setKeepAlive(true);
      if (!body.empty()) {
        request.setContentType(type);
        request.setContentLength64(static_cast<long long>(body.size()));
      }
      std::ostream& out = m_session.sendRequest(request);
      out << body;
      Poco::Net::HTTPResponse response;
      std::istream& in = m_session.receiveResponse(response);
      Reply reply;
      reply.status = static_cast<int>(response.getStatus());
      reply.content_type = response.getContentType();
      std::ostringstream text;
      Poco::StreamCopier::copyStream(in, text);
      reply.body = text.str();
      if (response.hasContentLength() &&
          static_cast<long long>(reply.body.size()) != response.getContentLength64()) {
        throw std::runtime_error("truncated reply: " + std::to_string(reply.body.size()) + " of " +
                                 std::to_string(response.getContentLength64()) + " bytes");
      }
      return reply;
    } catch (...) {
      m_session.reset(); // the next call reconnects
      throw;
    }
  }

private:
  Poco::Net::HTTPClientSession m_session;
};

} // namespace server_test
