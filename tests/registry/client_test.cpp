// The request pipeline: auth (Basic, Bearer, token cache), retries, Retry-After, rate limit
// and endpoint checks, through list_tags as the simplest operation.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/registry/client.hpp"
#include "common/util/clock.hpp"
#include "common/util/deadline.hpp"

#include "tests/registry/fake_http.hpp"

namespace common::registry {
namespace {

using std::chrono::milliseconds;
using testing::FakeHttp;
using testing::k_base;
using testing::response;
using util::ErrorKind;

const std::string k_list = std::string(k_base) + "/v2/acme/app/tags/list?n=100";
const std::string k_tags = R"({"name":"acme/app","tags":["1.0"]})";
const std::string k_token_url =
    "https://auth.example/token?service=registry.example&scope=repository%3Aacme%2Fapp%3Apull";
const credentials::Credential k_alice{"alice", "s3cret"};

http::Response bearer_challenge(const std::string& realm = "https://auth.example/token") {
  return response(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})",
                  {{"WWW-Authenticate", "Bearer realm=\"" + realm +
                                            "\",service=\"registry.example\",scope=\"repository:"
                                            "acme/app:pull\""}});
}

class ClientTest : public ::testing::Test {
protected:
  util::FakeClock clock;
  FakeHttp fake{clock};
  std::chrono::steady_clock::time_point start = clock.steady_now();

  // A registry that wants `Bearer <token>` on the tag list.
  void bearer_registry(const std::string& token,
                       const std::string& realm = "https://auth.example/token") {
    fake.handle("GET", k_list, [token, realm](const http::Request& r) {
      if (testing::header(r.headers, "Authorization").value_or("") != "Bearer " + token) {
        return util::Result<http::Response>(bearer_challenge(realm));
      }
      return util::Result<http::Response>(response(200, k_tags));
    });
  }
  std::vector<long long> sent_ms() const {
    std::vector<long long> out;
    for (const auto& s : fake.sent()) {
      out.push_back(std::chrono::duration_cast<milliseconds>(s.at - start).count());
    }
    return out;
  }
  Client make(std::optional<credentials::Credential> credential = std::nullopt,
              ClientOptions options = testing::test_options(),
              Endpoint endpoint = testing::test_endpoint()) {
    return Client(std::move(endpoint), fake, clock, std::move(credential), std::move(options));
  }
};

// ---- auth -------------------------------------------------------------------------------------

TEST_F(ClientTest, BearerTokenIsFetchedOnceAndCached) {
  bearer_registry("tok1");
  fake.on("GET", k_token_url, response(200, R"({"token":"tok1","expires_in":300})"));
  Client client = make(k_alice);
  for (int i = 0; i < 2; ++i) {
    auto tags = client.list_tags("acme/app");
    ASSERT_TRUE(tags.has_value()) << tags.error().message;
    EXPECT_EQ(*tags, std::vector<std::string>{"1.0"});
  }
  EXPECT_EQ(fake.count("https://auth.example/"), 1u) << "exactly one token request";
  const auto sent = fake.sent();
  ASSERT_EQ(sent.size(), 4u); // 401, token, 200, 200 (second call sends the cached token)
  EXPECT_EQ(sent[1].request.url, k_token_url);
  EXPECT_EQ(testing::header(sent[1].request.headers, "Authorization").value_or(""),
            "Basic YWxpY2U6czNjcmV0");
  for (std::size_t i : {2u, 3u}) {
    EXPECT_EQ(testing::header(sent[i].request.headers, "Authorization").value_or(""),
              "Bearer tok1");
  }
  // Expiry (300 s minus the margin): a new token.
  clock.advance(std::chrono::seconds(295));
  ASSERT_TRUE(client.list_tags("acme/app").has_value());
  EXPECT_EQ(fake.count("https://auth.example/"), 2u);
}

