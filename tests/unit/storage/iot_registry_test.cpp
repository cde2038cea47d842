#include "storage/iot_registry.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

constexpr const char* kA = "111122223333";
constexpr const char* kB = "444455556666";
constexpr const char* kR = "ap-northeast-1";
constexpr const char* kR2 = "us-east-1";

using ThingChange = IotRegistry::ThingChange;
using CertificateChange = IotRegistry::CertificateChange;
using PolicyChange = IotRegistry::PolicyChange;
using PrincipalChange = IotRegistry::PrincipalChange;

IotThing make_thing(const std::string& account, const std::string& region, const std::string& name,
                    std::map<std::string, std::string> attributes = {}) {
  IotThing thing;
  thing.account_id = account;
  thing.region = region;
  thing.name = name;
  thing.id = "id-" + name;
  thing.arn = "arn:aws:iot:" + region + ":" + account + ":thing/" + name;
  thing.attributes = std::move(attributes);
  thing.created_ms = 1000;
  return thing;
}

std::string cert_id(char fill) {
  return std::string(64, fill);
}

IotCertificate make_certificate(const std::string& account, const std::string& region,
                                const std::string& id, const std::string& status,
                                std::int64_t created_ms = 1000) {
  IotCertificate certificate;
  certificate.account_id = account;
  certificate.region = region;
  certificate.id = id;
  certificate.arn = "arn:aws:iot:" + region + ":" + account + ":cert/" + id;
  certificate.pem = "-----BEGIN CERTIFICATE-----\n" + id + "\n-----END CERTIFICATE-----\n";
  certificate.status = status;
  certificate.ca_certificate_id = cert_id('c');
  certificate.mode = "DEFAULT";
  certificate.created_ms = created_ms;
  certificate.modified_ms = created_ms;
  certificate.not_before_ms = 0;
  certificate.not_after_ms = 2524607999000;
  return certificate;
}

IotPolicy make_policy(const std::string& account, const std::string& region,
                      const std::string& name, const std::string& document) {
  IotPolicy policy;
  policy.account_id = account;
  policy.region = region;
  policy.name = name;
  policy.arn = "arn:aws:iot:" + region + ":" + account + ":policy/" + name;
  policy.document = document;
  policy.created_ms = 1000;
  policy.modified_ms = 1000;
  return policy;
}

class IotRegistryTest : public ScratchDirTest {};

TEST_F(IotRegistryTest, ThingsAreCreatedOnceAndDescribed) {
  IotRegistry registry(db());
  EXPECT_FALSE(registry.insert_thing(make_thing(kA, kR, "lamp", {{"color", "red"}})));
  auto existing = registry.insert_thing(make_thing(kA, kR, "lamp", {{"color", "blue"}}));
  ASSERT_TRUE(existing);
  EXPECT_EQ(existing->attributes.at("color"), "red");  // the first stays

  auto lamp = registry.thing(kA, kR, "lamp");
  ASSERT_TRUE(lamp);
  EXPECT_EQ(lamp->id, "id-lamp");
  EXPECT_EQ(lamp->version, 1);
  EXPECT_EQ(lamp->attributes, (std::map<std::string, std::string>{{"color", "red"}}));
  EXPECT_FALSE(registry.thing(kA, kR, "missing"));
}

TEST_F(IotRegistryTest, EachAccountAndRegionHasItsOwnThings) {
  IotRegistry registry(db());
  EXPECT_FALSE(registry.insert_thing(make_thing(kA, kR, "lamp", {{"owner", "a"}})));
  EXPECT_FALSE(registry.insert_thing(make_thing(kB, kR, "lamp", {{"owner", "b"}})));
  EXPECT_FALSE(registry.insert_thing(make_thing(kA, kR2, "lamp", {{"owner", "a2"}})));
  EXPECT_EQ(registry.thing(kA, kR, "lamp")->attributes.at("owner"), "a");
  EXPECT_EQ(registry.thing(kB, kR, "lamp")->attributes.at("owner"), "b");
  EXPECT_EQ(registry.thing(kA, kR2, "lamp")->attributes.at("owner"), "a2");
  EXPECT_EQ(registry.delete_thing(kB, kR, "lamp", std::nullopt), ThingChange::kDone);
  EXPECT_TRUE(registry.thing(kA, kR, "lamp"));
  EXPECT_FALSE(registry.thing(kB, kR, "lamp"));
}

