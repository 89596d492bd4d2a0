// libFuzzer entry point for the front end's HTTP/1.1 framing (common/server/http1): any bytes
// must give a head, an error or "incomplete", never a crash or a read outside the buffer; a head
// never claims more bytes than it was given; the chunked decoder, fed the rest in two cuts,
// never consumes more than it was handed nor produces more than its limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/server/http1.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace common::server::http1;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const HeadResult r = parse_head(input, 8192);
  check(!(r.head && r.error));
  if (r.error) {
    check(r.error->status >= 400 && r.error->status < 600);
    return 0;
  }
  if (!r.head) {
    check(input.size() <= 8192 && input.find("\r\n\r\n") == std::string_view::npos);
    return 0;
  }
  check(r.head->size <= input.size());
  check(!(r.head->chunked && r.head->content_length));
  if (!r.head->chunked) {
    return 0;
  }
  // The body in two cuts, as it could arrive.
  std::string_view rest = input.substr(r.head->size);
  const std::size_t cut = rest.empty() ? 0 : static_cast<unsigned char>(rest[0]) % rest.size();
  ChunkedDecoder decoder;
  std::string body;
  std::string buffered;
  for (const std::string_view part : {rest.substr(0, cut), rest.substr(cut)}) {
    buffered.append(part);
    std::size_t consumed = 0;
    std::string error;
    bool too_large = false;
    const auto step = decoder.feed(buffered, consumed, body, 4096, error, too_large);
    check(consumed <= buffered.size());
    check(body.size() <= 4096);
    if (step != ChunkedDecoder::Step::need_more) {
      break;
    }
    buffered.erase(0, consumed);
  }
  return 0;
}
