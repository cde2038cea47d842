#include "storage/iam_store.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir_test.h"

#include "emulator/auth/authorizer.h"
#include "emulator/iam_config.h"

namespace offcloud {
namespace {

constexpr const char* kPublishHandson = R"({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iot:Publish"],
     "Resource": ["arn:aws:iot:ap-northeast-1:*:topic/handson/*"]}]})";

class IamStoreTest : public ScratchDirTest {};

TEST_F(IamStoreTest, UsersAreUniqueWithoutCaseAndSurviveReopen) {
  {
    IamStore store(db());
    EXPECT_TRUE(store.create_user({"Alice", "AIDAALICE", "/", 1000}));
    EXPECT_FALSE(store.create_user({"alice", "AIDAOTHER", "/", 2000}));
    EXPECT_TRUE(store.create_user({"bob", "AIDABOB", "/team/", 3000}));
  }
  IamStore store(db());
  auto alice = store.user("ALICE");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->name, "Alice");
  EXPECT_EQ(alice->user_id, "AIDAALICE");
  ASSERT_EQ(store.users().size(), 2u);
  EXPECT_EQ(store.users()[1].path, "/team/");
  EXPECT_TRUE(store.delete_user("alice"));
  EXPECT_FALSE(store.delete_user("alice"));
}

TEST_F(IamStoreTest, KeysPoliciesAndAttachments) {
  IamStore store(db());
  store.create_user({"dev", "AIDADEV", "/", 1});
  store.put_access_key({"AKIA1", "dev", "secret1", true, 1});
  store.put_access_key({"AKIA2", "dev", "secret2", true, 2});
  EXPECT_TRUE(store.set_access_key_active("AKIA1", false));
  EXPECT_FALSE(store.set_access_key_active("AKIANONE", false));
  auto keys = store.access_keys("DEV");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_FALSE(keys[0].active);
  EXPECT_TRUE(store.delete_access_key("AKIA2"));
  EXPECT_EQ(store.all_access_keys().size(), 1u);

  IamManagedPolicy policy{"arn:aws:iam::000000000000:policy/p", "p", "ANPAP", "/", "", "{}", 1, 1};
  EXPECT_TRUE(store.create_policy(policy));
  policy.arn += "2";
  EXPECT_FALSE(store.create_policy(policy)) << "names are unique";
  EXPECT_TRUE(store.attach_user_policy("dev", "arn:aws:iam::000000000000:policy/p"));
  EXPECT_FALSE(store.attach_user_policy("Dev", "arn:aws:iam::000000000000:policy/p"));
  EXPECT_EQ(store.attachment_count("arn:aws:iam::000000000000:policy/p"), 1);
  EXPECT_TRUE(store.detach_user_policy("dev", "arn:aws:iam::000000000000:policy/p"));
  EXPECT_EQ(store.attachment_count("arn:aws:iam::000000000000:policy/p"), 0);

  store.put_user_policy("dev", "inline", "{1}");
  store.put_user_policy("dev", "INLINE", "{2}");
  ASSERT_EQ(store.user_policies("dev").size(), 1u);
  EXPECT_EQ(store.user_policy("dev", "inline")->document, "{2}");
  EXPECT_TRUE(store.delete_user_policy("dev", "inline"));
  EXPECT_FALSE(store.user_policy("dev", "inline"));
}

TEST_F(IamStoreTest, AuthorizerMirrorsKeysAndPolicies) {
  IamStore store(db());
  CredentialStore credentials;
  Authorizer authorizer(store, credentials);
  store.create_user({"device", "AIDADEVICE", "/", 1});
  store.put_access_key({"AKIADEVICE", "device", "s", true, 1});
  store.put_user_policy("device", "publish", kPublishHandson);
  authorizer.load();

  auto credential = credentials.find("AKIADEVICE");
  ASSERT_TRUE(credential);
  EXPECT_EQ(credential->principal.arn, "arn:aws:iam::000000000000:user/device");
  EXPECT_EQ(credential->principal.user_id, "AIDADEVICE");
  ConditionContext conditions =
      request_conditions(credential->principal, "127.0.0.1:5000", "ap-northeast-1", 0);
  std::string topic = "arn:aws:iot:ap-northeast-1:000000000000:topic/";
  EXPECT_FALSE(authorizer.authorize(credential->principal, {{"iot:Publish", topic + "handson/a"}},
                                    conditions));
  auto denial = authorizer.authorize(
      credential->principal,
      {{"iot:Publish", topic + "handson/a"}, {"iot:RetainPublish", topic + "handson/a"}},
      conditions);
  ASSERT_TRUE(denial);
  EXPECT_EQ(denial->action, "iot:RetainPublish");
  EXPECT_EQ(denial_message(credential->principal, *denial),
            "User: arn:aws:iam::000000000000:user/device is not authorized to perform: "
            "iot:RetainPublish on resource: " +
                topic +
                "handson/a because no identity-based policy allows the "
                "iot:RetainPublish action");

  store.set_access_key_active("AKIADEVICE", false);
  store.delete_user_policy("device", "publish");
  authorizer.refresh_user("device");
  EXPECT_FALSE(credentials.find("AKIADEVICE")->active);
  EXPECT_TRUE(authorizer.authorize(credential->principal, {{"iot:Publish", topic + "handson/a"}},
                                   conditions));

  store.delete_access_key("AKIADEVICE");
  store.delete_user("device");
  authorizer.refresh_user("device");
  EXPECT_FALSE(credentials.find("AKIADEVICE"));
  EXPECT_TRUE(credentials.find("test")) << "the root key stays";
}

TEST_F(IamStoreTest, ConfigSeedsUsersAndKeepsApiChanges) {
  Config config;
  config.policies = {{"handson", kPublishHandson}};
  UserConfig student;
  student.name = "student01";
  student.access_keys = {{"AKIASTUDENT01", "secret01"}};
  student.attached_policies = {"handson"};
  student.unrestricted = false;
  UserConfig teacher;
  teacher.name = "teacher";
  teacher.access_keys = {{"AKIATEACHER", "secretT"}};
  config.users = {student, teacher};
  {
    IamStore store(db());
    apply_iam_config(config, store);
    EXPECT_EQ(store.attached_user_policies("student01"),
              std::vector<std::string>{"arn:aws:iam::000000000000:policy/handson"});
    EXPECT_EQ(store.attached_user_policies("teacher"),
              std::vector<std::string>{"arn:aws:iam::aws:policy/AdministratorAccess"});
    store.set_access_key_active("AKIASTUDENT01", false);
  }
  IamStore store(db());
  apply_iam_config(config, store);
  EXPECT_FALSE(store.access_key("AKIASTUDENT01")->active) << "the API's change survives";
  EXPECT_EQ(store.users().size(), 2u);

  config.users[0].attached_policies = {"missing"};
  EXPECT_THROW(apply_iam_config(config, store), ConfigError);
  config.users[0].attached_policies = {};
  config.users[0].policies = {{"bad", R"({"Statement": {"Effect": "Allow"}})"}};
  EXPECT_THROW(apply_iam_config(config, store), ConfigError);
}

}  // namespace
}  // namespace offcloud
