"""End-to-end tests of IAM and STS against the real offcloud binary: the
hands-on's policy, user and access key made with the aws CLI, then enforced
on IoT Data, S3, Firehose and IAM itself; restarts; the config file's users
and policies; --iam off.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_iam.py -v
"""

import json
import os
import shutil
import sys
import tempfile
import unittest
import uuid

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ACCOUNT = "000000000000"
ROOT_ARN = "arn:aws:iam::%s:root" % ACCOUNT

# Step 4-4-1 of the hands-on, verbatim.
HANDSON_POLICY = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "VisualEditor0",
            "Effect": "Allow",
            "Action": [
                "iot:Connect",
                "iot:Publish"
            ],
            "Resource": [
                "arn:aws:iot:ap-northeast-1:*:topic/handson/*",
                "arn:aws:iot:*:*:client/*"
            ]
        }
    ]
}
"""
HANDSON_TOPIC = "handson/analysisLogData"
RECORD = '{"face_id": 0, "Smile": true, "Gender": "Female"}'


def unique(name):
    return "%s%s" % (name, uuid.uuid4().hex[:8])


def statement_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class IamCase(unittest.TestCase):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="offcloud-e2e-iam-")
        cls.server = harness.OffcloudServer(data_dir=cls.data_dir, args=cls.server_args)
        cls.server.__enter__()
        cls.iam = cls.server.boto3_client("iam", region="us-east-1")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.__exit__(None, None, None)
            shutil.rmtree(cls.data_dir, ignore_errors=True)

    # -- helpers -------------------------------------------------------------

    def cli(self, *args, key=None, ok=True):
        env = None
        if key is not None:
            env = {"AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1]}
        result = self.server.aws(*args, env_extra=env)
        detail = "aws %s: rc=%d stdout=%r stderr=%r" % (
            " ".join(args), result.returncode, result.stdout, result.stderr)
        if ok:
            self.assertEqual(result.returncode, 0, detail)
            return json.loads(result.stdout) if result.stdout.strip() else {}
        self.assertNotEqual(result.returncode, 0, detail)
        return result.stderr

    def assertClientError(self, ctx, code, status):
        error = ctx.exception.response["Error"]
        self.assertEqual(error["Code"], code, ctx.exception.response)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], status,
                         ctx.exception.response)
        return error.get("Message", "")

    def user_with_key(self, inline=None, attached=()):
        """A new user, its policies, and a (key id, secret) for it."""
        name = unique("user")
        self.iam.create_user(UserName=name)
        for arn in attached:
            self.iam.attach_user_policy(UserName=name, PolicyArn=arn)
        if inline is not None:
            self.iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return name, (key["AccessKeyId"], key["SecretAccessKey"])

    def client(self, service, key, region=harness.REGION):
        return self.server.boto3_client(service, access_key=key[0], secret_key=key[1],
                                        region=region)


class HandsOnTests(IamCase):
    """The hands-on's step 4-4 through the aws CLI, then its device publishing."""

    def test_hands_on_policy_user_key_enforced_across_restarts(self):
        policy_file = os.path.join(self.data_dir, "policy.json")
        with open(policy_file, "w") as f:
            f.write(HANDSON_POLICY)
        policy = self.cli("iam", "create-policy", "--policy-name", "yamada_iot_publish_policy",
                          "--description", "Policy for IoT Core Topic Publish on Mobile",
                          "--policy-document", "file://" + policy_file)["Policy"]
        policy_arn = "arn:aws:iam::%s:policy/yamada_iot_publish_policy" % ACCOUNT
        self.assertEqual(policy["Arn"], policy_arn)
        self.assertEqual(policy["DefaultVersionId"], "v1")
        user = self.cli("iam", "create-user", "--user-name", "yamada_iot_publish_user")["User"]
        self.assertEqual(user["Arn"], "arn:aws:iam::%s:user/yamada_iot_publish_user" % ACCOUNT)
        self.assertRegex(user["UserId"], r"^AIDA[A-Z2-7]{17}$")
        self.cli("iam", "attach-user-policy", "--user-name", "yamada_iot_publish_user",
                 "--policy-arn", policy_arn)
        created = self.cli("iam", "create-access-key",
                           "--user-name", "yamada_iot_publish_user")["AccessKey"]
        self.assertRegex(created["AccessKeyId"], r"^AKIA[A-Z2-7]{16}$")
        self.assertEqual(len(created["SecretAccessKey"]), 40)
        self.assertEqual(created["Status"], "Active")
        key = (created["AccessKeyId"], created["SecretAccessKey"])

        version = self.cli("iam", "get-policy-version", "--policy-arn", policy_arn,
                           "--version-id", "v1")["PolicyVersion"]
        self.assertEqual(version["Document"], json.loads(HANDSON_POLICY))

        def publish(topic, ok=True):
            return self.cli("iot-data", "publish", "--topic", topic, "--payload", RECORD,
                            key=key, ok=ok)

        def check_enforced():
            publish(HANDSON_TOPIC)
            refused = publish("other/topic", ok=False)
            self.assertIn("ForbiddenException", refused)
            self.assertIn("User: arn:aws:iam::%s:user/yamada_iot_publish_user is not authorized "
                          "to perform: iot:Publish on resource: arn:aws:iot:ap-northeast-1:%s:"
                          "topic/other/topic" % (ACCOUNT, ACCOUNT), refused)
            self.assertIn("AccessDenied", self.cli("s3", "ls", key=key, ok=False))
            identity = self.cli("sts", "get-caller-identity", key=key)
            self.assertEqual(identity["Arn"], user["Arn"])
            self.assertEqual(identity["UserId"], user["UserId"])
            self.assertEqual(identity["Account"], ACCOUNT)
            root = self.cli("sts", "get-caller-identity")
            self.assertEqual(root["Arn"], ROOT_ARN)
            self.assertEqual(root["Account"], ACCOUNT)

        check_enforced()
        self.restart()
        check_enforced()
        listed = self.cli("iam", "list-attached-user-policies",
                          "--user-name", "yamada_iot_publish_user")["AttachedPolicies"]
        self.assertEqual([p["PolicyArn"] for p in listed], [policy_arn])

        self.cli("iam", "update-access-key", "--user-name", "yamada_iot_publish_user",
                 "--access-key-id", key[0], "--status", "Inactive")
        self.assertIn("UnrecognizedClientException", publish(HANDSON_TOPIC, ok=False))
        self.restart()
        self.assertIn("UnrecognizedClientException", publish(HANDSON_TOPIC, ok=False))
        keys = self.cli("iam", "list-access-keys",
                        "--user-name", "yamada_iot_publish_user")["AccessKeyMetadata"]
        self.assertEqual([(k["AccessKeyId"], k["Status"]) for k in keys], [(key[0], "Inactive")])
        self.cli("iam", "update-access-key", "--user-name", "yamada_iot_publish_user",
                 "--access-key-id", key[0], "--status", "Active")
        publish(HANDSON_TOPIC)

    def restart(self):
        self.server.stop()
        self.server.restart()
        self.__class__.iam = self.server.boto3_client("iam", region="us-east-1")