TEST_F(ClientTest, KnownChallengeGetsTheTokenForANewRepositoryUpFront) {
  bearer_registry("tok");
  const std::string other_list = std::string(k_base) + "/v2/acme/other/tags/list?n=100";
  const std::string other_token = "https://auth.example/token?service=registry.example&"
                                  "scope=repository%3Aacme%2Fother%3Apull";
  fake.on("GET", k_token_url, response(200, R"({"token":"tok"})"));
  fake.on("GET", other_token, response(200, R"({"token":"tok2"})"));
  fake.handle("GET", other_list, [](const http::Request& r) {
    if (testing::header(r.headers, "Authorization").value_or("") != "Bearer tok2") {
      return util::Result<http::Response>(bearer_challenge());
    }
    return util::Result<http::Response>(response(200, k_tags));
  });
  Client client = make(k_alice);
  ASSERT_TRUE(client.list_tags("acme/app").has_value());
  auto other = client.list_tags("acme/other");
  ASSERT_TRUE(other.has_value()) << other.error().message;
  const auto sent = fake.sent();
  ASSERT_EQ(sent.size(), 5u); // 401, token, 200 | token (no 401 spent), 200
  EXPECT_EQ(sent[3].request.url, other_token);
  EXPECT_EQ(sent[4].request.url, other_list);
}

TEST_F(ClientTest, AnonymousBearerSendsNoCredentials) {
  bearer_registry("anon");
  fake.on("GET", k_token_url, response(200, R"({"access_token":"anon"})"));
  auto tags = make().list_tags("acme/app");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_FALSE(testing::header(fake.sent()[1].request.headers, "Authorization").has_value());
}

TEST_F(ClientTest, RejectedCachedTokenIsReplacedOnce) {
  fake.on("GET", k_token_url, response(200, R"({"token":"old","expires_in":3600})"));
  fake.on("GET", k_token_url, response(200, R"({"token":"new","expires_in":3600})"));
  bearer_registry("old");
  Client client = make(k_alice);
  ASSERT_TRUE(client.list_tags("acme/app").has_value());
  bearer_registry("new"); // the registry revoked "old"
  auto tags = client.list_tags("acme/app");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_EQ(fake.count("https://auth.example/"), 2u);
}

TEST_F(ClientTest, UnauthorizedAfterFreshTokenIsAnAuthError) {
  bearer_registry("never-matches");
  fake.on("GET", k_token_url, response(200, R"({"token":"tok"})"));
  auto tags = make(k_alice).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::auth);
  const std::string& m = tags.error().message;
  EXPECT_NE(m.find("registry \"test\""), std::string::npos) << m;
  EXPECT_NE(m.find("repository \"acme/app\""), std::string::npos) << m;
  EXPECT_NE(m.find("credentials alice:*** were sent"), std::string::npos) << m;
  EXPECT_EQ(m.find("s3cret"), std::string::npos);
  EXPECT_EQ(m.find("YWxpY2U6czNjcmV0"), std::string::npos);
  EXPECT_EQ(fake.sent().size(), 3u); // 401, token, 401: no loop

  FakeHttp anon_http(clock);
  anon_http.on("GET", k_list, bearer_challenge());
  anon_http.on("GET", k_token_url, response(200, R"({"token":"tok"})"));
  Client anon(testing::test_endpoint(), anon_http, clock, std::nullopt, testing::test_options());
  tags = anon.list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::auth);
  EXPECT_NE(tags.error().message.find("no credentials were sent"), std::string::npos);
}

TEST_F(ClientTest, TokenServiceRefusal) {
  bearer_registry("x");
  fake.on("GET", k_token_url, response(401, R"({"details":"bad password"})"));
  auto tags = make(k_alice).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::auth);
  EXPECT_NE(tags.error().message.find("token service https://auth.example/token refused"),
            std::string::npos)
      << tags.error().message;
  EXPECT_EQ(tags.error().message.find("s3cret"), std::string::npos);
}

