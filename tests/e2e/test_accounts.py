"""End-to-end tests of accounts and regions against the real offcloud binary:
resources isolated as AWS isolates them, so a class (or parallel test jobs)
can share one offcloud.

- Accounts come from the config file (id, root key, IAM users) and, as in
  LocalStack, a 12-digit access key id with the secret "test" is the root of
  that account (--accounts-from-keys false turns that off).
- IoT (topics, retained messages, rules) and Firehose streams are per account
  and per region; IAM is per account; S3 bucket names are global, buckets
  belong to their owner, and another account is refused.
- A data dir from before accounts opens with everything in 000000000000.
- `offcloud classroom` writes a config in which every student's key works
  and sees only its own account.

Clients: boto3 and the aws CLI v1, as users run them.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_accounts.py -v
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TOKYO = "ap-northeast-1"
VIRGINIA = "us-east-1"
ALICE = "111122223333"  # accounts of the config file
BOB = "444455556666"
ALICE_KEY = ("AKIAALICEROOT0000001", "alice-root-secret")
BOB_KEY = ("AKIABOBROOT00000001", "bob-root-secret")
ALICE_DEVICE_KEY = ("AKIAALICEDEVICE00001", "alice-device-secret")
PATH_STYLE = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
ROLE = "arn:aws:iam::%s:role/r"


def write_config(directory, config):
    path = os.path.join(directory, "config.json")
    with open(path, "w") as f:
        json.dump(config, f)
    return path


CONFIG = {
    "accounts": [
        {"id": ALICE, "name": "alice",
         "root_access_key_id": ALICE_KEY[0], "root_secret_access_key": ALICE_KEY[1],
         "users": [{"name": "device", "access_keys": [
             {"access_key_id": ALICE_DEVICE_KEY[0], "secret_access_key": ALICE_DEVICE_KEY[1]}]}]},
        {"id": BOB, "name": "bob",
         "root_access_key_id": BOB_KEY[0], "root_secret_access_key": BOB_KEY[1]},
    ]
}


def wait_for(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def objects(s3, bucket):
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            out[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


class AccountsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config_dir = tempfile.mkdtemp(prefix="offcloud-accounts-")
        path = write_config(cls.config_dir, CONFIG)
        cls.server = harness.OffcloudServer(
            args=("--config", path, "--firehose-max-interval", "1"))
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def client(self, service, key, region=TOKYO, **kw):
        if service == "s3":
            kw.setdefault("config", PATH_STYLE)
        return self.server.boto3_client(service, access_key=key[0], secret_key=key[1],
                                        region=region, **kw)

    def test_caller_identity_names_each_account(self):
        for key, account, arn in [
            (ALICE_KEY, ALICE, "arn:aws:iam::%s:root" % ALICE),
            (BOB_KEY, BOB, "arn:aws:iam::%s:root" % BOB),
            (ALICE_DEVICE_KEY, ALICE, "arn:aws:iam::%s:user/device" % ALICE),
            (("test", "test"), "000000000000", "arn:aws:iam::000000000000:root"),
        ]:
            identity = self.client("sts", key).get_caller_identity()
            self.assertEqual(identity["Account"], account)
            self.assertEqual(identity["Arn"], arn)

    def test_same_rule_stream_and_topic_names_deliver_to_their_own_account(self):
        for key, account in [(ALICE_KEY, ALICE), (BOB_KEY, BOB)]:
            s3 = self.client("s3", key)
            bucket = "deliveries-%s" % account
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": TOKYO})
            firehose = self.client("firehose", key)
            firehose.create_delivery_stream(
                DeliveryStreamName="handson_stream", DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": ROLE % account, "BucketARN": "arn:aws:s3:::" + bucket,
                    "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60}})
            self.client("iot", key).create_topic_rule(ruleName="handson_rule", topicRulePayload={
                "sql": "SELECT * FROM 'handson/analysisLogData'",
                "actions": [{"firehose": {"deliveryStreamName": "handson_stream",
                                          "roleArn": ROLE % account, "separator": "\n"}}]})
        # Each publishes its own record on the same topic.
        for key, account in [(ALICE_KEY, ALICE), (BOB_KEY, BOB)]:
            self.client("iot-data", key).publish(
                topic="handson/analysisLogData", qos=1,
                payload=json.dumps({"from": account}).encode())
        for key, account in [(ALICE_KEY, ALICE), (BOB_KEY, BOB)]:
            s3 = self.client("s3", key)
            delivered = wait_for(lambda: objects(s3, "deliveries-%s" % account))
            self.assertEqual(len(delivered), 1, delivered)
            body = list(delivered.values())[0].decode()
            self.assertEqual([json.loads(line) for line in body.splitlines()],
                             [{"from": account}])
            names = self.client("firehose", key).list_delivery_streams()["DeliveryStreamNames"]
            self.assertEqual(names, ["handson_stream"])
            arn = self.client("firehose", key).describe_delivery_stream(
                DeliveryStreamName="handson_stream")["DeliveryStreamDescription"][
                    "DeliveryStreamARN"]
            self.assertEqual(arn, "arn:aws:firehose:%s:%s:deliverystream/handson_stream"
                             % (TOKYO, account))
            rule = self.client("iot", key).get_topic_rule(ruleName="handson_rule")
            self.assertEqual(rule["ruleArn"],
                             "arn:aws:iot:%s:%s:rule/handson_rule" % (TOKYO, account))
        # The default account saw none of it.
        root = self.client("iot", ("test", "test"))
        names = [r["ruleName"] for r in root.list_topic_rules()["rules"]]
        self.assertNotIn("handson_rule", names)

    def test_retained_messages_are_per_account(self):
        self.client("iot-data", ALICE_KEY).publish(topic="state/lamp", qos=1, retain=True,
                                                   payload=b"alice")
        self.assertEqual(self.client("iot-data", ALICE_KEY).get_retained_message(
            topic="state/lamp")["payload"], b"alice")
        with self.assertRaises(ClientError) as caught:
            self.client("iot-data", BOB_KEY).get_retained_message(topic="state/lamp")
        self.assertEqual(caught.exception.response["Error"]["Code"],
                         "ResourceNotFoundException")
        topics = self.client("iot-data", BOB_KEY).list_retained_messages()["retainedTopics"]
        self.assertNotIn("state/lamp", [t["topic"] for t in topics])

    def test_bucket_names_are_global_and_buckets_their_owners(self):
        alice = self.client("s3", ALICE_KEY)
        bob = self.client("s3", BOB_KEY)
        alice.create_bucket(Bucket="alices-bucket",
                            CreateBucketConfiguration={"LocationConstraint": TOKYO})
        alice.put_object(Bucket="alices-bucket", Key="secret.txt", Body=b"for alice")
        with self.assertRaises(ClientError) as caught:
            bob.create_bucket(Bucket="alices-bucket",
                              CreateBucketConfiguration={"LocationConstraint": TOKYO})
        self.assertEqual(caught.exception.response["Error"]["Code"], "BucketAlreadyExists")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 409)
        with self.assertRaises(ClientError) as caught:
            alice.create_bucket(Bucket="alices-bucket",
                                CreateBucketConfiguration={"LocationConstraint": TOKYO})
        self.assertEqual(caught.exception.response["Error"]["Code"], "BucketAlreadyOwnedByYou")
        for call in [lambda: bob.get_object(Bucket="alices-bucket", Key="secret.txt"),
                     lambda: bob.put_object(Bucket="alices-bucket", Key="x", Body=b"x"),
                     lambda: bob.list_objects_v2(Bucket="alices-bucket"),
                     lambda: bob.delete_object(Bucket="alices-bucket", Key="secret.txt"),
                     lambda: bob.delete_bucket(Bucket="alices-bucket"),
                     lambda: bob.get_bucket_location(Bucket="alices-bucket")]:
            with self.assertRaises(ClientError) as caught:
                call()
            self.assertIn(caught.exception.response["Error"]["Code"],
                          ("AccessDenied", "403"), caught.exception.response)
        with self.assertRaises(ClientError) as caught:
            bob.head_bucket(Bucket="alices-bucket")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        # A bucket of Bob's own cannot copy Alice's object either.
        bob.create_bucket(Bucket="bobs-bucket",
                          CreateBucketConfiguration={"LocationConstraint": TOKYO})
        with self.assertRaises(ClientError) as caught:
            bob.copy_object(Bucket="bobs-bucket", Key="c", CopySource="alices-bucket/secret.txt")
        self.assertEqual(caught.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(alice.get_object(Bucket="alices-bucket", Key="secret.txt")["Body"].read(),
                         b"for alice")
        listed = [b["Name"] for b in bob.list_buckets()["Buckets"]]
        self.assertIn("bobs-bucket", listed)
        self.assertNotIn("alices-bucket", listed)
        owner = alice.list_buckets()["Owner"]["ID"]
        self.assertNotEqual(owner, bob.list_buckets()["Owner"]["ID"])
        self.assertRegex(owner, "^[0-9a-f]{64}$")

    def test_an_iam_user_is_confined_to_its_account(self):
        # Alice's device user may do anything (no policies given), in Alice's
        # account only.
        device = self.client("s3", ALICE_DEVICE_KEY)
        self.client("s3", BOB_KEY).create_bucket(
            Bucket="bobs-private", CreateBucketConfiguration={"LocationConstraint": TOKYO})
        with self.assertRaises(ClientError) as caught:
            device.list_objects_v2(Bucket="bobs-private")
        self.assertEqual(caught.exception.response["Error"]["Code"], "AccessDenied")
        alice_iam = self.client("iam", ALICE_KEY)
        bob_iam = self.client("iam", BOB_KEY)
        self.assertEqual([u["UserName"] for u in alice_iam.list_users()["Users"]], ["device"])
        self.assertEqual(bob_iam.list_users()["Users"], [])
        bob_iam.create_user(UserName="device")  # the same name in another account
        user = bob_iam.get_user(UserName="device")["User"]
        self.assertEqual(user["Arn"], "arn:aws:iam::%s:user/device" % BOB)
        key = bob_iam.create_access_key(UserName="device")["AccessKey"]
        identity = self.server.boto3_client(
            "sts", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"],
            region=TOKYO).get_caller_identity()
        self.assertEqual(identity["Account"], BOB)
        policy = bob_iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        arn = policy["Policy"]["Arn"]
        self.assertEqual(arn, "arn:aws:iam::%s:policy/p" % BOB)
        with self.assertRaises(ClientError) as caught:
            alice_iam.get_policy(PolicyArn=arn)
        self.assertEqual(caught.exception.response["Error"]["Code"], "NoSuchEntity")
        with self.assertRaises(ClientError) as caught:
            alice_iam.attach_user_policy(UserName="device", PolicyArn=arn)
        self.assertEqual(caught.exception.response["Error"]["Code"], "NoSuchEntity")

    def test_one_account_in_two_regions_keeps_two_rules(self):
        self.client("s3", ALICE_KEY).create_bucket(
            Bucket="alice-regions", CreateBucketConfiguration={"LocationConstraint": TOKYO})
        for region in (TOKYO, VIRGINIA):
            self.client("iot", ALICE_KEY, region=region).create_topic_rule(
                ruleName="regional", topicRulePayload={
                    "sql": "SELECT * FROM 'sensors/#'",
                    "actions": [{"s3": {"bucketName": "alice-regions",
                                        "key": region + "/${topic()}",
                                        "roleArn": ROLE % ALICE}}]})
        self.client("iot", ALICE_KEY, region=VIRGINIA).replace_topic_rule(
            ruleName="regional", topicRulePayload={
                "sql": "SELECT * FROM 'sensors/#'",
                "actions": [{"s3": {"bucketName": "alice-regions",
                                    "key": "replaced/${topic()}", "roleArn": ROLE % ALICE}}]})
        self.client("iot-data", ALICE_KEY, region=TOKYO).publish(topic="sensors/t", payload=b"1")
        self.assertEqual(objects(self.client("s3", ALICE_KEY), "alice-regions"),
                         {"ap-northeast-1/sensors/t": b"1"})
        self.client("iot-data", ALICE_KEY, region=VIRGINIA).publish(topic="sensors/v",
                                                                     payload=b"2")
        self.assertEqual(objects(self.client("s3", ALICE_KEY), "alice-regions"),
                         {"ap-northeast-1/sensors/t": b"1", "replaced/sensors/v": b"2"})
        self.client("iot", ALICE_KEY, region=TOKYO).delete_topic_rule(ruleName="regional")
        rules = self.client("iot", ALICE_KEY, region=VIRGINIA).list_topic_rules()["rules"]
        self.assertEqual([r["ruleName"] for r in rules], ["regional"])
        rules = self.client("iot", ALICE_KEY, region=TOKYO).list_topic_rules()["rules"]
        self.assertNotIn("regional", [r["ruleName"] for r in rules])

    def test_a_rule_cannot_write_to_another_accounts_bucket(self):
        self.client("s3", BOB_KEY).create_bucket(
            Bucket="bobs-target", CreateBucketConfiguration={"LocationConstraint": TOKYO})
        self.client("iot", ALICE_KEY).create_topic_rule(ruleName="trespass", topicRulePayload={
            "sql": "SELECT * FROM 'trespass'",
            "actions": [{"s3": {"bucketName": "bobs-target", "key": "k",
                                "roleArn": ROLE % ALICE}}]})
        self.client("iot-data", ALICE_KEY).publish(topic="trespass", payload=b"x")
        self.assertEqual(objects(self.client("s3", BOB_KEY), "bobs-target"), {})

    def test_aws_cli_with_a_12_digit_key_is_its_own_account(self):
        env = {"AWS_ACCESS_KEY_ID": "123456789012", "AWS_SECRET_ACCESS_KEY": "test"}
        done = self.server.aws("sts", "get-caller-identity", env_extra=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout)["Account"], "123456789012")
        done = self.server.aws("s3api", "create-bucket", "--bucket", "twelve-digits",
                               "--create-bucket-configuration", "LocationConstraint=" + TOKYO,
                               env_extra=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        listed = self.client("s3", ("test", "test")).list_buckets()["Buckets"]
        self.assertNotIn("twelve-digits", [b["Name"] for b in listed])
        # A configured account's id is no key: it has a root key of its own.
        done = self.server.aws("sts", "get-caller-identity",
                               env_extra={"AWS_ACCESS_KEY_ID": ALICE,
                                          "AWS_SECRET_ACCESS_KEY": "test"})
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("InvalidClientTokenId", done.stderr)


class AccountsFromKeysOffTest(unittest.TestCase):
    def test_a_12_digit_key_is_refused_when_turned_off(self):
        with harness.OffcloudServer(args=("--accounts-from-keys", "false")) as server:
            sts = server.boto3_client("sts", access_key="123456789012", secret_key="test")
            with self.assertRaises(ClientError) as caught:
                sts.get_caller_identity()
            self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidClientTokenId")
            self.assertEqual(server.boto3_client("sts").get_caller_identity()["Account"],
                             "000000000000")


# The schema of a data dir written before accounts (offcloud 0.1.0 as of
# the layout change), filled as that version filled it.
OLD_OFFCLOUD_DB = """
CREATE TABLE iam_user (name TEXT PRIMARY KEY COLLATE NOCASE, user_id TEXT NOT NULL,
  path TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE iam_access_key (access_key_id TEXT PRIMARY KEY, user_name TEXT NOT NULL COLLATE NOCASE,
  secret_access_key TEXT NOT NULL, active INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX iam_access_key_user ON iam_access_key (user_name);
CREATE TABLE iam_policy (arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  policy_id TEXT NOT NULL, path TEXT NOT NULL, description TEXT NOT NULL, document TEXT NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE iam_user_policy_attachment (user_name TEXT NOT NULL COLLATE NOCASE,
  policy_arn TEXT NOT NULL, PRIMARY KEY (user_name, policy_arn)) WITHOUT ROWID;
CREATE TABLE iam_user_inline_policy (user_name TEXT NOT NULL COLLATE NOCASE,
  name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL,
  PRIMARY KEY (user_name, name)) WITHOUT ROWID;
CREATE TABLE retained_message (topic TEXT PRIMARY KEY, payload BLOB NOT NULL,
  qos INTEGER NOT NULL, user_properties TEXT, last_modified_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE delivery_stream (name TEXT PRIMARY KEY, config TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE firehose_record (seq INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL,
  arrival_ms INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX firehose_record_stream ON firehose_record (stream, seq);
CREATE TABLE firehose_delivery (stream TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,
  object_key TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE topic_rule (name TEXT PRIMARY KEY, payload TEXT NOT NULL,
  created_ms INTEGER NOT NULL, disabled INTEGER NOT NULL, arn TEXT NOT NULL) WITHOUT ROWID;
"""
OLD_S3_DB = """
CREATE TABLE bucket (name TEXT PRIMARY KEY, region TEXT NOT NULL,
  created_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE object (bucket TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, content_type TEXT NOT NULL, headers TEXT NOT NULL, metadata TEXT NOT NULL,
  checksums TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, blob TEXT NOT NULL,
  PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE TABLE upload (id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL,
  initiated_ms INTEGER NOT NULL, content_type TEXT NOT NULL, headers TEXT NOT NULL,
  metadata TEXT NOT NULL, checksum TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE part (upload_id TEXT NOT NULL, number INTEGER NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, checksums TEXT NOT NULL, last_modified_ms INTEGER NOT NULL,
  blob TEXT NOT NULL, PRIMARY KEY (upload_id, number)) WITHOUT ROWID;
"""


class OldDataDirTest(unittest.TestCase):
    def make_old_data_dir(self, data_dir):
        now = int(time.time() * 1000)
        db = sqlite3.connect(os.path.join(data_dir, "offcloud.db"))
        db.executescript(OLD_OFFCLOUD_DB)
        db.execute("INSERT INTO iam_user VALUES ('olduser', 'AIDAOLDUSER000000001', '/', ?)",
                   (now,))
        db.execute("INSERT INTO iam_access_key VALUES ('AKIAOLDUSER000000001', 'olduser',"
                   " 'old-secret', 1, ?)", (now,))
        db.execute("INSERT INTO iam_user_policy_attachment VALUES ('olduser',"
                   " 'arn:aws:iam::aws:policy/AdministratorAccess')")
        db.execute("INSERT INTO retained_message VALUES ('old/retained', 'kept', 1, NULL, ?)",
                   (now,))
        rule = {"sql": "SELECT * FROM 'old/in'",
                "actions": [{"s3": {"bucketName": "old-bucket", "key": "fired/${topic()}",
                                    "roleArn": ROLE % "000000000000"}}]}
        db.execute("INSERT INTO topic_rule VALUES ('old_rule', ?, ?, 0,"
                   " 'arn:aws:iot:ap-northeast-1:000000000000:rule/old_rule')",
                   (json.dumps(rule), now))
        stream = {"name": "old_stream",
                  "arn": "arn:aws:firehose:ap-northeast-1:000000000000:deliverystream/old_stream",
                  "type": "DirectPut", "version": 1, "created_ms": now, "updated_ms": now,
                  "extended": True, "role_arn": ROLE % "000000000000",
                  "bucket_arn": "arn:aws:s3:::old-bucket", "prefix": "firehose/",
                  "error_output_prefix": "", "size_mb": 5, "interval_s": 60,
                  "compression": "UNCOMPRESSED"}
        db.execute("INSERT INTO delivery_stream VALUES ('old_stream', ?)", (json.dumps(stream),))
        db.execute("INSERT INTO firehose_record (stream, arrival_ms, data) VALUES"
                   " ('old_stream', ?, ?)", (now, b"buffered before the upgrade\n"))
        db.commit()
        db.close()
        os.makedirs(os.path.join(data_dir, "s3", "blobs"))
        s3db = sqlite3.connect(os.path.join(data_dir, "s3", "s3.db"))
        s3db.executescript(OLD_S3_DB)
        s3db.execute("INSERT INTO bucket VALUES ('old-bucket', 'ap-northeast-1', ?)", (now,))
        s3db.commit()
        s3db.close()

    def test_an_old_data_dir_opens_and_its_resources_are_found(self):
        data_dir = tempfile.mkdtemp(prefix="offcloud-old-")
        self.make_old_data_dir(data_dir)
        with harness.OffcloudServer(data_dir=data_dir,
                                    args=("--firehose-max-interval", "1")) as server:
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            self.assertIn("old-bucket", [b["Name"] for b in s3.list_buckets()["Buckets"]])
            # The buffered record is delivered by the stream, found in the
            # region of its ARN.
            delivered = wait_for(lambda: objects(s3, "old-bucket"))
            self.assertEqual(list(delivered.values()), [b"buffered before the upgrade\n"])
            firehose = server.boto3_client("firehose", region=TOKYO)
            self.assertEqual(firehose.list_delivery_streams()["DeliveryStreamNames"],
                             ["old_stream"])
            # The rule, in the region of its ARN, still fires.
            iot = server.boto3_client("iot", region=TOKYO)
            self.assertEqual(iot.get_topic_rule(ruleName="old_rule")["ruleArn"],
                             "arn:aws:iot:ap-northeast-1:000000000000:rule/old_rule")
            server.boto3_client("iot-data", region=TOKYO).publish(topic="old/in", payload=b"x")
            self.assertIn("fired/old/in", objects(s3, "old-bucket"))
            # Retained messages recorded no region: the README's default.
            retained = server.boto3_client("iot-data", region=VIRGINIA).get_retained_message(
                topic="old/retained")
            self.assertEqual(retained["payload"], b"kept")
            # The IAM user and its key.
            sts = server.boto3_client("sts", access_key="AKIAOLDUSER000000001",
                                      secret_key="old-secret")
            self.assertEqual(sts.get_caller_identity()["Arn"],
                             "arn:aws:iam::000000000000:user/olduser")
        # And again: the upgrade is done once, and what it made stays.
        with harness.OffcloudServer(data_dir=data_dir) as server:
            iot = server.boto3_client("iot", region=TOKYO)
            self.assertEqual([r["ruleName"] for r in iot.list_topic_rules()["rules"]],
                             ["old_rule"])
        harness.shutil.rmtree(data_dir)


class ClassroomTest(unittest.TestCase):
    def test_every_students_key_works_and_sees_only_its_account(self):
        out = tempfile.mkdtemp(prefix="offcloud-classroom-")
        done = subprocess.run([harness.offcloud_bin(), "classroom", "--students", "3",
                               "--out", out], capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(out, "classroom.json")) as f:
            accounts = json.load(f)["accounts"]
        self.assertEqual(len(accounts), 3)
        with open(os.path.join(out, "classroom.html"), encoding="utf-8") as f:
            sheet = f.read()
        for account in accounts:
            self.assertIn(account["root_secret_access_key"], sheet)
        with harness.OffcloudServer(args=("--config", os.path.join(out, "classroom.json"))) \
                as server:
            for account in accounts:
                key = (account["root_access_key_id"], account["root_secret_access_key"])
                sts = server.boto3_client("sts", access_key=key[0], secret_key=key[1])
                self.assertEqual(sts.get_caller_identity()["Account"], account["id"])
                iot = server.boto3_client("iot", access_key=key[0], secret_key=key[1])
                iot.create_topic_rule(ruleName="handson_rule", topicRulePayload={
                    "sql": "SELECT * FROM 'handson/analysisLogData'",
                    "actions": [{"republish": {"topic": "handson/" + account["name"],
                                               "roleArn": ROLE % account["id"]}}]})
            for account in accounts:
                iot = server.boto3_client("iot", access_key=account["root_access_key_id"],
                                          secret_key=account["root_secret_access_key"])
                rules = iot.list_topic_rules()["rules"]
                self.assertEqual(len(rules), 1)
                self.assertIn(account["id"], rules[0]["ruleArn"])
                payload = iot.get_topic_rule(ruleName="handson_rule")["rule"]["actions"]
                self.assertEqual(payload[0]["republish"]["topic"], "handson/" + account["name"])
            # A student's account id is no key of its own.
            sts = server.boto3_client("sts", access_key=accounts[0]["id"], secret_key="test")
            with self.assertRaises(ClientError):
                sts.get_caller_identity()
        harness.shutil.rmtree(out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