TEST_F(IotRegistryTest, UpdateMergesOrReplacesAndChecksVersions) {
  IotRegistry registry(db());
  registry.insert_thing(make_thing(kA, kR, "lamp", {{"a", "1"}, {"b", "2"}}));

  IotThingUpdate merge;
  merge.attributes = std::map<std::string, std::string>{{"b", ""}, {"c", "3"}};
  merge.merge = true;
  merge.expected_version = 1;
  EXPECT_EQ(registry.update_thing(kA, kR, "lamp", merge), ThingChange::kDone);
  auto lamp = registry.thing(kA, kR, "lamp");
  EXPECT_EQ(lamp->version, 2);
  EXPECT_EQ(lamp->attributes, (std::map<std::string, std::string>{{"a", "1"}, {"c", "3"}}));

  // The same expected version again is stale now.
  EXPECT_EQ(registry.update_thing(kA, kR, "lamp", merge), ThingChange::kVersionConflict);

  IotThingUpdate replace;
  replace.attributes = std::map<std::string, std::string>{{"z", "26"}};
  EXPECT_EQ(registry.update_thing(kA, kR, "lamp", replace), ThingChange::kDone);
  lamp = registry.thing(kA, kR, "lamp");
  EXPECT_EQ(lamp->version, 3);
  EXPECT_EQ(lamp->attributes, (std::map<std::string, std::string>{{"z", "26"}}));

  IotThingUpdate too_many;
  too_many.attributes =
      std::map<std::string, std::string>{{"p", "1"}, {"q", "2"}, {"r", "3"}, {"s", "4"}};
  too_many.max_attributes = 3;
  EXPECT_EQ(registry.update_thing(kA, kR, "lamp", too_many), ThingChange::kTooManyAttributes);
  EXPECT_EQ(registry.thing(kA, kR, "lamp")->version, 3);  // nothing changed

  EXPECT_EQ(registry.update_thing(kA, kR, "missing", replace), ThingChange::kNotFound);
}

TEST_F(IotRegistryTest, ListsThingsInPagesAndByAttribute) {
  IotRegistry registry(db());
  registry.insert_thing(make_thing(kA, kR, "t1", {{"floor", "1"}}));
  registry.insert_thing(make_thing(kA, kR, "t2", {{"floor", "10"}}));
  registry.insert_thing(make_thing(kA, kR, "t3", {{"floor", "2"}}));
  registry.insert_thing(make_thing(kA, kR, "t4"));
  registry.insert_thing(make_thing(kB, kR, "t0", {{"floor", "1"}}));

  auto page = registry.things(kA, kR, {}, "", 3);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].name, "t1");
  EXPECT_EQ(page[0].attributes.at("floor"), "1");
  page = registry.things(kA, kR, {}, "t4", 3);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].name, "t4");

  IotThingFilter exact{"floor", "1", false};
  page = registry.things(kA, kR, exact, "", 10);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].name, "t1");
  IotThingFilter prefix{"floor", "1", true};
  EXPECT_EQ(registry.things(kA, kR, prefix, "", 10).size(), 2u);
  IotThingFilter any_value{"floor", std::nullopt, false};
  EXPECT_EQ(registry.things(kA, kR, any_value, "", 10).size(), 3u);
}

