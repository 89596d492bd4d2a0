#include "common/server/http1.hpp"

#include <charconv>

#include "common/util/strings.hpp"

namespace common::server::http1 {

namespace {

bool tchar(char c) {
  static constexpr std::string_view k_extra = "!#$%&'*+-.^_`|~";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         k_extra.find(c) != std::string_view::npos;
}

bool token(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!tchar(c)) {
      return false;
    }
  }
  return true;
}

// Field values: visible ASCII, obs-text, space and tab; no control characters.
bool field_value(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return false;
    }
  }
  return true;
}

HeadResult fail(int status, std::string message) {
  HeadResult r;
  r.error = HeadError{status, std::move(message)};
  return r;
}

// A bare CR or LF in `s`: line ends must be CRLF. A CR as the last byte may still be followed
// by its LF.
bool bare_line_end(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
      return true;
    }
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] != '\n') {
      return true;
    }
  }
  return false;
}

// Whether the line before `eol` (npos: the rest, which may end in the CR of a CRLF still on its
// way) holds no bare CR or LF.
bool crlf_only(std::string_view rest, std::size_t eol) {
  std::string_view line = eol == std::string_view::npos ? rest : rest.substr(0, eol);
  if (eol == std::string_view::npos && line.ends_with('\r')) {
    line.remove_suffix(1);
  }
  return line.find_first_of("\r\n") == std::string_view::npos;
}

} // namespace

HeadResult parse_head(std::string_view buffer, std::size_t max_head_bytes) {
  // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line; none
  // is accepted here (clients do not send them on a fresh connection).
  const std::size_t end = buffer.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    // A bare LF ending a line already seen can be refused early.
    if (bare_line_end(buffer)) {
      return fail(400, "line ends must be CRLF");
    }
    if (buffer.size() > max_head_bytes) {
      return fail(431,
                  "the request head is larger than " + std::to_string(max_head_bytes) + " bytes");
    }
    return {};
  }
  if (end + 4 > max_head_bytes) {
    return fail(431,
                "the request head is larger than " + std::to_string(max_head_bytes) + " bytes");
  }
  const std::string_view text = buffer.substr(0, end + 2); // every line with its CRLF
  if (bare_line_end(text)) {
    return fail(400, "line ends must be CRLF");
  }
  RequestHead head;
  head.size = end + 4;
  std::size_t pos = text.find("\r\n");
  const std::string_view line = text.substr(0, pos);
  // request-line = method SP request-target SP HTTP-version
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(400, "malformed request line");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!token(method) || method.size() > 32) {
    return fail(400, "malformed method");
  }
  if (target.empty() || target.front() != '/' || !field_value(target) ||
      target.find_first_of(" \t") != std::string_view::npos) {
    return fail(400, "the request target must be an absolute path");
  }
  if (version == "HTTP/1.0") {
    head.http10 = true;
    head.keep_alive = false;
  } else if (version != "HTTP/1.1") {
    return fail(version.starts_with("HTTP/") ? 505 : 400, "unsupported HTTP version");
  }
  head.method = std::string(method);
  head.target = std::string(target);

  std::size_t lengths = 0;
  std::size_t encodings = 0;
  std::string encoding;
  pos += 2;
  while (pos < text.size()) {
    const std::size_t eol = text.find("\r\n", pos);
    const std::string_view field = text.substr(pos, eol - pos);
    pos = eol + 2;
    if (field.front() == ' ' || field.front() == '\t') {
      return fail(400, "obsolete line folding");
    }
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) {
      return fail(400, "a header line without a colon");
    }
    const std::string_view name = field.substr(0, colon);
    if (!token(name)) {
      return fail(400, "invalid header name " + util::quote(name, 60) +
                           " (no white space before the colon)");
    }
    const std::string_view value = util::trim(field.substr(colon + 1));
    if (!field_value(value)) {
      return fail(400, "control characters in header " + std::string(name));
    }
    if (head.headers.size() >= 100) {
      return fail(431, "more than 100 header fields");
    }
    head.headers.emplace_back(std::string(name), std::string(value));
    if (util::iequals(name, "Content-Length")) {
      if (++lengths > 1) {
        return fail(400, "more than one Content-Length");
      }
      std::uint64_t n = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || value.size() > 18 || ec != std::errc{} ||
          p != value.data() + value.size() ||
          value.find_first_not_of("0123456789") != std::string_view::npos) {
        return fail(400, "Content-Length " + util::quote(value, 40) + " is not a number");
      }
      head.content_length = n;
    } else if (util::iequals(name, "Transfer-Encoding")) {
      ++encodings;
      encoding = std::string(value);
    } else if (util::iequals(name, "Connection")) {
      for (std::string_view rest = value; !rest.empty();) {
        const std::size_t comma = rest.find(',');
        const std::string_view option = util::trim(rest.substr(0, comma));
        if (util::iequals(option, "close")) {
          head.keep_alive = false;
        } else if (util::iequals(option, "keep-alive") && head.http10) {
          head.keep_alive = true;
        }
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else if (util::iequals(name, "Expect")) {
      if (!util::iequals(value, "100-continue")) {
        return fail(417, "unsupported expectation " + util::quote(value, 40));
      }
      head.expect_continue = true;
    }
  }
  if (encodings > 0) {
    if (lengths > 0) {
      return fail(400, "both Content-Length and Transfer-Encoding");
    }
    if (head.http10) {
      return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    }
    if (encodings > 1 || !util::iequals(encoding, "chunked")) {
      return fail(400, "Transfer-Encoding " + util::quote(encoding, 40) +
                           " (only \"chunked\" alone is accepted)");
    }
    head.chunked = true;
  }
  HeadResult r;
  r.head = std::move(head);
  return r;
}

