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

constexpr const char* kA = "000000000000";

class IamStoreTest : public ScratchDirTest {};

TEST_F(IamStoreTest, UsersAreUniqueWithoutCaseAndSurviveReopen) {
  {
    IamStore store(db());
    EXPECT_TRUE(store.create_user({kA, "Alice", "AIDAALICE", "/", 1000}));
    EXPECT_FALSE(store.create_user({kA, "alice", "AIDAOTHER", "/", 2000}));
    EXPECT_TRUE(store.create_user({kA, "bob", "AIDABOB", "/team/", 3000}));
  }
  IamStore store(db());
  auto alice = store.user(kA, "ALICE");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->name, "Alice");
  EXPECT_EQ(alice->user_id, "AIDAALICE");
  ASSERT_EQ(store.users(kA).size(), 2u);
  EXPECT_EQ(store.users(kA)[1].path, "/team/");
  EXPECT_TRUE(store.delete_user(kA, "alice"));
  EXPECT_FALSE(store.delete_user(kA, "alice"));
}

TEST_F(IamStoreTest, KeysPoliciesAndAttachments) {
  IamStore store(db());
  store.create_user({kA, "dev", "AIDADEV", "/", 1});
  store.put_access_key({kA, "AKIA1", "dev", "secret1", true, 1});
  store.put_access_key({kA, "AKIA2", "dev", "secret2", true, 2});
  EXPECT_TRUE(store.set_access_key_active("AKIA1", false));
  EXPECT_FALSE(store.set_access_key_active("AKIANONE", false));
  auto keys = store.access_keys(kA, "DEV");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_FALSE(keys[0].active);
  EXPECT_TRUE(store.delete_access_key("AKIA2"));
  EXPECT_EQ(store.all_access_keys().size(), 1u);

  IamManagedPolicy policy{kA, "arn:aws:iam::000000000000:policy/p", "p", "ANPAP", "/", "", "{}", 1,
                          1};
  EXPECT_TRUE(store.create_policy(policy));
  policy.arn += "2";
  EXPECT_FALSE(store.create_policy(policy)) << "names are unique";
  EXPECT_TRUE(store.attach_user_policy(kA, "dev", "arn:aws:iam::000000000000:policy/p"));
  EXPECT_FALSE(store.attach_user_policy(kA, "Dev", "arn:aws:iam::000000000000:policy/p"));
  EXPECT_EQ(store.attachment_count(kA, "arn:aws:iam::000000000000:policy/p"), 1);
  EXPECT_TRUE(store.detach_user_policy(kA, "dev", "arn:aws:iam::000000000000:policy/p"));
  EXPECT_EQ(store.attachment_count(kA, "arn:aws:iam::000000000000:policy/p"), 0);

  store.put_user_policy(kA, "dev", "inline", "{1}");
  store.put_user_policy(kA, "dev", "INLINE", "{2}");
  ASSERT_EQ(store.user_policies(kA, "dev").size(), 1u);
  EXPECT_EQ(store.user_policy(kA, "dev", "inline")->document, "{2}");
  EXPECT_TRUE(store.delete_user_policy(kA, "dev", "inline"));
  EXPECT_FALSE(store.user_policy(kA, "dev", "inline"));
}

TEST_F(IamStoreTest, AuthorizerMirrorsKeysAndPolicies) {
  IamStore store(db());
  CredentialStore credentials;
  Authorizer authorizer(store, credentials);
  store.create_user({kA, "device", "AIDADEVICE", "/", 1});
  store.put_access_key({kA, "AKIADEVICE", "device", "s", true, 1});
  store.put_user_policy(kA, "device", "publish", kPublishHandson);
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
  store.delete_user_policy(kA, "device", "publish");
  authorizer.refresh_user(kA, "device");
  EXPECT_FALSE(credentials.find("AKIADEVICE")->active);
  EXPECT_TRUE(authorizer.authorize(credential->principal, {{"iot:Publish", topic + "handson/a"}},
                                   conditions));

  store.delete_access_key("AKIADEVICE");
  store.delete_user(kA, "device");
  authorizer.refresh_user(kA, "device");
  EXPECT_FALSE(credentials.find("AKIADEVICE"));
  EXPECT_TRUE(credentials.find("test")) << "the root key stays";
}