TEST_F(IotRegistryTest, ThingsWithPrincipalsAreNotDeleted) {
  IotRegistry registry(db());
  registry.insert_thing(make_thing(kA, kR, "lamp"));
  IotCertificate cert = make_certificate(kA, kR, cert_id('a'), "ACTIVE");
  ASSERT_TRUE(registry.insert_certificate(cert));
  EXPECT_EQ(registry.attach_thing_principal(kA, kR, "lamp", cert.arn, false),
            PrincipalChange::kDone);
  EXPECT_EQ(registry.delete_thing(kA, kR, "lamp", std::nullopt), ThingChange::kHasPrincipals);
  EXPECT_EQ(registry.delete_thing(kA, kR, "lamp", 7), ThingChange::kVersionConflict);
  EXPECT_EQ(registry.detach_thing_principal(kA, kR, "lamp", cert.arn), PrincipalChange::kDone);
  EXPECT_EQ(registry.delete_thing(kA, kR, "lamp", 1), ThingChange::kDone);
  EXPECT_EQ(registry.delete_thing(kA, kR, "lamp", std::nullopt), ThingChange::kNotFound);
}

TEST_F(IotRegistryTest, CertificatesAreFoundInEveryAccountHoldingThem) {
  IotRegistry registry(db());
  std::string id = cert_id('a');
  ASSERT_TRUE(registry.insert_certificate(make_certificate(kA, kR, id, "ACTIVE")));
  EXPECT_FALSE(registry.insert_certificate(make_certificate(kA, kR, id, "INACTIVE")));
  ASSERT_TRUE(registry.insert_certificate(make_certificate(kB, kR2, id, "INACTIVE")));

  auto found = registry.find_certificate(id);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].account_id, kA);
  EXPECT_EQ(found[0].region, kR);
  EXPECT_EQ(found[0].status, "ACTIVE");
  EXPECT_EQ(found[0].arn, "arn:aws:iot:ap-northeast-1:111122223333:cert/" + id);
  EXPECT_EQ(found[1].account_id, kB);
  EXPECT_EQ(found[1].status, "INACTIVE");
  EXPECT_TRUE(registry.find_certificate(cert_id('b')).empty());

  auto stored = registry.certificate(kA, kR, id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->ca_certificate_id, cert_id('c'));
  EXPECT_EQ(stored->customer_version, 1);
  EXPECT_FALSE(registry.certificate(kA, kR2, id));
}

TEST_F(IotRegistryTest, CertificateStatusChangesAndRevocationIsFinal) {
  IotRegistry registry(db());
  std::string id = cert_id('a');
  registry.insert_certificate(make_certificate(kA, kR, id, "INACTIVE"));
  std::uint64_t before = registry.generation();
  EXPECT_EQ(registry.set_certificate_status(kA, kR, id, "ACTIVE", 2000), CertificateChange::kDone);
  EXPECT_GT(registry.generation(), before);
  auto stored = registry.certificate(kA, kR, id);
  EXPECT_EQ(stored->status, "ACTIVE");
  EXPECT_EQ(stored->modified_ms, 2000);
  EXPECT_EQ(stored->customer_version, 2);

  EXPECT_EQ(registry.set_certificate_status(kA, kR, id, "REVOKED", 3000), CertificateChange::kDone);
  EXPECT_EQ(registry.set_certificate_status(kA, kR, id, "REVOKED", 4000), CertificateChange::kDone);
  EXPECT_EQ(registry.set_certificate_status(kA, kR, id, "ACTIVE", 5000),
            CertificateChange::kRevoked);
  EXPECT_EQ(registry.certificate(kA, kR, id)->status, "REVOKED");
  EXPECT_EQ(registry.set_certificate_status(kA, kR, cert_id('f'), "ACTIVE", 1),
            CertificateChange::kNotFound);
}

