// Internal to common/http (poco_client.cpp and the TLS module): socket timeouts for Poco.
#pragma once

#include <algorithm>
#include <chrono>

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

namespace common::http::detail {

inline Poco::Timespan to_timespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

// Poco 1.11 TLS sockets wait twice before a read (or write) times out: the blocking SSL_read()
// for SO_RCVTIMEO, then, on SSL_ERROR_WANT_READ, a poll() for the receive timeout again.
// Halving the socket timeouts of TLS connections keeps the effective wait at the requested one.
inline void set_timeouts(Poco::Net::StreamSocket& socket, bool tls,
                         std::chrono::milliseconds timeout) {
  const auto effective = std::max(tls ? timeout / 2 : timeout, std::chrono::milliseconds(1));
  socket.setReceiveTimeout(to_timespan(effective)); // 0 would mean "wait forever"
  socket.setSendTimeout(to_timespan(effective));
}

} // namespace common::http::detail