TEST_F(IamStoreTest, AnExplicitDenyNamesTheStatementThatDenied) {
  IamStore store(db());
  CredentialStore credentials;
  Authorizer authorizer(store, credentials);
  store.create_user({kA, "device", "AIDADEVICE", "/", 1});
  store.put_access_key({kA, "AKIADEVICE", "device", "s", true, 1});
  store.put_user_policy(kA, "device", "publish", kPublishHandson);
  IamManagedPolicy policy;
  policy.account_id = kA;
  policy.name = "guard";
  policy.arn = "arn:aws:iam::000000000000:policy/guard";
  policy.policy_id = "ANPAGUARD";
  policy.document = R"({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "iot:Publish",
     "Resource": "arn:aws:iot:*:*:topic/handson/secret"}]})";
  ASSERT_TRUE(store.create_policy(policy));
  ASSERT_TRUE(store.attach_user_policy(kA, "device", policy.arn));
  authorizer.load();
  Principal principal = credentials.find("AKIADEVICE")->principal;
  ConditionContext conditions = request_conditions(principal, "127.0.0.1:5000", "us-east-1", 0);
  std::string topic = "arn:aws:iot:us-east-1:000000000000:topic/";

  std::vector<IamRequest> publish = {{"iot:Publish", topic + "handson/secret"}};
  auto denial = authorizer.authorize(principal, publish, conditions);
  ASSERT_TRUE(denial);
  EXPECT_TRUE(denial->explicit_deny);
  EXPECT_EQ(denial->deny_policy, "") << "authorize() alone stays fast: no statement named";
  authorizer.name_deny(principal, publish, conditions, &*denial);
  EXPECT_EQ(denial->deny_policy, policy.arn);
  EXPECT_FALSE(denial->deny_policy_inline);
  EXPECT_EQ(denial->deny_sid, "NoSecrets");
  EXPECT_EQ(denial->deny_statement, 2u);
  // AWS's message names no policy.
  EXPECT_EQ(denial_message(principal, *denial).find("guard"), std::string::npos);

  std::vector<IamRequest> list = {{"s3:ListAllMyBuckets", "*"}};
  denial = authorizer.authorize(principal, list, conditions);
  ASSERT_TRUE(denial);
  authorizer.name_deny(principal, list, conditions, &*denial);
  EXPECT_EQ(denial->deny_sid, "");
  EXPECT_EQ(denial->deny_statement, 1u);

  // An implicit deny has no statement to name.
  std::vector<IamRequest> other = {{"iot:Publish", topic + "other"}};
  denial = authorizer.authorize(principal, other, conditions);
  ASSERT_TRUE(denial);
  authorizer.name_deny(principal, other, conditions, &*denial);
  EXPECT_FALSE(denial->explicit_deny);
  EXPECT_EQ(denial->deny_policy, "");
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
    EXPECT_EQ(store.attached_user_policies(kA, "student01"),
              std::vector<std::string>{"arn:aws:iam::000000000000:policy/handson"});
    EXPECT_EQ(store.attached_user_policies(kA, "teacher"),
              std::vector<std::string>{"arn:aws:iam::aws:policy/AdministratorAccess"});
    store.set_access_key_active("AKIASTUDENT01", false);
  }
  IamStore store(db());
  apply_iam_config(config, store);
  EXPECT_FALSE(store.access_key("AKIASTUDENT01")->active) << "the API's change survives";
  EXPECT_EQ(store.users(kA).size(), 2u);

  config.users[0].attached_policies = {"missing"};
  EXPECT_THROW(apply_iam_config(config, store), ConfigError);
  config.users[0].attached_policies = {};
  config.users[0].policies = {{"bad", R"({"Statement": {"Effect": "Allow"}})"}};
  EXPECT_THROW(apply_iam_config(config, store), ConfigError);
}

