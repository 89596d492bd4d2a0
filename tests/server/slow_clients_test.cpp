// Issue 13: one slow client cannot stop the server. `serve` as a black box on loopback, with
// hostile connections from 127.0.0.2 (another loopback address: another client for the
// per-address limit) while a well-behaved client on 127.0.0.1 checks that health and API requests
// are still answered. Bounds are generous: what is checked is that answers come, not how fast.
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "tests/server/raw_http.hpp"
#include "tests/server/service.hpp"
#include "tests/support/process.hpp"

namespace {

using namespace std::chrono_literals;
using server_test::exchange;
using server_test::RawReply;
using server_test::Service;

// A TCP connection from `source` (a loopback address) to 127.0.0.1:port; -1 when refused.
int connect_from(const char* source, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Everything the peer sends until it closes or 3 s pass.
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

class SlowClientsTest : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_NE(m_service.port(), 0) << m_service.log(); }
  void TearDown() override {
    for (int fd : m_hostile) {
      ::close(fd);
    }
    EXPECT_TRUE(m_service.running()) << m_service.log();
  }
  bool healthy() {
    const RawReply r =
        exchange(m_service.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                 false, 2);
    return r.status == 200;
  }
  test_support::TempDir m_dir;
  Service m_service{m_dir.path() + "/data",
                    m_dir.path(),
                    {"--workers", "0", "--max-threads", "4", "--head-timeout", "3s",
                     "--max-connections-per-client", "150"}};
  std::vector<int> m_hostile;
};

TEST_F(SlowClientsTest, DrippingHeadsHoldNoWorkerAndMissTheirDeadline) {
  // 130 connections each sending one header byte a second: more than the workers, fewer than
  // the per-address limit.
  for (int i = 0; i < 130; ++i) {
    const int fd = connect_from("127.0.0.2", m_service.port());
    ASSERT_GE(fd, 0) << i;
    m_hostile.push_back(fd);
  }
  const std::string head = "POST /kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/"
                           "imageupdaters HTTP/1.1\r\nHost: x\r\n";
  for (std::size_t byte = 0; byte < 3; ++byte) {
    for (int fd : m_hostile) {
      ::send(fd, head.data() + byte, 1, MSG_NOSIGNAL);
    }
    EXPECT_TRUE(healthy()) << "health refused while " << m_hostile.size() << " heads drip";
    const RawReply list = exchange(
        m_service.port(),
        "GET /kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters HTTP/1.1\r\n"
        "Host: x\r\nConnection: close\r\n\r\n",
        false, 2);
    EXPECT_EQ(list.status, 200) << list.raw;
    std::this_thread::sleep_for(1s);
  }
  // Past the 3 s head deadline each dripping connection got a 408 and was closed.
  const std::string rest = drain(m_hostile.front());
  EXPECT_NE(rest.find(" 408 "), std::string::npos) << rest;
}

TEST_F(SlowClientsTest, IdleConnectionsAndTheAddressLimit) {
  // Connections that never send a byte cost no worker; past the per-address limit they are
  // refused, while another address is still served.
  int accepted = 0;
  for (int i = 0; i < 200; ++i) {
    const int fd = connect_from("127.0.0.2", m_service.port());
    if (fd >= 0) {
      m_hostile.push_back(fd);
    }
  }
  std::this_thread::sleep_for(300ms);
  for (int fd : m_hostile) {
    // A refused connection was reset: a send or a read fails at once.
    char c = 0;
    const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ++accepted;
    }
  }
  EXPECT_LE(accepted, 150);
  EXPECT_GE(accepted, 100);
  EXPECT_TRUE(healthy());
}

TEST_F(SlowClientsTest, ADeniedRequestNeverCostsItsBody) {
  // Tokens on: a request without one is answered 401 as soon as its head is read, though it
  // announces a body it never sends.
  test_support::TempDir dir;
  const std::string tokens = dir.write(
      "tokens.yaml",
      "tokens:\n  - name: a\n    token: \"team-a-token-0123456789\"\n    namespaces: [demo]\n"
      "    access: write\n");
  Service guarded(dir.path() + "/data", dir.path(), {"--workers", "0", "--token-file", tokens});
  ASSERT_NE(guarded.port(), 0) << guarded.log();
  const RawReply r =
      exchange(guarded.port(),
               "POST /kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters HTTP/1.1"
               "\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
               false, 3);
  EXPECT_EQ(r.status, 401) << r.raw;
}