TEST_F(ClientTest, CredentialsNeverGoToAPlainHttpRealmOffLoopback) {
  bearer_registry("t", "http://auth.example/token");
  const std::string plain =
      "http://auth.example/token?service=registry.example&scope=repository%3Aacme%2Fapp%3Apull";
  fake.on("GET", plain, response(200, R"({"token":"t"})"));
  auto tags = make(k_alice).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::auth);
  EXPECT_NE(tags.error().message.find("plain HTTP"), std::string::npos);
  EXPECT_EQ(fake.count("http://auth.example/"), 0u);

  // Anonymous: nothing to leak, allowed.
  ASSERT_TRUE(make().list_tags("acme/app").has_value());
  EXPECT_EQ(fake.count("http://auth.example/"), 1u);

  // Loopback over plain http (the CI token server): credentials allowed.
  FakeHttp local(clock);
  const std::string loop_list = "http://127.0.0.1:5103/v2/app/tags/list?n=100";
  local.handle("GET", loop_list, [](const http::Request& r) {
    if (!testing::header(r.headers, "Authorization")) {
      return util::Result<http::Response>(response(
          401, "",
          {{"Www-Authenticate",
            R"(Bearer realm="http://127.0.0.1:5180/token",service="test-registry",scope="repository:app:pull")"}}));
    }
    return util::Result<http::Response>(response(200, R"({"tags":["a"]})"));
  });
  local.on("GET", "http://127.0.0.1:5180/token?service=test-registry&scope=repository%3Aapp%3Apull",
           response(200, R"({"token":"t","access_token":"t","expires_in":300})"));
  Client ci(testing::test_endpoint("http://127.0.0.1:5103"), local, clock,
            credentials::Credential{"carol", "pw"}, testing::test_options());
  auto ok = ci.list_tags("app");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_TRUE(testing::header(local.sent()[1].request.headers, "Authorization").has_value());
}

TEST_F(ClientTest, IdentityTokenUsesRefreshTokenGrant) {
  bearer_registry("tok");
  fake.on("POST", "https://auth.example/token", response(200, R"({"access_token":"tok"})"));
  auto tags = make(credentials::Credential{"<token>", "idtok"}).list_tags("acme/app");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  const auto sent = fake.sent();
  const auto& post = sent[1].request;
  EXPECT_EQ(post.method, "POST");
  EXPECT_NE(post.body.find("grant_type=refresh_token"), std::string::npos);
  EXPECT_NE(post.body.find("refresh_token=idtok"), std::string::npos);
  EXPECT_NE(post.body.find("scope=repository%3Aacme%2Fapp%3Apull"), std::string::npos);
  EXPECT_FALSE(testing::header(post.headers, "Authorization").has_value());
}

TEST_F(ClientTest, BasicAuthIsSentUpFrontOnceKnown) {
  fake.handle("GET", k_list, [](const http::Request& r) {
    if (testing::header(r.headers, "Authorization").value_or("") != "Basic YWxpY2U6czNjcmV0") {
      return util::Result<http::Response>(
          response(401, "", {{"WWW-Authenticate", R"(Basic realm="test-realm")"}}));
    }
    return util::Result<http::Response>(response(200, k_tags));
  });
  Client client = make(k_alice);
  ASSERT_TRUE(client.list_tags("acme/app").has_value());
  ASSERT_TRUE(client.list_tags("acme/app").has_value());
  EXPECT_EQ(fake.sent().size(), 3u); // 401, 200, 200

  auto none = make().list_tags("acme/app");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().kind, ErrorKind::auth);
  EXPECT_NE(none.error().message.find("none are configured"), std::string::npos);

  FakeHttp wrong(clock);
  wrong.on("GET", k_list, response(401, "", {{"WWW-Authenticate", R"(Basic realm="r")"}}));
  Client bad(testing::test_endpoint(), wrong, clock, credentials::Credential{"bob", "nope"},
             testing::test_options());
  auto refused = bad.list_tags("acme/app");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().kind, ErrorKind::auth);
  EXPECT_NE(refused.error().message.find("bob:***"), std::string::npos);
  EXPECT_EQ(refused.error().message.find("nope"), std::string::npos);
}

TEST_F(ClientTest, ForbiddenAndOddChallenges) {
  fake.on("GET", k_list, response(403, R"({"errors":[{"code":"DENIED"}]})"));
  auto tags = make(k_alice).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::auth);
  EXPECT_NE(tags.error().message.find("403"), std::string::npos);

  FakeHttp odd(clock);
  odd.on("GET", k_list, response(401, "", {{"WWW-Authenticate", "Negotiate"}}));
  Client c(testing::test_endpoint(), odd, clock, k_alice, testing::test_options());
  tags = c.list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::unsupported);

  FakeHttp bare(clock);
  bare.on("GET", k_list, response(401));
  Client b(testing::test_endpoint(), bare, clock, k_alice, testing::test_options());
  tags = b.list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::auth);
  EXPECT_NE(tags.error().message.find("without a WWW-Authenticate"), std::string::npos);
}

