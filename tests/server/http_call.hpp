// A blocking HTTP/1.1 call on loopback for the server tests (Poco's HTTPClientSession).
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

namespace server_test {

struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string www_authenticate; // the WWW-Authenticate header, "" when absent
};

// `declared_length` >= 0 sends that Content-Length whatever the body (for the 413 test).
inline Reply call(std::uint16_t port, const std::string& method, const std::string& target,
                  const std::string& body = "", const std::string& type = "application/json",
                  long long declared_length = -1,
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : headers) {
    request.set(name, value);
  }
  if (!body.empty() || declared_length >= 0) {
    request.setContentType(type);
    request.setContentLength64(declared_length >= 0 ? declared_length
                                                    : static_cast<long long>(body.size()));
  }
  std::ostream& out = session.sendRequest(request);
  if (declared_length < 0) {
    out << body;
  }
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply reply;
  reply.status = static_cast<int>(response.getStatus());
  reply.content_type = response.getContentType();
  reply.www_authenticate = response.get("WWW-Authenticate", "");
  std::ostringstream text;
  Poco::StreamCopier::copyStream(in, text);
  reply.body = text.str();
  return reply;
}

} // namespace server_test
