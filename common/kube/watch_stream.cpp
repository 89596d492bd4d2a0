#include "common/kube/watch_stream.hpp"

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

#include "common/kube/client.hpp"
#include "common/util/strings.hpp"

namespace common::kube {
namespace {

using util::ErrorKind;
using Json = nlohmann::json;

constexpr std::size_t k_read_size = std::size_t{64} << 10;

class HttpWatchStream final : public WatchStream {
public:
  HttpWatchStream(std::unique_ptr<http::ResponseStream> body, std::size_t max_line)
      : m_body(std::move(body)), m_max_line(max_line) {}

  util::Result<std::optional<WatchEvent>> next() override {
    while (!m_done) {
      const std::size_t newline = m_buffer.find('\n', m_scanned);
      if (newline != std::string::npos) {
        const std::string line = m_buffer.substr(0, newline);
        m_buffer.erase(0, newline + 1);
        m_scanned = 0;
        if (util::trim(line).empty()) {
          continue;
        }
        auto event = decode_watch_event(line);
        if (!event) {
          m_done = true;
          return std::unexpected(std::move(event.error()));
        }
        return std::optional<WatchEvent>(std::move(*event));
      }
      m_scanned = m_buffer.size();
      if (m_buffer.size() > m_max_line) {
        return finish(util::Error(ErrorKind::too_large, "watch event over the limit of " +
                                                            std::to_string(m_max_line) + " bytes"));
      }
      auto chunk = m_body->read(k_read_size);
      if (m_cancelled.load()) {
        m_done = true;
        return std::optional<WatchEvent>();
      }
      if (!chunk) {
        return finish(std::move(chunk.error()));
      }
      if (chunk->empty()) {
        m_done = true;
        if (!util::trim(m_buffer).empty()) {
          return util::fail(ErrorKind::transient, "watch ended in the middle of an event");
        }
        return std::optional<WatchEvent>();
      }
      m_buffer += *chunk;
    }
    return std::optional<WatchEvent>();
  }

  void cancel() override {
    m_cancelled.store(true);
    m_body->cancel();
  }

private:
  util::Result<std::optional<WatchEvent>> finish(util::Error error) {
    m_done = true;
    m_body->cancel(); // nothing more is read: let the connection go
    return std::unexpected(std::move(error));
  }

  std::unique_ptr<http::ResponseStream> m_body;
  std::size_t m_max_line;
  std::string m_buffer;
  std::size_t m_scanned = 0; // bytes of m_buffer known to hold no newline
  bool m_done = false;
  std::atomic<bool> m_cancelled{false};
};

} // namespace

util::Result<WatchEvent> decode_watch_event(std::string_view line) {
  Json j;
  try {
    j = Json::parse(line);
  } catch (const Json::exception&) {
    return util::fail(ErrorKind::internal, "malformed watch event: not JSON");
  }
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("object") ||
      !j["object"].is_object()) {
    return util::fail(ErrorKind::internal, "malformed watch event: want {type, object}");
  }
  const std::string type = j["type"].get<std::string>();
  const Json& object = j["object"];
  if (type == "ERROR") {
    return std::unexpected(status_error(500, object.dump(), "WATCH", ""));
  }
  WatchEvent event;
  if (type == "ADDED") {
    event.type = WatchEvent::Type::added;
  } else if (type == "MODIFIED") {
    event.type = WatchEvent::Type::modified;
  } else if (type == "DELETED") {
    event.type = WatchEvent::Type::deleted;
  } else if (type == "BOOKMARK") {
    event.type = WatchEvent::Type::bookmark;
  } else {
    return util::fail(ErrorKind::internal, "unknown watch event type " + util::quote(type, 40));
  }
  const auto metadata = object.find("metadata");
  if (metadata != object.end() && metadata->is_object()) {
    const auto rv = metadata->find("resourceVersion");
    if (rv != metadata->end() && rv->is_string()) {
      event.resource_version = rv->get<std::string>();
    }
  }
  event.object_json = object.dump();
  return event;
}

std::unique_ptr<WatchStream> make_watch_stream(std::unique_ptr<http::ResponseStream> body,
                                               std::size_t max_line) {
  return std::make_unique<HttpWatchStream>(std::move(body), max_line);
}

} // namespace common::kube
