"""End-to-end tests of the IoT Data plane (botocore "iot-data") against the
real offcloud binary, with the aws CLI v1 and boto3 as the hands-on uses them.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_iotdata.py -v
"""

import contextlib
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
import types
import unittest
import uuid
from unittest import mock

import botocore
import botocore.auth
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HANDSON_TOPIC = "handson/analysisLogData"

# The hands-on's records, as its script builds them.
HANDSON_RECORDS = [
    {"timestamp": "2021-01-10 15:41:43", "face_id": 0, "AgeRange-Low": 22, "AgeRange-High": 34,
     "Gender": "Female", "Smile": True, "Calm": 72.5},
    {"timestamp": "2021-01-10 15:41:43", "face_id": 1, "AgeRange-Low": 22, "AgeRange-High": 34,
     "Gender": "Male", "Smile": False, "Calm": 72.5},
    {"timestamp": "2021-01-10 15:41:43", "face_id": 2, "AgeRange-Low": 22, "AgeRange-High": 34,
     "Gender": "Female", "Smile": False, "Calm": 72.5},
]

MAX_PAYLOAD = 128 * 1024


def unique_prefix(name):
    return "e2e/%s-%s" % (name, uuid.uuid4().hex[:8])


def event_name(client, event, operation):
    # botocore names events by the hyphenized service id ("iot-data-plane"),
    # not the client name.
    return "%s.%s.%s" % (event, client.meta.service_model.service_id.hyphenize(), operation)


@contextlib.contextmanager
def signing_clock(offset):
    """Makes botocore sign as if the clock were off by `offset` (a timedelta)."""
    if hasattr(botocore.auth, "get_current_datetime"):
        # botocore >= 1.35 reads the time through this module-level import.
        real = botocore.compat.get_current_datetime

        def skewed(*args, **kwargs):
            return real(*args, **kwargs) + offset

        with mock.patch.object(botocore.auth, "get_current_datetime", skewed):
            yield
    else:
        # Older botocore calls datetime.datetime.utcnow() in auth.py.
        real_datetime = datetime.datetime

        class SkewedDatetime(real_datetime):
            @classmethod
            def utcnow(cls):
                return real_datetime.utcnow() + offset

            @classmethod
            def now(cls, tz=None):
                return real_datetime.now(tz) + offset

        fake = types.SimpleNamespace(**{k: getattr(datetime, k) for k in dir(datetime)
                                        if not k.startswith("__")})
        fake.datetime = SkewedDatetime
        with mock.patch.object(botocore.auth, "datetime", fake):
            yield