TEST_F(IotRegistryTest, CertificateDeletionNeedsItInactiveAndDetached) {
  IotRegistry registry(db());
  IotCertificate cert = make_certificate(kA, kR, cert_id('a'), "ACTIVE");
  registry.insert_certificate(cert);
  registry.insert_thing(make_thing(kA, kR, "lamp"));
  registry.insert_policy(make_policy(kA, kR, "p", "{}"));
  registry.attach_thing_principal(kA, kR, "lamp", cert.arn, false);
  ASSERT_EQ(registry.attach_policy(kA, kR, "p", cert.arn, 10), PolicyChange::kDone);

  EXPECT_EQ(registry.delete_certificate(kA, kR, cert.id, true), CertificateChange::kActive);
  registry.set_certificate_status(kA, kR, cert.id, "INACTIVE", 2000);
  EXPECT_EQ(registry.delete_certificate(kA, kR, cert.id, true), CertificateChange::kHasThings);
  registry.detach_thing_principal(kA, kR, "lamp", cert.arn);
  EXPECT_EQ(registry.delete_certificate(kA, kR, cert.id, false), CertificateChange::kHasPolicies);
  // forceDelete detaches the policies.
  EXPECT_EQ(registry.delete_certificate(kA, kR, cert.id, true), CertificateChange::kDone);
  EXPECT_FALSE(registry.certificate(kA, kR, cert.id));
  EXPECT_TRUE(registry.policy_targets(kA, kR, "p", "", 10)->empty());
  EXPECT_EQ(registry.delete_certificate(kA, kR, cert.id, false), CertificateChange::kNotFound);
  EXPECT_EQ(registry.delete_policy(kA, kR, "p"), PolicyChange::kDone);
}

TEST_F(IotRegistryTest, ListsCertificatesByCreationInBothOrders) {
  IotRegistry registry(db());
  registry.insert_certificate(make_certificate(kA, kR, cert_id('b'), "ACTIVE", 2000));
  registry.insert_certificate(make_certificate(kA, kR, cert_id('a'), "ACTIVE", 2000));
  registry.insert_certificate(make_certificate(kA, kR, cert_id('c'), "ACTIVE", 1000));
  registry.insert_certificate(make_certificate(kA, kR, cert_id('d'), "ACTIVE", 3000));
  registry.insert_certificate(make_certificate(kB, kR, cert_id('e'), "ACTIVE", 1500));

  auto ascending = registry.certificates(kA, kR, true, std::nullopt, 10);
  ASSERT_EQ(ascending.size(), 4u);
  EXPECT_EQ(ascending[0].id, cert_id('c'));
  EXPECT_EQ(ascending[1].id, cert_id('a'));
  EXPECT_EQ(ascending[2].id, cert_id('b'));
  EXPECT_EQ(ascending[3].id, cert_id('d'));

  auto newest = registry.certificates(kA, kR, false, std::nullopt, 2);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0].id, cert_id('d'));
  EXPECT_EQ(newest[1].id, cert_id('b'));
  auto rest = registry.certificates(kA, kR, false, IotCertificateCursor{2000, cert_id('a')}, 10);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].id, cert_id('a'));
  EXPECT_EQ(rest[1].id, cert_id('c'));
}