class PolicyEvaluationTests(IamCase):
    """What a user's policies let it do, service by service."""

    def test_explicit_deny_wins_over_administrator_access(self):
        deny = statement_policy({"Effect": "Deny", "Action": "iot:Publish",
                                 "Resource": "arn:aws:iot:*:*:topic/handson/secret"})
        _, key = self.user_with_key(inline=deny,
                                    attached=["arn:aws:iam::aws:policy/AdministratorAccess"])
        iot = self.client("iot-data", key)
        iot.publish(topic="handson/open", payload=b"{}")
        with self.assertRaises(ClientError) as ctx:
            iot.publish(topic="handson/secret", payload=b"{}")
        message = self.assertClientError(ctx, "ForbiddenException", 403)
        self.assertIn("with an explicit deny", message)

    def test_retained_publish_needs_retain_publish(self):
        only_publish = statement_policy({"Effect": "Allow", "Action": "iot:Publish",
                                         "Resource": "*"})
        _, key = self.user_with_key(inline=only_publish)
        iot = self.client("iot-data", key)
        iot.publish(topic="handson/a", payload=b"{}")
        with self.assertRaises(ClientError) as ctx:
            iot.publish(topic="handson/a", payload=b"{}", retain=True)
        self.assertIn("iot:RetainPublish", self.assertClientError(ctx, "ForbiddenException", 403))
        with self.assertRaises(ClientError) as ctx:
            iot.list_retained_messages()
        self.assertClientError(ctx, "ForbiddenException", 403)

    def test_source_ip_condition(self):
        def policy(cidr):
            return statement_policy({"Effect": "Allow", "Action": "iot:Publish", "Resource": "*",
                                     "Condition": {"IpAddress": {"aws:SourceIp": cidr}}})
        _, local = self.user_with_key(inline=policy("127.0.0.0/8"))
        _, remote = self.user_with_key(inline=policy("10.0.0.0/8"))
        self.client("iot-data", local).publish(topic="handson/a", payload=b"{}")
        with self.assertRaises(ClientError) as ctx:
            self.client("iot-data", remote).publish(topic="handson/a", payload=b"{}")
        self.assertClientError(ctx, "ForbiddenException", 403)

    def test_s3_object_and_bucket_resources(self):
        bucket = unique("iam-bucket-")
        root_s3 = self.server.boto3_client("s3")
        root_s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={
            "LocationConstraint": harness.REGION})
        root_s3.put_object(Bucket=bucket, Key="public/a.txt", Body=b"a")
        root_s3.put_object(Bucket=bucket, Key="secret/b.txt", Body=b"b")
        policy = statement_policy(
            {"Effect": "Allow", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::%s/public/*" % bucket},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::" + bucket,
             "Condition": {"StringLike": {"s3:prefix": "public/*"}}})
        _, key = self.user_with_key(inline=policy)
        s3 = self.client("s3", key)
        self.assertEqual(s3.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read(), b"a")
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="public/")
        self.assertEqual([o["Key"] for o in listed["Contents"]], ["public/a.txt"])
        for call in (lambda: s3.get_object(Bucket=bucket, Key="secret/b.txt"),
                     lambda: s3.put_object(Bucket=bucket, Key="public/c.txt", Body=b"c"),
                     lambda: s3.list_objects_v2(Bucket=bucket),
                     lambda: s3.list_buckets()):
            with self.assertRaises(ClientError) as ctx:
                call()
            self.assertClientError(ctx, "AccessDenied", 403)

    def test_aws_managed_read_only_policy(self):
        _, key = self.user_with_key(
            attached=["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"])
        s3 = self.client("s3", key)
        s3.list_buckets()
        with self.assertRaises(ClientError) as ctx:
            s3.create_bucket(Bucket=unique("nope-"), CreateBucketConfiguration={
                "LocationConstraint": harness.REGION})
        self.assertClientError(ctx, "AccessDenied", 403)

    def test_firehose_and_iot_rule_resources(self):
        policy = statement_policy(
            {"Effect": "Allow", "Action": "firehose:PutRecord*",
             "Resource": "arn:aws:firehose:ap-northeast-1:%s:deliverystream/allowed" % ACCOUNT},
            {"Effect": "Allow", "Action": "iot:GetTopicRule",
             "Resource": "arn:aws:iot:ap-northeast-1:%s:rule/allowed" % ACCOUNT})
        _, key = self.user_with_key(inline=policy)
        firehose = self.client("firehose", key)
        # Allowed: the stream's absence is what is reported.
        with self.assertRaises(ClientError) as ctx:
            firehose.put_record(DeliveryStreamName="allowed", Record={"Data": b"x"})
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ResourceNotFoundException")
        with self.assertRaises(ClientError) as ctx:
            firehose.put_record(DeliveryStreamName="other", Record={"Data": b"x"})
        message = self.assertClientError(ctx, "AccessDeniedException", 403)
        self.assertIn("firehose:PutRecord on resource: arn:aws:firehose:ap-northeast-1:%s:"
                      "deliverystream/other" % ACCOUNT, message)
        iot = self.client("iot", key)
        with self.assertRaises(ClientError) as ctx:
            iot.get_topic_rule(ruleName="other")
        self.assertClientError(ctx, "AccessDeniedException", 403)
        with self.assertRaises(ClientError) as ctx:
            iot.list_topic_rules()
        self.assertClientError(ctx, "AccessDeniedException", 403)

    def test_iam_itself_is_authorized(self):
        name, key = self.user_with_key(inline=statement_policy(
            {"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListAccessKeys"],
             "Resource": "arn:aws:iam::%s:user/${aws:username}" % ACCOUNT}))
        iam = self.client("iam", key, region="us-east-1")
        self.assertEqual(iam.get_user()["User"]["UserName"], name)
        self.assertEqual(len(iam.list_access_keys()["AccessKeyMetadata"]), 1)
        with self.assertRaises(ClientError) as ctx:
            iam.create_user(UserName=unique("escalate"))
        self.assertClientError(ctx, "AccessDenied", 403)
        with self.assertRaises(ClientError) as ctx:
            iam.get_user(UserName="someone-else")
        self.assertClientError(ctx, "AccessDenied", 403)
        # Anyone may ask who they are.
        sts = self.client("sts", key, region="us-east-1")
        self.assertTrue(sts.get_caller_identity()["Arn"].endswith(":user/" + name))


class IamApiTests(IamCase):
    """The IAM API's own answers and errors, as boto3 sees them."""

    def test_delete_user_conflicts_until_everything_is_removed(self):
        policy_arn = self.iam.create_policy(
            PolicyName=unique("p"), PolicyDocument=HANDSON_POLICY)["Policy"]["Arn"]
        name, key = self.user_with_key(inline=HANDSON_POLICY, attached=[policy_arn])
        for expected in ("access keys", "detach all policies", "delete policies"):
            with self.assertRaises(ClientError) as ctx:
                self.iam.delete_user(UserName=name)
            self.assertIn(expected, self.assertClientError(ctx, "DeleteConflict", 409))
            if expected == "access keys":
                self.iam.delete_access_key(UserName=name, AccessKeyId=key[0])
            elif expected == "detach all policies":
                with self.assertRaises(ClientError) as ctx:
                    self.iam.delete_policy(PolicyArn=policy_arn)
                self.assertClientError(ctx, "DeleteConflict", 409)
                self.iam.detach_user_policy(UserName=name, PolicyArn=policy_arn)
            else:
                self.iam.delete_user_policy(UserName=name, PolicyName="inline")
        self.iam.delete_user(UserName=name)
        self.iam.delete_policy(PolicyArn=policy_arn)
        for call in (lambda: self.iam.get_user(UserName=name),
                     lambda: self.iam.get_policy(PolicyArn=policy_arn)):
            with self.assertRaises(ClientError) as ctx:
                call()
            self.assertClientError(ctx, "NoSuchEntity", 404)

    def test_two_access_keys_per_user(self):
        name, _ = self.user_with_key()
        self.iam.create_access_key(UserName=name)
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_access_key(UserName=name)
        self.assertIn("AccessKeysPerUser: 2", self.assertClientError(ctx, "LimitExceeded", 409))

    def test_names_are_unique_without_case(self):
        name, _ = self.user_with_key()
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_user(UserName=name.upper())
        self.assertClientError(ctx, "EntityAlreadyExists", 409)
        policy_name = unique("policy")
        self.iam.create_policy(PolicyName=policy_name, PolicyDocument=HANDSON_POLICY)
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_policy(PolicyName=policy_name, PolicyDocument=HANDSON_POLICY)
        self.assertClientError(ctx, "EntityAlreadyExists", 409)

    def test_malformed_documents_refused(self):
        name, _ = self.user_with_key()
        for document in ("{not json", '{"Version": "2012-10-17"}',
                         statement_policy({"Effect": "Allow", "Action": "iot:Publish",
                                           "Resource": "handson/*"})):
            with self.assertRaises(ClientError) as ctx:
                self.iam.create_policy(PolicyName=unique("bad"), PolicyDocument=document)
            self.assertClientError(ctx, "MalformedPolicyDocument", 400)
            with self.assertRaises(ClientError) as ctx:
                self.iam.put_user_policy(UserName=name, PolicyName="bad", PolicyDocument=document)
            self.assertClientError(ctx, "MalformedPolicyDocument", 400)

    def test_validation_and_missing_entities(self):
        with self.assertRaises(ClientError) as ctx:
            self.iam.create_user(UserName="has space")
        self.assertClientError(ctx, "ValidationError", 400)
        with self.assertRaises(ClientError) as ctx:
            self.iam.attach_user_policy(UserName=unique("ghost"),
                                        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        self.assertClientError(ctx, "NoSuchEntity", 404)
        name, key = self.user_with_key()
        with self.assertRaises(ClientError) as ctx:
            self.iam.attach_user_policy(UserName=name,
                                        PolicyArn="arn:aws:iam::%s:policy/none" % ACCOUNT)
        self.assertClientError(ctx, "NoSuchEntity", 404)
        with self.assertRaises(ClientError) as ctx:
            self.iam.update_access_key(UserName=name, AccessKeyId="AKIANOSUCHKEY0000000",
                                       Status="Inactive")
        self.assertClientError(ctx, "NoSuchEntity", 404)

    def test_reads_and_lists(self):
        policy_name = unique("listed")
        arn = self.iam.create_policy(PolicyName=policy_name, PolicyDocument=HANDSON_POLICY,
                                     Description="d")["Policy"]["Arn"]
        name, _ = self.user_with_key(inline=HANDSON_POLICY, attached=[arn])
        got = self.iam.get_policy(PolicyArn=arn)["Policy"]
        self.assertEqual((got["AttachmentCount"], got["Description"]), (1, "d"))
        version = self.iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
        self.assertEqual(version["Document"], json.loads(HANDSON_POLICY))
        self.assertTrue(version["IsDefaultVersion"])
        local = self.iam.list_policies(Scope="Local")["Policies"]
        self.assertIn(arn, [p["Arn"] for p in local])
        self.assertFalse(any(p["Arn"].startswith("arn:aws:iam::aws:") for p in local))
        inline = self.iam.get_user_policy(UserName=name, PolicyName="inline")
        self.assertEqual(inline["PolicyDocument"], json.loads(HANDSON_POLICY))
        self.assertEqual(self.iam.list_user_policies(UserName=name)["PolicyNames"], ["inline"])
        users = [u["UserName"] for u in
                 self.iam.get_paginator("list_users").paginate(
                     PaginationConfig={"PageSize": 1}).build_full_result()["Users"]]
        self.assertIn(name, users)
        self.assertEqual(len(users), len(set(users)))


class SimulatorTests(IamCase):
    """SimulatePrincipalPolicy and SimulateCustomPolicy: the decision, the
    statements that made it (where they are in the policy's text), missing
    context keys, pages, errors."""

    TOPIC_ARN = "arn:aws:iot:ap-northeast-1:%s:topic/" % ACCOUNT

    def user_arn(self, name):
        return "arn:aws:iam::%s:user/%s" % (ACCOUNT, name)

    def test_hands_on_policy_with_the_cli(self):
        policy_file = os.path.join(self.data_dir, "simulated-policy.json")
        with open(policy_file, "w") as f:
            f.write(HANDSON_POLICY)
        policy_name = unique("handson_policy")
        policy_arn = self.cli("iam", "create-policy", "--policy-name", policy_name,
                              "--policy-document", "file://" + policy_file)["Policy"]["Arn"]
        name, _ = self.user_with_key(attached=[policy_arn])

        def simulate(topic):
            return self.cli("iam", "simulate-principal-policy",
                            "--policy-source-arn", self.user_arn(name),
                            "--action-names", "iot:Publish",
                            "--resource-arns", self.TOPIC_ARN + topic)["EvaluationResults"]

        [allowed] = simulate("handson/x")
        self.assertEqual(allowed["EvalActionName"], "iot:Publish")
        self.assertEqual(allowed["EvalResourceName"], self.TOPIC_ARN + "handson/x")
        self.assertEqual(allowed["EvalDecision"], "allowed")
        # The statement's '{' is on line 4, column 9; its '}' on line 15.
        self.assertEqual(allowed["MatchedStatements"], [{
            "SourcePolicyId": policy_name, "SourcePolicyType": "user-managed",
            "StartPosition": {"Line": 4, "Column": 9}, "EndPosition": {"Line": 15, "Column": 10},
        }])
        self.assertEqual(allowed["MissingContextValues"], [])
        [specific] = allowed["ResourceSpecificResults"]
        self.assertEqual(specific["EvalResourceName"], self.TOPIC_ARN + "handson/x")
        self.assertEqual(specific["EvalResourceDecision"], "allowed")
        self.assertEqual(specific["MatchedStatements"], allowed["MatchedStatements"])

        [denied] = simulate("other/x")
        self.assertEqual(denied["EvalDecision"], "implicitDeny")
        self.assertEqual(denied["MatchedStatements"], [])
        # What the simulator says is what the user's key gets.
        without_resource = self.cli("iam", "simulate-principal-policy",
                                    "--policy-source-arn", self.user_arn(name),
                                    "--action-names", "iot:Publish", "s3:ListAllMyBuckets")
        self.assertEqual([(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"])
                          for r in without_resource["EvaluationResults"]],
                         [("iot:Publish", "*", "implicitDeny"),
                          ("s3:ListAllMyBuckets", "*", "implicitDeny")])

    def test_explicit_deny_names_only_the_deny(self):
        deny = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoSecrets", "Effect": "Deny", "Action": "iot:Publish",
             "Resource": "arn:aws:iot:*:*:topic/handson/secret"}]}, indent=2)
        name, _ = self.user_with_key(inline=deny,
                                     attached=["arn:aws:iam::aws:policy/AdministratorAccess"])
        results = self.iam.simulate_principal_policy(
            PolicySourceArn=self.user_arn(name), ActionNames=["iot:Publish"],
            ResourceArns=[self.TOPIC_ARN + "handson/secret",
                          self.TOPIC_ARN + "handson/open"])["EvaluationResults"]
        self.assertEqual([r["EvalDecision"] for r in results], ["explicitDeny", "allowed"])
        self.assertEqual(results[0]["MatchedStatements"], [{
            "SourcePolicyId": "inline", "SourcePolicyType": "user",
            "StartPosition": {"Line": 4, "Column": 5}, "EndPosition": {"Line": 9, "Column": 6},
        }])
        [admin] = results[1]["MatchedStatements"]
        self.assertEqual((admin["SourcePolicyId"], admin["SourcePolicyType"]),
                         ("AdministratorAccess", "aws-managed"))
        # AWS's document is one line: {"Version":"2012-10-17","Statement":[{...}]}
        self.assertEqual((admin["StartPosition"], admin["EndPosition"]),
                         ({"Line": 1, "Column": 38}, {"Line": 1, "Column": 84}))

    def test_context_entries_and_missing_context_values(self):
        name, _ = self.user_with_key(inline=statement_policy(
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
             "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
            {"Effect": "Allow", "Action": "iot:Publish",
             "Resource": "arn:aws:iot:*:*:topic/students/${aws:username}/*"}))
        arn = self.user_arn(name)
        [result] = self.iam.simulate_principal_policy(
            PolicySourceArn=arn, ActionNames=["s3:ListBucket"])["EvaluationResults"]
        self.assertEqual(result["EvalDecision"], "implicitDeny")
        self.assertEqual(result["MissingContextValues"], ["aws:SourceIp"])
        self.assertNotIn("ResourceSpecificResults", result)
        # With ResourceArns, AWS gives missing keys per resource.
        [result] = self.iam.simulate_principal_policy(
            PolicySourceArn=arn, ActionNames=["s3:ListBucket"],
            ResourceArns=["arn:aws:s3:::b"])["EvaluationResults"]
        self.assertEqual(result["MissingContextValues"], [])
        self.assertEqual(result["ResourceSpecificResults"][0]["MissingContextValues"],
                         ["aws:SourceIp"])
        for ip, decision in (("10.1.2.3", "allowed"), ("192.168.0.1", "implicitDeny")):
            [result] = self.iam.simulate_principal_policy(
                PolicySourceArn=arn, ActionNames=["s3:ListBucket"],
                ContextEntries=[{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": [ip],
                                 "ContextKeyType": "ip"}])["EvaluationResults"]
            self.assertEqual(result["EvalDecision"], decision, ip)
            self.assertEqual(result["MissingContextValues"], [])
        # ${aws:username} is the simulated user's name.
        results = self.iam.simulate_principal_policy(
            PolicySourceArn=arn, ActionNames=["iot:Publish"],
            ResourceArns=[self.TOPIC_ARN + "students/%s/log" % name,
                          self.TOPIC_ARN + "students/someone/log"])["EvaluationResults"]
        self.assertEqual([r["EvalDecision"] for r in results], ["allowed", "implicitDeny"])

    def test_policy_input_list_and_custom_policy(self):
        name, _ = self.user_with_key()
        extra = statement_policy({"Effect": "Allow", "Action": "iot:*", "Resource": "*"})
        [result] = self.iam.simulate_principal_policy(
            PolicySourceArn=self.user_arn(name), ActionNames=["iot:Publish"],
            PolicyInputList=[extra])["EvaluationResults"]
        self.assertEqual(result["EvalDecision"], "allowed")
        self.assertEqual(result["MatchedStatements"], [{
            "SourcePolicyId": "PolicyInputList.1", "SourcePolicyType": "none",
            "StartPosition": {"Line": 1, "Column": 41}, "EndPosition": {"Line": 1, "Column": 96},
        }])
        results = self.iam.simulate_custom_policy(
            PolicyInputList=[HANDSON_POLICY], ActionNames=["iot:Publish", "iot:Subscribe"],
            ResourceArns=[self.TOPIC_ARN + "handson/x"])["EvaluationResults"]
        self.assertEqual([r["EvalDecision"] for r in results], ["allowed", "implicitDeny"])
        with self.assertRaises(ClientError) as ctx:
            self.iam.simulate_custom_policy(PolicyInputList=['{"Statement": []}'],
                                            ActionNames=["iot:Publish"])
        self.assertClientError(ctx, "InvalidInput", 400)

    def test_pages(self):
        name, _ = self.user_with_key(inline=HANDSON_POLICY)
        request = dict(PolicySourceArn=self.user_arn(name),
                       ActionNames=["iot:Connect", "iot:Publish", "iot:Subscribe"],
                       ResourceArns=[self.TOPIC_ARN + "handson/a", self.TOPIC_ARN + "b"])
        first = self.iam.simulate_principal_policy(MaxItems=4, **request)
        self.assertTrue(first["IsTruncated"])
        self.assertEqual(len(first["EvaluationResults"]), 4)
        rest = self.iam.simulate_principal_policy(MaxItems=4, Marker=first["Marker"], **request)
        self.assertFalse(rest["IsTruncated"])
        every = self.iam.get_paginator("simulate_principal_policy").paginate(
            PaginationConfig={"PageSize": 2}, **request).build_full_result()["EvaluationResults"]
        self.assertEqual(every, first["EvaluationResults"] + rest["EvaluationResults"])
        self.assertEqual([(r["EvalActionName"], r["EvalResourceName"].rsplit("/", 1)[-1],
                           r["EvalDecision"]) for r in every],
                         [("iot:Connect", "a", "allowed"), ("iot:Connect", "b", "implicitDeny"),
                          ("iot:Publish", "a", "allowed"), ("iot:Publish", "b", "implicitDeny"),
                          ("iot:Subscribe", "a", "implicitDeny"),
                          ("iot:Subscribe", "b", "implicitDeny")])

    def test_errors(self):
        def refused(arn, code, status):
            with self.assertRaises(ClientError) as ctx:
                self.iam.simulate_principal_policy(PolicySourceArn=arn,
                                                   ActionNames=["iot:Publish"])
            return self.assertClientError(ctx, code, status)

        self.assertIn("nobody", refused(self.user_arn("nobody"), "NoSuchEntity", 404))
        refused("arn:aws:iam::%s:role/some-role" % ACCOUNT, "NoSuchEntity", 404)
        refused(ROOT_ARN, "InvalidInput", 400)
        refused("arn:aws:s3:::not-a-principal", "InvalidInput", 400)
        error = self.cli("iam", "simulate-principal-policy", "--policy-source-arn",
                         self.user_arn("nobody"), "--action-names", "iot:Publish", ok=False)
        self.assertIn("NoSuchEntity", error)

    def test_simulating_needs_iam_simulate_principal_policy_on_the_user(self):
        name, key = self.user_with_key(inline=statement_policy(
            {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy",
             "Resource": "arn:aws:iam::%s:user/${aws:username}" % ACCOUNT}))
        other, _ = self.user_with_key()
        iam = self.client("iam", key, region="us-east-1")
        [result] = iam.simulate_principal_policy(
            PolicySourceArn=self.user_arn(name),
            ActionNames=["iam:SimulatePrincipalPolicy"],
            ResourceArns=[self.user_arn(name)])["EvaluationResults"]
        self.assertEqual(result["EvalDecision"], "allowed")
        with self.assertRaises(ClientError) as ctx:
            iam.simulate_principal_policy(PolicySourceArn=self.user_arn(other),
                                          ActionNames=["iot:Publish"])
        message = self.assertClientError(ctx, "AccessDenied", 403)
        self.assertIn("iam:SimulatePrincipalPolicy on resource: " + self.user_arn(other), message)


class ConfigFileTests(IamCase):
    """A classroom's one file: a managed policy, students attached to it, an
    inline policy, and a user from before IAM who may still do anything."""

    @classmethod
    def setUpClass(cls):
        cls.config_dir = tempfile.mkdtemp(prefix="offcloud-e2e-iam-config-")
        config = os.path.join(cls.config_dir, "offcloud.json")
        with open(config, "w") as f:
            json.dump({
                "policies": [{"name": "handson-publish", "document": json.loads(HANDSON_POLICY)}],
                "users": [
                    {"name": "student01", "attached_policies": ["handson-publish"],
                     "access_keys": [{"access_key_id": "AKIASTUDENT01EXAMPLE",
                                      "secret_access_key": "student01-secret"}]},
                    {"name": "student02",
                     "policies": [{"name": "own-topic", "document": statement_policy(
                         {"Effect": "Allow", "Action": "iot:Publish",
                          "Resource": "arn:aws:iot:*:*:topic/students/${aws:username}/*"})}],
                     "access_keys": [{"access_key_id": "AKIASTUDENT02EXAMPLE",
                                      "secret_access_key": "student02-secret"}]},
                    {"name": "legacy", "access_keys": [{"access_key_id": "AKIALEGACY",
                                                        "secret_access_key": "legacy-secret"}]},
                ]}, f)
        cls.server_args = ("--config", config)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.config_dir, ignore_errors=True)

    def test_attached_managed_policy(self):
        iot = self.client("iot-data", ("AKIASTUDENT01EXAMPLE", "student01-secret"))
        iot.publish(topic=HANDSON_TOPIC, payload=RECORD.encode())
        with self.assertRaises(ClientError) as ctx:
            iot.publish(topic="other/topic", payload=b"{}")
        self.assertClientError(ctx, "ForbiddenException", 403)

    def test_inline_policy_with_variable(self):
        iot = self.client("iot-data", ("AKIASTUDENT02EXAMPLE", "student02-secret"))
        iot.publish(topic="students/student02/log", payload=b"{}")
        with self.assertRaises(ClientError) as ctx:
            iot.publish(topic="students/student01/log", payload=b"{}")
        self.assertClientError(ctx, "ForbiddenException", 403)

    def test_user_without_policies_may_do_anything(self):
        key = ("AKIALEGACY", "legacy-secret")
        self.client("iot-data", key).publish(topic="any/topic", payload=b"{}")
        self.client("s3", key).list_buckets()

    def test_config_users_show_in_the_api(self):
        users = {u["UserName"] for u in self.iam.list_users()["Users"]}
        self.assertTrue({"student01", "student02", "legacy"} <= users, users)
        keys = self.iam.list_access_keys(UserName="student01")["AccessKeyMetadata"]
        self.assertEqual([k["AccessKeyId"] for k in keys], ["AKIASTUDENT01EXAMPLE"])
        attached = self.iam.list_attached_user_policies(UserName="legacy")["AttachedPolicies"]
        self.assertEqual([p["PolicyName"] for p in attached], ["AdministratorAccess"])


class IamOffTests(IamCase):
    """--iam off: authenticated, never refused by policy."""
    server_args = ("--iam", "off")

    def test_user_without_policies_may_do_anything(self):
        _, key = self.user_with_key()
        self.client("iot-data", key).publish(topic="other/topic", payload=b"{}")
        self.client("s3", key).list_buckets()

    def test_unknown_keys_still_refused(self):
        with self.assertRaises(ClientError) as ctx:
            self.client("iot-data", ("AKIAUNKNOWN000000000", "x")).publish(
                topic="a", payload=b"{}")
        self.assertClientError(ctx, "UnrecognizedClientException", 403)


if __name__ == "__main__":
    unittest.main(verbosity=2)
