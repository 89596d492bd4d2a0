// Fakes for the kube tests: an environment over real files with scripted variables, and an
// http::Client that records requests and answers from a handler (whole bodies, or streams of
// scripted chunks that can block until cancelled).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/credentials/environment.hpp"
#include "common/http/client.hpp"

namespace common::kube::testing {

class FakeEnvironment final : public credentials::Environment {
public:
  std::map<std::string, std::string> vars;
  int reads = 0; // read_file calls

  util::Result<std::string> read_file(const std::string& path, std::size_t max_bytes) override {
    ++reads;
    return m_real.read_file(path, max_bytes);
  }
  std::string file_version(const std::string& path) const override {
    return m_real.file_version(path);
  }
  std::optional<std::string> getenv(const std::string& name) const override {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  util::Result<std::string> run_script(const std::string&,
                                       const credentials::ScriptLimits&) override {
    return util::fail(util::ErrorKind::unsupported, "no scripts in tests");
  }

private:
  credentials::SystemEnvironment m_real;
};

// A scripted body: chunks handed out one per read(); then, when `hold` is set, read() blocks
// until cancel() (a watch that stays open), else the stream ends.
class FakeStream final : public http::ResponseStream {
public:
  FakeStream(int status, std::vector<std::string> chunks, bool hold)
      : m_status(status), m_chunks(chunks.begin(), chunks.end()), m_hold(hold) {}
  int status() const override { return m_status; }
  const http::Headers& headers() const override { return m_headers; }
  util::Result<std::string> read(std::size_t max) override {
    std::unique_lock lock(m_mutex);
    if (!m_chunks.empty() && !m_cancelled) {
      std::string& front = m_chunks.front();
      std::string out = front.substr(0, max);
      front.erase(0, out.size());
      if (front.empty()) {
        m_chunks.pop_front();
      }
      return out;
    }
    if (m_hold) {
      m_wake.wait(lock, [&] { return m_cancelled; });
    }
    return std::string();
  }
  void cancel() override {
    const std::lock_guard lock(m_mutex);
    m_cancelled = true;
    m_wake.notify_all();
  }
  bool cancelled() {
    const std::lock_guard lock(m_mutex);
    return m_cancelled;
  }

private:
  int m_status;
  http::Headers m_headers;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<std::string> m_chunks;
  bool m_hold;
  bool m_cancelled = false;
};

class FakeHttp final : public http::Client {
public:
  struct Sent {
    http::Request request;
    http::Limits limits;
    bool streamed = false;
  };
  std::function<util::Result<http::Response>(const http::Request&)> answer =
      [](const http::Request&) { return http::Response{200, {}, "{}"}; };
  // For open(): the status and chunks of the next stream.
  int stream_status = 200;
  std::vector<std::string> stream_chunks;
  bool stream_hold = false;
  std::vector<Sent> sent;

  util::Result<http::Response> send(const http::Request& request,
                                    const http::Limits& limits) override {
    sent.push_back({request, limits, false});
    return answer(request);
  }
  util::Result<std::unique_ptr<http::ResponseStream>> open(const http::Request& request,
                                                           const http::Limits& limits) override {
    sent.push_back({request, limits, true});
    return std::unique_ptr<http::ResponseStream>(
        std::make_unique<FakeStream>(stream_status, stream_chunks, stream_hold));
  }
};

} // namespace common::kube::testing