ChunkedDecoder::Step ChunkedDecoder::feed(std::string_view in, std::size_t& consumed,
                                          std::string& out, std::size_t max_body,
                                          std::string& error, bool& too_large) {
  consumed = 0;
  too_large = false;
  while (consumed < in.size()) {
    const std::string_view rest = in.substr(consumed);
    switch (m_state) {
    case State::size_line: {
      const std::size_t eol = rest.find("\r\n");
      if (!crlf_only(rest, eol)) {
        error = "chunk line ends must be CRLF";
        return Step::error;
      }
      const std::string_view seen = eol == std::string_view::npos ? rest : rest.substr(0, eol);
      if (eol == std::string_view::npos) {
        if (rest.size() > 4096) {
          error = "chunk size line too long";
          return Step::error;
        }
        return Step::need_more;
      }
      const std::string_view size = seen.substr(0, seen.find(';'));
      if (size.empty() || size.size() > 15 ||
          size.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
        error = "invalid chunk size " + util::quote(size, 20);
        return Step::error;
      }
      std::uint64_t n = 0;
      std::from_chars(size.data(), size.data() + size.size(), n, 16);
      consumed += eol + 2;
      if (n == 0) {
        m_state = State::trailer;
        break;
      }
      if (out.size() + n > max_body) {
        too_large = true;
        error = "the chunked body is larger than the limit";
        return Step::error;
      }
      m_left = n;
      m_state = State::data;
      break;
    }
    case State::data: {
      const std::size_t take = static_cast<std::size_t>(
          std::min<std::uint64_t>(m_left, static_cast<std::uint64_t>(rest.size())));
      out.append(rest.substr(0, take));
      consumed += take;
      m_left -= take;
      if (m_left == 0) {
        m_state = State::data_crlf;
      }
      break;
    }
    case State::data_crlf:
      if (rest.size() < 2) {
        if (rest[0] != '\r') {
          error = "chunk data must end with CRLF";
          return Step::error;
        }
        return Step::need_more;
      }
      if (rest[0] != '\r' || rest[1] != '\n') {
        error = "chunk data must end with CRLF";
        return Step::error;
      }
      consumed += 2;
      m_state = State::size_line;
      break;
    case State::trailer: {
      const std::size_t eol = rest.find("\r\n");
      if (!crlf_only(rest, eol)) {
        error = "trailer line ends must be CRLF";
        return Step::error;
      }
      if (eol == std::string_view::npos) {
        if (m_trailer_bytes + rest.size() > 8192) {
          error = "trailers too large";
          return Step::error;
        }
        return Step::need_more;
      }
      consumed += eol + 2;
      m_trailer_bytes += eol + 2;
      if (eol == 0) {
        return Step::done; // the blank line after the last chunk
      }
      if (m_trailer_bytes > 8192) {
        error = "trailers too large";
        return Step::error;
      }
      break;
    }
    }
  }
  return Step::need_more;
}

const char* reason_phrase(int status) noexcept {
  switch (status) {
  case 100:
    return "Continue";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 413:
    return "Content Too Large";
  case 415:
    return "Unsupported Media Type";
  case 417:
    return "Expectation Failed";
  case 422:
    return "Unprocessable Content";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 503:
    return "Service Unavailable";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return "Unknown";
  }
}

std::string serialize(const api::HttpResponse& response, bool head_method, bool keep_alive) {
  std::string out = "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\n";
  if (!response.content_type.empty()) {
    out += "Content-Type: ";
    out += response.content_type;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(response.body.size());
  out += "\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  }
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  if (!head_method) {
    out += response.body;
  }
  return out;
}

} // namespace common::server::http1