TEST_F(IotRegistryTest, PolicyVersionsUpToTheLimitAndTheDefault) {
  IotRegistry registry(db());
  ASSERT_TRUE(registry.insert_policy(make_policy(kA, kR, "p", "doc1")));
  EXPECT_FALSE(registry.insert_policy(make_policy(kA, kR, "p", "other")));
  EXPECT_EQ(registry.policy(kA, kR, "p")->document, "doc1");

  IotPolicyVersion created;
  EXPECT_EQ(registry.add_policy_version(kA, kR, "p", "doc2", false, 5, 2000, &created),
            PolicyChange::kDone);
  EXPECT_EQ(created.version, 2);
  EXPECT_FALSE(created.is_default);
  EXPECT_EQ(registry.policy(kA, kR, "p")->document, "doc1");
  EXPECT_EQ(registry.add_policy_version(kA, kR, "p", "doc3", true, 5, 3000, &created),
            PolicyChange::kDone);
  EXPECT_EQ(created.version, 3);
  auto policy = registry.policy(kA, kR, "p");
  EXPECT_EQ(policy->document, "doc3");
  EXPECT_EQ(policy->default_version, 3);
  EXPECT_EQ(policy->modified_ms, 3000);

  registry.add_policy_version(kA, kR, "p", "doc4", false, 5, 4000, nullptr);
  registry.add_policy_version(kA, kR, "p", "doc5", false, 5, 5000, nullptr);
  EXPECT_EQ(registry.add_policy_version(kA, kR, "p", "doc6", false, 5, 6000, nullptr),
            PolicyChange::kLimit);
  EXPECT_EQ(registry.add_policy_version(kA, kR, "q", "doc", false, 5, 6000, nullptr),
            PolicyChange::kNotFound);

  auto versions = registry.policy_versions(kA, kR, "p");
  ASSERT_TRUE(versions);
  ASSERT_EQ(versions->size(), 5u);
  EXPECT_EQ(versions->front().version, 5);
  EXPECT_TRUE((*versions)[2].is_default);
  EXPECT_FALSE(registry.policy_versions(kA, kR, "q"));

  EXPECT_EQ(registry.delete_policy_version(kA, kR, "p", 3), PolicyChange::kIsDefault);
  EXPECT_EQ(registry.delete_policy_version(kA, kR, "p", 9), PolicyChange::kVersionNotFound);
  EXPECT_EQ(registry.delete_policy(kA, kR, "p"), PolicyChange::kHasVersions);
  EXPECT_EQ(registry.set_default_policy_version(kA, kR, "p", 1, 7000), PolicyChange::kDone);
  EXPECT_EQ(registry.policy(kA, kR, "p")->document, "doc1");
  EXPECT_EQ(registry.set_default_policy_version(kA, kR, "p", 9, 7000),
            PolicyChange::kVersionNotFound);
  for (std::int64_t version : {2, 3, 4, 5}) {
    EXPECT_EQ(registry.delete_policy_version(kA, kR, "p", version), PolicyChange::kDone);
  }
  // Version numbers are never reused.
  EXPECT_EQ(registry.add_policy_version(kA, kR, "p", "doc6", false, 5, 8000, &created),
            PolicyChange::kDone);
  EXPECT_EQ(created.version, 6);
  EXPECT_EQ(registry.policy_version(kA, kR, "p", 6)->document, "doc6");
  EXPECT_FALSE(registry.policy_version(kA, kR, "p", 2));
  EXPECT_EQ(registry.delete_policy_version(kA, kR, "p", 6), PolicyChange::kDone);
  EXPECT_EQ(registry.delete_policy(kA, kR, "p"), PolicyChange::kDone);
  EXPECT_FALSE(registry.policy(kA, kR, "p"));
  EXPECT_EQ(registry.delete_policy(kA, kR, "p"), PolicyChange::kNotFound);
}

TEST_F(IotRegistryTest, ListsPoliciesByNameBothWays) {
  IotRegistry registry(db());
  for (const char* name : {"c", "a", "d", "b"}) {
    registry.insert_policy(make_policy(kA, kR, name, std::string("doc-") + name));
  }
  auto up = registry.policies(kA, kR, true, "", 3);
  ASSERT_EQ(up.size(), 3u);
  EXPECT_EQ(up[0].name, "a");
  EXPECT_EQ(up[0].document, "doc-a");
  EXPECT_EQ(registry.policies(kA, kR, true, "d", 3).size(), 1u);
  auto down = registry.policies(kA, kR, false, "", 2);
  ASSERT_EQ(down.size(), 2u);
  EXPECT_EQ(down[0].name, "d");
  down = registry.policies(kA, kR, false, "b", 5);
  ASSERT_EQ(down.size(), 2u);
  EXPECT_EQ(down[1].name, "a");
  EXPECT_TRUE(registry.policies(kB, kR, true, "", 5).empty());
}