TEST_F(ClientTest, ConcurrentCallsShareOneClient) {
  bearer_registry("tok");
  fake.on("GET", k_token_url, response(200, R"({"token":"tok","expires_in":300})"));
  Client client = make(k_alice);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (client.list_tags("acme/app").has_value()) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 200);
  // Threads racing the first 401 may each fetch a token; after that the cache serves all.
  EXPECT_GE(fake.count("https://auth.example/"), 1u);
  EXPECT_LE(fake.count("https://auth.example/"), 8u);
}

// ---- retries ----------------------------------------------------------------------------------

TEST_F(ClientTest, ServerErrorsThenSuccessWithBackoff) {
  fake.on("GET", k_list, response(503, "unavailable"));
  fake.on("GET", k_list, response(502));
  fake.on("GET", k_list, response(200, k_tags));
  auto tags = make().list_tags("acme/app");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_EQ(sent_ms(), (std::vector<long long>{0, 500, 1500}));
}

TEST_F(ClientTest, BackoffSequenceThenTransientError) {
  fake.on("GET", k_list, response(500));
  auto tags = make().list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::transient);
  EXPECT_NE(tags.error().message.find("answered 500 (after 4 attempts)"), std::string::npos)
      << tags.error().message;
  EXPECT_EQ(sent_ms(), (std::vector<long long>{0, 500, 1500, 3500}));
}

TEST_F(ClientTest, BackoffIsCappedAndJittered) {
  ClientOptions options = testing::test_options();
  options.max_retries = 6;
  options.backoff_base = milliseconds(1000);
  options.backoff_max = milliseconds(5000);
  fake.on("GET", k_list, response(504));
  ASSERT_FALSE(make(std::nullopt, options).list_tags("acme/app").has_value());
  EXPECT_EQ(sent_ms(), (std::vector<long long>{0, 1000, 3000, 7000, 12000, 17000, 22000}));

  // Jitter removes up to half of each delay, the same way for the same seed.
  options.jitter = 0.5;
  options.jitter_seed = 42;
  std::vector<std::vector<long long>> runs;
  for (int run = 0; run < 2; ++run) {
    FakeHttp local(clock);
    local.on("GET", k_list, response(504));
    Client c(testing::test_endpoint(), local, clock, std::nullopt, options);
    ASSERT_FALSE(c.list_tags("acme/app").has_value());
    std::vector<long long> gaps;
    const auto sent = local.sent();
    for (std::size_t i = 1; i < sent.size(); ++i) {
      gaps.push_back(std::chrono::duration_cast<milliseconds>(sent[i].at - sent[i - 1].at).count());
    }
    runs.push_back(gaps);
  }
  EXPECT_EQ(runs[0], runs[1]);
  const long long full[] = {1000, 2000, 4000, 5000, 5000, 5000};
  for (std::size_t i = 0; i < runs[0].size(); ++i) {
    EXPECT_LE(runs[0][i], full[i]);
    EXPECT_GE(runs[0][i], full[i] / 2);
  }
}

