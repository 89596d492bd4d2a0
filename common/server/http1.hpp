// Strict HTTP/1.1 request framing (RFC 9112) for the service's front end: the request head, a
// chunked body, and the response bytes. Pure: bytes in, values out.
//
// Strict where two parsers could disagree about where a request ends (request smuggling), and
// every such case is an error the server answers with 400 and a closed connection:
//  - lines end with CRLF; a bare LF or CR is an error (head and chunk lines alike);
//  - no white space before a header's colon, no obsolete line folding, header names are tokens;
//  - at most one Content-Length, plain digits; Transfer-Encoding only as a single "chunked",
//    never together with Content-Length, never on HTTP/1.0;
//  - chunk sizes are hex digits (at most 15), extensions are skipped, trailers are read and
//    dropped.
// Bounded: the head by `max_head_bytes` (431), a body by the caller's limit (413).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/api/http.hpp"

namespace common::server::http1 {

struct RequestHead {
  std::string method;
  std::string target;  // as sent: path and query, still percent-encoded
  bool http10 = false; // HTTP/1.0 (keep-alive only when asked for)
  std::vector<std::pair<std::string, std::string>> headers; // names as sent
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool keep_alive = true;
  bool expect_continue = false;
  std::size_t size = 0; // bytes of the head, blank line included
};

struct HeadError {
  int status = 400; // 400, 431 (head too large), 505 (version), 501 (method token too long)
  std::string message;
};

// nullopt while the head is incomplete (no blank line yet and under the bound); the head or an
// error otherwise.
struct HeadResult {
  std::optional<RequestHead> head;
  std::optional<HeadError> error;
};
HeadResult parse_head(std::string_view buffer, std::size_t max_head_bytes);

// Decodes a chunked body incrementally.
class ChunkedDecoder {
public:
  enum class Step { need_more, done, error };
  // Consumes what it can of `in` (setting `consumed`), appending data to `out`; `done` when the
  // last chunk and the trailers have been read. `error` names the problem; too_large is set when
  // the body would exceed `max_body`.
  Step feed(std::string_view in, std::size_t& consumed, std::string& out, std::size_t max_body,
            std::string& error, bool& too_large);

private:
  enum class State { size_line, data, data_crlf, trailer } m_state = State::size_line;
  std::uint64_t m_left = 0;
  std::size_t m_trailer_bytes = 0;
};

// The response's bytes: status line, Content-Type, Content-Length, Connection: close when not
// keep_alive, the response's headers; the body unless `head_method`.
std::string serialize(const api::HttpResponse& response, bool head_method, bool keep_alive);

// "OK", "Bad Request", ...; "Unknown" for codes it does not know.
const char* reason_phrase(int status) noexcept;

} // namespace common::server::http1
