// A raw HTTP/1.1 exchange for the black-box server tests: the request bytes exactly as given
// (malformed framing included), one connection, read until the server closes it, and the reply
// checked for well-formedness.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

namespace server_test {

struct RawReply {
  int status = 0;
  std::map<std::string, std::string> headers; // names lower-cased
  std::string body;
  std::string error; // why the reply is not a well-formed HTTP response ("" when it is)
  std::string raw;   // every byte received
};

inline std::string lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// Sends `request` (already encoded) on a fresh connection and reads until the server closes it
// (the request should say "Connection: close"). The first response is parsed; `error` says why
// it is not a well-formed one (a transport failure, no status line, no Content-Length or a body
// of another length; a body on a HEAD response).
inline RawReply exchange(std::uint16_t port, const std::string& request, bool head,
                         int timeout_seconds = 15) {
  RawReply reply;
  std::string in;
  try {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
    socket.setReceiveTimeout(Poco::Timespan(timeout_seconds, 0));
    socket.setSendTimeout(Poco::Timespan(timeout_seconds, 0));
    std::size_t sent = 0;
    while (sent < request.size()) {
      sent += static_cast<std::size_t>(socket.sendBytes(
          request.data() + sent,
          static_cast<int>(std::min<std::size_t>(request.size() - sent, 1 << 16))));
    }
    char buffer[16384];
    for (;;) {
      const int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) {
        break;
      }
      in.append(buffer, static_cast<std::size_t>(n));
    }
  } catch (const std::exception& e) {
    reply.raw = in;
    reply.error = std::string("transport: ") + e.what() + " after " + std::to_string(in.size()) +
                  " bytes (request of " + std::to_string(request.size()) +
                  " bytes): " + in.substr(0, 200);
    return reply;
  }
  reply.raw = in;
  const auto end = in.find("\r\n\r\n");
  if (!in.starts_with("HTTP/1.1 ") || end == std::string::npos || in.size() < 12) {
    reply.error = "not an HTTP/1.1 response: " + in.substr(0, 200);
    return reply;
  }
  reply.status = std::atoi(in.substr(9, 3).c_str());
  std::size_t line = in.find("\r\n") + 2;
  while (line < end) {
    const auto next = in.find("\r\n", line);
    const std::string header = in.substr(line, next - line);
    const auto colon = header.find(':');
    if (colon == std::string::npos) {
      reply.error = "malformed header line: " + header;
      return reply;
    }
    std::string value = header.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    reply.headers.emplace(lower(header.substr(0, colon)), value);
    line = next + 2;
  }
  reply.body = in.substr(end + 4);
  const auto length = reply.headers.find("content-length");
  if (length == reply.headers.end()) {
    reply.error = "no Content-Length";
  } else if (!head && std::to_string(reply.body.size()) != length->second) {
    reply.error = "Content-Length " + length->second + " but " + std::to_string(reply.body.size()) +
                  " body bytes";
  } else if (head && !reply.body.empty()) {
    reply.error = "a body on a HEAD response";
  }
  return reply;
}

} // namespace server_test