TEST_F(SlowClientsTest, BareLineEndsAreRefused) {
  const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  for (const std::string& request :
       {std::string("POST /kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters "
                    "HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\n{}\r\n0\r\n\r\n") +
            smuggled,
        std::string("GET /healthz HTTP/1.1\nHost: x\n\n") + smuggled,
        std::string("POST /kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters "
                    "HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}") +
            smuggled}) {
    const RawReply r = exchange(m_service.port(), request, false, 3);
    EXPECT_EQ(r.status, 400) << request << "\n" << r.raw;
    EXPECT_EQ(r.raw.find("HTTP/1.1 200"), std::string::npos) << "smuggled: " << r.raw;
  }
}

} // namespace

namespace {

TEST(SlowTlsClients, SilentTlsConnectionsHoldNoWorker) {
  // 100 TLS connections that never send a ClientHello; health over TLS is still answered, and
  // the silent ones are closed at the head deadline.
  test_support::TempDir dir;
  const std::string cert = dir.path() + "/tls.crt";
  const std::string key = dir.path() + "/tls.key";
  const auto made = test_support::run_process(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
       "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert});
  if (made.exit_code != 0) {
    GTEST_SKIP() << "openssl cannot make a certificate here: " << made.err;
  }
  Service service(dir.path() + "/data", dir.path(),
                  {"--workers", "0", "--max-threads", "2", "--head-timeout", "2s", "--tls-cert",
                   cert, "--tls-key", key});
  ASSERT_NE(service.port(), 0) << service.log();
  std::vector<int> silent;
  for (int i = 0; i < 100; ++i) {
    const int fd = connect_from("127.0.0.2", service.port());
    ASSERT_GE(fd, 0);
    silent.push_back(fd);
  }
  const std::string url = "https://127.0.0.1:" + std::to_string(service.port()) + "/healthz";
  const auto health =
      test_support::run_process({"/usr/bin/curl", "-sS", "--max-time", "5", "--cacert", cert, url});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.out, "ok");
  // Closed at the deadline: a read sees the end.
  char c = 0;
  EXPECT_LE(::recv(silent.front(), &c, 1, 0), 0);
  for (int fd : silent) {
    ::close(fd);
  }
  EXPECT_TRUE(service.running()) << service.log();
}

} // namespace

namespace {

// The peak resident memory of a process (VmHWM, in KiB), 0 when unknown.
long peak_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmHWM:")) {
      return std::stol(line.substr(6));
    }
  }
  return 0;
}

TEST(BoundedMemory, HostileBodiesStayWithinTheStatedBounds) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's shadow memory and quarantine make RSS meaningless; the "
                  "release build runs this test";
#endif
  // Issue 13: four 1 MiB bodies of nested '[' (JSON and YAML) at once cost about 1 GB. The
  // README states about 10 MB per request in a handler; here the whole service must stay far
  // below the deployment's 512 MiB limit.
  test_support::TempDir dir;
  Service service(dir.path() + "/data", dir.path(), {"--workers", "0"});
  ASSERT_NE(service.port(), 0) << service.log();
  const std::string path = "/kapis/gitops.kubesphere.io/v1alpha1/namespaces/demo/imageupdaters";
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      std::string body = i % 2 == 0 ? std::string((1u << 20) - 64, '[') : std::string();
      if (i % 2 == 1) {
        body = "[";
        while (body.size() < (1u << 20) - 64) {
          body += "1,";
        }
        body += "1]";
      }
      const std::string type = i % 4 < 2 ? "application/json" : "application/yaml";
      const RawReply r = exchange(service.port(),
                                  "POST " + path +
                                      " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                      "Content-Type: " +
                                      type + "\r\nContent-Length: " + std::to_string(body.size()) +
                                      "\r\n\r\n" + body,
                                  false, 20);
      EXPECT_EQ(r.status, 400) << type << " " << r.raw.substr(0, 300);
    });
  }
  for (auto& t : clients) {
    t.join();
  }
  const long kib = peak_kib(service.pid());
  RecordProperty("peak_rss_kib", static_cast<int>(kib));
  std::printf("serve's peak RSS: %ld KiB\n", kib);
  EXPECT_GT(kib, 0);
  EXPECT_LT(kib, 256 * 1024) << "peak RSS " << kib << " KiB";
  EXPECT_TRUE(service.running()) << service.log();
}

} // namespace