class IotDataCase(unittest.TestCase):
    """One server for the whole class; tests use distinct topics."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = harness.OffcloudServer(args=cls.server_args)
        cls.server.__enter__()
        cls.iot = cls.server.boto3_client("iot-data")

    @classmethod
    def tearDownClass(cls):
        try:
            # A crash during the tests shows up here as a non-zero exit.
            cls.server.stop()
        finally:
            cls.server.__exit__(None, None, None)

    def assertClientError(self, ctx, code, status):
        err = ctx.exception.response.get("Error", {})
        meta = ctx.exception.response.get("ResponseMetadata", {})
        detail = "got code=%r status=%r message=%r" % (
            err.get("Code"), meta.get("HTTPStatusCode"), err.get("Message"))
        self.assertEqual(err.get("Code"), code, detail)
        self.assertEqual(meta.get("HTTPStatusCode"), status, detail)

    def assertOk(self, response):
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 200, response)


class CliPublishTests(IotDataCase):
    def test_cli_publish_handson_record(self):
        payload = json.dumps(HANDSON_RECORDS[0])
        result = self.server.aws("iot-data", "publish", "--topic", HANDSON_TOPIC,
                                 "--payload", payload)
        self.assertEqual(result.returncode, 0,
                         "stdout=%r stderr=%r" % (result.stdout, result.stderr))

    def test_cli_publish_sends_payload_raw(self):
        # CLI v1 sends --payload as the raw bytes; a retained copy shows what
        # the server actually stored.
        topic = unique_prefix("cli") + "/analysisLogData"
        payload = json.dumps(HANDSON_RECORDS[1])
        result = self.server.aws("iot-data", "publish", "--topic", topic, "--qos", "1",
                                 "--retain", "--payload", payload)
        self.assertEqual(result.returncode, 0,
                         "stdout=%r stderr=%r" % (result.stdout, result.stderr))
        got = self.iot.get_retained_message(topic=topic)
        self.assertEqual(got["payload"], payload.encode("utf-8"))
        self.assertEqual(got["qos"], 1)

    def test_cli_wrong_secret_is_refused(self):
        result = self.server.aws("iot-data", "publish", "--topic", HANDSON_TOPIC,
                                 "--payload", "{}",
                                 env_extra={"AWS_SECRET_ACCESS_KEY": "not-the-secret"})
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertIn("InvalidSignatureException", result.stderr)


class PublishTests(IotDataCase):
    def test_handson_records_qos0(self):
        for record in HANDSON_RECORDS:
            with self.subTest(face_id=record["face_id"]):
                self.assertOk(self.iot.publish(topic=HANDSON_TOPIC, qos=0,
                                               payload=json.dumps(record)))

    def test_publish_qos1(self):
        self.assertOk(self.iot.publish(topic=HANDSON_TOPIC, qos=1,
                                       payload=json.dumps(HANDSON_RECORDS[2])))

    def test_publish_without_qos(self):
        self.assertOk(self.iot.publish(topic=HANDSON_TOPIC, payload=b"x"))

    def test_publish_empty_payload_not_retained(self):
        self.assertOk(self.iot.publish(topic=HANDSON_TOPIC, qos=0, payload=b""))

    def test_binary_payload_round_trip(self):
        # Every byte value, including NUL and bytes that are not UTF-8.
        payload = bytes(range(256)) * 4 + b"\xff\xfe\x00\xc3\x28"
        topic = unique_prefix("binary")
        self.assertOk(self.iot.publish(topic=topic, qos=1, retain=True, payload=payload))
        got = self.iot.get_retained_message(topic=topic)
        self.assertEqual(got["payload"], payload)

    def test_payload_at_limit_accepted(self):
        topic = unique_prefix("limit")
        self.assertOk(self.iot.publish(topic=topic, retain=True, payload=b"a" * MAX_PAYLOAD))
        got = self.iot.get_retained_message(topic=topic)
        self.assertEqual(len(got["payload"]), MAX_PAYLOAD)

    def test_payload_one_byte_over_limit_rejected(self):
        with self.assertRaises(ClientError) as ctx:
            self.iot.publish(topic=unique_prefix("limit"), payload=b"a" * (MAX_PAYLOAD + 1))
        self.assertClientError(ctx, "RequestEntityTooLargeException", 413)

    def test_payload_200kib_rejected(self):
        topic = unique_prefix("big")
        with self.assertRaises(ClientError) as ctx:
            self.iot.publish(topic=topic, qos=0, retain=True, payload=b"z" * (200 * 1024))
        self.assertClientError(ctx, "RequestEntityTooLargeException", 413)
        # Refused means not stored either.
        with self.assertRaises(ClientError) as ctx:
            self.iot.get_retained_message(topic=topic)
        self.assertClientError(ctx, "ResourceNotFoundException", 404)
        # The connection that carried the oversized body is not the end of it.
        self.assertOk(self.iot.publish(topic=HANDSON_TOPIC, payload=b"after-413"))

    def test_invalid_qos_rejected(self):
        # botocore checks only qos >= 0 client-side; switch validation off so
        # the server is the one that must refuse.
        client = self.server.boto3_client("iot-data",
                                          config=Config(parameter_validation=False))
        for qos in (2, 3):
            with self.subTest(qos=qos):
                with self.assertRaises(ClientError) as ctx:
                    client.publish(topic=HANDSON_TOPIC, qos=qos, payload=b"{}")
                self.assertClientError(ctx, "InvalidRequestException", 400)


class TopicValidationTests(IotDataCase):
    def assertTopicRejected(self, topic, codes=("InvalidRequestException",)):
        with self.assertRaises(ClientError, msg="topic %r was accepted" % topic) as ctx:
            self.iot.publish(topic=topic, qos=0, payload=b"{}")
        err = ctx.exception.response["Error"]
        status = ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"]
        self.assertIn(err["Code"], codes, "topic %r: %r" % (topic, err))
        want_status = {"InvalidRequestException": 400, "ForbiddenException": 403}[err["Code"]]
        self.assertEqual(status, want_status, "topic %r: %r" % (topic, err))

    def test_wildcards_rejected(self):
        for topic in ("e2e/+/temp", "e2e/#", "#", "+", "e2e/a+b", "e2e/a#"):
            with self.subTest(topic=topic):
                self.assertTopicRejected(topic)

    def test_seven_slashes_accepted(self):
        self.assertOk(self.iot.publish(topic="a/b/c/d/e/f/g/h", payload=b"{}"))

    def test_eight_slashes_rejected(self):
        self.assertTopicRejected("a/b/c/d/e/f/g/h/i")

    def test_256_bytes_accepted(self):
        self.assertOk(self.iot.publish(topic="t" * 256, payload=b"{}"))

    def test_257_bytes_rejected(self):
        self.assertTopicRejected("t" * 257)

    def test_length_counts_utf8_bytes_not_characters(self):
        # 129 characters, 258 bytes.
        self.assertTopicRejected("\u00e9" * 129)

    def test_reserved_aws_topic_rejected(self):
        self.assertTopicRejected("$aws/other",
                                 codes=("InvalidRequestException", "ForbiddenException"))
        self.assertTopicRejected("$aws/events/presence/connected/x",
                                 codes=("InvalidRequestException", "ForbiddenException"))

    def test_reserved_things_and_rules_topics_accepted(self):
        self.assertOk(self.iot.publish(topic="$aws/things/e2e-thing/shadow/update",
                                       payload=b'{"state":{"reported":{"on":true}}}'))
        self.assertOk(self.iot.publish(topic="$aws/rules/e2e_rule/handson/analysisLogData",
                                       payload=json.dumps(HANDSON_RECORDS[0])))

    def test_error_wire_shape(self):
        # What botocore parses: x-amzn-ErrorType names the code, the JSON body
        # carries the message.
        path = "/topics/e2e%2F%2B?qos=0"
        headers = self.server.signed_headers("POST", path, body=b"{}")
        conn = self.server.http()
        try:
            conn.request("POST", path, body=b"{}", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        self.assertEqual(resp.status, 400, body)
        self.assertEqual((resp.getheader("x-amzn-ErrorType") or "").split(":")[0],
                         "InvalidRequestException", resp.getheaders())
        parsed = json.loads(body)
        self.assertIsInstance(parsed.get("message"), str, parsed)
        self.assertTrue(parsed["message"], parsed)


class RetainedTests(IotDataCase):
    def test_retain_then_get(self):
        topic = unique_prefix("retain") + "/analysisLogData"
        payload = json.dumps(HANDSON_RECORDS[0]).encode()
        before_ms = int(time.time() * 1000)
        self.assertOk(self.iot.publish(topic=topic, qos=1, retain=True, payload=payload))
        after_ms = int(time.time() * 1000)
        got = self.iot.get_retained_message(topic=topic)
        self.assertEqual(got["topic"], topic)
        self.assertEqual(got["payload"], payload)
        self.assertEqual(got["qos"], 1)
        self.assertGreaterEqual(got["lastModifiedTime"], before_ms - 2000)
        self.assertLessEqual(got["lastModifiedTime"], after_ms + 2000)

    def test_retain_false_is_not_stored(self):
        topic = unique_prefix("noretain")
        self.assertOk(self.iot.publish(topic=topic, retain=False, payload=b"v"))
        with self.assertRaises(ClientError) as ctx:
            self.iot.get_retained_message(topic=topic)
        self.assertClientError(ctx, "ResourceNotFoundException", 404)

    def test_retain_overwrites(self):
        topic = unique_prefix("overwrite")
        self.assertOk(self.iot.publish(topic=topic, qos=1, retain=True, payload=b"first"))
        self.assertOk(self.iot.publish(topic=topic, qos=0, retain=True, payload=b"second"))
        got = self.iot.get_retained_message(topic=topic)
        self.assertEqual(got["payload"], b"second")
        self.assertEqual(got["qos"], 0)

    def test_list_shows_retained_topics(self):
        prefix = unique_prefix("list")
        payloads = {prefix + "/a": b"1", prefix + "/b": b"22", prefix + "/c": b"333"}
        for topic, payload in payloads.items():
            self.assertOk(self.iot.publish(topic=topic, qos=1, retain=True, payload=payload))
        listed = self.list_all()
        for topic, payload in payloads.items():
            with self.subTest(topic=topic):
                self.assertIn(topic, listed)
                entry = listed[topic]
                self.assertEqual(entry["payloadSize"], len(payload))
                self.assertEqual(entry["qos"], 1)
                self.assertIsInstance(entry["lastModifiedTime"], int)

    def test_list_paginates_without_duplicates(self):
        prefix = unique_prefix("page")
        topics = ["%s/%d" % (prefix, i) for i in range(7)]
        for topic in topics:
            self.assertOk(self.iot.publish(topic=topic, retain=True, payload=b"p"))
        seen = []
        pages = 0
        kwargs = {"maxResults": 2}
        while True:
            page = self.iot.list_retained_messages(**kwargs)
            pages += 1
            self.assertLessEqual(len(page["retainedTopics"]), 2, page)
            seen += [t["topic"] for t in page["retainedTopics"]]
            if not page.get("nextToken"):
                break
            self.assertLess(pages, 1000, "pagination does not end")
            kwargs = {"maxResults": 2, "nextToken": page["nextToken"]}
        self.assertEqual(len(seen), len(set(seen)), "duplicate topics across pages: %r" % seen)
        for topic in topics:
            self.assertIn(topic, seen)
        self.assertGreaterEqual(pages, 4)

    def test_empty_retained_payload_deletes(self):
        topic = unique_prefix("delete")
        self.assertOk(self.iot.publish(topic=topic, retain=True, payload=b"keep me"))
        self.assertEqual(self.iot.get_retained_message(topic=topic)["payload"], b"keep me")
        self.assertOk(self.iot.publish(topic=topic, retain=True, payload=b""))
        with self.assertRaises(ClientError) as ctx:
            self.iot.get_retained_message(topic=topic)
        self.assertClientError(ctx, "ResourceNotFoundException", 404)
        self.assertNotIn(topic, self.list_all())

    def test_get_unknown_topic(self):
        with self.assertRaises(ClientError) as ctx:
            self.iot.get_retained_message(topic=unique_prefix("never-published"))
        self.assertClientError(ctx, "ResourceNotFoundException", 404)

    def test_topic_with_space_and_non_ascii(self):
        # Legal topic characters that need percent-encoding in the path (and
        # a second encoding in the SigV4 canonical URI).
        topic = unique_prefix("enc") + "/\u6e29\u5ea6 sensor=1&x"
        self.assertOk(self.iot.publish(topic=topic, retain=True, payload=b"21.5"))
        got = self.iot.get_retained_message(topic=topic)
        self.assertEqual(got["topic"], topic)
        self.assertEqual(got["payload"], b"21.5")

    def list_all(self):
        listed = {}
        kwargs = {}
        for _ in range(1000):
            page = self.iot.list_retained_messages(**kwargs)
            for entry in page["retainedTopics"]:
                listed[entry["topic"]] = entry
            if not page.get("nextToken"):
                return listed
            kwargs = {"nextToken": page["nextToken"]}
        self.fail("pagination does not end")


class PersistenceTests(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="offcloud-e2e-restart-")
        self.addCleanup(shutil.rmtree, self.data_dir, True)

    def test_retained_messages_survive_restart(self):
        kept = {"e2e/restart/binary": (bytes(range(256)), 1),
                "e2e/restart/json": (json.dumps(HANDSON_RECORDS[0]).encode(), 0)}
        with harness.OffcloudServer(data_dir=self.data_dir) as server:
            iot = server.boto3_client("iot-data")
            for topic, (payload, qos) in kept.items():
                iot.publish(topic=topic, qos=qos, retain=True, payload=payload)
            iot.publish(topic="e2e/restart/deleted", retain=True, payload=b"gone soon")
            iot.publish(topic="e2e/restart/deleted", retain=True, payload=b"")
            before = {t: iot.get_retained_message(topic=t) for t in kept}
            server.stop()

        with harness.OffcloudServer(data_dir=self.data_dir) as server:
            iot = server.boto3_client("iot-data")
            for topic, (payload, qos) in kept.items():
                with self.subTest(topic=topic):
                    got = iot.get_retained_message(topic=topic)
                    self.assertEqual(got["payload"], payload)
                    self.assertEqual(got["qos"], qos)
                    self.assertEqual(got["lastModifiedTime"], before[topic]["lastModifiedTime"])
            with self.assertRaises(ClientError) as ctx:
                iot.get_retained_message(topic="e2e/restart/deleted")
            self.assertEqual(ctx.exception.response["Error"]["Code"], "ResourceNotFoundException")
            listed = {t["topic"] for t in iot.list_retained_messages()["retainedTopics"]}
            self.assertEqual(listed, set(kept))
            server.stop()


class AuthTests(IotDataCase):
    def publish_with(self, client, topic=HANDSON_TOPIC, **kw):
        return client.publish(topic=topic, qos=0, payload=json.dumps(HANDSON_RECORDS[0]), **kw)

    def test_wrong_secret(self):
        client = self.server.boto3_client("iot-data", secret_key="wrong-secret")
        with self.assertRaises(ClientError) as ctx:
            self.publish_with(client)
        self.assertClientError(ctx, "InvalidSignatureException", 403)

    def test_unknown_access_key(self):
        client = self.server.boto3_client("iot-data", access_key="AKIAE2EUNKNOWN000000")
        with self.assertRaises(ClientError) as ctx:
            self.publish_with(client)
        self.assertClientError(ctx, "UnrecognizedClientException", 403)

    def test_any_region_is_accepted(self):
        for region in ("us-east-1", "eu-west-1"):
            with self.subTest(region=region):
                self.assertOk(self.publish_with(self.server.boto3_client("iot-data",
                                                                         region=region)))

    def capture_amz_date(self, client):
        sent = {}

        def capture(request, **_):
            sent["x-amz-date"] = request.headers.get("X-Amz-Date")

        client.meta.events.register(event_name(client, "before-send", "Publish"), capture)
        return sent

    def assertSentSkew(self, sent, offset):
        # Guards the clock patch itself: if botocore stops reading the time
        # where we patch it, this says so instead of testing nothing.
        stamp = sent["x-amz-date"]
        if isinstance(stamp, bytes):
            stamp = stamp.decode()
        signed = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        self.assertLess(abs((signed - now) - offset), datetime.timedelta(seconds=60),
                        "X-Amz-Date %s is not skewed by %s" % (stamp, offset))

    def test_signature_20_minutes_old_is_expired(self):
        client = self.server.boto3_client("iot-data")
        sent = self.capture_amz_date(client)
        offset = -datetime.timedelta(minutes=20)
        with signing_clock(offset):
            with self.assertRaises(ClientError) as ctx:
                self.publish_with(client)
        self.assertSentSkew(sent, offset)
        self.assertClientError(ctx, "InvalidSignatureException", 403)
        message = ctx.exception.response["Error"]["Message"]
        self.assertTrue(message.startswith("Signature expired"), message)

    def test_signature_20_minutes_ahead_is_refused(self):
        client = self.server.boto3_client("iot-data")
        sent = self.capture_amz_date(client)
        offset = datetime.timedelta(minutes=20)
        with signing_clock(offset):
            with self.assertRaises(ClientError) as ctx:
                self.publish_with(client)
        self.assertSentSkew(sent, offset)
        self.assertClientError(ctx, "InvalidSignatureException", 403)

    def test_small_clock_skew_is_accepted(self):
        client = self.server.boto3_client("iot-data")
        sent = self.capture_amz_date(client)
        offset = -datetime.timedelta(minutes=2)
        with signing_clock(offset):
            self.assertOk(self.publish_with(client))
        self.assertSentSkew(sent, offset)

    def test_tampered_body(self):
        client = self.server.boto3_client("iot-data")
        topic = unique_prefix("tampered-body")

        def tamper(request, **_):
            body = request.body
            self.assertIsInstance(body, (bytes, bytearray), type(body))
            # Same length, so only the signature can tell.
            request.body = body.replace(b'"Female"', b'"Hacked"')
            self.assertNotEqual(request.body, body)

        client.meta.events.register(event_name(client, "before-send", "Publish"), tamper)
        with self.assertRaises(ClientError) as ctx:
            client.publish(topic=topic, retain=True, payload=json.dumps(HANDSON_RECORDS[0]))
        self.assertClientError(ctx, "InvalidSignatureException", 403)
        with self.assertRaises(ClientError) as ctx:
            self.iot.get_retained_message(topic=topic)
        self.assertClientError(ctx, "ResourceNotFoundException", 404)

    def test_tampered_signed_header(self):
        client = self.server.boto3_client("iot-data")

        def add_header(request, **_):
            request.headers["X-E2e-Device"] = "camera-1"

        def tamper(request, **_):
            auth = request.headers["Authorization"]
            auth = auth.decode() if isinstance(auth, bytes) else auth
            self.assertIn("x-e2e-device", auth, "header was not signed")
            request.headers["X-E2e-Device"] = "camera-2"

        client.meta.events.register(event_name(client, "before-sign", "Publish"), add_header)
        client.meta.events.register(event_name(client, "before-send", "Publish"), tamper)
        with self.assertRaises(ClientError) as ctx:
            self.publish_with(client)
        self.assertClientError(ctx, "InvalidSignatureException", 403)

    def test_signed_header_intact_is_accepted(self):
        # The control for the tampering test: the extra signed header alone is fine.
        client = self.server.boto3_client("iot-data")

        def add_header(request, **_):
            request.headers["X-E2e-Device"] = "camera-1"

        client.meta.events.register(event_name(client, "before-sign", "Publish"), add_header)
        self.assertOk(self.publish_with(client))

    def test_tampered_query(self):
        client = self.server.boto3_client("iot-data")

        def tamper(request, **_):
            self.assertIn("qos=0", request.url)
            request.url = request.url.replace("qos=0", "qos=1")

        client.meta.events.register(event_name(client, "before-send", "Publish"), tamper)
        with self.assertRaises(ClientError) as ctx:
            self.publish_with(client)
        self.assertClientError(ctx, "InvalidSignatureException", 403)

    def test_unsigned_boto3(self):
        client = self.server.boto3_client("iot-data",
                                          config=Config(signature_version=botocore.UNSIGNED))
        with self.assertRaises(ClientError) as ctx:
            self.publish_with(client)
        self.assertClientError(ctx, "MissingAuthenticationTokenException", 403)

    def test_unsigned_raw_http(self):
        conn = self.server.http()
        try:
            conn.request("POST", "/topics/handson%2FanalysisLogData?qos=0",
                         body=json.dumps(HANDSON_RECORDS[0]).encode(),
                         headers={"Content-Type": "application/octet-stream"})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        self.assertEqual(resp.status, 403, body)
        self.assertEqual((resp.getheader("x-amzn-ErrorType") or "").split(":")[0],
                         "MissingAuthenticationTokenException", resp.getheaders())
        self.assertIn("message", json.loads(body))


class ConfigUserTests(IotDataCase):
    @classmethod
    def setUpClass(cls):
        cls.config_dir = tempfile.mkdtemp(prefix="offcloud-e2e-config-")
        config_path = os.path.join(cls.config_dir, "offcloud.json")
        with open(config_path, "w") as f:
            json.dump({"users": [{"name": "device1", "access_keys": [
                {"access_key_id": "AKIADEVICE1", "secret_access_key": "devsecret"}]}]}, f)
        cls.server_args = ("--config", config_path)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.config_dir, ignore_errors=True)

    def test_config_user_can_publish(self):
        client = self.server.boto3_client("iot-data", access_key="AKIADEVICE1",
                                          secret_key="devsecret")
        for record in HANDSON_RECORDS:
            self.assertOk(client.publish(topic=HANDSON_TOPIC, qos=0, payload=json.dumps(record)))

    def test_config_user_wrong_secret(self):
        client = self.server.boto3_client("iot-data", access_key="AKIADEVICE1",
                                          secret_key="test")
        with self.assertRaises(ClientError) as ctx:
            client.publish(topic=HANDSON_TOPIC, payload=b"{}")
        self.assertClientError(ctx, "InvalidSignatureException", 403)

    def test_root_still_works_with_config(self):
        self.assertOk(self.iot.publish(topic=HANDSON_TOPIC, payload=b"{}"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