TEST_F(ClientTest, TransportErrorsRetriedOnlyWhenTransient) {
  fake.fail("GET", k_list, {ErrorKind::transient, "connection reset by peer"});
  fake.on("GET", k_list, response(200, k_tags));
  ASSERT_TRUE(make().list_tags("acme/app").has_value());
  EXPECT_EQ(fake.sent().size(), 2u);

  FakeHttp tls(clock);
  tls.fail("GET", k_list, {ErrorKind::auth, "TLS verification failed for registry.example"});
  Client c(testing::test_endpoint(), tls, clock, std::nullopt, testing::test_options());
  auto tags = c.list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::auth);
  EXPECT_NE(tags.error().message.find("TLS verification failed"), std::string::npos);
  EXPECT_NE(tags.error().message.find("registry \"test\""), std::string::npos);
  EXPECT_EQ(tls.sent().size(), 1u);
}

// ---- the run's deadline ---------------------------------------------------------------------

TEST_F(ClientTest, DeadlineStopsRetriesThatWouldEndAfterIt) {
  ClientOptions options = testing::test_options();
  options.deadline = start + milliseconds(2000);
  fake.on("GET", k_list, response(500));
  auto tags = make(std::nullopt, options).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::transient);
  // 0, 500, 1500; the next backoff (2000 ms) would end after the deadline: not waited for.
  EXPECT_EQ(sent_ms(), (std::vector<long long>{0, 500, 1500}));
  EXPECT_NE(tags.error().message.find("answered 500 (after 3 attempts)"), std::string::npos)
      << tags.error().message;
  EXPECT_NE(tags.error().message.find("no time left to retry before the deadline"),
            std::string::npos)
      << tags.error().message;
}

TEST_F(ClientTest, DeadlineCapsEachRequestsTimeouts) {
  ClientOptions options = testing::test_options();
  options.limits.connect_timeout = milliseconds(5000);
  options.limits.read_timeout = milliseconds(15000);
  options.deadline = start + milliseconds(1200);
  fake.fail("GET", k_list, {ErrorKind::transient, "GET x: timed out"});
  auto tags = make(std::nullopt, options).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  const auto sent = fake.sent();
  ASSERT_EQ(sent.size(), 2u) << "0 and 500 ms; a retry at 1500 ms would be past 1200 ms";
  EXPECT_EQ(sent[0].limits.connect_timeout, milliseconds(1200));
  EXPECT_EQ(sent[0].limits.read_timeout, milliseconds(1200));
  EXPECT_EQ(sent[1].limits.read_timeout, milliseconds(700));
  EXPECT_NE(tags.error().message.find("GET x: timed out (after 2 attempts) (no time left"),
            std::string::npos)
      << tags.error().message;
}

TEST_F(ClientTest, RetryAfterBeyondTheDeadlineIsNotWaitedFor) {
  ClientOptions options = testing::test_options();
  options.deadline = start + milliseconds(5000);
  fake.on("GET", k_list, response(429, "", {{"Retry-After", "7"}}));
  auto tags = make(std::nullopt, options).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(sent_ms(), std::vector<long long>{0});
  EXPECT_NE(tags.error().message.find("answered 429, Retry-After 7 s (no time left"),
            std::string::npos)
      << tags.error().message;
}

TEST_F(ClientTest, PassedDeadlineSendsNothing) {
  ClientOptions options = testing::test_options();
  options.deadline = start;
  auto tags = make(std::nullopt, options).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::transient);
  EXPECT_NE(tags.error().message.find("the deadline of this run was reached"), std::string::npos)
      << tags.error().message;
  EXPECT_TRUE(fake.sent().empty());
}