TEST_F(IamStoreTest, EachAccountHasItsOwnUsersAndPolicies) {
  const char* kB = "111122223333";
  IamStore store(db());
  EXPECT_TRUE(store.create_user({kA, "student", "AIDAA", "/", 1}));
  EXPECT_TRUE(store.create_user({kB, "Student", "AIDAB", "/", 2})) << "another account's name";
  EXPECT_EQ(store.user(kB, "student")->user_id, "AIDAB");
  EXPECT_EQ(store.users(kA).size(), 1u);
  EXPECT_EQ(store.all_users().size(), 2u);
  store.put_access_key({kB, "AKIAB", "student", "s", true, 1});
  EXPECT_TRUE(store.access_keys(kA, "student").empty());
  EXPECT_EQ(store.access_key("AKIAB")->account_id, kB);
  IamManagedPolicy a{kA, "arn:aws:iam::000000000000:policy/p", "p", "ANPA1", "/", "", "{}", 1, 1};
  IamManagedPolicy b{kB, "arn:aws:iam::111122223333:policy/p", "p", "ANPA2", "/", "", "{}", 1, 1};
  EXPECT_TRUE(store.create_policy(a));
  EXPECT_TRUE(store.create_policy(b)) << "policy names are unique within an account";
  EXPECT_EQ(store.policy_named(kB, "P")->arn, b.arn);
  EXPECT_TRUE(store.attach_user_policy(kB, "student", b.arn));
  EXPECT_EQ(store.attachment_count(kA, b.arn), 0);
  EXPECT_EQ(store.attachment_count(kB, b.arn), 1);
  store.put_user_policy(kA, "student", "inline", "{1}");
  EXPECT_TRUE(store.user_policies(kB, "student").empty());
  EXPECT_TRUE(store.delete_user(kB, "student"));
  EXPECT_TRUE(store.user(kA, "student"));
}

TEST_F(IamStoreTest, AStoreFromBeforeAccountsOpensInTheDefaultAccount) {
  {
    Database old(db());
    old.exec(
        "CREATE TABLE iam_user (name TEXT PRIMARY KEY COLLATE NOCASE, user_id TEXT NOT NULL,"
        " path TEXT NOT NULL, created_ms INTEGER NOT NULL);"
        "CREATE TABLE iam_access_key (access_key_id TEXT PRIMARY KEY, user_name TEXT NOT NULL"
        " COLLATE NOCASE, secret_access_key TEXT NOT NULL, active INTEGER NOT NULL,"
        " created_ms INTEGER NOT NULL);"
        "CREATE INDEX iam_access_key_user ON iam_access_key (user_name);"
        "CREATE TABLE iam_policy (arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
        " policy_id TEXT NOT NULL, path TEXT NOT NULL, description TEXT NOT NULL,"
        " document TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
        "CREATE TABLE iam_user_policy_attachment (user_name TEXT NOT NULL COLLATE NOCASE,"
        " policy_arn TEXT NOT NULL, PRIMARY KEY (user_name, policy_arn)) WITHOUT ROWID;"
        "CREATE TABLE iam_user_inline_policy (user_name TEXT NOT NULL COLLATE NOCASE,"
        " name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL,"
        " PRIMARY KEY (user_name, name)) WITHOUT ROWID;"
        "INSERT INTO iam_user VALUES ('device', 'AIDADEVICE', '/', 5);"
        "INSERT INTO iam_access_key VALUES ('AKIADEVICE', 'device', 'secret', 1, 6);"
        "INSERT INTO iam_policy VALUES ('arn:aws:iam::000000000000:policy/p', 'p', 'ANPAP',"
        " '/', 'd', '{}', 7, 8);"
        "INSERT INTO iam_user_policy_attachment VALUES ('device',"
        " 'arn:aws:iam::000000000000:policy/p');"
        "INSERT INTO iam_user_inline_policy VALUES ('device', 'inline', '{\"a\": 1}');");
  }
  for (int open = 0; open < 2; ++open) {
    IamStore store(db());
    auto device = store.user(kA, "DEVICE");
    ASSERT_TRUE(device);
    EXPECT_EQ(device->user_id, "AIDADEVICE");
    EXPECT_EQ(device->created_ms, 5);
    ASSERT_EQ(store.access_keys(kA, "device").size(), 1u);
    EXPECT_EQ(store.access_key("AKIADEVICE")->secret_access_key, "secret");
    EXPECT_EQ(store.policy_named(kA, "p")->description, "d");
    EXPECT_EQ(store.attachment_count(kA, "arn:aws:iam::000000000000:policy/p"), 1);
    EXPECT_EQ(store.user_policy(kA, "device", "inline")->document, R"({"a": 1})");
  }
}