TEST_F(IotRegistryTest, AttachedPoliciesGiveTheBrokerTheirDefaultDocuments) {
  IotRegistry registry(db());
  IotCertificate cert = make_certificate(kA, kR, cert_id('a'), "ACTIVE");
  registry.insert_certificate(cert);
  registry.insert_policy(make_policy(kA, kR, "pub", "pub-v1"));
  registry.insert_policy(make_policy(kA, kR, "sub", "sub-v1"));

  std::uint64_t before = registry.generation();
  EXPECT_EQ(registry.attach_policy(kA, kR, "pub", cert.arn, 10), PolicyChange::kDone);
  EXPECT_EQ(registry.attach_policy(kA, kR, "pub", cert.arn, 10), PolicyChange::kDone);
  EXPECT_EQ(registry.attach_policy(kA, kR, "sub", cert.arn, 10), PolicyChange::kDone);
  EXPECT_GT(registry.generation(), before);
  EXPECT_EQ(registry.attach_policy(kA, kR, "nope", cert.arn, 10), PolicyChange::kNotFound);
  EXPECT_EQ(registry.attach_policy(kA, kR, "pub", cert.arn + "0", 10),
            PolicyChange::kTargetNotFound);
  // The same certificate ARN is not the other account's.
  EXPECT_EQ(registry.attach_policy(kB, kR, "pub", cert.arn, 10), PolicyChange::kNotFound);

  EXPECT_EQ(registry.attached_policy_documents(kA, kR, cert.arn),
            (std::vector<std::string>{"pub-v1", "sub-v1"}));
  registry.add_policy_version(kA, kR, "pub", "pub-v2", true, 5, 2000, nullptr);
  EXPECT_EQ(registry.attached_policy_documents(kA, kR, cert.arn),
            (std::vector<std::string>{"pub-v2", "sub-v1"}));
  EXPECT_TRUE(registry.attached_policy_documents(kB, kR, cert.arn).empty());

  auto attached = registry.attached_policies(kA, kR, cert.arn, "", 10);
  ASSERT_EQ(attached.size(), 2u);
  EXPECT_EQ(attached[0].name, "pub");
  EXPECT_EQ(registry.attached_policies(kA, kR, cert.arn, "s", 10).size(), 1u);
  EXPECT_EQ(*registry.policy_targets(kA, kR, "pub", "", 10), (std::vector<std::string>{cert.arn}));
  EXPECT_FALSE(registry.policy_targets(kA, kR, "nope", "", 10));

  EXPECT_EQ(registry.delete_policy(kA, kR, "sub"), PolicyChange::kAttached);
  EXPECT_TRUE(registry.detach_policy(kA, kR, "sub", cert.arn));
  EXPECT_FALSE(registry.detach_policy(kA, kR, "sub", cert.arn));
  EXPECT_EQ(registry.delete_policy(kA, kR, "sub"), PolicyChange::kDone);
  EXPECT_EQ(registry.attached_policy_documents(kA, kR, cert.arn),
            (std::vector<std::string>{"pub-v2"}));
}

TEST_F(IotRegistryTest, AttachedPoliciesPerTargetAreLimited) {
  IotRegistry registry(db());
  IotCertificate cert = make_certificate(kA, kR, cert_id('a'), "ACTIVE");
  registry.insert_certificate(cert);
  for (int i = 0; i < 3; ++i) {
    std::string name = "p" + std::to_string(i);
    registry.insert_policy(make_policy(kA, kR, name, "{}"));
    PolicyChange expected = i < 2 ? PolicyChange::kDone : PolicyChange::kLimit;
    EXPECT_EQ(registry.attach_policy(kA, kR, name, cert.arn, 2), expected) << name;
  }
}

