"""End-to-end tests of Amazon Data Firehose (Kinesis Data Firehose) against
the real offcloud binary: delivery streams managed with boto3 and the aws CLI
v1, records put with PutRecord / PutRecordBatch and by the IoT rules engine's
firehose action, and what was delivered read back from S3.

What "right" means is what Firehose does (botocore's firehose model, the
Firehose API reference and developer guide). Each TestCase class starts its
own server, so a missing feature fails its own class only.

offcloud's one extension: --firehose-max-interval SECONDS caps every stream's
IntervalInSeconds, so a stream configured for 60 s delivers within a second or
so here and the tests do not wait a minute.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_firehose.py -v
     (one class: ... test_firehose.py -v CrashTests)
     OFFCLOUD_E2E_SEED=N repeats the crash test's random kill moment.
"""

import datetime
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_iotdata import HANDSON_RECORDS, HANDSON_TOPIC  # noqa: E402

REGION = harness.REGION  # ap-northeast-1
ACCOUNT = "000000000000"
ROLE_ARN = "arn:aws:iam::%s:role/firehose-delivery" % ACCOUNT
IOT_ROLE_ARN = "arn:aws:iam::%s:role/x" % ACCOUNT
DESTINATION_ID = "destinationId-000000000001"
MIB = 1024 * 1024
MAX_RECORD = 1000 * 1024  # 1,000 KiB: the model's Data max of 1024000
PATH_STYLE = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
# botocore checks some of the model's constraints (minimums) before sending;
# the tests of the server's own checks switch that off.
NO_CLIENT_VALIDATION = Config(parameter_validation=False)

# A request that breaks a constraint of the API model (a number out of its
# range, a list or blob too long, a name off its pattern) is refused by AWS's
# request validation before Firehose sees it: HTTP 400 ValidationException,
# "1 validation error detected: Value '...' at 'records.36.member.data' failed
# to satisfy constraint: Member must have length less than or equal to
# 1024000" (as the Ruby SDK reports it: Aws::Firehose::Errors::ValidationException).
MODEL_CONSTRAINT_ERROR = "ValidationException"

# <evaluated prefix><stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SUFFIX_RE = (r"(?P<name>%s)-(?P<version>\d+)-"
             r"(?P<ts>(?P<Y>\d{4})-(?P<M>\d{2})-(?P<D>\d{2})-(?P<h>\d{2})-\d{2}-\d{2})-"
             r"(?P<uuid>" + UUID_RE + r")(?P<ext>\.gz)?")
# The default time prefix, YYYY/MM/dd/HH/ in UTC.
TIME_DIRS_RE = r"(?P<dY>\d{4})/(?P<dM>\d{2})/(?P<dD>\d{2})/(?P<dh>\d{2})/"


def unique(name):
    return "%s-%s" % (name, uuid.uuid4().hex[:8])


def utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)


