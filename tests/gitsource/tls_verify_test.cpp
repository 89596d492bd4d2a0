#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/gitsource/tls_verify.hpp"

namespace common::gitsource {
namespace {

using util::ErrorKind;

// testdata: ca.pem signed server.der (CN localhost, SAN DNS:localhost + IP:127.0.0.1, valid
// until 2126); other-ca.pem is unrelated.
std::string testdata(const std::string& name) {
  std::ifstream in(std::string(IU_SOURCE_DIR) + "/tests/gitsource/testdata/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(GitTlsVerify, AcceptsACertificateSignedByTheCaForItsNames) {
  std::string der = testdata("server.der");
  std::string ca = testdata("ca.pem");
  for (const char* host : {"localhost", "LOCALHOST", "127.0.0.1"}) {
    auto ok = verify_server_certificate(der, ca, host);
    EXPECT_TRUE(ok.has_value()) << host << ": " << ok.error().message;
  }
  // the CA among other certificates in one file
  auto ok = verify_server_certificate(der, testdata("other-ca.pem") + ca, "localhost");
  EXPECT_TRUE(ok.has_value()) << ok.error().message;
}

TEST(GitTlsVerify, RefusesOtherCasAndOtherNames) {
  std::string der = testdata("server.der");
  struct Case {
    std::string ca, host, in_message;
  };
  const std::vector<Case> cases = {
      {testdata("other-ca.pem"), "localhost", "unable to get local issuer certificate"},
      {testdata("ca.pem"), "git.example.com", "hostname mismatch"},
      {testdata("ca.pem"), "127.0.0.2", "IP address mismatch"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.host);
    auto got = verify_server_certificate(der, c.ca, c.host);
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().kind, ErrorKind::auth);
    EXPECT_NE(got.error().message.find(c.in_message), std::string::npos) << got.error().message;
    EXPECT_NE(got.error().message.find(c.host), std::string::npos) << got.error().message;
  }
}

TEST(GitTlsVerify, BadInputs) {
  auto no_ca = verify_server_certificate(testdata("server.der"), "not a PEM", "localhost");
  ASSERT_FALSE(no_ca.has_value());
  EXPECT_EQ(no_ca.error().kind, ErrorKind::invalid_input);
  auto bad_der = verify_server_certificate("garbage", testdata("ca.pem"), "localhost");
  ASSERT_FALSE(bad_der.has_value());
  EXPECT_EQ(bad_der.error().kind, ErrorKind::auth);
}

} // namespace
} // namespace common::gitsource