TEST_F(IotRegistryTest, ThingPrincipalsBothWaysAndExclusively) {
  IotRegistry registry(db());
  IotCertificate one = make_certificate(kA, kR, cert_id('a'), "ACTIVE");
  IotCertificate two = make_certificate(kA, kR, cert_id('b'), "ACTIVE");
  registry.insert_certificate(one);
  registry.insert_certificate(two);
  registry.insert_thing(make_thing(kA, kR, "lamp"));
  registry.insert_thing(make_thing(kA, kR, "fan"));

  EXPECT_EQ(registry.attach_thing_principal(kA, kR, "lamp", one.arn, false),
            PrincipalChange::kDone);
  EXPECT_EQ(registry.attach_thing_principal(kA, kR, "fan", one.arn, false), PrincipalChange::kDone);
  EXPECT_EQ(registry.attach_thing_principal(kA, kR, "lamp", two.arn, false),
            PrincipalChange::kDone);
  EXPECT_EQ(registry.principal_things(kA, kR, one.arn), (std::vector<std::string>{"fan", "lamp"}));
  EXPECT_EQ(*registry.thing_principals(kA, kR, "lamp"),
            (std::vector<std::string>{one.arn, two.arn}));
  EXPECT_FALSE(registry.thing_principals(kA, kR, "missing"));
  EXPECT_TRUE(registry.principal_things(kB, kR, one.arn).empty());

  EXPECT_EQ(registry.attach_thing_principal(kA, kR, "missing", one.arn, false),
            PrincipalChange::kThingNotFound);
  EXPECT_EQ(registry.attach_thing_principal(kA, kR, "lamp", one.arn + "0", false),
            PrincipalChange::kPrincipalNotFound);

  // `one` is on two things: it cannot be one thing's alone.
  EXPECT_EQ(registry.attach_thing_principal(kA, kR, "lamp", one.arn, true),
            PrincipalChange::kExclusive);
  // `two` is only on the lamp: it may become the lamp's alone, and then
  // joins no other thing.
  EXPECT_EQ(registry.attach_thing_principal(kA, kR, "lamp", two.arn, true), PrincipalChange::kDone);
  EXPECT_EQ(registry.attach_thing_principal(kA, kR, "fan", two.arn, false),
            PrincipalChange::kExclusive);

  EXPECT_EQ(registry.detach_thing_principal(kA, kR, "fan", one.arn), PrincipalChange::kDone);
  EXPECT_EQ(registry.principal_things(kA, kR, one.arn), (std::vector<std::string>{"lamp"}));
  EXPECT_EQ(registry.detach_thing_principal(kA, kR, "missing", one.arn),
            PrincipalChange::kThingNotFound);
}

TEST_F(IotRegistryTest, EverythingSurvivesReopening) {
  IotCertificate cert = make_certificate(kA, kR, cert_id('a'), "ACTIVE");
  {
    IotRegistry registry(db());
    registry.insert_thing(make_thing(kA, kR, "lamp", {{"room", "kitchen"}}));
    registry.insert_certificate(cert);
    registry.insert_policy(make_policy(kA, kR, "p", "doc1"));
    registry.add_policy_version(kA, kR, "p", "doc2", true, 5, 2000, nullptr);
    registry.attach_policy(kA, kR, "p", cert.arn, 10);
    registry.attach_thing_principal(kA, kR, "lamp", cert.arn, false);
  }
  IotRegistry registry(db());
  EXPECT_EQ(registry.thing(kA, kR, "lamp")->attributes.at("room"), "kitchen");
  EXPECT_EQ(registry.certificate(kA, kR, cert.id)->pem, cert.pem);
  EXPECT_EQ(registry.attached_policy_documents(kA, kR, cert.arn),
            (std::vector<std::string>{"doc2"}));
  EXPECT_EQ(registry.principal_things(kA, kR, cert.arn), (std::vector<std::string>{"lamp"}));
  // Version numbers carry on where they were.
  IotPolicyVersion created;
  registry.add_policy_version(kA, kR, "p", "doc3", false, 5, 3000, &created);
  EXPECT_EQ(created.version, 3);
}

TEST_F(IotRegistryTest, ReadersOnManyThreadsSeeConsistentAnswers) {
  IotRegistry registry(db());
  IotCertificate cert = make_certificate(kA, kR, cert_id('a'), "ACTIVE");
  registry.insert_certificate(cert);
  registry.insert_policy(make_policy(kA, kR, "p", "doc"));
  registry.attach_policy(kA, kR, "p", cert.arn, 10);

  std::vector<std::thread> readers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (registry.find_certificate(cert.id).size() != 1) ++wrong;
        auto documents = registry.attached_policy_documents(kA, kR, cert.arn);
        if (documents.size() > 1) ++wrong;
      }
    });
  }
  for (int i = 0; i < 50; ++i) {
    registry.detach_policy(kA, kR, "p", cert.arn);
    registry.attach_policy(kA, kR, "p", cert.arn, 10);
  }
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace offcloud