def key_time(match):
    """The UTC instant a key's suffix names (second resolution), as a POSIX time."""
    return datetime.datetime.strptime(match.group("ts"), "%Y-%m-%d-%H-%M-%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def record(tag, i, size):
    """Record `i` of a run: b"<tag>-<i>-xxx...\\n", exactly `size` bytes,
    recognisable after concatenation (one line each)."""
    head = b"%s-%07d-" % (tag.encode(), i)
    assert len(head) + 1 <= size, (tag, size)
    return head + b"x" * (size - len(head) - 1) + b"\n"


def parse_records(test, body, tag, size=None, where=""):
    """The indices of the records in an object body, in order. Fails unless
    the body is whole records only (none cut, nothing else)."""
    test.assertTrue(body.endswith(b"\n"), "%s: object does not end at a record boundary: "
                    "...%r" % (where, body[-80:]))
    line_re = re.compile(rb"^%s-(\d{7})-x*$" % re.escape(tag.encode()))
    out = []
    for n, line in enumerate(body[:-1].split(b"\n")):
        m = line_re.match(line)
        test.assertIsNotNone(m, "%s: line %d is not a whole record: %r" % (where, n, line[:120]))
        if size is not None:
            test.assertEqual(len(line) + 1, size, "%s: line %d has the wrong length (a record "
                             "split or merged?): %r" % (where, n, line[:120]))
        out.append(int(m.group(1)))
    return out


class FirehoseCase(unittest.TestCase):
    """One server per class; tests make their own buckets and streams."""

    server_args = ("--firehose-max-interval", "1")
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = harness.OffcloudServer(args=cls.server_args)
        cls.server.__enter__()
        cls.make_clients()

    @classmethod
    def make_clients(cls):
        cls.fh = cls.server.boto3_client("firehose")
        cls.fh_raw = cls.server.boto3_client("firehose", config=NO_CLIENT_VALIDATION)
        cls.s3 = cls.server.boto3_client("s3", config=PATH_STYLE)

    @classmethod
    def tearDownClass(cls):
        try:
            # A crash during the tests shows up here as a non-zero exit.
            cls.server.stop()
        finally:
            cls.server.__exit__(None, None, None)

    # -- helpers -------------------------------------------------------------

    def make_bucket(self, tag="fh"):
        name = ("e2e-%s-%s" % (tag, uuid.uuid4().hex[:12])).lower()
        self.s3.create_bucket(Bucket=name, CreateBucketConfiguration={
            "LocationConstraint": REGION})
        return name

    def s3_destination(self, bucket, size=5, interval=60, compression=None, prefix=None,
                       error_prefix=None):
        conf = {"RoleARN": ROLE_ARN, "BucketARN": "arn:aws:s3:::%s" % bucket,
                "BufferingHints": {"SizeInMBs": size, "IntervalInSeconds": interval}}
        if compression:
            conf["CompressionFormat"] = compression
        if prefix is not None:
            conf["Prefix"] = prefix
        if error_prefix is not None:
            conf["ErrorOutputPrefix"] = error_prefix
        return conf

    def create_stream(self, name, bucket, **dest):
        self.fh.create_delivery_stream(
            DeliveryStreamName=name, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration=self.s3_destination(bucket, **dest))
        return self.wait_active(name)

    def wait_active(self, name, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            desc = self.fh.describe_delivery_stream(
                DeliveryStreamName=name)["DeliveryStreamDescription"]
            if desc["DeliveryStreamStatus"] == "ACTIVE":
                return desc
            self.assertIn(desc["DeliveryStreamStatus"], ("CREATING", "UPDATING"), desc)
            self.assertLess(time.monotonic(), deadline, "stream not ACTIVE in %d s: %r"
                            % (timeout, desc))
            time.sleep(0.2)

    def put_batch(self, name, datas, client=None):
        resp = (client or self.fh).put_record_batch(
            DeliveryStreamName=name, Records=[{"Data": d} for d in datas])
        self.assertEqual(resp["FailedPutCount"], 0, resp["RequestResponses"][:5])
        self.assertEqual(len(resp["RequestResponses"]), len(datas))
        return resp

    def keys(self, bucket, prefix=""):
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                       Prefix=prefix):
            out += [entry["Key"] for entry in page.get("Contents", [])]
        return out

    def get(self, bucket, key):
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def wait_keys(self, bucket, count, timeout, prefix=""):
        """Polls until `bucket` holds at least `count` objects; returns their keys."""
        deadline = time.monotonic() + timeout
        while True:
            keys = self.keys(bucket, prefix)
            if len(keys) >= count:
                return keys
            if time.monotonic() > deadline:
                self.fail("want %d object(s) in %s within %.0f s; got %r\nserver stderr tail:\n%s"
                          % (count, bucket, timeout, keys, self.server.stderr_tail(2000)))
            time.sleep(0.2)

    def assertKey(self, key, stream, version, start, end, prefix="", gz=False,
                  time_dirs=True):
        """`key` is <prefix>[YYYY/MM/dd/HH/]<stream>-<version>-<ts>-<uuid>[.gz],
        its time (UTC) within [start, end] (POSIX seconds), the directories the
        same hour as the suffix."""
        pattern = "^" + prefix + (TIME_DIRS_RE if time_dirs else "") + \
            SUFFIX_RE % re.escape(stream) + "$"
        m = re.match(pattern, key)
        self.assertIsNotNone(m, "key %r does not match %r" % (key, pattern))
        self.assertEqual(m.group("version"), str(version), key)
        self.assertEqual(bool(m.group("ext")), gz, key)
        if time_dirs:
            self.assertEqual((m.group("dY"), m.group("dM"), m.group("dD"), m.group("dh")),
                             (m.group("Y"), m.group("M"), m.group("D"), m.group("h")),
                             "time prefix and suffix disagree: %r" % key)
        t = key_time(m)
        self.assertTrue(int(start) - 1 <= t <= end + 1,
                        "key %r names %s UTC; the records arrived between %s and %s UTC"
                        % (key, utc(t), utc(start), utc(end)))
        return m

    def expect_error(self, call, what):
        """Runs `call`; returns the ClientError it raised, or fails showing
        what came back instead."""
        try:
            resp = call()
        except ClientError as e:
            return e
        resp.pop("ResponseMetadata", None)
        if "RequestResponses" in resp:
            entries = resp["RequestResponses"]
            resp["RequestResponses"] = ["%d: %r" % (n, e) for n, e in enumerate(entries)
                                        if "ErrorCode" in e] + ["(%d stored)" % sum(
                                            1 for e in entries if "ErrorCode" not in e)]
        self.fail("%s succeeded; want a ClientError. Got %r" % (what, resp))

    def assertClientError(self, ctx, code, status=400):
        exc = getattr(ctx, "exception", ctx)
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        detail = "want code=%r status=%r; got code=%r status=%r error=%r" % (
            code, status, err.get("Code"), meta.get("HTTPStatusCode"), err)
        self.assertEqual(err.get("Code"), code, detail)
        self.assertEqual(meta.get("HTTPStatusCode"), status, detail)
        self.assertTrue(err.get("Message"), detail)
        return err

    def assertNoStream(self, name):
        with self.assertRaises(ClientError) as ctx:
            self.fh.describe_delivery_stream(DeliveryStreamName=name)
        self.assertClientError(ctx, "ResourceNotFoundException")


# ---------------------------------------------------------------------------
# 1. The API: shapes and errors
# ---------------------------------------------------------------------------


class ApiTests(FirehoseCase):
    def test_create_describe_list_delete(self):
        bucket = self.make_bucket("api")
        name = unique("api")
        before = time.time()
        created = self.fh.create_delivery_stream(
            DeliveryStreamName=name, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration=self.s3_destination(
                bucket, size=5, interval=60, compression="UNCOMPRESSED", prefix="api/",
                error_prefix="api-errors/"))
        arn = "arn:aws:firehose:%s:%s:deliverystream/%s" % (REGION, ACCOUNT, name)
        self.assertEqual(created["DeliveryStreamARN"], arn)

        desc = self.wait_active(name)
        self.assertEqual(desc["DeliveryStreamName"], name)
        self.assertEqual(desc["DeliveryStreamARN"], arn)
        self.assertEqual(desc["DeliveryStreamType"], "DirectPut")
        self.assertEqual(desc["VersionId"], "1")
        self.assertIs(desc["HasMoreDestinations"], False)
        created_at = desc["CreateTimestamp"].timestamp()
        self.assertTrue(before - 5 <= created_at <= time.time() + 5, desc["CreateTimestamp"])
        self.assertEqual(len(desc["Destinations"]), 1, desc["Destinations"])
        dest = desc["Destinations"][0]
        self.assertEqual(dest["DestinationId"], DESTINATION_ID)
        ext = dest["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["RoleARN"], ROLE_ARN)
        self.assertEqual(ext["BucketARN"], "arn:aws:s3:::%s" % bucket)
        self.assertEqual(ext["Prefix"], "api/")
        self.assertEqual(ext["ErrorOutputPrefix"], "api-errors/")
        # The configured hints, not offcloud's --firehose-max-interval cap.
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 5, "IntervalInSeconds": 60})
        self.assertEqual(ext["CompressionFormat"], "UNCOMPRESSED")
        self.assertEqual(ext["EncryptionConfiguration"], {"NoEncryptionConfig": "NoEncryption"})

        # Listed, in name order, with paging.
        others = sorted(unique("api-list-%d" % i) for i in range(2))
        for other in others:
            self.create_stream(other, bucket)
        listed = self.fh.list_delivery_streams(Limit=10000)
        self.assertIs(listed["HasMoreDeliveryStreams"], False)
        names = listed["DeliveryStreamNames"]
        self.assertEqual(names, sorted(names))
        for n in [name] + others:
            self.assertIn(n, names)
        self.assertEqual(self.fh.list_delivery_streams(
            DeliveryStreamType="DirectPut", Limit=10000)["DeliveryStreamNames"], names)
        self.assertEqual(self.fh.list_delivery_streams(
            DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"], [])
        seen, start = [], None
        for _ in range(len(names) + 2):
            kwargs = {"Limit": 1}
            if start:
                kwargs["ExclusiveStartDeliveryStreamName"] = start
            page = self.fh.list_delivery_streams(**kwargs)
            self.assertLessEqual(len(page["DeliveryStreamNames"]), 1, page)
            seen += page["DeliveryStreamNames"]
            if not page["HasMoreDeliveryStreams"]:
                break
            start = page["DeliveryStreamNames"][-1]
        self.assertEqual(seen, names)

        # Deleted: gone from describe and list (DELETING may show first).
        self.fh.delete_delivery_stream(DeliveryStreamName=name)
        deadline = time.monotonic() + 30
        while True:
            try:
                status = self.fh.describe_delivery_stream(
                    DeliveryStreamName=name)["DeliveryStreamDescription"]["DeliveryStreamStatus"]
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "ResourceNotFoundException",
                                 e.response)
                break
            self.assertEqual(status, "DELETING")
            self.assertLess(time.monotonic(), deadline, "stream still there 30 s after delete")
            time.sleep(0.2)
        self.assertNotIn(name, self.fh.list_delivery_streams(
            Limit=10000)["DeliveryStreamNames"])
        # The name can be used again.
        self.create_stream(name, bucket)
        self.assertEqual(self.fh.describe_delivery_stream(
            DeliveryStreamName=name)["DeliveryStreamDescription"]["VersionId"], "1")

    def test_defaults(self):
        bucket = self.make_bucket("defaults")
        name = unique("defaults")
        self.fh.create_delivery_stream(
            DeliveryStreamName=name,
            ExtendedS3DestinationConfiguration={"RoleARN": ROLE_ARN,
                                                "BucketARN": "arn:aws:s3:::%s" % bucket})
        desc = self.wait_active(name)
        self.assertEqual(desc["DeliveryStreamType"], "DirectPut")
        ext = desc["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 5, "IntervalInSeconds": 300})
        self.assertEqual(ext["CompressionFormat"], "UNCOMPRESSED")

    def test_deprecated_s3_destination_configuration(self):
        bucket = self.make_bucket("plain-s3")
        name = unique("plain-s3")
        self.fh.create_delivery_stream(
            DeliveryStreamName=name, DeliveryStreamType="DirectPut",
            S3DestinationConfiguration=self.s3_destination(bucket, size=1, interval=60))
        desc = self.wait_active(name)
        dest = desc["Destinations"][0]
        self.assertEqual(dest["DestinationId"], DESTINATION_ID)
        s3desc = dest.get("S3DestinationDescription") or dest.get(
            "ExtendedS3DestinationDescription")
        self.assertIsNotNone(s3desc, dest)
        self.assertEqual(s3desc["BucketARN"], "arn:aws:s3:::%s" % bucket)
        self.assertEqual(s3desc["BufferingHints"], {"SizeInMBs": 1, "IntervalInSeconds": 60})
        start = time.time()
        self.fh.put_record(DeliveryStreamName=name, Record={"Data": b"plain s3\n"})
        end = time.time()
        keys = self.wait_keys(bucket, 1, timeout=20)
        self.assertEqual(len(keys), 1, keys)
        self.assertKey(keys[0], name, 1, start, end)
        self.assertEqual(self.get(bucket, keys[0]), b"plain s3\n")

    def test_record_ids_and_delivery(self):
        bucket = self.make_bucket("ids")
        name = unique("ids")
        self.create_stream(name, bucket, size=5, interval=60)
        start = time.time()
        single = self.fh.put_record(DeliveryStreamName=name,
                                    Record={"Data": record("ids", 0, 40)})
        self.assertIsInstance(single["RecordId"], str)
        self.assertTrue(single["RecordId"])
        datas = [record("ids", i, 40) for i in range(1, 501)]
        resp = self.put_batch(name, datas)
        ids = [entry.get("RecordId") for entry in resp["RequestResponses"]]
        for entry in resp["RequestResponses"]:
            self.assertNotIn("ErrorCode", entry, entry)
            self.assertIsInstance(entry.get("RecordId"), str, entry)
            self.assertTrue(entry["RecordId"], entry)
        self.assertEqual(len(set(ids + [single["RecordId"]])), 501, "RecordIds not unique")
        end = time.time()

        found = []
        deadline = time.monotonic() + 30
        while len(found) < 501:
            self.assertLess(time.monotonic(), deadline, "only %d of 501 records delivered"
                            % len(found))
            time.sleep(0.3)
            found = []
            for key in self.keys(bucket):
                self.assertKey(key, name, 1, start, end + 2)
                got = parse_records(self, self.get(bucket, key), "ids", 40, key)
                self.assertEqual(got, sorted(got), "records out of arrival order in " + key)
                found += got
        self.assertEqual(sorted(found), list(range(501)))

    def test_binary_record_is_delivered_byte_for_byte(self):
        bucket = self.make_bucket("binary")
        name = unique("binary")
        self.create_stream(name, bucket, size=1, interval=60)
        data = bytes(range(256)) * 3 + b"\x00\xff"
        self.fh.put_record(DeliveryStreamName=name, Record={"Data": data})
        keys = self.wait_keys(bucket, 1, timeout=20)
        self.assertEqual(len(keys), 1, keys)
        self.assertEqual(self.get(bucket, keys[0]), data)

    def test_resource_errors(self):
        bucket = self.make_bucket("errs")
        name = unique("errs")
        self.create_stream(name, bucket)
        with self.assertRaises(ClientError) as ctx:
            self.fh.create_delivery_stream(
                DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration=self.s3_destination(bucket))
        self.assertClientError(ctx, "ResourceInUseException")

        missing = unique("missing")
        calls = {
            "describe": lambda: self.fh.describe_delivery_stream(DeliveryStreamName=missing),
            "delete": lambda: self.fh.delete_delivery_stream(DeliveryStreamName=missing),
            "put_record": lambda: self.fh.put_record(DeliveryStreamName=missing,
                                                     Record={"Data": b"x"}),
            "put_record_batch": lambda: self.fh.put_record_batch(
                DeliveryStreamName=missing, Records=[{"Data": b"x"}]),
            "update_destination": lambda: self.fh.update_destination(
                DeliveryStreamName=missing, CurrentDeliveryStreamVersionId="1",
                DestinationId=DESTINATION_ID,
                ExtendedS3DestinationUpdate={"Prefix": "x/"}),
        }
        for label, call in calls.items():
            with self.subTest(call=label):
                with self.assertRaises(ClientError) as ctx:
                    call()
                self.assertClientError(ctx, "ResourceNotFoundException")

        with self.assertRaises(ClientError) as ctx:
            self.fh.update_destination(
                DeliveryStreamName=name, CurrentDeliveryStreamVersionId="7",
                DestinationId=DESTINATION_ID, ExtendedS3DestinationUpdate={"Prefix": "x/"})
        self.assertClientError(ctx, "ConcurrentModificationException")
        self.assertEqual(self.fh.describe_delivery_stream(
            DeliveryStreamName=name)["DeliveryStreamDescription"]["VersionId"], "1")

    def test_model_constraints_are_refused(self):
        bucket = self.make_bucket("limits")
        cases = {
            "SizeInMBs 0": self.s3_destination(bucket, size=0, interval=60),
            "SizeInMBs 129": self.s3_destination(bucket, size=129, interval=60),
            "IntervalInSeconds 901": self.s3_destination(bucket, size=5, interval=901),
            "IntervalInSeconds -1": self.s3_destination(bucket, size=5, interval=-1),
            "CompressionFormat BOGUS": self.s3_destination(bucket, compression="BOGUS"),
        }
        for label, conf in cases.items():
            with self.subTest(case=label):
                name = unique("limits")
                with self.assertRaises(ClientError) as ctx:
                    self.fh_raw.create_delivery_stream(
                        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                        ExtendedS3DestinationConfiguration=conf)
                self.assertClientError(ctx, MODEL_CONSTRAINT_ERROR)
                self.assertNoStream(name)
        with self.subTest(case="name off the pattern"):
            with self.assertRaises(ClientError) as ctx:
                self.fh_raw.create_delivery_stream(
                    DeliveryStreamName="no spaces!", DeliveryStreamType="DirectPut",
                    ExtendedS3DestinationConfiguration=self.s3_destination(bucket))
            self.assertClientError(ctx, MODEL_CONSTRAINT_ERROR)

        # The bounds themselves are fine.
        for size, interval in ((1, 0), (128, 900)):
            with self.subTest(bounds=(size, interval)):
                name = unique("bounds")
                self.create_stream(name, bucket, size=size, interval=interval)
                hints = self.fh.describe_delivery_stream(DeliveryStreamName=name)[
                    "DeliveryStreamDescription"]["Destinations"][0][
                    "ExtendedS3DestinationDescription"]["BufferingHints"]
                self.assertEqual(hints, {"SizeInMBs": size, "IntervalInSeconds": interval})

        # The same range checks on UpdateDestination; the version stays.
        name = unique("upd-limits")
        self.create_stream(name, bucket)
        for hints in ({"SizeInMBs": 0, "IntervalInSeconds": 60},
                      {"SizeInMBs": 129, "IntervalInSeconds": 60},
                      {"SizeInMBs": 5, "IntervalInSeconds": 901}):
            with self.subTest(update=hints):
                with self.assertRaises(ClientError) as ctx:
                    self.fh_raw.update_destination(
                        DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1",
                        DestinationId=DESTINATION_ID,
                        ExtendedS3DestinationUpdate={"BufferingHints": hints})
                self.assertClientError(ctx, MODEL_CONSTRAINT_ERROR)
        self.assertEqual(self.fh.describe_delivery_stream(
            DeliveryStreamName=name)["DeliveryStreamDescription"]["VersionId"], "1")

        # 501 records in one PutRecordBatch: refused whole, nothing stored.
        name = unique("batch-limit")
        self.create_stream(name, bucket, prefix="batch-limit/")
        exc = self.expect_error(lambda: self.fh_raw.put_record_batch(
            DeliveryStreamName=name, Records=[{"Data": b"r%d\n" % i} for i in range(501)]),
            "PutRecordBatch of 501 records")
        self.assertClientError(exc, MODEL_CONSTRAINT_ERROR)
        time.sleep(2.5)  # two capped intervals
        self.assertEqual(self.keys(bucket, "batch-limit/"), [])


# ---------------------------------------------------------------------------
# 2. The IoT hands-on, with the aws CLI only
# ---------------------------------------------------------------------------


class HandsonCliTests(FirehoseCase):
    """aws s3 mb, aws firehose create-delivery-stream, aws iot create-topic-rule
    with a firehose action, three aws iot-data publish, aws s3 ls / cp."""

    # Three aws CLI publishes take a few seconds on a busy machine; they must
    # all land in the one 60 s buffer, so the cap here is 20 s, not 1 s.
    CAP_S = 20
    server_args = ("--firehose-max-interval", str(CAP_S))

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="offcloud-fh-cli-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def cli(self, *args, parse=True):
        result = self.server.aws(*args)
        self.assertEqual(result.returncode, 0, "aws %s: rc=%d stdout=%r stderr=%r" % (
            " ".join(args), result.returncode, result.stdout[-2000:], result.stderr[-2000:]))
        if parse:
            return json.loads(result.stdout) if result.stdout.strip() else {}
        return result.stdout

    def write_json(self, name, payload):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            json.dump(payload, f)
        return "file://" + path

    def ls(self, bucket):
        args = ("s3", "ls", "--recursive", "s3://%s/" % bucket)
        result = self.server.aws(*args)
        # The CLI exits 1, saying nothing, when the listing is empty.
        if result.returncode == 1 and not result.stdout.strip() and not result.stderr.strip():
            return []
        self.assertEqual(result.returncode, 0, "aws %s: rc=%d stdout=%r stderr=%r" % (
            " ".join(args), result.returncode, result.stdout[-2000:], result.stderr[-2000:]))
        # "2024-05-01 12:00:00        123 some/key"
        return [line.split(None, 3)[3] for line in result.stdout.splitlines() if line.strip()]

    def test_handson_iot_rule_to_firehose_to_s3(self):
        bucket = ("handson-%s" % uuid.uuid4().hex[:12]).lower()
        self.assertIn("make_bucket: " + bucket, self.cli("s3", "mb", "s3://" + bucket,
                                                         parse=False))
        stream = "handson-stream"
        conf = self.write_json("conf.json", {
            "RoleARN": ROLE_ARN, "BucketARN": "arn:aws:s3:::%s" % bucket,
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60},
            "CompressionFormat": "UNCOMPRESSED"})
        created = self.cli("firehose", "create-delivery-stream",
                           "--delivery-stream-name", stream,
                           "--delivery-stream-type", "DirectPut",
                           "--extended-s3-destination-configuration", conf)
        self.assertEqual(created["DeliveryStreamARN"],
                         "arn:aws:firehose:%s:%s:deliverystream/%s" % (REGION, ACCOUNT, stream))
        deadline = time.monotonic() + 30
        while True:
            desc = self.cli("firehose", "describe-delivery-stream",
                            "--delivery-stream-name", stream)["DeliveryStreamDescription"]
            if desc["DeliveryStreamStatus"] == "ACTIVE":
                break
            self.assertLess(time.monotonic(), deadline, desc)
            time.sleep(0.5)
        self.assertEqual(desc["VersionId"], "1")
        self.assertIn(stream, self.cli("firehose", "list-delivery-streams")["DeliveryStreamNames"])

        rule = self.write_json("rule.json", {
            "sql": "SELECT * FROM '%s'" % HANDSON_TOPIC,
            "actions": [{"firehose": {"deliveryStreamName": stream, "roleArn": IOT_ROLE_ARN,
                                      "separator": "\n"}}]})
        self.cli("iot", "create-topic-rule", "--rule-name", "handsonToFirehose",
                 "--topic-rule-payload", rule)

        first = time.time()
        for rec in HANDSON_RECORDS:
            self.cli("iot-data", "publish", "--topic", HANDSON_TOPIC,
                     "--payload", json.dumps(rec))
        last = time.time()
        self.assertLess(last - first, self.CAP_S - 3,
                        "the three publishes took %.1f s; the test needs them well inside "
                        "the %d s buffer" % (last - first, self.CAP_S))
        # Buffered, not written per message.
        self.assertEqual(self.ls(bucket), [], "delivered before the buffer interval")

        deadline = first + self.CAP_S + 20
        while True:
            keys = self.ls(bucket)
            if keys:
                break
            self.assertLess(time.time(), deadline, "nothing delivered %d s after the first "
                            "publish\nserver stderr tail:\n%s"
                            % (deadline - first, self.server.stderr_tail(2000)))
            time.sleep(0.5)
        delivered_after = time.time() - first
        self.assertGreaterEqual(delivered_after, self.CAP_S - 2,
                                "delivered %.1f s after the first record; the buffer "
                                "interval is %d s" % (delivered_after, self.CAP_S))
        time.sleep(1.5)
        keys = self.ls(bucket)
        self.assertEqual(len(keys), 1, keys)
        self.assertKey(keys[0], stream, 1, first, last)
        hour_dirs = {utc(first).strftime("%Y/%m/%d/%H/"), utc(last).strftime("%Y/%m/%d/%H/")}
        self.assertIn(keys[0][:14], hour_dirs, keys[0])

        body = self.cli("s3", "cp", "s3://%s/%s" % (bucket, keys[0]), "-", parse=False)
        self.assertTrue(body.endswith("\n"), repr(body))
        lines = body[:-1].split("\n")
        self.assertEqual(len(lines), 3, repr(body))
        self.assertEqual([json.loads(line) for line in lines], HANDSON_RECORDS)


# ---------------------------------------------------------------------------
# 3. Size-triggered flushes
# ---------------------------------------------------------------------------


class SizeFlushTests(FirehoseCase):
    # Long enough that what arrives before it was flushed by size.
    CAP_S = 30
    server_args = ("--firehose-max-interval", str(CAP_S))

    def test_three_mib_into_one_mib_buffers(self):
        bucket = self.make_bucket("size")
        name = unique("size")
        self.create_stream(name, bucket, size=1, interval=60)
        size, count = 1024, 3072  # 3 MiB of 1 KiB records
        datas = [record("size", i, size) for i in range(count)]
        first = time.time()
        for at in range(0, count, 500):
            self.put_batch(name, datas[at:at + 500])
        last = time.time()
        self.assertLess(last - first, self.CAP_S - 10, "sending 3 MiB took %.1f s"
                        % (last - first))

        # At least two 1 MiB buffers were full well before the interval.
        deadline = first + self.CAP_S - 4
        while True:
            keys = self.keys(bucket)
            if len(keys) >= 2 or time.time() > deadline:
                break
            time.sleep(0.2)
        early = {k: self.get(bucket, k) for k in keys}
        self.assertGreaterEqual(len(early), 2, "a full 1 MiB buffer was not flushed by size "
                                "(objects %.0f s after the first record: %r)"
                                % (time.time() - first, sorted(early)))
        for key, body in early.items():
            self.assertGreaterEqual(len(body), MIB - size,
                                    "%s holds %d bytes, flushed by size before 1 MiB"
                                    % (key, len(body)))

        keys = self.wait_keys(bucket, 3, timeout=first + self.CAP_S + 30 - time.time())
        time.sleep(2)
        keys = self.keys(bucket)
        self.assertEqual(len(keys), 3, keys)
        found = []
        for key in keys:
            self.assertKey(key, name, 1, first, last)
            body = self.get(bucket, key)
            self.assertLessEqual(len(body), MIB + size, "%s: %d bytes is over 1 MiB plus "
                                 "one record" % (key, len(body)))
            got = parse_records(self, body, "size", size, key)
            self.assertEqual(got, list(range(got[0], got[0] + len(got))),
                             "%s: not a contiguous run in arrival order" % key)
            found += got
        self.assertEqual(sorted(found), list(range(count)))


# ---------------------------------------------------------------------------
# 4. GZIP
# ---------------------------------------------------------------------------


class GzipTests(FirehoseCase):
    def test_gzip_objects(self):
        bucket = self.make_bucket("gzip")
        name = unique("gzip")
        desc = self.create_stream(name, bucket, size=5, interval=60, compression="GZIP")
        self.assertEqual(desc["Destinations"][0]["ExtendedS3DestinationDescription"][
            "CompressionFormat"], "GZIP")
        datas = [record("gz", i, 100) for i in range(300)]
        first = time.time()
        self.put_batch(name, datas[:150])
        self.put_batch(name, datas[150:])
        last = time.time()
        keys = self.wait_keys(bucket, 1, timeout=20)
        found = []
        deadline = time.monotonic() + 20
        while True:
            found = []
            for key in keys:
                self.assertKey(key, name, 1, first, last, gz=True)
                raw = self.get(bucket, key)
                self.assertEqual(raw[:2], b"\x1f\x8b", "%s is not gzip: %r" % (key, raw[:20]))
                got = parse_records(self, gzip.decompress(raw), "gz", 100, key)
                self.assertEqual(got, sorted(got), key)
                found += got
            if len(found) >= len(datas) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
            keys = self.keys(bucket)
        self.assertEqual(sorted(found), list(range(len(datas))))


# ---------------------------------------------------------------------------
# 5. SIGKILL while records stream in
# ---------------------------------------------------------------------------

KILLER = ("import os, sys, time\n"
          "sys.stdin.buffer.read(1)\n"
          "time.sleep(float(sys.argv[2]))\n"
          "os.kill(int(sys.argv[1]), 9)\n")


class CrashTests(unittest.TestCase):
    TOTAL = 20000
    BATCH = 100
    SIZE = 64

    def test_sigkill_mid_stream_loses_no_acknowledged_record(self):
        seed = int(os.environ.get("OFFCLOUD_E2E_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        kill_after = rng.randint(5, 150)   # batches acknowledged before the kill
        kill_delay = rng.uniform(0, 0.004)  # then this long into the next call
        note = "seed=%d kill_after=%d batches delay=%.4f s" % (seed, kill_after, kill_delay)
        print("\nCrashTests: " + note, file=sys.stderr)

        server = harness.OffcloudServer(args=("--firehose-max-interval", "1"))
        server.__enter__()
        try:
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            fh = server.boto3_client("firehose")
            bucket = "e2e-crash-%s" % uuid.uuid4().hex[:12]
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": REGION})
            name = unique("crash")
            fh.create_delivery_stream(
                DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": ROLE_ARN, "BucketARN": "arn:aws:s3:::%s" % bucket,
                    "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})
            deadline = time.monotonic() + 30
            while fh.describe_delivery_stream(DeliveryStreamName=name)[
                    "DeliveryStreamDescription"]["DeliveryStreamStatus"] != "ACTIVE":
                self.assertLess(time.monotonic(), deadline, "stream never ACTIVE")
                time.sleep(0.2)

            acked = set()
            attempted = [0]  # records sent in calls that were started
            batches_ok = [0]
            errors = []
            armed = threading.Event()   # kill_after batches acknowledged
            killed = threading.Event()
            triggered = []
            # The SIGKILL comes from a process of its own, so that it lands
            # kill_delay after the trigger whatever this one's threads do
            # (a Python timer thread would wait for the GIL).
            killer = subprocess.Popen(
                [sys.executable, "-c", KILLER, str(server.proc.pid), "%.6f" % kill_delay],
                stdin=subprocess.PIPE)
            self.addCleanup(lambda: killer.poll() is None and (killer.kill(), killer.wait()))
            trigger_lock = threading.Lock()

            def trigger():
                with trigger_lock:
                    if not triggered:
                        triggered.append(time.monotonic())
                        killer.stdin.write(b"k")
                        killer.stdin.flush()

            def on_send(**_):
                # botocore is about to write the request: the kill lands
                # kill_delay later, while the server takes it in, stores it,
                # answers, or just after.
                if armed.is_set():
                    trigger()

            fh.meta.events.register("before-send.firehose.PutRecordBatch", on_send)

            def send():
                for at in range(0, self.TOTAL, self.BATCH):
                    if killed.is_set():
                        return
                    idx = list(range(at, min(at + self.BATCH, self.TOTAL)))
                    attempted[0] = idx[-1] + 1
                    try:
                        resp = fh.put_record_batch(
                            DeliveryStreamName=name,
                            Records=[{"Data": record("crash", i, self.SIZE)} for i in idx])
                    except Exception as e:  # the kill: connection reset or refused
                        errors.append(repr(e))
                        return
                    for i, entry in zip(idx, resp["RequestResponses"]):
                        if entry.get("RecordId") and not entry.get("ErrorCode"):
                            acked.add(i)
                    if resp["FailedPutCount"] == 0:
                        batches_ok[0] += 1
                    if batches_ok[0] >= kill_after:
                        armed.set()

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            deadline = time.monotonic() + 120
            while killer.poll() is None:
                if not sender.is_alive():
                    trigger()  # it sent everything: the kill comes after
                if time.monotonic() > deadline:
                    killer.kill()
                    killer.wait()
                    self.fail("the sender stalled: %d batches in 120 s, no kill (%s)"
                              % (batches_ok[0], note))
                time.sleep(0.01)
            killer.stdin.close()
            self.assertEqual(killer.returncode, 0, "the killer process failed")
            server.kill()  # reaps it
            killed.set()
            sender.join(30)
            self.assertFalse(sender.is_alive(), "the sender is stuck after the kill")
            self.assertGreaterEqual(len(acked), 5 * self.BATCH, note)
            note += "; acked %d of %d attempted; sender ended with %r" % (
                len(acked), attempted[0], errors[:1])
            print("CrashTests: " + note, file=sys.stderr)

            server.restart()
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            desc = server.boto3_client("firehose").describe_delivery_stream(
                DeliveryStreamName=name)["DeliveryStreamDescription"]
            self.assertEqual(desc["DeliveryStreamStatus"], "ACTIVE", desc)

            def collect():
                objects = {}
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                    for entry in page.get("Contents", []):
                        objects[entry["Key"]] = s3.get_object(
                            Bucket=bucket, Key=entry["Key"])["Body"].read()
                return objects

            deadline = time.monotonic() + 60
            while True:
                objects = collect()
                present = set()
                for body in objects.values():
                    present.update(int(m) for m in re.findall(rb"crash-(\d{7})-", body))
                missing = acked - present
                if not missing:
                    break
                if time.monotonic() > deadline:
                    self.fail("%d acknowledged records never delivered after the restart "
                              "(first: %r; %s)\nstderr tail:\n%s"
                              % (len(missing), sorted(missing)[:10], note,
                                 server.stderr_tail(3000)))
                time.sleep(0.5)
            time.sleep(3)  # anything still to come (a re-delivery) comes now
            objects = collect()

            # Every object is whole records, in arrival order; a record is in
            # two objects only if the two are the same delivery twice.
            by_content = {}
            for key, body in objects.items():
                by_content.setdefault(body, []).append(key)
            counts = {}
            for body, keys in by_content.items():
                got = parse_records(self, body, "crash", self.SIZE, keys[0])
                self.assertEqual(got, sorted(got), "%s: records out of arrival order" % keys[0])
                for i in got:
                    counts[i] = counts.get(i, 0) + 1
            dups = sorted(i for i, c in counts.items() if c > 1)
            self.assertEqual(dups[:10], [], "records in two different objects (%d; %s)"
                             % (len(dups), note))
            self.assertEqual(sorted(acked - set(counts))[:10], [], note)
            never_sent = sorted(i for i in counts if i >= attempted[0])
            self.assertEqual(never_sent[:10], [], "records that were never sent (%s)" % note)
            server.stop()
        finally:
            server.__exit__(None, None, None)


# ---------------------------------------------------------------------------
# 6. Record size limit
# ---------------------------------------------------------------------------


class OversizedRecordTests(FirehoseCase):
    """A record over 1,000 KiB. PutRecord refuses the call (ValidationException,
    "Member must have length less than or equal to 1024000"). In a
    PutRecordBatch, as offcloud's issue asks, only that record fails: it is
    reported in RequestResponses and the others are stored. (AWS's own request
    validation may refuse the whole batch instead.)"""

    def test_put_record_batch_with_one_oversized_record(self):
        bucket = self.make_bucket("big")
        name = unique("big")
        self.create_stream(name, bucket, size=5, interval=60)
        start = time.time()
        small = [record("big", i, 100) for i in range(3)]
        oversized = record("big", 3, MAX_RECORD + 1)
        result = self.fh_raw.put_record_batch(
            DeliveryStreamName=name,
            Records=[{"Data": d} for d in (small[0], oversized, small[1], small[2])])
        self.assertEqual(result["FailedPutCount"], 1, result)
        responses = result["RequestResponses"]
        self.assertEqual(len(responses), 4)
        self.assertIn("ErrorCode", responses[1])
        self.assertNotIn("RecordId", responses[1])
        for index in (0, 2, 3):
            self.assertIn("RecordId", responses[index])
            self.assertNotIn("ErrorCode", responses[index])
        exc = self.expect_error(lambda: self.fh_raw.put_record(
            DeliveryStreamName=name, Record={"Data": oversized}),
            "PutRecord of 1,000 KiB + 1 byte")
        err = self.assertClientError(exc, MODEL_CONSTRAINT_ERROR)
        self.assertIn("1024000", err["Message"])
        # The three small records, and only they, arrive.
        deadline = time.monotonic() + 30
        while True:
            keys = self.keys(bucket)
            if keys:
                break
            self.assertLess(time.monotonic(), deadline, "nothing delivered")
            time.sleep(0.5)
        body = b"".join(self.get(bucket, key) for key in keys)
        self.assertEqual(body, small[0] + small[1] + small[2])

    def test_records_of_exactly_1000_kib_are_accepted(self):
        bucket = self.make_bucket("limit")
        name = unique("limit")
        self.create_stream(name, bucket, size=5, interval=60)
        start = time.time()
        at_limit = record("big", 10, MAX_RECORD)
        self.fh.put_record(DeliveryStreamName=name, Record={"Data": at_limit})
        batch = [record("big", 11, MAX_RECORD), record("big", 12, 100)]
        self.put_batch(name, batch)
        end = time.time()
        found = {}
        deadline = time.monotonic() + 30
        while sorted(found) != [10, 11, 12]:
            self.assertLess(time.monotonic(), deadline, "delivered: %r" % sorted(found))
            time.sleep(0.5)
            found = {}
            for key in self.keys(bucket):
                self.assertKey(key, name, 1, start, end + 2)
                body = self.get(bucket, key)
                for line in body[:-1].split(b"\n"):
                    found[int(line[4:11])] = line + b"\n"
        self.assertEqual(found, {10: at_limit, 11: batch[0], 12: batch[1]})


# ---------------------------------------------------------------------------
# 7. A graceful stop flushes every buffer
# ---------------------------------------------------------------------------


class SigtermFlushTests(FirehoseCase):
    server_args = ()  # no cap: the stream really waits 900 s

    def test_sigterm_delivers_buffered_records(self):
        bucket = self.make_bucket("term")
        name = unique("term")
        self.create_stream(name, bucket, size=128, interval=900)
        gz_name = unique("term-gz")
        self.create_stream(gz_name, bucket, size=128, interval=900, compression="GZIP",
                           prefix="gz/")
        datas = [record("term", i, 200) for i in range(250)]
        start = time.time()
        self.put_batch(name, datas)
        self.put_batch(gz_name, datas[:10])
        end = time.time()
        time.sleep(2)
        self.assertEqual(self.keys(bucket), [], "delivered long before the 900 s interval")

        type(self).server.stop()
        stopped = time.time()
        time.sleep(2)  # a delivery made by the next start would be dated after this
        type(self).server.restart()
        type(self).make_clients()

        keys = self.keys(bucket)
        self.assertEqual(len(keys), 2, "want one object per stream right after the restart, "
                         "got %r" % keys)
        plain = [k for k in keys if not k.startswith("gz/")]
        gz = [k for k in keys if k.startswith("gz/")]
        self.assertEqual(len(plain), 1, keys)
        self.assertEqual(len(gz), 1, keys)
        self.assertKey(plain[0], name, 1, start, end)
        self.assertKey(gz[0], gz_name, 1, start, end, prefix="gz/", gz=True)
        self.assertEqual(self.get(bucket, plain[0]), b"".join(datas))
        self.assertEqual(gzip.decompress(self.get(bucket, gz[0])), b"".join(datas[:10]))
        for key in keys:
            modified = self.s3.head_object(Bucket=bucket, Key=key)["LastModified"].timestamp()
            self.assertLessEqual(modified, stopped + 1,
                                 "%s written at %s, after the server stopped at %s: "
                                 "delivered by the restart, not by SIGTERM"
                                 % (key, utc(modified), utc(stopped)))
        # Delivered once: nothing more comes later.
        time.sleep(2)
        self.assertEqual(sorted(self.keys(bucket)), sorted(keys))


# ---------------------------------------------------------------------------
# 8. UpdateDestination
# ---------------------------------------------------------------------------


class UpdateDestinationTests(FirehoseCase):
    def test_versions_and_object_names(self):
        bucket = self.make_bucket("upd")
        name = unique("upd")
        self.create_stream(name, bucket, size=5, interval=60)
        start = time.time()
        self.fh.put_record(DeliveryStreamName=name, Record={"Data": b"v1\n"})
        end = time.time()
        keys = self.wait_keys(bucket, 1, timeout=20)
        self.assertEqual(len(keys), 1, keys)
        self.assertKey(keys[0], name, 1, start, end)
        self.assertEqual(self.get(bucket, keys[0]), b"v1\n")

        desc = self.fh.describe_delivery_stream(
            DeliveryStreamName=name)["DeliveryStreamDescription"]
        self.assertEqual(desc["VersionId"], "1")
        dest_id = desc["Destinations"][0]["DestinationId"]
        self.assertEqual(dest_id, DESTINATION_ID)
        self.fh.update_destination(
            DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1", DestinationId=dest_id,
            ExtendedS3DestinationUpdate={
                "Prefix": "v2/", "BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 120}})
        desc = self.wait_active(name)
        self.assertEqual(desc["VersionId"], "2")
        ext = desc["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["Prefix"], "v2/")
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 2, "IntervalInSeconds": 120})
        # Parameters left out are kept.
        self.assertEqual(ext["RoleARN"], ROLE_ARN)
        self.assertEqual(ext["BucketARN"], "arn:aws:s3:::%s" % bucket)
        self.assertEqual(ext["CompressionFormat"], "UNCOMPRESSED")

        with self.assertRaises(ClientError) as ctx:
            self.fh.update_destination(
                DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1",
                DestinationId=dest_id, ExtendedS3DestinationUpdate={"Prefix": "stale/"})
        self.assertClientError(ctx, "ConcurrentModificationException")

        start = time.time()
        self.fh.put_record(DeliveryStreamName=name, Record={"Data": b"v2\n"})
        end = time.time()
        new = self.wait_keys(bucket, 1, timeout=20, prefix="v2/")
        self.assertEqual(len(new), 1, new)
        self.assertKey(new[0], name, 2, start, end, prefix="v2/")
        self.assertEqual(self.get(bucket, new[0]), b"v2\n")

        self.fh.update_destination(
            DeliveryStreamName=name, CurrentDeliveryStreamVersionId="2", DestinationId=dest_id,
            ExtendedS3DestinationUpdate={"CompressionFormat": "GZIP"})
        desc = self.wait_active(name)
        self.assertEqual(desc["VersionId"], "3")
        ext = desc["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual((ext["Prefix"], ext["CompressionFormat"]), ("v2/", "GZIP"))
        start = time.time()
        self.fh.put_record(DeliveryStreamName=name, Record={"Data": b"v3\n"})
        end = time.time()
        deadline = time.monotonic() + 20
        while True:
            v3 = [k for k in self.keys(bucket, "v2/") if k not in new]
            if v3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(len(v3), 1, self.keys(bucket))
        self.assertKey(v3[0], name, 3, start, end, prefix="v2/", gz=True)
        self.assertEqual(gzip.decompress(self.get(bucket, v3[0])), b"v3\n")
        self.assertEqual(len(self.keys(bucket)), 3, self.keys(bucket))


    def test_every_setting_the_console_edits(self):
        # What the console's edit form sends: both buffering hints, the
        # compression and both prefixes, with the ids DescribeDeliveryStream gave.
        bucket = self.make_bucket("upd-all")
        name = unique("upd-all")
        self.create_stream(name, bucket, size=5, interval=60, prefix="raw/")

        def update(version, **settings):
            self.fh.update_destination(
                DeliveryStreamName=name, CurrentDeliveryStreamVersionId=version,
                DestinationId=DESTINATION_ID, ExtendedS3DestinationUpdate=settings)
            return self.wait_active(name)

        desc = update("1", BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 900},
                      CompressionFormat="GZIP", Prefix="logs/!{timestamp:yyyy}/",
                      ErrorOutputPrefix="errors/!{firehose:error-output-type}/")
        self.assertEqual(desc["VersionId"], "2")
        ext = desc["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 64, "IntervalInSeconds": 900})
        self.assertEqual((ext["CompressionFormat"], ext["Prefix"], ext["ErrorOutputPrefix"]),
                         ("GZIP", "logs/!{timestamp:yyyy}/", "errors/!{firehose:error-output-type}/"))
        # Empty prefixes clear them; the bounds of the hints are accepted.
        desc = update("2", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
                      CompressionFormat="UNCOMPRESSED", Prefix="", ErrorOutputPrefix="")
        self.assertEqual(desc["VersionId"], "3")
        ext = desc["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertNotIn("Prefix", ext)
        self.assertNotIn("ErrorOutputPrefix", ext)
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 1, "IntervalInSeconds": 0})
        # A form filled from version 2 is stale now.
        with self.assertRaises(ClientError) as ctx:
            update("2", Prefix="late/")
        self.assertClientError(ctx, "ConcurrentModificationException")
        self.assertIn("current version id: 3 and the specified version id: 2",
                      ctx.exception.response["Error"]["Message"])

    def test_ids_and_settings_are_checked_as_the_model_says(self):
        bucket = self.make_bucket("upd-ids")
        name = unique("upd-ids")
        self.create_stream(name, bucket)
        good = {"DeliveryStreamName": name, "CurrentDeliveryStreamVersionId": "1",
                "DestinationId": DESTINATION_ID,
                "ExtendedS3DestinationUpdate": {"Prefix": "x/"}}
        model = {
            "no version id": ({"CurrentDeliveryStreamVersionId": None},
                              "Value null at 'currentDeliveryStreamVersionId'"),
            "empty version id": ({"CurrentDeliveryStreamVersionId": ""},
                                 "Member must have length between 1 and 50"),
            "version id of letters": ({"CurrentDeliveryStreamVersionId": "one"},
                                      "regular expression pattern: [0-9]+"),
            "version id of 51 digits": ({"CurrentDeliveryStreamVersionId": "1" * 51},
                                        "Member must have length between 1 and 50"),
            "no destination id": ({"DestinationId": None}, "Value null at 'destinationId'"),
            "destination id off the pattern": ({"DestinationId": "dest id!"},
                                               "regular expression pattern: [a-zA-Z0-9-]+"),
            "compression off the enum": ({"ExtendedS3DestinationUpdate": {
                "CompressionFormat": "BOGUS"}}, "enum value set"),
        }
        for label, (change, words) in model.items():
            with self.subTest(case=label):
                params = {k: v for k, v in dict(good, **change).items() if v is not None}
                with self.assertRaises(ClientError) as ctx:
                    self.fh_raw.update_destination(**params)
                self.assertClientError(ctx, MODEL_CONSTRAINT_ERROR)
                self.assertIn(words, ctx.exception.response["Error"]["Message"])
        # The model's checks come before the stream is looked up.
        with self.assertRaises(ClientError) as ctx:
            self.fh_raw.update_destination(**dict(good, DeliveryStreamName=unique("none"),
                                                  CurrentDeliveryStreamVersionId="x"))
        self.assertClientError(ctx, MODEL_CONSTRAINT_ERROR)
        semantic = {
            "another destination": {"DestinationId": "destinationId-000000000002"},
            "ZIP": {"ExtendedS3DestinationUpdate": {"CompressionFormat": "ZIP"}},
            "expressions without an error prefix": {"ExtendedS3DestinationUpdate": {
                "Prefix": "a/!{timestamp:yyyy}/"}},
            "a bucket ARN that is not one": {"ExtendedS3DestinationUpdate": {
                "BucketARN": "arn:aws:sqs:::q"}},
        }
        for label, change in semantic.items():
            with self.subTest(case=label):
                with self.assertRaises(ClientError) as ctx:
                    self.fh_raw.update_destination(**dict(good, **change))
                self.assertClientError(ctx, "InvalidArgumentException")
        # Nothing refused changed the stream.
        desc = self.fh.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"]
        self.assertEqual(desc["VersionId"], "1")
        self.assertNotIn("Prefix", desc["Destinations"][0]["ExtendedS3DestinationDescription"])


# ---------------------------------------------------------------------------
# Custom prefixes
# ---------------------------------------------------------------------------


class PrefixTests(FirehoseCase):
    def test_prefix_without_expressions_gets_the_time_prefix(self):
        bucket = self.make_bucket("plain")
        name = unique("plain")
        self.create_stream(name, bucket, prefix="plain/")
        start = time.time()
        self.fh.put_record(DeliveryStreamName=name, Record={"Data": b"p\n"})
        end = time.time()
        keys = self.wait_keys(bucket, 1, timeout=20)
        self.assertEqual(len(keys), 1, keys)
        self.assertKey(keys[0], name, 1, start, end, prefix="plain/")

    def test_timestamp_and_random_string_expressions(self):
        bucket = self.make_bucket("expr")
        name = unique("expr")
        self.create_stream(name, bucket,
                           prefix="expr/!{timestamp:yyyy/MM/dd}/!{firehose:random-string}/",
                           error_prefix="expr-errors/!{firehose:error-output-type}/")
        start = time.time()
        self.fh.put_record(DeliveryStreamName=name, Record={"Data": b"e\n"})
        end = time.time()
        keys = self.wait_keys(bucket, 1, timeout=20)
        self.assertEqual(len(keys), 1, keys)
        # No YYYY/MM/dd/HH/ added: the prefix has expressions of its own.
        m = self.assertKey(keys[0], name, 1, start, end,
                           prefix=r"expr/(?P<eY>\d{4})/(?P<eM>\d{2})/(?P<eD>\d{2})/"
                                  r"(?P<rand>[0-9A-Za-z-]{11})/", time_dirs=False)
        self.assertEqual((m.group("eY"), m.group("eM"), m.group("eD")),
                         (m.group("Y"), m.group("M"), m.group("D")), keys[0])
        self.assertEqual(self.get(bucket, keys[0]), b"e\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
