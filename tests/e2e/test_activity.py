"""End-to-end tests of offcloud's own signed endpoints behind the console's
Activity page and Firehose buffer view, against the real binary:

- GET /_offcloud/activity lists the requests offcloud served with the reason
  of each refusal as facts: a wrong secret (and the secret "test" where the
  key has another), an unknown key, a skewed clock, an IAM denial (which
  action on which ARN), a rule action that failed. Unsigned and badly signed
  requests to the endpoint are refused as AWS would.
- Visibility: the built-in test/test root sees every account's entries, an
  account's root its account's, an IAM user only its own.
- GET /_offcloud/firehose/buffer shows a stream's buffer (records, bytes,
  oldest arrival, next delivery, the last failure) and its deliveries; it is
  authorized as firehose:DescribeDeliveryStream and scoped to the caller's
  account and region.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_activity.py -v
"""

import datetime
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_accounts  # noqa: E402
from test_accounts import wait_for  # noqa: E402

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

TOKYO = "ap-northeast-1"
ALICE = "111122223333"
BOB = "444455556666"
ALICE_KEY = ("AKIAALICEROOT0000001", "alice-root-secret")
BOB_KEY = ("AKIABOBROOT00000001", "bob-root-secret")
STUDENT_KEY = ("AKIAALICESTUDENT0001", "alice-student-secret")
OTHER_STUDENT_KEY = ("AKIAALICESTUDENT0002", "alice-student2-secret")
CAREFUL_KEY = ("AKIAALICECAREFUL0001", "alice-careful-secret")
WATCHER_KEY = ("AKIAALICEWATCHER0001", "alice-watcher-secret")
# An inline policy whose Deny refuses one topic the attached policy allows.
NO_SECRETS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "iot:Publish",
     "Resource": "arn:aws:iot:*:*:topic/handson/other"},
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "iot:Publish",
     "Resource": "arn:aws:iot:*:*:topic/handson/secret*"}]}
TEACHER_KEY = ("test", "test")
PUBLISH_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "PublishHandsOn", "Effect": "Allow", "Action": ["iot:Publish"],
     "Resource": ["arn:aws:iot:%s:%s:topic/handson/*" % (TOKYO, ALICE)]}]}
CONFIG = {
    "accounts": [
        {"id": ALICE, "name": "alice",
         "root_access_key_id": ALICE_KEY[0], "root_secret_access_key": ALICE_KEY[1],
         "policies": [{"name": "publish-only", "document": PUBLISH_ONLY}],
         "users": [
             {"name": "student", "attached_policies": ["publish-only"], "access_keys": [
                 {"access_key_id": STUDENT_KEY[0], "secret_access_key": STUDENT_KEY[1]}]},
             {"name": "student2", "attached_policies": ["publish-only"], "access_keys": [
                 {"access_key_id": OTHER_STUDENT_KEY[0],
                  "secret_access_key": OTHER_STUDENT_KEY[1]}]},
             # May see one delivery stream's buffer (test_live.py).
             {"name": "watcher", "policies": [{"name": "one-stream", "document": {
                 "Version": "2012-10-17", "Statement": [{
                     "Effect": "Allow", "Action": "firehose:DescribeDeliveryStream",
                     "Resource": "arn:aws:firehose:%s:%s:deliverystream/live-buffer-stream"
                                 % (TOKYO, ALICE)}]}}],
              "access_keys": [{"access_key_id": WATCHER_KEY[0],
                               "secret_access_key": WATCHER_KEY[1]}]},
             {"name": "careful", "attached_policies": ["publish-only"],
              "policies": [{"name": "no-secrets", "document": NO_SECRETS}],
              "access_keys": [{"access_key_id": CAREFUL_KEY[0],
                               "secret_access_key": CAREFUL_KEY[1]}]}]},
        {"id": BOB, "name": "bob",
         "root_access_key_id": BOB_KEY[0], "root_secret_access_key": BOB_KEY[1]},
    ]
}


class OffcloudEndpointsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config_dir = tempfile.mkdtemp(prefix="offcloud-activity-")
        path = test_accounts.write_config(cls.config_dir, CONFIG)
        cls.server = harness.OffcloudServer(
            args=("--config", path, "--firehose-max-interval", "1"))
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    # -- helpers -----------------------------------------------------------

    client = test_accounts.AccountsTest.client

    def get(self, path, key=None, service="offcloud", region=TOKYO, headers=None):
        """A GET of `path` (with its query), signed with `key` when given."""
        send = dict(headers or {})
        if key:
            request = AWSRequest(method="GET", url=self.server.endpoint + path, headers=send)
            SigV4Auth(Credentials(key[0], key[1]), service, region).add_auth(request)
            send = dict(request.headers.items())
        conn = self.server.http()
        try:
            conn.request("GET", path, headers=send)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def activity(self, key, after=0):
        status, _, body = self.get("/_offcloud/activity?after=%d" % after, key)
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def entries(self, key, **match):
        """The key's visible entries that have every field of `match`."""
        found = []
        for entry in self.activity(key)["entries"]:
            if all(entry.get(k) == v for k, v in match.items()):
                found.append(entry)
        return found

    def wait_entry(self, key, **match):
        found = wait_for(lambda: self.entries(key, **match), timeout=10)
        self.assertTrue(found, "no entry %r among %s" % (
            match, json.dumps(self.activity(key)["entries"][-10:], indent=1)))
        return found[-1]

    # -- the activity endpoint ----------------------------------------------

    def test_unsigned_and_badly_signed_requests_are_refused(self):
        status, headers, body = self.get("/_offcloud/activity")
        self.assertEqual(status, 403, body)
        self.assertEqual(headers.get("x-amzn-ErrorType"), "MissingAuthenticationTokenException")
        status, headers, body = self.get("/_offcloud/activity", ("test", "wrong"))
        self.assertEqual(status, 403, body)
        self.assertEqual(headers.get("x-amzn-ErrorType"), "InvalidSignatureException")
        status, _, body = self.get("/_offcloud/activity?after=x", TEACHER_KEY)
        self.assertEqual(status, 400, body)
        self.assertIn(b"after", body)
        status, _, body = self.get("/_offcloud/activity?limit=0", TEACHER_KEY)
        self.assertEqual(status, 400, body)
        status, _, body = self.get("/_offcloud/nothing-here", TEACHER_KEY)
        self.assertEqual(status, 404, body)
        # The endpoint's own polls are not listed.
        self.assertEqual(self.entries(TEACHER_KEY, service="offcloud"), [])

    def test_a_wrong_secret_says_what_differed(self):
        sts = self.client("sts", (STUDENT_KEY[0], "not-the-secret"))
        with self.assertRaises(Exception):
            sts.get_caller_identity()
        entry = self.wait_entry(TEACHER_KEY, access_key_id=STUDENT_KEY[0],
                                error_code="SignatureDoesNotMatch")
        self.assertEqual(entry["status"], 403)
        self.assertEqual(entry["service"], "sts")
        self.assertEqual(entry["operation"], "GetCallerIdentity")  # named though refused
        self.assertEqual(entry["account_id"], ALICE)
        self.assertEqual(entry["caller_arn"], "arn:aws:iam::%s:user/student" % ALICE)
        reason = entry["reason"]
        self.assertEqual(reason["kind"], "signature")
        self.assertEqual(reason["failure"], "mismatch")
        self.assertTrue(reason["key_known"])
        self.assertFalse(reason["secret_is_test"])
        self.assertEqual(reason["region"], TOKYO)
        self.assertEqual(reason["service"], "sts")
        self.assertLessEqual(abs(reason["skew_seconds"]), 60)
        self.assertIn("POST\n/\n", reason["canonical_request"])
        self.assertTrue(reason["string_to_sign"].startswith("AWS4-HMAC-SHA256\n"))
        self.assertTrue(entry["source"].startswith("127.0.0.1:"))

        # LocalStack's "test" secret left in place of the key's own is named.
        with self.assertRaises(Exception):
            self.client("sts", (STUDENT_KEY[0], "test")).get_caller_identity()
        entry = wait_for(lambda: [e for e in self.entries(TEACHER_KEY, access_key_id=STUDENT_KEY[0])
                                  if e.get("reason", {}).get("secret_is_test")])
        self.assertTrue(entry)

    def test_an_unknown_key_and_a_skewed_clock(self):
        with self.assertRaises(Exception):
            self.client("sts", ("AKIANOSUCHKEY0000000", "x")).get_caller_identity()
        entry = self.wait_entry(TEACHER_KEY, access_key_id="AKIANOSUCHKEY0000000")
        self.assertEqual(entry["reason"]["failure"], "unknown_key")
        self.assertFalse(entry["reason"]["key_known"])
        self.assertEqual(entry["account_id"], "")  # nobody's: only the teacher sees it
        self.assertEqual(self.entries(ALICE_KEY, access_key_id="AKIANOSUCHKEY0000000"), [])

        # Signed an hour ago (a wrong clock): the skew in seconds.
        past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))
        request = AWSRequest(method="GET", url=self.server.endpoint + "/", headers={})
        auth = SigV4Auth(Credentials(*BOB_KEY), "s3", TOKYO)
        request.context["timestamp"] = past.strftime("%Y%m%dT%H%M%SZ")
        request.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        auth._modify_request_before_signing(request)
        auth.add_auth = None  # add_auth would stamp the current time
        string_to_sign = auth.string_to_sign(request, auth.canonical_request(request))
        signature = auth.signature(string_to_sign, request)
        auth._inject_signature_to_request(request, signature)
        conn = self.server.http()
        conn.request("GET", "/", headers=dict(request.headers.items()))
        response = conn.getresponse()
        response.read()
        conn.close()
        self.assertEqual(response.status, 403)
        entry = self.wait_entry(BOB_KEY, error_code="RequestTimeTooSkewed")
        self.assertEqual(entry["reason"]["failure"], "skewed")
        self.assertLess(entry["reason"]["skew_seconds"], -3500)
        self.assertEqual(entry["caller_arn"], "arn:aws:iam::%s:root" % BOB)

    def test_access_denied_names_the_action_and_the_arn(self):
        s3 = self.client("s3", STUDENT_KEY)
        with self.assertRaises(Exception):
            s3.list_buckets()
        entry = self.wait_entry(STUDENT_KEY, error_code="AccessDenied", service="s3")
        self.assertEqual(entry["status"], 403)
        self.assertEqual(entry["reason"], {"kind": "denied", "action": "s3:ListAllMyBuckets",
                                           "resource": "arn:aws:s3:::*", "explicit_deny": False})
        data = self.client("iot-data", STUDENT_KEY)
        data.publish(topic="handson/ok", payload=b"{}")
        with self.assertRaises(Exception):
            data.publish(topic="other/x", payload=b"{}")
        entry = self.wait_entry(STUDENT_KEY, error_code="ForbiddenException")
        self.assertEqual(entry["reason"]["action"], "iot:Publish")
        self.assertEqual(entry["reason"]["resource"],
                         "arn:aws:iot:%s:%s:topic/other/x" % (TOKYO, ALICE))
        ok = self.wait_entry(STUDENT_KEY, operation="Publish", status=200)
        self.assertEqual(ok["error_code"], "")
        self.assertNotIn("reason", ok)

    def test_an_explicit_deny_names_its_policy_and_statement(self):
        data = self.client("iot-data", CAREFUL_KEY)
        data.publish(topic="handson/fine", payload=b"{}")
        for topic, sid, statement in (("handson/secret-1", "NoSecrets", 2),
                                      ("handson/other", "", 1)):
            with self.assertRaises(Exception):
                data.publish(topic=topic, payload=b"{}")
            resource = "arn:aws:iot:%s:%s:topic/%s" % (TOKYO, ALICE, topic)
            entry = self.wait_entry(CAREFUL_KEY, error_code="ForbiddenException",
                                    resource=resource)
            self.assertEqual(entry["reason"], {
                "kind": "denied", "action": "iot:Publish", "resource": resource,
                "explicit_deny": True, "policy": "no-secrets", "policy_inline": True,
                "statement": statement, "sid": sid})
        # AWS's own message stays as AWS words it, naming no policy.
        with self.assertRaises(Exception) as refused:  # botocore's ForbiddenException
            data.publish(topic="handson/secret-2", payload=b"{}")
        self.assertIn("with an explicit deny", str(refused.exception))
        self.assertNotIn("no-secrets", str(refused.exception))

    def test_who_sees_what(self):
        # One request by each of four callers in two accounts.
        self.client("s3", BOB_KEY).list_buckets()
        self.client("s3", ALICE_KEY).list_buckets()
        with self.assertRaises(Exception):
            self.client("s3", OTHER_STUDENT_KEY).list_buckets()
        with self.assertRaises(Exception):
            self.client("s3", STUDENT_KEY).list_buckets()
        bob_arn = "arn:aws:iam::%s:root" % BOB
        alice_arn = "arn:aws:iam::%s:root" % ALICE
        student_arn = "arn:aws:iam::%s:user/student" % ALICE
        student2_arn = "arn:aws:iam::%s:user/student2" % ALICE
        teacher = wait_for(lambda: {e["caller_arn"] for e in self.activity(TEACHER_KEY)["entries"]}
                           >= {bob_arn, alice_arn, student_arn, student2_arn})
        self.assertTrue(teacher, "the teacher sees every account")
        alice = {e["caller_arn"] for e in self.activity(ALICE_KEY)["entries"]}
        self.assertTrue({alice_arn, student_arn, student2_arn} <= alice, alice)
        self.assertNotIn(bob_arn, alice)
        self.assertEqual({e["account_id"] for e in self.activity(ALICE_KEY)["entries"]}, {ALICE})
        self.assertEqual({e["caller_arn"] for e in self.activity(BOB_KEY)["entries"]}, {bob_arn})
        self.assertEqual({e["caller_arn"] for e in self.activity(STUDENT_KEY)["entries"]},
                         {student_arn})

    def test_polling_after_a_sequence_number(self):
        first = self.activity(TEACHER_KEY)
        self.assertGreater(first["last_seq"], 0)
        self.assertGreater(first["server_time_ms"], 0)
        self.client("s3", ALICE_KEY).list_buckets()
        later = wait_for(lambda: self.activity(TEACHER_KEY, first["last_seq"])["entries"])
        self.assertTrue(later)
        self.assertTrue(all(e["seq"] > first["last_seq"] for e in later))
        self.assertEqual([e["seq"] for e in later], sorted(e["seq"] for e in later))
        status, _, body = self.get("/_offcloud/activity?limit=1", TEACHER_KEY)
        self.assertEqual(len(json.loads(body)["entries"]), 1)
        self.assertTrue(json.loads(body)["missed"])
        # A number from before a restart starts again from the beginning.
        self.assertTrue(self.activity(TEACHER_KEY, 10 ** 12)["entries"])

    def test_a_failed_rule_action_is_reported_to_the_account(self):
        iot = self.client("iot", ALICE_KEY)
        iot.create_topic_rule(ruleName="toMissingStream", topicRulePayload={
            "sql": "SELECT * FROM 'activity/rule'",
            "actions": [{"firehose": {"deliveryStreamName": "no-such-stream",
                                      "roleArn": "arn:aws:iam::%s:role/r" % ALICE}}]})
        self.client("iot-data", ALICE_KEY).publish(topic="activity/rule", payload=b'{"a": 1}')
        entry = self.wait_entry(ALICE_KEY, error_code="RuleActionFailed")
        self.assertEqual(entry["caller_arn"],
                         "arn:aws:iot:%s:%s:rule/toMissingStream" % (TOKYO, ALICE))
        self.assertEqual(entry["reason"]["kind"], "rule")
        self.assertEqual(entry["reason"]["stage"], "action")
        self.assertEqual(entry["reason"]["action"], "FirehoseAction")
        self.assertEqual(entry["reason"]["resource"], "no-such-stream")
        self.assertEqual(entry["reason"]["topic"], "activity/rule")
        self.assertIn("no-such-stream", entry["reason"]["message"])
        self.assertTrue(self.entries(TEACHER_KEY, error_code="RuleActionFailed"))
        self.assertEqual(self.entries(BOB_KEY, error_code="RuleActionFailed"), [])
        self.assertEqual(self.entries(STUDENT_KEY, error_code="RuleActionFailed"), [])

    # -- the Firehose buffer view -------------------------------------------

    def buffer(self, key, stream, region=TOKYO):
        path = "/_offcloud/firehose/buffer?stream=" + urllib.parse.quote(stream, safe="")
        status, headers, body = self.get(path, key,
                                         service="firehose", region=region)
        return status, headers, json.loads(body) if body else None

    def test_buffer_before_and_after_delivery(self):
        bucket, stream = "activity-buffer-bucket", "activity-buffer-stream"
        firehose = self.client("firehose", ALICE_KEY)
        firehose.create_delivery_stream(
            DeliveryStreamName=stream, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::%s:role/r" % ALICE,
                "BucketARN": "arn:aws:s3:::" + bucket,
                "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60}})
        status, _, view = self.buffer(ALICE_KEY, stream)
        self.assertEqual(status, 200, view)
        self.assertEqual(view["records"], 0)
        self.assertEqual(view["next_delivery_ms"], 0)
        self.assertEqual(view["interval_s"], 1)  # --firehose-max-interval 1
        self.assertEqual(view["size_bytes"], 5 << 20)
        self.assertEqual(view["arn"],
                         "arn:aws:firehose:%s:%s:deliverystream/%s" % (TOKYO, ALICE, stream))
        # The bucket does not exist yet: the records wait in the buffer.
        before = int(time.time() * 1000)
        firehose.put_record_batch(DeliveryStreamName=stream,
                                  Records=[{"Data": b'{"n": 1}\n'}, {"Data": b'{"n": 2}\n'}])
        status, _, view = self.buffer(ALICE_KEY, stream)
        self.assertEqual((view["records"], view["bytes"]), (2, 18))
        self.assertGreaterEqual(view["oldest_arrival_ms"], before - 1000)
        self.assertGreaterEqual(view["next_delivery_ms"], view["oldest_arrival_ms"] + 1000)
        failing = wait_for(lambda: self.buffer(ALICE_KEY, stream)[2]["failures"] > 0)
        self.assertTrue(failing)
        view = self.buffer(ALICE_KEY, stream)[2]
        self.assertIn("NoSuchBucket", view["last_error"])
        self.assertEqual(view["deliveries"], [])
        self.assertEqual(view["records"], 2)

        self.client("s3", ALICE_KEY).create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": TOKYO})
        delivered = wait_for(lambda: self.buffer(ALICE_KEY, stream)[2]["deliveries"], timeout=40)
        self.assertTrue(delivered)
        view = self.buffer(ALICE_KEY, stream)[2]
        self.assertEqual((view["records"], view["bytes"], view["failures"]), (0, 0, 0))
        self.assertEqual(view["last_error"], "")
        [delivery] = view["deliveries"]
        self.assertEqual((delivery["records"], delivery["bytes"]), (2, 18))
        body = self.client("s3", ALICE_KEY).get_object(Bucket=bucket, Key=delivery["key"])
        self.assertEqual(body["Body"].read(), b'{"n": 1}\n{"n": 2}\n')

    def test_buffer_view_is_scoped_and_authorized(self):
        stream = "activity-scoped-stream"
        self.client("firehose", ALICE_KEY).create_delivery_stream(
            DeliveryStreamName=stream,
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::%s:role/r" % ALICE, "BucketARN": "arn:aws:s3:::b"})
        self.assertEqual(self.buffer(ALICE_KEY, stream)[0], 200)
        # Another region, another account: no such stream.
        status, headers, body = self.buffer(ALICE_KEY, stream, region="us-east-1")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "ResourceNotFoundException")
        self.assertEqual(self.buffer(BOB_KEY, stream)[2]["__type"], "ResourceNotFoundException")
        # A user whose policies allow only iot:Publish.
        status, _, body = self.buffer(STUDENT_KEY, stream)
        self.assertEqual(status, 403)  # as the router refuses every Firehose operation
        self.assertEqual(body["__type"], "AccessDeniedException")
        self.assertIn("firehose:DescribeDeliveryStream", body["message"])
        self.assertIn(":deliverystream/" + stream, body["message"])
        # Unsigned, and a bad name.
        status, headers, _ = self.buffer(None, stream)
        self.assertEqual(status, 403)
        self.assertEqual(headers.get("x-amzn-ErrorType"), "MissingAuthenticationTokenException")
        status, _, body = self.buffer(ALICE_KEY, "bad/name")
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "ValidationException")


if __name__ == "__main__":
    unittest.main(verbosity=2)