TEST_F(IamStoreTest, ConfigAccountsGetTheirOwnUsersAndPolicies) {
  Config config;
  AccountConfig account;
  account.id = "111122223333";
  account.policies = {{"handson", kPublishHandson}};
  UserConfig device;
  device.name = "device";
  device.access_keys = {{"AKIAACCOUNTDEVICE", "secret"}};
  device.attached_policies = {"handson"};
  device.unrestricted = false;
  account.users = {device};
  config.accounts = {account};
  config.users = {device};  // the same name in 000000000000, without its policy
  config.users[0].access_keys = {{"AKIADEFAULTDEVICE", "secret"}};
  config.users[0].attached_policies = {};
  config.users[0].unrestricted = true;
  IamStore store(db());
  apply_iam_config(config, store);
  EXPECT_EQ(store.attached_user_policies("111122223333", "device"),
            std::vector<std::string>{"arn:aws:iam::111122223333:policy/handson"});
  EXPECT_EQ(store.attached_user_policies(kA, "device"),
            std::vector<std::string>{"arn:aws:iam::aws:policy/AdministratorAccess"});
  EXPECT_EQ(store.access_key("AKIAACCOUNTDEVICE")->account_id, "111122223333");
  EXPECT_FALSE(store.policy_named(kA, "handson"));

  CredentialStore credentials;
  Authorizer authorizer(store, credentials);
  authorizer.load();
  auto credential = credentials.find("AKIAACCOUNTDEVICE");
  ASSERT_TRUE(credential);
  EXPECT_EQ(credential->principal.arn, "arn:aws:iam::111122223333:user/device");
  EXPECT_EQ(credential->principal.account_id, "111122223333");
  ConditionContext conditions =
      request_conditions(credential->principal, "127.0.0.1:5000", "ap-northeast-1", 0);
  std::string topic = "arn:aws:iot:ap-northeast-1:111122223333:topic/";
  EXPECT_FALSE(authorizer.authorize(credential->principal, {{"iot:Publish", topic + "handson/a"}},
                                    conditions));
  EXPECT_TRUE(
      authorizer.authorize(credential->principal, {{"iot:Publish", topic + "other"}}, conditions))
      << "its own policy, not the default account's user's";
}

TEST(CredentialStoreTest, TwelveDigitKeysAreAccountRootsUnlessTurnedOffOrTaken) {
  CredentialStore credentials;
  auto numeric = credentials.find("123456789012");
  ASSERT_TRUE(numeric);
  EXPECT_TRUE(numeric->principal.is_root);
  EXPECT_EQ(numeric->principal.account_id, "123456789012");
  EXPECT_EQ(numeric->principal.arn, "arn:aws:iam::123456789012:root");
  EXPECT_EQ(numeric->secret_access_key, "test");
  EXPECT_FALSE(credentials.find("12345678901")) << "11 digits";
  EXPECT_FALSE(credentials.find("12345678901a"));
  credentials.add_account_root("222233334444", "AKIAROOT", "root-secret");
  EXPECT_EQ(credentials.find("AKIAROOT")->principal.account_id, "222233334444");
  EXPECT_FALSE(credentials.find("222233334444")) << "an account with a root key of its own";
  credentials.set_accounts_from_keys(false);
  EXPECT_FALSE(credentials.find("123456789012"));
  EXPECT_EQ(credentials.find("test")->principal.account_id, "000000000000");
}

}  // namespace
}  // namespace offcloud
