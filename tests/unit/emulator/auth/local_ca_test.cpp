#include "emulator/auth/local_ca.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

class LocalCaTest : public ScratchDirTest {
 protected:
  std::string ca_dir() const { return (dir_ / "ca").string(); }
  std::string file(const std::string& name) const {
    std::ifstream in(dir_ / "ca" / name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

TEST_F(LocalCaTest, KeepsItsCaAcrossRestartsAndRemakesTheServerCertificateForNewNames) {
  std::string ca_pem, server_pem;
  {
    LocalCa ca(ca_dir());
    ca_pem = ca.ca_pem();
    server_pem = ca.server_certificate_pem();
    EXPECT_NE(ca_pem.find("BEGIN CERTIFICATE"), std::string::npos);
    EXPECT_EQ(file("ca.pem"), ca_pem);
  }
  {
    LocalCa again(ca_dir());
    EXPECT_EQ(again.ca_pem(), ca_pem);
    EXPECT_EQ(again.server_certificate_pem(), server_pem);
  }
  LocalCa named(ca_dir(), {"classroom.local", "10.0.0.5"});
  EXPECT_EQ(named.ca_pem(), ca_pem);
  EXPECT_NE(named.server_certificate_pem(), server_pem);
  // The server's chain is its leaf, then the CA.
  EXPECT_TRUE(named.server_certificate_pem().ends_with(ca_pem));
  std::string error;
  auto leaf = named.read(named.server_certificate_pem(), &error);
  ASSERT_TRUE(leaf) << error;
  EXPECT_TRUE(leaf->issued_by_local_ca);
  EXPECT_EQ(leaf->subject_common_name, "classroom.local");
}

TEST_F(LocalCaTest, IssuesDeviceCertificatesAsCreateKeysAndCertificateDoes) {
  LocalCa ca(ca_dir());
  LocalCa::Issued issued = ca.issue_keys_and_certificate();
  EXPECT_NE(issued.private_key_pem.find("BEGIN RSA PRIVATE KEY"), std::string::npos);
  EXPECT_NE(issued.public_key_pem.find("BEGIN PUBLIC KEY"), std::string::npos);
  std::string error;
  auto facts = ca.read(issued.certificate_pem, &error);
  ASSERT_TRUE(facts) << error;
  EXPECT_EQ(facts->id.size(), 64u);
  EXPECT_EQ(facts->id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(facts->subject_common_name, "AWS IoT Certificate");
  EXPECT_EQ(facts->issuer_common_name, "offcloud local CA");
  EXPECT_TRUE(facts->issued_by_local_ca);
  EXPECT_EQ(facts->not_after_ms, 2524607999000LL);  // 2049-12-31T23:59:59Z, as AWS's
  EXPECT_LT(facts->not_before_ms, facts->not_after_ms);
  // Two certificates, two ids; the same one read twice, the same id.
  EXPECT_NE(ca.read(ca.issue_keys_and_certificate().certificate_pem, &error)->id, facts->id);
  EXPECT_EQ(ca.read(facts->pem, &error)->id, facts->id);
}

TEST_F(LocalCaTest, ACertificateFromAnotherCaIsReadButNotClaimed) {
  LocalCa ours(ca_dir());
  LocalCa theirs((dir_ / "other").string());
  std::string error;
  auto facts = ours.read(theirs.issue_keys_and_certificate().certificate_pem, &error);
  ASSERT_TRUE(facts) << error;
  EXPECT_FALSE(facts->issued_by_local_ca);
}

TEST_F(LocalCaTest, RefusesWhatIsNotACertificateOrRequest) {
  LocalCa ca(ca_dir());
  std::string error;
  EXPECT_FALSE(ca.read("not a certificate", &error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(ca.read("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", &error));
  error.clear();
  EXPECT_FALSE(ca.sign_request("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace offcloud