// A thread's deadline is real time (what the sockets' watchdog reads), whatever the client's
// clock says: a clock that runs ahead of it (a driver simulating the next interval) must not
// make every request find the deadline passed, and a real deadline that passed still stops it.
TEST_F(ClientTest, AThreadDeadlineIsRealTimeWhateverTheClientsClock) {
  fake.on("GET", k_list, response(200, R"({"name":"acme/app","tags":["1.0"]})"));
  clock.advance(std::chrono::hours(24 * 365)); // far ahead of the real steady clock
  {
    const util::ThreadDeadline ahead(std::chrono::steady_clock::now() + std::chrono::seconds(30));
    auto tags = make(std::nullopt, testing::test_options()).list_tags("acme/app");
    ASSERT_TRUE(tags.has_value()) << tags.error().message;
    EXPECT_EQ(fake.sent().size(), 1u);
  }
  {
    const util::ThreadDeadline passed(std::chrono::steady_clock::now() -
                                      std::chrono::milliseconds(1));
    auto tags = make(std::nullopt, testing::test_options()).list_tags("acme/app");
    ASSERT_FALSE(tags.has_value());
    EXPECT_NE(tags.error().message.find("the deadline of this run was reached"), std::string::npos)
        << tags.error().message;
    EXPECT_EQ(fake.sent().size(), 1u) << "nothing more sent";
  }
}

TEST_F(ClientTest, RetryAfterIsHonoured) {
  fake.on("GET", k_list, response(429, "", {{"Retry-After", "7"}}));
  fake.on("GET", k_list, response(503, "", {{"Retry-After", "2"}}));
  fake.on("GET", k_list, response(429)); // no Retry-After: backoff (third retry: 2000 ms)
  fake.on("GET", k_list, response(200, k_tags));
  auto tags = make().list_tags("acme/app");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_EQ(sent_ms(), (std::vector<long long>{0, 7000, 9000, 11000}));
}

TEST_F(ClientTest, RetryAfterAsHttpDate) {
  // FakeClock's wall time starts at 1'700'000'000 s = Tue, 14 Nov 2023 22:13:20 GMT.
  fake.on("GET", k_list, response(429, "", {{"Retry-After", "Tue, 14 Nov 2023 22:13:50 GMT"}}));
  fake.on("GET", k_list, response(200, k_tags));
  ASSERT_TRUE(make().list_tags("acme/app").has_value());
  EXPECT_EQ(sent_ms(), (std::vector<long long>{0, 30000}));
}

TEST_F(ClientTest, RetryAfterBeyondTheCapFailsAtOnce) {
  fake.on("GET", k_list, response(429, "", {{"Retry-After", "3600"}}));
  auto tags = make().list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::transient);
  EXPECT_NE(tags.error().message.find("rate limited by registry \"test\", Retry-After 3600 s"),
            std::string::npos)
      << tags.error().message;
  EXPECT_EQ(fake.sent().size(), 1u);
  EXPECT_EQ(sent_ms(), std::vector<long long>{0});
}

TEST_F(ClientTest, RateLimitedUntilRetriesRunOut) {
  fake.on("GET", k_list, response(429, "", {{"Retry-After", "1"}}));
  auto tags = make().list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::transient);
  EXPECT_NE(tags.error().message.find("rate limited by registry \"test\""), std::string::npos);
  EXPECT_EQ(fake.sent().size(), 4u);
}

TEST_F(ClientTest, ClientErrorsAreNotRetried) {
  fake.on("GET", k_list, response(400, R"({"errors":[{"code":"PAGINATION_NUMBER_INVALID"}]})"));
  auto tags = make().list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(tags.error().message.find("PAGINATION_NUMBER_INVALID"), std::string::npos);
  EXPECT_EQ(fake.sent().size(), 1u);
}

TEST_F(ClientTest, BodyOverTheLimit) {
  ClientOptions options = testing::test_options();
  options.limits.max_body = 10;
  fake.on("GET", k_list, response(200, k_tags));
  auto tags = make(std::nullopt, options).list_tags("acme/app");
  ASSERT_FALSE(tags.has_value());
  EXPECT_EQ(tags.error().kind, ErrorKind::too_large);
  EXPECT_NE(tags.error().message.find(k_list), std::string::npos);
}

// ---- rate limit and endpoint checks -----------------------------------------------------------

TEST_F(ClientTest, RateLimitAppliesToEveryRequestIncludingTokens) {
  bearer_registry("tok");
  fake.on("GET", k_token_url, response(200, R"({"token":"tok"})"));
  Endpoint endpoint = testing::test_endpoint();
  endpoint.rate_limit = 1; // one request per second, burst 1
  auto tags = make(k_alice, testing::test_options(), endpoint).list_tags("acme/app");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_EQ(sent_ms(), (std::vector<long long>{0, 1000, 2000})); // 401, token, 200
}

TEST_F(ClientTest, SharedRateLimiter) {
  fake.on("GET", k_list, response(200, k_tags));
  ClientOptions options = testing::test_options();
  options.rate_limiter = std::make_shared<RateLimiter>(2, clock, 1);
  Client a = make(std::nullopt, options);
  Client b = make(k_alice, options);
  ASSERT_TRUE(a.list_tags("acme/app").has_value());
  ASSERT_TRUE(b.list_tags("acme/app").has_value());
  ASSERT_TRUE(a.list_tags("acme/app").has_value());
  EXPECT_EQ(sent_ms(), (std::vector<long long>{0, 500, 1000}));
}

struct EndpointCase {
  std::string api_url;
  bool insecure;
  std::string error; // "" = usable
};

const EndpointCase k_endpoints[] = {
    {"https://registry-1.docker.io", false, ""},
    {"https://ghcr.io/", false, ""},
    {"http://127.0.0.1:5000", false, ""},
    {"http://localhost:5000", false, ""},
    {"http://[::1]:5000", false, ""},
    {"http://registry.internal:5000", false, "mark the registry insecure"},
    {"http://registry.internal:5000", true, ""},
    {"ftp://registry.example", false, "invalid"},
    {"registry.example", false, "invalid"},
    {"https://user:hunter2@registry.example", false, "invalid"},
    {"https://registry.example/?x=1", false, "must not have a query"},
};

TEST_F(ClientTest, EndpointChecks) {
  for (const EndpointCase& c : k_endpoints) {
    SCOPED_TRACE(c.api_url);
    Endpoint e = testing::test_endpoint(c.api_url);
    e.insecure = c.insecure;
    auto ok = check_endpoint(e);
    FakeHttp local(clock);
    Client client(e, local, clock, std::nullopt, testing::test_options());
    auto tags = client.list_tags("acme/app");
    if (c.error.empty()) {
      EXPECT_TRUE(ok.has_value()) << ok.error().message;
      EXPECT_EQ(local.sent().size(), 1u);
      continue;
    }
    ASSERT_FALSE(ok.has_value());
    EXPECT_EQ(ok.error().kind, ErrorKind::invalid_input);
    EXPECT_NE(ok.error().message.find(c.error), std::string::npos) << ok.error().message;
    EXPECT_EQ(ok.error().message.find("hunter2"), std::string::npos);
    ASSERT_FALSE(tags.has_value());
    EXPECT_EQ(tags.error().message, ok.error().message);
    EXPECT_TRUE(local.sent().empty());
  }
}

TEST_F(ClientTest, BasePathAndTrailingSlash) {
  fake.on("GET", "https://mirror.example/registry/v2/acme/app/tags/list?n=100",
          response(200, k_tags));
  auto tags = make(std::nullopt, testing::test_options(),
                   testing::test_endpoint("https://mirror.example/registry/"))
                  .list_tags("acme/app");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_EQ(testing::header(fake.sent()[0].request.headers, "User-Agent").value_or(""),
            "imageupdater");
}

} // namespace
} // namespace common::registry
