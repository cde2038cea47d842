"""End-to-end tests of Amazon S3 against the real offcloud binary, driven by
boto3, raw SigV4-signed HTTP, presigned URLs with urllib, and the aws CLI v1.

What "right" means is what Amazon S3 does (botocore's s3 model and the S3 API
reference). Each TestCase class starts its own server, so a feature that is
missing fails its own class only.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_s3.py -v
     (one class: ... test_s3.py -v MultipartTests)
"""

import base64
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
import zlib

from boto3.s3.transfer import TransferConfig
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REGION = harness.REGION  # ap-northeast-1
MIB = 1024 * 1024
PATH_STYLE = Config(s3={"addressing_style": "path"}, signature_version="s3v4")


def new_bucket_name(tag="b"):
    return ("e2e-%s-%s" % (tag, uuid.uuid4().hex[:12])).lower()


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def quoted_md5(data):
    return '"%s"' % md5_hex(data)


def multipart_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(),
                        len(parts))


def b64(raw):
    return base64.b64encode(raw).decode("ascii")


def _crc_table(poly, width):
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc & ((1 << width) - 1))
    return table


_CRC32C_TABLE = _crc_table(0x82F63B78, 32)
_CRC64NVME_TABLE = _crc_table(0x9A6C9329AC4BC9B5, 64)


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc64nvme(data):
    mask = 0xFFFFFFFFFFFFFFFF
    crc = mask
    for byte in data:
        crc = _CRC64NVME_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


# The published check values: a wrong table would make every checksum test
# blame the server.
assert crc32c(b"123456789") == 0xE3069283
assert crc64nvme(b"123456789") == 0xAE8B14860A799888


def checksum_crc32(data):
    return b64((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big"))


def checksum_crc32c(data):
    return b64(crc32c(data).to_bytes(4, "big"))


def checksum_crc64nvme(data):
    return b64(crc64nvme(data).to_bytes(8, "big"))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            h.update(block)
    return h.hexdigest()


def write_random_file(path, size, chunk=4 * MIB):
    """Writes `size` random bytes in chunks; returns their SHA-256 hex."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(chunk, left))
            f.write(block)
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def parse_xml_error(body):
    """{tag: text} of an S3 <Error> body (no namespace on errors)."""
    root = ET.fromstring(body)
    if root.tag != "Error":
        raise AssertionError("not an S3 <Error> body: %r" % body[:500])
    return {child.tag: (child.text or "") for child in root}


class UnsignedPayloadAuth(S3SigV4Auth):
    """S3 SigV4 with x-amz-content-sha256: UNSIGNED-PAYLOAD, as SDKs sign
    streaming uploads."""

    def _should_sha256_sign_payload(self, request):
        return False


def s3_sign(method, url, headers=None, body=b"", unsigned_payload=False,
            access_key=harness.ACCESS_KEY, secret_key=harness.SECRET_KEY, region=REGION):
    """Headers for an S3 request to `url` (path already percent-encoded),
    signed by botocore's own S3 signer."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    auth = UnsignedPayloadAuth if unsigned_payload else S3SigV4Auth
    auth(Credentials(access_key, secret_key), "s3", region).add_auth(request)
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def __repr__(self):
        return "RawResponse(%d, %r, %r)" % (self.status, self.headers, self.body[:600])


class S3Case(unittest.TestCase):
    """One server per class; tests make their own buckets."""

    server_args = ()
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = harness.OffcloudServer(args=cls.server_args)
        cls.server.__enter__()
        cls.s3 = cls.client()

    @classmethod
    def tearDownClass(cls):
        try:
            # A crash during the tests shows up here as a non-zero exit.
            cls.server.stop()
        finally:
            cls.server.__exit__(None, None, None)

    @classmethod
    def client(cls, region=REGION, config=None, **kw):
        cfg = PATH_STYLE if config is None else PATH_STYLE.merge(config)
        return cls.server.boto3_client("s3", region=region, config=cfg, **kw)

    @classmethod
    def make_bucket(cls, tag="b", client=None):
        name = new_bucket_name(tag)
        (client or cls.s3).create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    # -- assertions --------------------------------------------------------

    def assertClientError(self, ctx, code, status):
        err = ctx.exception.response.get("Error", {})
        meta = ctx.exception.response.get("ResponseMetadata", {})
        detail = "want code=%r status=%r; got code=%r status=%r error=%r" % (
            code, status, err.get("Code"), meta.get("HTTPStatusCode"), err)
        self.assertEqual(err.get("Code"), code, detail)
        self.assertEqual(meta.get("HTTPStatusCode"), status, detail)
        return err

    def assertStatus(self, response, status=200):
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], status, response)

    # -- raw HTTP ----------------------------------------------------------

    def raw(self, method, path, headers=None, body=b"", host=None, sign=True, unsigned_payload=False,
            **sign_kw):
        """A request sent with http.client to 127.0.0.1; `host` (e.g.
        "bkt.localhost:PORT") sets the Host header and the signed URL."""
        host = host or "127.0.0.1:%d" % self.server.port
        headers = dict(headers or {})
        if sign:
            headers = s3_sign(method, "http://%s%s" % (host, path), headers, body,
                              unsigned_payload=unsigned_payload, **sign_kw)
        headers["Host"] = host
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return RawResponse(resp.status, resp.getheaders(), data)
        finally:
            conn.close()

    def assertRawError(self, resp, code, status):
        self.assertEqual(resp.status, status, resp)
        err = parse_xml_error(resp.body)
        self.assertEqual(err.get("Code"), code, resp)
        self.assertTrue(err.get("Message"), resp)
        return err


# ---------------------------------------------------------------------------
# 1. Buckets
# ---------------------------------------------------------------------------


class BucketTests(S3Case):
    def test_create_with_location_constraint(self):
        name = new_bucket_name("loc")
        resp = self.s3.create_bucket(Bucket=name,
                                     CreateBucketConfiguration={"LocationConstraint": REGION})
        self.assertStatus(resp)
        self.assertStatus(self.s3.head_bucket(Bucket=name))
        self.assertEqual(self.s3.get_bucket_location(Bucket=name)["LocationConstraint"], REGION)

    def test_head_bucket_reports_region(self):
        # HeadBucket answers x-amz-bucket-region (BucketRegion in the model).
        name = self.make_bucket("headregion")
        resp = self.s3.head_bucket(Bucket=name)
        self.assertEqual(resp.get("BucketRegion"), REGION, resp)

    def test_create_without_configuration_in_us_east_1(self):
        # No CreateBucketConfiguration means us-east-1, whose GetBucketLocation
        # answers an empty LocationConstraint (botocore: None).
        east = self.client(region="us-east-1")
        name = new_bucket_name("east")
        self.assertStatus(east.create_bucket(Bucket=name))
        self.assertStatus(east.head_bucket(Bucket=name))
        self.assertIsNone(east.get_bucket_location(Bucket=name).get("LocationConstraint"))

    def test_recreate_own_bucket_in_us_east_1_is_200(self):
        # botocore's BucketAlreadyOwnedByYou: "For legacy compatibility, if you
        # re-create an existing bucket that you already own in the North
        # Virginia Region, Amazon S3 returns 200 OK".
        east = self.client(region="us-east-1")
        name = new_bucket_name("east2")
        east.create_bucket(Bucket=name)
        east.put_object(Bucket=name, Key="keep", Body=b"kept")
        self.assertStatus(east.create_bucket(Bucket=name))
        # A no-op: the contents are still there.
        self.assertEqual(east.get_object(Bucket=name, Key="keep")["Body"].read(), b"kept")

    def test_recreate_own_bucket_outside_us_east_1_is_409(self):
        name = self.make_bucket("twice")
        with self.assertRaises(ClientError) as ctx:
            self.s3.create_bucket(Bucket=name,
                                  CreateBucketConfiguration={"LocationConstraint": REGION})
        err = self.assertClientError(ctx, "BucketAlreadyOwnedByYou", 409)
        self.assertEqual(err.get("BucketName"), name, err)

    def test_list_buckets_with_owner(self):
        names = {self.make_bucket("list") for _ in range(3)}
        before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
        resp = self.s3.list_buckets()
        self.assertStatus(resp)
        owner = resp.get("Owner", {})
        self.assertTrue(owner.get("ID"), resp)
        self.assertTrue(owner.get("DisplayName"), resp)
        listed = {b["Name"]: b for b in resp["Buckets"]}
        for name in names:
            self.assertIn(name, listed)
            created = listed[name]["CreationDate"]
            self.assertGreater(created, before)
            self.assertLess(created, datetime.datetime.now(datetime.timezone.utc)
                            + datetime.timedelta(minutes=1))
        # Sorted by name, as S3 lists them.
        order = [b["Name"] for b in resp["Buckets"]]
        self.assertEqual(order, sorted(order))

    def test_invalid_bucket_names(self):
        for name in ("A", "ab", "bad_name", "-x-", "UPPER-case", "a..b", "x" * 64,
                     "192.168.5.4", "ends-with-dash-", ".starts-with-dot"):
            with self.subTest(name=name):
                with self.assertRaises(ClientError) as ctx:
                    self.s3.create_bucket(
                        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
                self.assertClientError(ctx, "InvalidBucketName", 400)

    def test_boundary_bucket_names_are_valid(self):
        for name in ("abc", "a" * 63, "a.b-c.1", "1" + uuid.uuid4().hex[:10]):
            with self.subTest(name=name):
                self.assertStatus(self.s3.create_bucket(
                    Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}))
                self.assertStatus(self.s3.delete_bucket(Bucket=name), 204)

    def test_no_such_bucket(self):
        missing = new_bucket_name("missing")
        calls = [
            ("get_bucket_location", lambda: self.s3.get_bucket_location(Bucket=missing)),
            ("list_objects_v2", lambda: self.s3.list_objects_v2(Bucket=missing)),
            ("put_object", lambda: self.s3.put_object(Bucket=missing, Key="k", Body=b"x")),
            ("get_object", lambda: self.s3.get_object(Bucket=missing, Key="k")),
            ("delete_bucket", lambda: self.s3.delete_bucket(Bucket=missing)),
        ]
        for label, call in calls:
            with self.subTest(call=label):
                with self.assertRaises(ClientError) as ctx:
                    call()
                err = self.assertClientError(ctx, "NoSuchBucket", 404)
                self.assertEqual(err.get("BucketName"), missing, err)

    def test_head_missing_bucket_is_404(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_bucket(Bucket=new_bucket_name("missing"))
        # HEAD has no body: botocore names the error by its status.
        self.assertClientError(ctx, "404", 404)

    def test_delete_non_empty_bucket(self):
        name = self.make_bucket("full")
        self.s3.put_object(Bucket=name, Key="still/here", Body=b"1")
        with self.assertRaises(ClientError) as ctx:
            self.s3.delete_bucket(Bucket=name)
        err = self.assertClientError(ctx, "BucketNotEmpty", 409)
        self.assertEqual(err.get("BucketName"), name, err)
        self.assertStatus(self.s3.head_bucket(Bucket=name))
        self.assertStatus(self.s3.delete_object(Bucket=name, Key="still/here"), 204)
        self.assertStatus(self.s3.delete_bucket(Bucket=name), 204)
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_bucket(Bucket=name)
        self.assertClientError(ctx, "404", 404)
        self.assertNotIn(name, [b["Name"] for b in self.s3.list_buckets()["Buckets"]])

    def test_error_wire_shape(self):
        missing = new_bucket_name("wire")
        resp = self.raw("GET", "/%s?list-type=2" % missing)
        self.assertEqual(resp.status, 404, resp)
        self.assertTrue(resp.headers.get("content-type", "").startswith("application/xml"), resp)
        self.assertTrue(resp.headers.get("x-amz-request-id"), resp)
        err = parse_xml_error(resp.body)
        self.assertEqual(err.get("Code"), "NoSuchBucket", resp)
        self.assertEqual(err.get("Message"), "The specified bucket does not exist", resp)
        self.assertEqual(err.get("BucketName"), missing, resp)
        self.assertTrue(err.get("RequestId"), resp)

    def test_virtual_host_style(self):
        # bucket.localhost:PORT, as SDKs address buckets by default.
        name = self.make_bucket("vhost")
        host = "%s.localhost:%d" % (name, self.server.port)
        put = self.raw("PUT", "/dir/obj.txt", headers={"Content-Type": "text/plain"},
                       body=b"virtual", host=host)
        self.assertEqual(put.status, 200, put)
        self.assertEqual(put.headers.get("etag"), quoted_md5(b"virtual"), put)
        got = self.s3.get_object(Bucket=name, Key="dir/obj.txt")
        self.assertEqual(got["Body"].read(), b"virtual")
        get = self.raw("GET", "/dir/obj.txt", host=host)
        self.assertEqual((get.status, get.body), (200, b"virtual"), get)
        listing = self.raw("GET", "/?list-type=2", host=host)
        self.assertEqual(listing.status, 200, listing)
        self.assertIn(b"<Key>dir/obj.txt</Key>", listing.body)
        self.assertIn(("<Name>%s</Name>" % name).encode(), listing.body)


# ---------------------------------------------------------------------------
# 2. Objects
# ---------------------------------------------------------------------------


class ObjectTests(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("obj")

    def test_round_trip_bytes_and_etag(self):
        body = os.urandom(MIB + 7) + bytes(range(256))
        put = self.s3.put_object(Bucket=self.bucket, Key="rt/random.bin", Body=body)
        self.assertStatus(put)
        self.assertEqual(put["ETag"], quoted_md5(body))
        got = self.s3.get_object(Bucket=self.bucket, Key="rt/random.bin")
        self.assertStatus(got)
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ETag"], quoted_md5(body))
        self.assertEqual(got["ContentLength"], len(body))
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((got["LastModified"] - now).total_seconds()), 120, got["LastModified"])

    def test_empty_object(self):
        put = self.s3.put_object(Bucket=self.bucket, Key="empty", Body=b"")
        self.assertEqual(put["ETag"], '"d41d8cd98f00b204e9800998ecf8427e"')
        got = self.s3.get_object(Bucket=self.bucket, Key="empty")
        self.assertEqual(got["ContentLength"], 0)
        self.assertEqual(got["Body"].read(), b"")

    def test_overwrite(self):
        self.s3.put_object(Bucket=self.bucket, Key="over", Body=b"first version")
        self.s3.put_object(Bucket=self.bucket, Key="over", Body=b"second")
        got = self.s3.get_object(Bucket=self.bucket, Key="over")
        self.assertEqual(got["Body"].read(), b"second")
        self.assertEqual(got["ETag"], quoted_md5(b"second"))

    def test_20_mib_single_put(self):
        # One PutObject can carry up to 5 GiB; the server's default request
        # body limit must not apply to S3 object bodies.
        body = os.urandom(20 * MIB)
        put = self.s3.put_object(Bucket=self.bucket, Key="big/20mib", Body=body)
        self.assertEqual(put["ETag"], quoted_md5(body))
        got = self.s3.get_object(Bucket=self.bucket, Key="big/20mib")
        self.assertEqual(hashlib.sha256(got["Body"].read()).hexdigest(),
                         hashlib.sha256(body).hexdigest())

    def test_content_type_and_metadata_round_trip(self):
        meta = {"colour": "blue", "camera-id": "cam-1", "empty": ""}
        self.s3.put_object(Bucket=self.bucket, Key="meta.json", Body=b"{}",
                           ContentType="application/json; charset=utf-8", Metadata=meta,
                           CacheControl="max-age=60", ContentDisposition='inline; filename="m.json"',
                           ContentLanguage="ja")
        for label, resp in (("head", self.s3.head_object(Bucket=self.bucket, Key="meta.json")),
                            ("get", self.s3.get_object(Bucket=self.bucket, Key="meta.json"))):
            with self.subTest(op=label):
                self.assertEqual(resp["ContentType"], "application/json; charset=utf-8")
                self.assertEqual(resp["Metadata"], meta)
                self.assertEqual(resp["CacheControl"], "max-age=60")
                self.assertEqual(resp["ContentDisposition"], 'inline; filename="m.json"')
                self.assertEqual(resp["ContentLanguage"], "ja")

    def test_metadata_names_come_back_lower_case(self):
        self.s3.put_object(Bucket=self.bucket, Key="meta-case", Body=b"x",
                           Metadata={"MixedCase": "Value Kept"})
        head = self.s3.head_object(Bucket=self.bucket, Key="meta-case")
        self.assertEqual(head["Metadata"], {"mixedcase": "Value Kept"})

    def test_default_content_type(self):
        # S3 stores binary/octet-stream when the PUT names no Content-Type.
        resp = self.raw("PUT", "/%s/no-type" % self.bucket, body=b"abc")
        self.assertEqual(resp.status, 200, resp)
        head = self.s3.head_object(Bucket=self.bucket, Key="no-type")
        self.assertEqual(head["ContentType"], "binary/octet-stream")

    def test_head_object(self):
        body = b"head me" * 100
        self.s3.put_object(Bucket=self.bucket, Key="head/me", Body=body, ContentType="text/plain")
        head = self.s3.head_object(Bucket=self.bucket, Key="head/me")
        self.assertStatus(head)
        self.assertEqual(head["ContentLength"], len(body))
        self.assertEqual(head["ETag"], quoted_md5(body))
        self.assertEqual(head["ContentType"], "text/plain")
        self.assertEqual(head["AcceptRanges"], "bytes")
        self.assertIn("LastModified", head)

    def test_head_missing_object_is_404(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_object(Bucket=self.bucket, Key="no/such/key")
        self.assertClientError(ctx, "404", 404)

    def test_delete_object_is_204_and_idempotent(self):
        self.s3.put_object(Bucket=self.bucket, Key="del/me", Body=b"x")
        self.assertStatus(self.s3.delete_object(Bucket=self.bucket, Key="del/me"), 204)
        self.assertStatus(self.s3.delete_object(Bucket=self.bucket, Key="del/me"), 204)
        self.assertStatus(self.s3.delete_object(Bucket=self.bucket, Key="never/existed"), 204)
        with self.assertRaises(ClientError) as ctx:
            self.s3.get_object(Bucket=self.bucket, Key="del/me")
        self.assertClientError(ctx, "NoSuchKey", 404)

    def test_no_such_key_names_the_key(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.get_object(Bucket=self.bucket, Key="missing/日本 key")
        err = self.assertClientError(ctx, "NoSuchKey", 404)
        self.assertEqual(err.get("Key"), "missing/日本 key", err)
        self.assertEqual(err.get("Message"), "The specified key does not exist.", err)

    def test_response_header_overrides(self):
        self.s3.put_object(Bucket=self.bucket, Key="override", Body=b"data",
                           ContentType="text/plain")
        got = self.s3.get_object(Bucket=self.bucket, Key="override",
                                 ResponseContentType="application/x-custom",
                                 ResponseContentDisposition='attachment; filename="f.txt"',
                                 ResponseCacheControl="no-cache",
                                 ResponseContentLanguage="fr",
                                 ResponseContentEncoding="identity")
        self.assertEqual(got["ContentType"], "application/x-custom")
        self.assertEqual(got["ContentDisposition"], 'attachment; filename="f.txt"')
        self.assertEqual(got["CacheControl"], "no-cache")
        self.assertEqual(got["ContentLanguage"], "fr")
        self.assertEqual(got["ContentEncoding"], "identity")
        self.assertEqual(got["Body"].read(), b"data")
        # The stored object is unchanged.
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="override")["ContentType"],
                         "text/plain")

    def test_content_md5_mismatch_is_bad_digest(self):
        wrong = b64(hashlib.md5(b"something else").digest())
        with self.assertRaises(ClientError) as ctx:
            self.s3.put_object(Bucket=self.bucket, Key="md5/bad", Body=b"payload", ContentMD5=wrong)
        self.assertClientError(ctx, "BadDigest", 400)
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_object(Bucket=self.bucket, Key="md5/bad")
        self.assertClientError(ctx, "404", 404)

    def test_empty_put_leaves_the_connection_fit_for_the_next_answer(self):
        # boto3 asks for 100 Continue even for an empty body. Answered
        # without it, botocore keeps that answer's status for every later
        # request on the connection: this BadDigest was read as 200 (and
        # retried), and a request cut off by a server crash as a success.
        s3 = self.client()  # a connection of its own
        s3.put_object(Bucket=self.bucket, Key="expect/empty", Body=b"")
        wrong = b64(hashlib.md5(b"something else").digest())
        with self.assertRaises(ClientError) as ctx:
            s3.put_object(Bucket=self.bucket, Key="expect/next", Body=b"payload", ContentMD5=wrong)
        self.assertClientError(ctx, "BadDigest", 400)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["RetryAttempts"], 0)

    def test_content_md5_not_a_digest_is_invalid_digest(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.put_object(Bucket=self.bucket, Key="md5/invalid", Body=b"payload",
                               ContentMD5="not-an-md5")
        self.assertClientError(ctx, "InvalidDigest", 400)

    def test_content_md5_match_is_accepted(self):
        good = b64(hashlib.md5(b"payload").digest())
        put = self.s3.put_object(Bucket=self.bucket, Key="md5/good", Body=b"payload",
                                 ContentMD5=good)
        self.assertEqual(put["ETag"], quoted_md5(b"payload"))

    def test_key_too_long(self):
        ok = "k" * 1024
        self.assertStatus(self.s3.put_object(Bucket=self.bucket, Key=ok, Body=b"1"))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=ok)["Body"].read(), b"1")
        with self.assertRaises(ClientError) as ctx:
            self.s3.put_object(Bucket=self.bucket, Key="k" * 1025, Body=b"1")
        self.assertClientError(ctx, "KeyTooLongError", 400)


class RangeTests(S3Case):
    BODY = bytes(range(100))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("range")
        cls.s3.put_object(Bucket=cls.bucket, Key="hundred", Body=cls.BODY)

    def get_range(self, spec):
        return self.s3.get_object(Bucket=self.bucket, Key="hundred", Range=spec)

    def test_ranges(self):
        cases = [("bytes=0-9", 0, 9), ("bytes=-5", 95, 99), ("bytes=10-", 10, 99),
                 ("bytes=90-200", 90, 99), ("bytes=99-99", 99, 99), ("bytes=0-", 0, 99)]
        for spec, first, last in cases:
            with self.subTest(range=spec):
                got = self.get_range(spec)
                self.assertStatus(got, 206)
                self.assertEqual(got["ContentRange"], "bytes %d-%d/100" % (first, last))
                self.assertEqual(got["ContentLength"], last - first + 1)
                self.assertEqual(got["Body"].read(), self.BODY[first:last + 1])
                # The ETag is the whole object's.
                self.assertEqual(got["ETag"], quoted_md5(self.BODY))

    def test_head_with_range(self):
        head = self.s3.head_object(Bucket=self.bucket, Key="hundred", Range="bytes=0-9")
        self.assertStatus(head, 206)
        self.assertEqual(head["ContentLength"], 10)
        self.assertEqual(head["ContentRange"], "bytes 0-9/100")

    def test_unsatisfiable_ranges(self):
        for spec in ("bytes=100-", "bytes=200-300"):
            with self.subTest(range=spec):
                with self.assertRaises(ClientError) as ctx:
                    self.get_range(spec)
                err = self.assertClientError(ctx, "InvalidRange", 416)
                self.assertEqual(err.get("ActualObjectSize"), "100", err)
                self.assertEqual(err.get("RangeRequested"), spec, err)


class ConditionalTests(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("cond")
        cls.etag = cls.s3.put_object(Bucket=cls.bucket, Key="c", Body=b"conditional")["ETag"]
        cls.mtime = cls.s3.head_object(Bucket=cls.bucket, Key="c")["LastModified"]
        cls.day = datetime.timedelta(days=1)

    def get(self, **kw):
        return self.s3.get_object(Bucket=self.bucket, Key="c", **kw)

    def assertPreconditionFailed(self, condition, **kw):
        with self.assertRaises(ClientError) as ctx:
            self.get(**kw)
        err = self.assertClientError(ctx, "PreconditionFailed", 412)
        self.assertEqual(err.get("Condition"), condition, err)

    def assertNotModified(self, **kw):
        with self.assertRaises(ClientError) as ctx:
            self.get(**kw)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304,
                         ctx.exception.response)

    def test_if_match(self):
        self.assertEqual(self.get(IfMatch=self.etag)["Body"].read(), b"conditional")
        self.assertEqual(self.get(IfMatch=self.etag.strip('"'))["Body"].read(), b"conditional")
        self.assertPreconditionFailed("If-Match", IfMatch='"0123456789abcdef0123456789abcdef"')

    def test_if_none_match(self):
        self.assertNotModified(IfNoneMatch=self.etag)
        self.assertStatus(self.get(IfNoneMatch='"0123456789abcdef0123456789abcdef"'))

    def test_if_modified_since(self):
        # Compared at the one-second resolution of Last-Modified.
        self.assertNotModified(IfModifiedSince=self.mtime)
        self.assertStatus(self.get(IfModifiedSince=self.mtime - self.day))

    def test_if_unmodified_since(self):
        self.assertStatus(self.get(IfUnmodifiedSince=self.mtime))
        self.assertPreconditionFailed("If-Unmodified-Since",
                                      IfUnmodifiedSince=self.mtime - self.day)

    def test_documented_combinations(self):
        # GetObject docs: If-Match true + If-Unmodified-Since false -> 200;
        # If-None-Match false + If-Modified-Since true -> 304.
        self.assertStatus(self.get(IfMatch=self.etag, IfUnmodifiedSince=self.mtime - self.day))
        self.assertNotModified(IfNoneMatch=self.etag, IfModifiedSince=self.mtime - self.day)

    def test_head_conditions(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_object(Bucket=self.bucket, Key="c", IfMatch='"nope"')
        self.assertClientError(ctx, "412", 412)
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_object(Bucket=self.bucket, Key="c", IfNoneMatch=self.etag)
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)

    def test_304_carries_etag_and_no_body(self):
        resp = self.raw("GET", "/%s/c" % self.bucket, headers={"If-None-Match": self.etag})
        self.assertEqual(resp.status, 304, resp)
        self.assertEqual(resp.headers.get("etag"), self.etag, resp)
        self.assertEqual(resp.body, b"")


class CopyTests(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("copy")
        cls.other = cls.make_bucket("copy2")
        cls.body = os.urandom(4096)
        cls.s3.put_object(Bucket=cls.bucket, Key="src/ü file.bin", Body=cls.body,
                          ContentType="application/x-src", Metadata={"origin": "source"})

    SRC = "src/ü file.bin"

    def test_copy_same_bucket_keeps_metadata(self):
        resp = self.s3.copy_object(Bucket=self.bucket, Key="dst/same",
                                   CopySource={"Bucket": self.bucket, "Key": self.SRC})
        self.assertStatus(resp)
        self.assertEqual(resp["CopyObjectResult"]["ETag"], quoted_md5(self.body))
        self.assertIn("LastModified", resp["CopyObjectResult"])
        got = self.s3.get_object(Bucket=self.bucket, Key="dst/same")
        self.assertEqual(got["Body"].read(), self.body)
        self.assertEqual(got["ContentType"], "application/x-src")
        self.assertEqual(got["Metadata"], {"origin": "source"})

    def test_copy_other_bucket(self):
        # The string form: botocore URL-encodes it.
        self.s3.copy_object(Bucket=self.other, Key="copied",
                            CopySource="%s/%s" % (self.bucket, self.SRC))
        self.assertEqual(self.s3.get_object(Bucket=self.other, Key="copied")["Body"].read(),
                         self.body)
        # The source is untouched.
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=self.SRC)["Body"].read(),
                         self.body)

    def test_directive_copy_ignores_request_metadata(self):
        self.s3.copy_object(Bucket=self.bucket, Key="dst/copy-directive",
                            CopySource={"Bucket": self.bucket, "Key": self.SRC},
                            MetadataDirective="COPY", Metadata={"ignored": "yes"})
        head = self.s3.head_object(Bucket=self.bucket, Key="dst/copy-directive")
        self.assertEqual(head["Metadata"], {"origin": "source"})
        self.assertEqual(head["ContentType"], "application/x-src")

    def test_directive_replace(self):
        self.s3.copy_object(Bucket=self.bucket, Key="dst/replaced",
                            CopySource={"Bucket": self.bucket, "Key": self.SRC},
                            MetadataDirective="REPLACE", ContentType="text/x-new",
                            Metadata={"fresh": "1"})
        head = self.s3.head_object(Bucket=self.bucket, Key="dst/replaced")
        self.assertEqual(head["Metadata"], {"fresh": "1"})
        self.assertEqual(head["ContentType"], "text/x-new")
        self.assertEqual(head["ETag"], quoted_md5(self.body))

    def test_copy_onto_itself_without_change_is_refused(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.copy_object(Bucket=self.bucket, Key=self.SRC,
                                CopySource={"Bucket": self.bucket, "Key": self.SRC})
        self.assertClientError(ctx, "InvalidRequest", 400)

    def test_copy_onto_itself_with_replace(self):
        self.s3.put_object(Bucket=self.bucket, Key="self", Body=b"self", Metadata={"v": "1"})
        self.s3.copy_object(Bucket=self.bucket, Key="self",
                            CopySource={"Bucket": self.bucket, "Key": "self"},
                            MetadataDirective="REPLACE", Metadata={"v": "2"})
        got = self.s3.get_object(Bucket=self.bucket, Key="self")
        self.assertEqual(got["Metadata"], {"v": "2"})
        self.assertEqual(got["Body"].read(), b"self")

    def test_copy_missing_source(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.copy_object(Bucket=self.bucket, Key="dst/x",
                                CopySource={"Bucket": self.bucket, "Key": "no/such"})
        self.assertClientError(ctx, "NoSuchKey", 404)
        with self.assertRaises(ClientError) as ctx:
            self.s3.copy_object(Bucket=self.bucket, Key="dst/x",
                                CopySource={"Bucket": new_bucket_name("nob"), "Key": "k"})
        self.assertClientError(ctx, "NoSuchBucket", 404)

    def test_copy_source_if_match(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.copy_object(Bucket=self.bucket, Key="dst/cond",
                                CopySource={"Bucket": self.bucket, "Key": self.SRC},
                                CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')
        self.assertClientError(ctx, "PreconditionFailed", 412)
        self.assertStatus(self.s3.copy_object(
            Bucket=self.bucket, Key="dst/cond", CopySource={"Bucket": self.bucket, "Key": self.SRC},
            CopySourceIfMatch=quoted_md5(self.body)))


class DeleteObjectsTests(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("multidel")

    def put_many(self, keys):
        def put(key):
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=key.encode())
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(put, keys))

    def list_keys(self, prefix):
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    def test_delete_1000_keys_with_one_missing(self):
        keys = ["thousand/%04d" % i for i in range(999)]
        self.put_many(keys)
        self.assertEqual(len(self.list_keys("thousand/")), 999)
        request = keys + ["thousand/does-not-exist"]
        resp = self.s3.delete_objects(Bucket=self.bucket,
                                      Delete={"Objects": [{"Key": k} for k in request]})
        self.assertStatus(resp)
        self.assertEqual(resp.get("Errors", []), [])
        self.assertEqual(sorted(d["Key"] for d in resp["Deleted"]), sorted(request))
        self.assertEqual(self.list_keys("thousand/"), [])

    def test_quiet_mode(self):
        keys = ["quiet/a", "quiet/b", "quiet/c"]
        self.put_many(keys)
        resp = self.s3.delete_objects(Bucket=self.bucket, Delete={
            "Objects": [{"Key": k} for k in keys + ["quiet/missing"]], "Quiet": True})
        self.assertStatus(resp)
        self.assertEqual(resp.get("Deleted", []), [])
        self.assertEqual(resp.get("Errors", []), [])
        self.assertEqual(self.list_keys("quiet/"), [])

    def test_more_than_1000_keys_is_malformed(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": "over/%d" % i} for i in range(1001)]})
        self.assertClientError(ctx, "MalformedXML", 400)

    def test_special_keys(self):
        keys = ["sp/with space", "sp/日本", "sp/a&b<c>", "sp/plus+"]
        self.put_many(keys)
        resp = self.s3.delete_objects(Bucket=self.bucket,
                                      Delete={"Objects": [{"Key": k} for k in keys]})
        self.assertEqual(sorted(d["Key"] for d in resp["Deleted"]), sorted(keys))
        self.assertEqual(self.list_keys("sp/"), [])


class KeyNameTests(unittest.TestCase):
    """Keys that look like paths, escapes or URL syntax are just keys: they
    coexist, round-trip, and never become files outside the data dir."""

    KEYS = ["a", "a/", "a/b", "../x", "%2F", "with space", "unicode/日本語", "x?y#z",
            "../../x", "../../../x", "../../../../x", "./a", "a//b", "/abs", "a/./b",
            "a/../b", "back\\slash", "+plus", "~tilde", "semi;colon", "'quote\"", "*"]

    @classmethod
    def setUpClass(cls):
        cls.outer = tempfile.mkdtemp(prefix="offcloud-e2e-keys-")
        cls.data_dir = os.path.join(cls.outer, "data")
        os.mkdir(cls.data_dir)
        # Every place a traversing key could land, and whether it existed before.
        cls.watch = []
        d = cls.data_dir
        while True:
            for name in ("x", "abs", "b"):
                cls.watch.append(os.path.join(d, name))
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
        cls.watch = [p for p in cls.watch if not p.startswith(cls.data_dir + os.sep)]
        cls.existed = {p: os.path.lexists(p) for p in cls.watch}
        cls.server = harness.OffcloudServer(data_dir=cls.data_dir)
        cls.server.__enter__()
        cls.s3 = cls.server.boto3_client("s3", config=PATH_STYLE)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.__exit__(None, None, None)
            shutil.rmtree(cls.outer, ignore_errors=True)

    def test_keys_coexist_and_round_trip(self):
        bucket = new_bucket_name("keys")
        self.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        for key in self.KEYS:
            with self.subTest(key=key):
                put = self.s3.put_object(Bucket=bucket, Key=key, Body=b"body of " + key.encode())
                self.assertEqual(put["ETag"], quoted_md5(b"body of " + key.encode()))
        listed = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            listed += [o["Key"] for o in page.get("Contents", [])]
        # UTF-8 byte order, as S3 lists.
        self.assertEqual(listed, sorted(self.KEYS, key=lambda k: k.encode("utf-8")))
        for key in self.KEYS:
            with self.subTest(key=key):
                got = self.s3.get_object(Bucket=bucket, Key=key)
                self.assertEqual(got["Body"].read(), b"body of " + key.encode())
                self.assertEqual(self.s3.head_object(Bucket=bucket, Key=key)["ContentLength"],
                                 len(b"body of " + key.encode()))

        # Nothing was written outside the data dir.
        self.assertEqual(sorted(os.listdir(self.outer)), ["data"])
        for path in self.watch:
            self.assertEqual(os.path.lexists(path), self.existed[path],
                             "%s appeared or vanished during the test" % path)
        real_data = os.path.realpath(self.data_dir)
        for root, dirs, files in os.walk(self.data_dir):
            for name in dirs + files:
                path = os.path.join(root, name)
                if os.path.islink(path):
                    target = os.path.realpath(path)
                    self.assertTrue(target.startswith(real_data + os.sep),
                                    "%s links outside the data dir to %s" % (path, target))

        for key in self.KEYS:
            with self.subTest(delete=key):
                self.assertEqual(self.s3.delete_object(Bucket=bucket, Key=key)
                                 ["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket).get("KeyCount"), 0)
        # a/b deleted, a/ and a deleted too: nothing left that blocks the bucket.
        self.s3.delete_bucket(Bucket=bucket)
        for path in self.watch:
            self.assertEqual(os.path.lexists(path), self.existed[path], path)


# ---------------------------------------------------------------------------
# 3. Listing, versions, ACLs
# ---------------------------------------------------------------------------


class ListingTests(S3Case):
    KEYS = ["docs/readme.txt", "photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg",
            "top1", "top2", "with space/x", "ünï/y", "plus+sign"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("list")
        for key in cls.KEYS:
            cls.s3.put_object(Bucket=cls.bucket, Key=key, Body=key.encode())
        cls.sorted_keys = sorted(cls.KEYS, key=lambda k: k.encode("utf-8"))
        cls.owner_id = cls.s3.list_buckets()["Owner"]["ID"]

    def test_list_all(self):
        resp = self.s3.list_objects_v2(Bucket=self.bucket)
        self.assertEqual([o["Key"] for o in resp["Contents"]], self.sorted_keys)
        self.assertEqual(resp["KeyCount"], len(self.KEYS))
        self.assertFalse(resp["IsTruncated"])
        self.assertEqual(resp["Name"], self.bucket)
        self.assertEqual(resp["MaxKeys"], 1000)
        for entry in resp["Contents"]:
            self.assertEqual(entry["ETag"], quoted_md5(entry["Key"].encode()))
            self.assertEqual(entry["Size"], len(entry["Key"].encode()))
            self.assertEqual(entry["StorageClass"], "STANDARD")
            self.assertIn("LastModified", entry)
            self.assertNotIn("Owner", entry)  # only with FetchOwner

    def test_prefix(self):
        resp = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="photos/")
        self.assertEqual([o["Key"] for o in resp["Contents"]],
                         ["photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg"])
        self.assertEqual(resp["Prefix"], "photos/")
        self.assertEqual(resp["KeyCount"], 3)
        none = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="nothing/")
        self.assertEqual(none["KeyCount"], 0)
        self.assertNotIn("Contents", none)

    def test_delimiter(self):
        resp = self.s3.list_objects_v2(Bucket=self.bucket, Delimiter="/")
        self.assertEqual([o["Key"] for o in resp["Contents"]], ["plus+sign", "top1", "top2"])
        self.assertEqual([p["Prefix"] for p in resp["CommonPrefixes"]],
                         ["docs/", "photos/", "with space/", "ünï/"])
        self.assertEqual(resp["KeyCount"], 7)
        self.assertEqual(resp["Delimiter"], "/")

    def test_prefix_and_delimiter(self):
        resp = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="photos/", Delimiter="/")
        self.assertNotIn("Contents", resp)
        self.assertEqual([p["Prefix"] for p in resp["CommonPrefixes"]],
                         ["photos/2024/", "photos/2025/"])

    def test_manual_paging(self):
        seen, token, pages = [], None, 0
        while True:
            kw = {"Bucket": self.bucket, "MaxKeys": 2}
            if token:
                kw["ContinuationToken"] = token
            page = self.s3.list_objects_v2(**kw)
            pages += 1
            self.assertEqual(page["MaxKeys"], 2)
            self.assertLessEqual(page["KeyCount"], 2)
            seen += [o["Key"] for o in page.get("Contents", [])]
            if not page["IsTruncated"]:
                self.assertNotIn("NextContinuationToken", page)
                break
            token = page["NextContinuationToken"]
            self.assertTrue(token)
            if "ContinuationToken" in kw:
                self.assertEqual(page["ContinuationToken"], kw["ContinuationToken"])
            self.assertLess(pages, 20, "paging does not end")
        self.assertEqual(seen, self.sorted_keys)
        self.assertEqual(pages, 5)

    def test_paginator(self):
        seen = []
        pages = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, PaginationConfig={"PageSize": 3}):
            pages += 1
            seen += [o["Key"] for o in page.get("Contents", [])]
        self.assertEqual(seen, self.sorted_keys)
        self.assertEqual(pages, 3)

    def test_delimiter_paging_counts_prefixes(self):
        # Common prefixes count toward MaxKeys.
        entries, token = [], None
        for _ in range(20):
            kw = {"Bucket": self.bucket, "Delimiter": "/", "MaxKeys": 1}
            if token:
                kw["ContinuationToken"] = token
            page = self.s3.list_objects_v2(**kw)
            got = [o["Key"] for o in page.get("Contents", [])] + \
                  [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            self.assertEqual(len(got), 1, page)
            entries += got
            if not page["IsTruncated"]:
                break
            token = page["NextContinuationToken"]
        self.assertEqual(entries, ["docs/", "photos/", "plus+sign", "top1", "top2",
                                   "with space/", "ünï/"])

    def test_start_after(self):
        resp = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="photos/2024/b.jpg")
        self.assertEqual([o["Key"] for o in resp["Contents"]],
                         self.sorted_keys[self.sorted_keys.index("photos/2024/b.jpg") + 1:])
        self.assertEqual(resp["StartAfter"], "photos/2024/b.jpg")
        # StartAfter need not be a key.
        resp = self.s3.list_objects_v2(Bucket=self.bucket, StartAfter="t")
        self.assertEqual([o["Key"] for o in resp["Contents"]],
                         ["top1", "top2", "with space/x", "ünï/y"])

    def test_encoding_type_url(self):
        # Asked for explicitly, botocore leaves the keys encoded.
        resp = self.s3.list_objects_v2(Bucket=self.bucket, EncodingType="url")
        self.assertEqual(resp.get("EncodingType"), "url")
        keys = [o["Key"] for o in resp["Contents"]]
        self.assertEqual([urllib.parse.unquote_plus(k) for k in keys], self.sorted_keys)
        for key in keys:
            self.assertTrue(all(33 <= ord(c) < 127 for c in key), "not URL-encoded: %r" % key)
        self.assertNotIn("with space/x", keys)
        self.assertNotIn("plus+sign", keys)  # '+' would decode to a space
        # Delimiter and prefixes are encoded too.
        resp = self.s3.list_objects_v2(Bucket=self.bucket, EncodingType="url", Delimiter="/",
                                       Prefix="ünï/")
        self.assertEqual(urllib.parse.unquote_plus(resp["Prefix"]), "ünï/")
        self.assertNotEqual(resp["Prefix"], "ünï/")

    def test_fetch_owner(self):
        resp = self.s3.list_objects_v2(Bucket=self.bucket, FetchOwner=True)
        for entry in resp["Contents"]:
            self.assertEqual(entry["Owner"]["ID"], self.owner_id, entry)

    def test_invalid_continuation_token(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.list_objects_v2(Bucket=self.bucket, ContinuationToken="not-a-token")
        self.assertClientError(ctx, "InvalidArgument", 400)

    def test_v1_marker_without_delimiter(self):
        # ListObjects (v1) gives NextMarker only with a delimiter; without one
        # the next marker is the last key.
        seen, marker = [], None
        for _ in range(20):
            kw = {"Bucket": self.bucket, "MaxKeys": 3}
            if marker is not None:
                kw["Marker"] = marker
            page = self.s3.list_objects(**kw)
            self.assertEqual(page.get("Marker", ""), marker or "")
            keys = [o["Key"] for o in page.get("Contents", [])]
            seen += keys
            self.assertNotIn("NextMarker", page)
            if not page["IsTruncated"]:
                break
            marker = keys[-1]
        self.assertEqual(seen, self.sorted_keys)
        # v1 entries carry the owner.
        self.assertEqual(self.s3.list_objects(Bucket=self.bucket)["Contents"][0]["Owner"]["ID"],
                         self.owner_id)

    def test_v1_next_marker_with_delimiter(self):
        entries, marker = [], None
        for _ in range(20):
            kw = {"Bucket": self.bucket, "MaxKeys": 2, "Delimiter": "/"}
            if marker is not None:
                kw["Marker"] = marker
            page = self.s3.list_objects(**kw)
            got = [o["Key"] for o in page.get("Contents", [])] + \
                  [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            entries += got
            if not page["IsTruncated"]:
                break
            marker = page["NextMarker"]
            self.assertEqual(marker, max(got, key=lambda k: k.encode()))
        self.assertEqual(sorted(entries, key=lambda k: k.encode()),
                         ["docs/", "photos/", "plus+sign", "top1", "top2", "with space/", "ünï/"])
        self.assertEqual(len(entries), 7)

    def test_v1_paginator(self):
        seen = []
        for page in self.s3.get_paginator("list_objects").paginate(
                Bucket=self.bucket, PaginationConfig={"PageSize": 4}):
            seen += [o["Key"] for o in page.get("Contents", [])]
        self.assertEqual(seen, self.sorted_keys)


class VersionsAndAclTests(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("ver")
        for key in ("v/1", "v/2", "v/3"):
            cls.s3.put_object(Bucket=cls.bucket, Key=key, Body=key.encode())
        cls.owner_id = cls.s3.list_buckets()["Owner"]["ID"]

    def test_list_object_versions_unversioned(self):
        resp = self.s3.list_object_versions(Bucket=self.bucket)
        self.assertStatus(resp)
        versions = resp["Versions"]
        self.assertEqual([v["Key"] for v in versions], ["v/1", "v/2", "v/3"])
        for v in versions:
            self.assertEqual(v["VersionId"], "null", v)
            self.assertTrue(v["IsLatest"], v)
            self.assertEqual(v["ETag"], quoted_md5(v["Key"].encode()))
            self.assertEqual(v["Size"], 3)
        self.assertNotIn("DeleteMarkers", resp)

    def test_get_bucket_versioning_never_enabled(self):
        resp = self.s3.get_bucket_versioning(Bucket=self.bucket)
        self.assertStatus(resp)
        self.assertNotIn("Status", resp)
        self.assertNotIn("MFADelete", resp)

    def test_null_version_id(self):
        self.assertNotIn("VersionId", self.s3.head_object(Bucket=self.bucket, Key="v/1"))
        got = self.s3.get_object(Bucket=self.bucket, Key="v/1", VersionId="null")
        self.assertEqual(got["Body"].read(), b"v/1")

    def assertOwnerFullControl(self, resp):
        self.assertEqual(resp["Owner"]["ID"], self.owner_id)
        self.assertEqual(len(resp["Grants"]), 1, resp["Grants"])
        grant = resp["Grants"][0]
        self.assertEqual(grant["Permission"], "FULL_CONTROL")
        self.assertEqual(grant["Grantee"]["Type"], "CanonicalUser")
        self.assertEqual(grant["Grantee"]["ID"], self.owner_id)

    def test_bucket_acl(self):
        self.assertOwnerFullControl(self.s3.get_bucket_acl(Bucket=self.bucket))

    def test_object_acl(self):
        self.assertOwnerFullControl(self.s3.get_object_acl(Bucket=self.bucket, Key="v/2"))
        with self.assertRaises(ClientError) as ctx:
            self.s3.get_object_acl(Bucket=self.bucket, Key="v/missing")
        self.assertClientError(ctx, "NoSuchKey", 404)


# ---------------------------------------------------------------------------
# 4. Checksums
# ---------------------------------------------------------------------------


class ChecksumTests(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("sum")

    def capture_sent_headers(self, client):
        sent = {}

        def capture(request, **_):
            sent.clear()
            for k, v in request.headers.items():
                sent[k.lower()] = v.decode() if isinstance(v, bytes) else v

        client.meta.events.register("before-send.s3.PutObject", capture)
        return sent

    def test_default_crc32(self):
        client = self.client()
        sent = self.capture_sent_headers(client)
        body = os.urandom(10000)
        put = client.put_object(Bucket=self.bucket, Key="default", Body=body)
        # Guards the premise: botocore >= 1.36 sends CRC32 unless told not to.
        self.assertEqual(sent.get("x-amz-checksum-crc32"), checksum_crc32(body), sent)
        self.assertEqual(put.get("ChecksumCRC32"), checksum_crc32(body), put)
        head = client.head_object(Bucket=self.bucket, Key="default", ChecksumMode="ENABLED")
        self.assertEqual(head.get("ChecksumCRC32"), checksum_crc32(body), head)
        got = client.get_object(Bucket=self.bucket, Key="default", ChecksumMode="ENABLED")
        self.assertEqual(got.get("ChecksumCRC32"), checksum_crc32(body))
        self.assertEqual(got["Body"].read(), body)

    def test_checksum_only_when_asked(self):
        self.s3.put_object(Bucket=self.bucket, Key="quiet-sum", Body=b"abc")
        head = self.s3.head_object(Bucket=self.bucket, Key="quiet-sum")
        self.assertNotIn("ChecksumCRC32", head)

    def test_sha256_and_sha1(self):
        body = b"checksummed " * 1000
        for algorithm, digest in (("SHA256", hashlib.sha256), ("SHA1", hashlib.sha1)):
            with self.subTest(algorithm=algorithm):
                key = "alg/" + algorithm
                want = b64(digest(body).digest())
                put = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body,
                                         ChecksumAlgorithm=algorithm)
                self.assertEqual(put.get("Checksum" + algorithm), want, put)
                head = self.s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
                self.assertEqual(head.get("Checksum" + algorithm), want, head)

    def test_crc32c_and_crc64nvme(self):
        # botocore needs awscrt to compute these; the test computes them and
        # hands botocore the header value.
        body = os.urandom(5000)
        for member, want in (("ChecksumCRC32C", checksum_crc32c(body)),
                             ("ChecksumCRC64NVME", checksum_crc64nvme(body))):
            with self.subTest(algorithm=member):
                client = self.client()
                sent = self.capture_sent_headers(client)
                key = "alg/" + member
                put = client.put_object(Bucket=self.bucket, Key=key, Body=body, **{member: want})
                sent_sums = {k: v for k, v in sent.items() if k.startswith("x-amz-checksum-")}
                self.assertEqual(sent_sums, {"x-amz-checksum-" + member[8:].lower(): want})
                self.assertEqual(put.get(member), want, put)
                head = client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
                self.assertEqual(head.get(member), want, head)

    def test_wrong_checksum_is_bad_digest(self):
        body = b"the real body"
        wrong_crc = b64(((zlib.crc32(body) + 1) & 0xFFFFFFFF).to_bytes(4, "big"))
        wrong_sha = b64(hashlib.sha256(b"other").digest())
        for member, value in (("ChecksumCRC32", wrong_crc), ("ChecksumSHA256", wrong_sha),
                              ("ChecksumCRC32C", checksum_crc32c(b"other"))):
            with self.subTest(member=member):
                key = "wrong/" + member
                with self.assertRaises(ClientError) as ctx:
                    self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **{member: value})
                self.assertClientError(ctx, "BadDigest", 400)
                with self.assertRaises(ClientError) as ctx:
                    self.s3.head_object(Bucket=self.bucket, Key=key)
                self.assertClientError(ctx, "404", 404)

    def test_malformed_checksum_is_invalid_request(self):
        # S3: 400 InvalidRequest "Value for x-amz-checksum-crc32 header is
        # invalid." when the value is not base64 of the algorithm's size.
        with self.assertRaises(ClientError) as ctx:
            self.s3.put_object(Bucket=self.bucket, Key="malformed", Body=b"x",
                               ChecksumCRC32="not base64 at all!")
        self.assertClientError(ctx, "InvalidRequest", 400)

    def test_raw_wrong_crc32_header(self):
        body = b"raw body"
        headers = {"x-amz-checksum-crc32": checksum_crc32(b"not the body"),
                   "x-amz-sdk-checksum-algorithm": "CRC32"}
        resp = self.raw("PUT", "/%s/raw-wrong" % self.bucket, headers=headers, body=body)
        self.assertRawError(resp, "BadDigest", 400)
        headers["x-amz-checksum-crc32"] = checksum_crc32(body)
        resp = self.raw("PUT", "/%s/raw-right" % self.bucket, headers=headers, body=body)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.headers.get("x-amz-checksum-crc32"), checksum_crc32(body), resp)


class FixedPayloadAuth(S3SigV4Auth):
    """S3 SigV4 whose x-amz-content-sha256 is a given literal, such as
    STREAMING-UNSIGNED-PAYLOAD-TRAILER."""

    payload_literal = None

    def payload(self, request):
        return self.payload_literal


def aws_chunked(data, chunk_size, trailer=None):
    """The aws-chunked framing of `data` without chunk signatures, with an
    optional trailer line ("x-amz-checksum-crc32:...")."""
    out = b""
    for i in range(0, len(data), chunk_size):
        piece = data[i:i + chunk_size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    out += b"0\r\n"
    if trailer:
        out += trailer.encode() + b"\r\n"
    return out + b"\r\n"


class AwsChunkedTests(S3Case):
    """Streaming uploads as SDKs send them: Content-Encoding aws-chunked with
    a trailing checksum (botocore over https, the JS SDK v3 for streams, with
    Transfer-Encoding: chunked) and signed chunks (STREAMING-AWS4-HMAC-SHA256-
    PAYLOAD, the Java SDK and others)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("chunked")

    def send(self, path, headers, body, http_chunked=False):
        headers = dict(headers)
        if http_chunked:
            headers["Transfer-Encoding"] = "chunked"
            wire = b""
            for i in range(0, len(body), 8192):
                piece = body[i:i + 8192]
                wire += b"%x\r\n" % len(piece) + piece + b"\r\n"
            wire += b"0\r\n\r\n"
        else:
            headers["Content-Length"] = str(len(body))
            wire = body
        sock = self.server.connect(timeout=30)
        try:
            sock.sendall(harness.build_request("PUT", path, self.server.port, headers=headers) + wire)
            return harness.SocketReader(sock).read_response()
        finally:
            sock.close()

    def unsigned_trailer_headers(self, path, data, extra=None):
        headers = {"Content-Encoding": "aws-chunked",
                   "x-amz-decoded-content-length": str(len(data)),
                   "x-amz-trailer": "x-amz-checksum-crc32",
                   "x-amz-sdk-checksum-algorithm": "CRC32"}
        headers.update(extra or {})

        class Auth(FixedPayloadAuth):
            payload_literal = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

        request = AWSRequest(method="PUT", url=self.server.endpoint + path, headers=headers)
        Auth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "s3", REGION).add_auth(request)
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}

    def test_unsigned_payload_trailer(self):
        data = os.urandom(200000)
        for http_chunked in (False, True):
            with self.subTest(http_chunked=http_chunked):
                key = "trailer-%s" % http_chunked
                path = "/%s/%s" % (self.bucket, key)
                body = aws_chunked(data, 65536, "x-amz-checksum-crc32:" + checksum_crc32(data))
                resp = self.send(path, self.unsigned_trailer_headers(path, data), body,
                                 http_chunked=http_chunked)
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.header("ETag"), quoted_md5(data), resp)
                got = self.s3.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
                self.assertEqual(got["Body"].read(), data)
                self.assertEqual(got["ContentLength"], len(data))
                self.assertEqual(got.get("ChecksumCRC32"), checksum_crc32(data))
                # aws-chunked is a transfer detail, not the object's encoding.
                self.assertNotIn("aws-chunked", got.get("ContentEncoding", ""))

    def test_unsigned_payload_trailer_wrong_checksum(self):
        data = b"trailer data" * 1000
        path = "/%s/trailer-wrong" % self.bucket
        body = aws_chunked(data, 4096, "x-amz-checksum-crc32:" + checksum_crc32(b"other"))
        resp = self.send(path, self.unsigned_trailer_headers(path, data), body)
        self.assertEqual(resp.status, 400, resp)
        self.assertEqual(parse_xml_error(resp.body).get("Code"), "BadDigest", resp)
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_object(Bucket=self.bucket, Key="trailer-wrong")
        self.assertClientError(ctx, "404", 404)

    def signed_chunks(self, path, data, chunk_size, tamper=False):
        """Headers and body of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD PUT."""
        headers = {"Content-Encoding": "aws-chunked",
                   "x-amz-decoded-content-length": str(len(data))}

        class Auth(FixedPayloadAuth):
            payload_literal = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

        request = AWSRequest(method="PUT", url=self.server.endpoint + path, headers=headers)
        Auth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "s3", REGION).add_auth(request)
        headers = {k: (v.decode() if isinstance(v, bytes) else v)
                   for k, v in request.headers.items()}
        amz_date = headers["X-Amz-Date"]
        scope = "%s/%s/s3/aws4_request" % (amz_date[:8], REGION)
        key = ("AWS4" + harness.SECRET_KEY).encode()
        for part in (amz_date[:8], REGION, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        previous = headers["Authorization"].rsplit("Signature=", 1)[1]
        empty = hashlib.sha256(b"").hexdigest()
        pieces = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
        body = b""
        for piece in pieces:
            to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, empty,
                                 hashlib.sha256(piece).hexdigest()])
            signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
            sent = piece
            if tamper and piece:
                sent = bytes([piece[0] ^ 1]) + piece[1:]
                tamper = False
            body += b"%x;chunk-signature=%s\r\n" % (len(piece), signature.encode()) + sent + b"\r\n"
            previous = signature
        return headers, body

    def test_signed_chunks(self):
        data = os.urandom(150000)
        path = "/%s/signed-chunks" % self.bucket
        headers, body = self.signed_chunks(path, data, 65536)
        resp = self.send(path, headers, body)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("ETag"), quoted_md5(data), resp)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="signed-chunks")
                         ["Body"].read(), data)

    def test_signed_chunks_tampered(self):
        data = os.urandom(150000)
        path = "/%s/signed-tampered" % self.bucket
        headers, body = self.signed_chunks(path, data, 65536, tamper=True)
        resp = self.send(path, headers, body)
        self.assertEqual(resp.status, 403, resp)
        self.assertEqual(parse_xml_error(resp.body).get("Code"), "SignatureDoesNotMatch", resp)
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_object(Bucket=self.bucket, Key="signed-tampered")
        self.assertClientError(ctx, "404", 404)


# ---------------------------------------------------------------------------
# 5. Presigned URLs
# ---------------------------------------------------------------------------


def urlopen(request, timeout=30):
    """(status, body, headers) without raising on HTTP errors."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


class PresignTests(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("presign")
        cls.body = os.urandom(3000)
        cls.s3.put_object(Bucket=cls.bucket, Key="dir/shared file.bin", Body=cls.body)

    def presign(self, method, key, expires=300, client=None, **params):
        return (client or self.s3).generate_presigned_url(
            method, Params=dict(Bucket=self.bucket, Key=key, **params), ExpiresIn=expires)

    def assertUrlError(self, url, code, status, method="GET", data=None):
        got_status, body, _ = urlopen(urllib.request.Request(url, data=data, method=method))
        self.assertEqual(got_status, status, body)
        err = parse_xml_error(body)
        self.assertEqual(err.get("Code"), code, body)
        return err

    def test_presigned_get(self):
        url = self.presign("get_object", "dir/shared file.bin")
        self.assertIn("X-Amz-Signature=", url)
        status, body, _ = urlopen(url)
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(body, self.body)

    def test_presigned_get_with_response_override(self):
        url = self.presign("get_object", "dir/shared file.bin",
                           ResponseContentDisposition='attachment; filename="x.bin"')
        status, body, headers = urlopen(url)
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers.get("Content-Disposition"), 'attachment; filename="x.bin"')

    def test_presigned_put(self):
        data = b"uploaded through a presigned URL"
        url = self.presign("put_object", "up/presigned.txt")
        request = urllib.request.Request(url, data=data, method="PUT",
                                         headers={"Content-Type": "application/octet-stream"})
        status, body, headers = urlopen(request)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers.get("ETag"), quoted_md5(data))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="up/presigned.txt")
                         ["Body"].read(), data)

    def test_expired(self):
        url = self.presign("get_object", "dir/shared file.bin", expires=1)
        time.sleep(2.5)
        err = self.assertUrlError(url, "AccessDenied", 403)
        self.assertEqual(err.get("Message"), "Request has expired", err)

    def test_tampered(self):
        url = self.presign("get_object", "dir/shared file.bin", expires=300)
        self.assertIn("X-Amz-Expires=300", url)
        self.assertUrlError(url.replace("X-Amz-Expires=300", "X-Amz-Expires=301"),
                            "SignatureDoesNotMatch", 403)
        # The same signature on another key.
        self.s3.put_object(Bucket=self.bucket, Key="dir/other", Body=b"other")
        other = url.replace(urllib.parse.quote("dir/shared file.bin"), "dir/other")
        self.assertNotEqual(other, url)
        self.assertUrlError(other, "SignatureDoesNotMatch", 403)
        # A presigned GET is not a presigned PUT.
        self.assertUrlError(url, "SignatureDoesNotMatch", 403, method="PUT", data=b"evil")
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="dir/shared file.bin")
                         ["Body"].read(), self.body)

    def test_wrong_secret(self):
        bad = self.client(secret_key="not-the-secret")
        self.assertUrlError(self.presign("get_object", "dir/shared file.bin", client=bad),
                            "SignatureDoesNotMatch", 403)

    def test_unknown_access_key(self):
        bad = self.client(access_key="AKIAUNKNOWNKEY000000")
        self.assertUrlError(self.presign("get_object", "dir/shared file.bin", client=bad),
                            "InvalidAccessKeyId", 403)

    def test_expires_over_a_week(self):
        url = self.presign("get_object", "dir/shared file.bin", expires=604801)
        self.assertUrlError(url, "AuthorizationQueryParametersError", 400)

    # botocore and the aws CLI v1 presign S3 URLs with SigV2 query auth
    # (AWSAccessKeyId, Expires, Signature) unless told signature_version
    # s3v4, "in regions where S3 still supports it" (botocore's
    # generate_presigned_url docs), which includes ap-northeast-1 and
    # us-east-1. Hands-on code does exactly that, so those URLs must work.

    def default_client(self):
        return self.server.boto3_client("s3", config=Config(s3={"addressing_style": "path"}))

    def test_default_boto3_presign_sigv2_get_and_put(self):
        client = self.default_client()
        url = self.presign("get_object", "dir/shared file.bin", client=client)
        self.assertIn("AWSAccessKeyId=", url)  # the premise: SigV2 query auth
        status, body, _ = urlopen(url)
        self.assertEqual(status, 200, body[:500])
        self.assertEqual(body, self.body)
        data = b"put through a SigV2 URL"
        # SigV2 signs Content-Type, so the URL must name the one the client sends.
        url = self.presign("put_object", "up/sigv2.txt", client=client,
                           ContentType="application/octet-stream")
        request = urllib.request.Request(url, data=data, method="PUT",
                                         headers={"Content-Type": "application/octet-stream"})
        status, body, _ = urlopen(request)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="up/sigv2.txt")
                         ["Body"].read(), data)

    def test_sigv2_expired_and_tampered(self):
        client = self.default_client()
        url = self.presign("get_object", "dir/shared file.bin", client=client, expires=300)
        expires = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["Expires"][0]
        self.assertUrlError(url.replace("Expires=" + expires, "Expires=%d" % (int(expires) + 1)),
                            "SignatureDoesNotMatch", 403)
        bad = self.server.boto3_client("s3", secret_key="not-the-secret",
                                       config=Config(s3={"addressing_style": "path"}))
        self.assertUrlError(self.presign("get_object", "dir/shared file.bin", client=bad),
                            "SignatureDoesNotMatch", 403)
        url = self.presign("get_object", "dir/shared file.bin", client=client, expires=1)
        time.sleep(2.5)
        err = self.assertUrlError(url, "AccessDenied", 403)
        self.assertEqual(err.get("Message"), "Request has expired", err)

    def cli_presign(self, key, env_extra=None):
        result = self.server.aws("s3", "presign", "s3://%s/%s" % (self.bucket, key),
                                 "--expires-in", "300", env_extra=env_extra)
        self.assertEqual(result.returncode, 0, result.stderr)
        url = result.stdout.strip()
        self.assertTrue(url.startswith(self.server.endpoint + "/"), url)
        return url

    def test_cli_presign(self):
        key = "cli/presigned.bin"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=self.body)
        url = self.cli_presign(key)
        status, body, _ = urlopen(url)
        self.assertEqual(status, 200, body[:500])
        self.assertEqual(body, self.body)

    def test_cli_presign_sigv4(self):
        key = "cli/presigned-v4.bin"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=self.body)
        with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as cfg:
            cfg.write("[default]\ns3 =\n    signature_version = s3v4\n")
        try:
            url = self.cli_presign(key, env_extra={"AWS_CONFIG_FILE": cfg.name})
        finally:
            os.remove(cfg.name)
        self.assertIn("X-Amz-Signature=", url)
        status, body, _ = urlopen(url)
        self.assertEqual(status, 200, body[:500])
        self.assertEqual(body, self.body)


# ---------------------------------------------------------------------------
# 6. Multipart uploads
# ---------------------------------------------------------------------------


class MultipartTests(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("mpu")
        cls.tmp = tempfile.mkdtemp(prefix="offcloud-e2e-mpu-")
        cls.part5 = os.urandom(5 * MIB)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, key, **kw):
        resp = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key, **kw)
        self.assertEqual(resp["Bucket"], self.bucket)
        self.assertEqual(resp["Key"], key)
        self.assertTrue(resp["UploadId"])
        return resp["UploadId"]

    def part(self, key, upload_id, number, data):
        resp = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                   PartNumber=number, Body=data)
        self.assertEqual(resp["ETag"], quoted_md5(data))
        return {"PartNumber": number, "ETag": resp["ETag"]}

    def complete(self, key, upload_id, parts):
        return self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                 MultipartUpload={"Parts": parts})

    def test_upload_part_with_another_subresource_is_still_an_upload_part(self):
        # Found by signed_request_fuzzer: "?tagging" beside uploadId made the
        # server buffer the body while the handler expected it streamed (500).
        key = "mpu/sub"
        upload_id = self.start(key)
        path = "/%s/%s?partNumber=1&uploadId=%s&tagging" % (self.bucket, key, upload_id)
        resp = self.raw("PUT", path, body=b"tail")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.headers["etag"], quoted_md5(b"tail"))
        gone = "/%s/%s?partNumber=1&uploadId=nosuchupload&tagging" % (self.bucket, key)
        self.assertRawError(self.raw("PUT", gone, body=b"tail"), "NoSuchUpload", 404)
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def test_upload_file_download_file_20_mib(self):
        src = os.path.join(self.tmp, "src-20mib.bin")
        dst = os.path.join(self.tmp, "dst-20mib.bin")
        digest = write_random_file(src, 20 * MIB)
        config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB,
                                max_concurrency=4)
        self.s3.upload_file(src, self.bucket, "transfer/20mib.bin", Config=config)
        head = self.s3.head_object(Bucket=self.bucket, Key="transfer/20mib.bin")
        self.assertEqual(head["ContentLength"], 20 * MIB)
        self.assertTrue(head["ETag"].endswith('-4"'), head["ETag"])
        with open(src, "rb") as f:
            parts = [f.read(5 * MIB) for _ in range(4)]
        self.assertEqual(head["ETag"], multipart_etag(parts))
        self.s3.download_file(self.bucket, "transfer/20mib.bin", dst, Config=config)
        self.assertEqual(sha256_file(dst), digest)

    def test_manual_upload_and_etag(self):
        key = "manual/obj"
        upload_id = self.start(key, ContentType="application/x-mpu", Metadata={"m": "1"})
        tail = b"tail" * 100
        parts = [self.part(key, upload_id, 1, self.part5), self.part(key, upload_id, 2, tail)]
        # Not visible before completion.
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        self.assertClientError(ctx, "404", 404)
        done = self.complete(key, upload_id, parts)
        self.assertStatus(done)
        self.assertEqual(done["ETag"], multipart_etag([self.part5, tail]))
        self.assertEqual(done["Key"], key)
        self.assertEqual(done["Bucket"], self.bucket)
        got = self.s3.get_object(Bucket=self.bucket, Key=key)
        self.assertEqual(got["Body"].read(), self.part5 + tail)
        self.assertEqual(got["ContentType"], "application/x-mpu")
        self.assertEqual(got["Metadata"], {"m": "1"})
        self.assertEqual(got["ETag"], done["ETag"])
        # Completed uploads are no longer listed.
        listed = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=key)
        self.assertEqual(listed.get("Uploads", []), [])

    def test_single_small_part(self):
        key = "manual/single"
        upload_id = self.start(key)
        parts = [self.part(key, upload_id, 1, b"only part")]
        done = self.complete(key, upload_id, parts)
        self.assertEqual(done["ETag"], multipart_etag([b"only part"]))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(),
                         b"only part")

    def test_part_reupload_replaces(self):
        key = "manual/reupload"
        upload_id = self.start(key)
        self.part(key, upload_id, 1, b"first try")
        parts = [self.part(key, upload_id, 1, b"second try")]
        listed = self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=upload_id)
        self.assertEqual([(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]],
                         [(1, quoted_md5(b"second try"), len(b"second try"))])
        self.complete(key, upload_id, parts)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(),
                         b"second try")

    def test_parts_out_of_order(self):
        key = "manual/order"
        upload_id = self.start(key)
        # Both parts are big enough, so only the order is wrong.
        p1 = self.part(key, upload_id, 1, self.part5)
        p2 = self.part(key, upload_id, 2, self.part5[::-1])
        with self.assertRaises(ClientError) as ctx:
            self.complete(key, upload_id, [p2, p1])
        self.assertClientError(ctx, "InvalidPartOrder", 400)
        # The upload is still there and completes in order.
        self.assertStatus(self.complete(key, upload_id, [p1, p2]))

    def test_wrong_etag(self):
        key = "manual/wrong-etag"
        upload_id = self.start(key)
        p1 = self.part(key, upload_id, 1, self.part5)
        p2 = self.part(key, upload_id, 2, b"end")
        p2_bad = dict(p2, ETag=quoted_md5(b"something else"))
        with self.assertRaises(ClientError) as ctx:
            self.complete(key, upload_id, [p1, p2_bad])
        self.assertClientError(ctx, "InvalidPart", 400)
        # A part that was never uploaded is InvalidPart too (part 1 is big
        # enough, so no size rule applies).
        with self.assertRaises(ClientError) as ctx:
            self.complete(key, upload_id, [p1, dict(p2, PartNumber=3)])
        self.assertClientError(ctx, "InvalidPart", 400)
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def test_small_non_last_part(self):
        key = "manual/small"
        upload_id = self.start(key)
        parts = [self.part(key, upload_id, 1, b"a" * 1024),
                 self.part(key, upload_id, 2, b"b" * 1024)]
        with self.assertRaises(ClientError) as ctx:
            self.complete(key, upload_id, parts)
        self.assertClientError(ctx, "EntityTooSmall", 400)
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        self.assertClientError(ctx, "404", 404)
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def test_part_number_out_of_range(self):
        key = "manual/partnum"
        upload_id = self.start(key)
        for number in (0, 10001):
            with self.subTest(part=number):
                with self.assertRaises(ClientError) as ctx:
                    self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                        PartNumber=number, Body=b"x")
                self.assertClientError(ctx, "InvalidArgument", 400)
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def test_abort(self):
        key = "manual/abort"
        upload_id = self.start(key)
        self.part(key, upload_id, 1, b"doomed")
        self.assertStatus(self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                         UploadId=upload_id), 204)
        calls = [
            ("list_parts", lambda: self.s3.list_parts(Bucket=self.bucket, Key=key,
                                                      UploadId=upload_id)),
            ("upload_part", lambda: self.s3.upload_part(Bucket=self.bucket, Key=key,
                                                        UploadId=upload_id, PartNumber=2,
                                                        Body=b"late")),
            ("complete", lambda: self.complete(key, upload_id, [
                {"PartNumber": 1, "ETag": quoted_md5(b"doomed")}])),
            ("abort again", lambda: self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id)),
        ]
        for label, call in calls:
            with self.subTest(call=label):
                with self.assertRaises(ClientError) as ctx:
                    call()
                err = self.assertClientError(ctx, "NoSuchUpload", 404)
                self.assertEqual(err.get("UploadId"), upload_id, err)
        with self.assertRaises(ClientError) as ctx:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        self.assertClientError(ctx, "404", 404)

    def test_unknown_upload_id(self):
        with self.assertRaises(ClientError) as ctx:
            self.s3.upload_part(Bucket=self.bucket, Key="manual/nope", UploadId="no-such-upload",
                                PartNumber=1, Body=b"x")
        self.assertClientError(ctx, "NoSuchUpload", 404)

    def test_list_parts_paging(self):
        key = "manual/list-parts"
        upload_id = self.start(key)
        datas = [b"one", b"two!", b"three"]
        for i, data in enumerate(datas, 1):
            self.part(key, upload_id, i, data)
        page = self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=upload_id, MaxParts=2)
        self.assertEqual([p["PartNumber"] for p in page["Parts"]], [1, 2])
        self.assertTrue(page["IsTruncated"])
        self.assertEqual(page["NextPartNumberMarker"], 2)
        self.assertEqual(page["MaxParts"], 2)
        self.assertEqual(page["UploadId"], upload_id)
        for p, data in zip(page["Parts"], datas):
            self.assertEqual(p["ETag"], quoted_md5(data))
            self.assertEqual(p["Size"], len(data))
            self.assertIn("LastModified", p)
        page = self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=upload_id, MaxParts=2,
                                  PartNumberMarker=2)
        self.assertEqual([p["PartNumber"] for p in page["Parts"]], [3])
        self.assertFalse(page["IsTruncated"])
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def test_list_multipart_uploads(self):
        prefix = "lmu-%s/" % uuid.uuid4().hex[:6]
        ids = {prefix + "a": self.start(prefix + "a"), prefix + "b": self.start(prefix + "b")}
        resp = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        self.assertStatus(resp)
        uploads = resp.get("Uploads", [])
        self.assertEqual(sorted((u["Key"], u["UploadId"]) for u in uploads), sorted(ids.items()))
        for u in uploads:
            self.assertIn("Initiated", u)
            self.assertEqual(u["StorageClass"], "STANDARD")
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=prefix + "a",
                                       UploadId=ids[prefix + "a"])
        resp = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        self.assertEqual([u["Key"] for u in resp.get("Uploads", [])], [prefix + "b"])
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=prefix + "b",
                                       UploadId=ids[prefix + "b"])

    def test_upload_part_copy(self):
        source = os.urandom(10 * MIB + 123)
        self.s3.put_object(Bucket=self.bucket, Key="copy/source", Body=source)
        key = "copy/assembled"
        upload_id = self.start(key)
        parts = []
        for number, (first, last) in enumerate([(0, 5 * MIB - 1), (5 * MIB, len(source) - 1)], 1):
            resp = self.s3.upload_part_copy(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                CopySource={"Bucket": self.bucket, "Key": "copy/source"},
                CopySourceRange="bytes=%d-%d" % (first, last))
            etag = resp["CopyPartResult"]["ETag"]
            self.assertEqual(etag, quoted_md5(source[first:last + 1]))
            parts.append({"PartNumber": number, "ETag": etag})
        # A whole object as the last part (no range).
        self.s3.put_object(Bucket=self.bucket, Key="copy/small", Body=b"small tail")
        resp = self.s3.upload_part_copy(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                        PartNumber=3,
                                        CopySource={"Bucket": self.bucket, "Key": "copy/small"})
        parts.append({"PartNumber": 3, "ETag": resp["CopyPartResult"]["ETag"]})
        done = self.complete(key, upload_id, parts)
        want = source + b"small tail"
        self.assertEqual(done["ETag"], multipart_etag([source[:5 * MIB], source[5 * MIB:],
                                                       b"small tail"]))
        got = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(want).hexdigest())

    def test_complete_with_no_parts(self):
        key = "manual/noparts"
        upload_id = self.start(key)
        with self.assertRaises(ClientError) as ctx:
            self.complete(key, upload_id, [])
        self.assertClientError(ctx, "MalformedXML", 400)
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)


# ---------------------------------------------------------------------------
# 7. aws CLI (v1)
# ---------------------------------------------------------------------------


class CliTests(S3Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="offcloud-e2e-cli-")

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def aws(self, *args, timeout=120):
        result = self.server.aws(*args, timeout=timeout)
        self.assertEqual(result.returncode, 0, "aws %s\nstdout=%s\nstderr=%s"
                         % (" ".join(args), result.stdout[-3000:], result.stderr[-3000:]))
        return result.stdout

    def mb(self, tag):
        name = new_bucket_name(tag)
        out = self.aws("s3", "mb", "s3://" + name)
        self.assertIn("make_bucket: " + name, out)
        return name

    def test_mb_and_ls_buckets(self):
        name = self.mb("mb")
        self.assertEqual(self.s3.get_bucket_location(Bucket=name)["LocationConstraint"], REGION)
        self.assertIn(name, self.aws("s3", "ls").split())

    def test_cp_1_kib_up_and_down(self):
        bucket = self.mb("cp1k")
        src = os.path.join(self.tmp, "1k.bin")
        dst = os.path.join(self.tmp, "1k.out")
        digest = write_random_file(src, 1024)
        self.aws("s3", "cp", src, "s3://%s/small/1k.bin" % bucket)
        self.aws("s3", "cp", "s3://%s/small/1k.bin" % bucket, dst)
        self.assertEqual(sha256_file(dst), digest)

    def test_cp_100_mib_up_and_down(self):
        bucket = self.mb("cp100m")
        src = os.path.join(self.tmp, "100m.bin")
        dst = os.path.join(self.tmp, "100m.out")
        try:
            digest = write_random_file(src, 100 * MIB)
            self.aws("s3", "cp", src, "s3://%s/big/100m.bin" % bucket, timeout=300)
            head = self.s3.head_object(Bucket=bucket, Key="big/100m.bin")
            self.assertEqual(head["ContentLength"], 100 * MIB)
            self.aws("s3", "cp", "s3://%s/big/100m.bin" % bucket, dst, timeout=300)
            self.assertEqual(sha256_file(dst), digest)
        finally:
            for path in (src, dst):
                if os.path.exists(path):
                    os.remove(path)

    def make_tree(self, root):
        files = {"e.txt": b"e", "a/d.txt": b"dd", "a/b/c.txt": b"ccc",
                 "deep/x/y/z.bin": os.urandom(3000), "space dir/f i.txt": b"spaced",
                 "日本/語.txt": "日本語".encode()}
        for rel, data in files.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            # Older than any upload: `s3 sync` compares local mtime with
            # LastModified (whole seconds), so a file written this very
            # second could look newer than its upload.
            old = time.time() - 3600
            os.utime(path, (old, old))
        return files

    def read_tree(self, root):
        out = {}
        for dirpath, _, names in os.walk(root):
            for name in names:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    out[os.path.relpath(path, root).replace(os.sep, "/")] = f.read()
        return out

    def test_sync_tree_and_ls_and_rm(self):
        bucket = self.mb("sync")
        src = os.path.join(self.tmp, "tree-src")
        files = self.make_tree(src)
        self.aws("s3", "sync", src, "s3://%s/tree/" % bucket)
        keys = sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket)["Contents"])
        self.assertEqual(keys, sorted("tree/" + rel for rel in files))
        # Nothing changed: a second sync uploads nothing.
        self.assertEqual(self.aws("s3", "sync", src, "s3://%s/tree/" % bucket).strip(), "")
        dst = os.path.join(self.tmp, "tree-dst")
        self.aws("s3", "sync", "s3://%s/tree/" % bucket, dst)
        self.assertEqual(self.read_tree(dst), files)

        top = self.aws("s3", "ls", "s3://%s/tree/" % bucket)
        lines = [line.split() for line in top.splitlines()]
        self.assertIn(["PRE", "a/"], lines)
        self.assertIn(["PRE", "deep/"], lines)
        self.assertIn(["PRE", "日本/"], lines)
        self.assertTrue(any(parts[-1] == "e.txt" and parts[-2] == "1" for parts in lines), top)
        recursive = self.aws("s3", "ls", "--recursive", "s3://%s/" % bucket)
        self.assertEqual(len(recursive.splitlines()), len(files), recursive)
        self.assertIn("tree/deep/x/y/z.bin", recursive)
        by_prefix = self.aws("s3", "ls", "s3://%s/tree/a/" % bucket)
        self.assertIn("PRE b/", by_prefix)
        self.assertIn("d.txt", by_prefix)
        self.assertNotIn("e.txt", by_prefix)

        out = self.aws("s3", "rm", "--recursive", "s3://%s/tree/a/" % bucket)
        self.assertEqual(out.count("delete: "), 2, out)
        keys = sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket)["Contents"])
        self.assertEqual(keys, sorted("tree/" + rel for rel in files if not rel.startswith("a/")))
        self.aws("s3", "rm", "--recursive", "s3://%s/" % bucket)
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket)["KeyCount"], 0)
        self.aws("s3", "rb", "s3://%s" % bucket)
        with self.assertRaises(ClientError):
            self.s3.head_bucket(Bucket=bucket)

    def test_s3api_list_objects_v2_paging(self):
        bucket = self.mb("pages")
        keys = ["k/%02d" % i for i in range(7)]
        for key in keys:
            self.s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        first = json.loads(self.aws("s3api", "list-objects-v2", "--bucket", bucket,
                                    "--max-items", "3", "--page-size", "2"))
        self.assertEqual([o["Key"] for o in first["Contents"]], keys[:3])
        self.assertIn("NextToken", first)
        rest = json.loads(self.aws("s3api", "list-objects-v2", "--bucket", bucket,
                                   "--page-size", "2", "--starting-token", first["NextToken"]))
        self.assertEqual([o["Key"] for o in rest["Contents"]], keys[3:])
        self.assertNotIn("NextToken", rest)

    def test_s3api_head_copy_get_range(self):
        bucket = self.mb("api")
        src = os.path.join(self.tmp, "api.txt")
        with open(src, "wb") as f:
            f.write(b"0123456789abcdefghij")
        json.loads(self.aws("s3api", "put-object", "--bucket", bucket, "--key", "api/src.txt",
                            "--body", src, "--content-type", "text/plain",
                            "--metadata", "k1=v1"))
        head = json.loads(self.aws("s3api", "head-object", "--bucket", bucket,
                                   "--key", "api/src.txt"))
        self.assertEqual(head["ContentLength"], 20)
        self.assertEqual(head["ETag"], quoted_md5(b"0123456789abcdefghij"))
        self.assertEqual(head["ContentType"], "text/plain")
        self.assertEqual(head["Metadata"], {"k1": "v1"})
        copied = json.loads(self.aws("s3api", "copy-object", "--bucket", bucket, "--key",
                                     "api/dst.txt", "--copy-source", "%s/api/src.txt" % bucket))
        self.assertEqual(copied["CopyObjectResult"]["ETag"], head["ETag"])
        out = os.path.join(self.tmp, "range.out")
        got = json.loads(self.aws("s3api", "get-object", "--bucket", bucket, "--key",
                                  "api/dst.txt", "--range", "bytes=0-9", out))
        self.assertEqual(got["ContentRange"], "bytes 0-9/20")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"0123456789")


# ---------------------------------------------------------------------------
# 9. Crash safety
# ---------------------------------------------------------------------------


class SlowUpload(threading.Thread):
    """A PUT of `total` bytes over a raw socket, signed UNSIGNED-PAYLOAD,
    sent in 1 MiB chunks with a pause between them."""

    def __init__(self, port, bucket, key, total, delay=0.01):
        super().__init__(daemon=True)
        self.port, self.total, self.delay = port, total, delay
        self.path = "/%s/%s" % (bucket, urllib.parse.quote(key))
        self.sent = 0
        self.error = None
        self.early_response = b""
        self.stop_sending = threading.Event()

    def run(self):
        headers = s3_sign("PUT", "http://127.0.0.1:%d%s" % (self.port, self.path),
                          headers={"Content-Length": str(self.total)}, unsigned_payload=True)
        block = os.urandom(MIB)
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 256 * 1024)
            sock.sendall(harness.build_request("PUT", self.path, self.port, headers=headers))
            while self.sent < self.total and not self.stop_sending.is_set():
                chunk = block[:min(MIB, self.total - self.sent)]
                sock.sendall(chunk)
                self.sent += len(chunk)
                time.sleep(self.delay)
                # An answer before the body is complete means the server
                # refused the upload.
                sock.setblocking(False)
                try:
                    data = sock.recv(4096)
                    if data:
                        self.early_response += data
                        return
                except BlockingIOError:
                    pass
                finally:
                    sock.setblocking(True)
                    sock.settimeout(10)
        except OSError as e:
            self.error = e


class CrashSafetyTests(unittest.TestCase):
    def test_sigkill_mid_upload(self):
        server = harness.OffcloudServer()
        server.__enter__()
        try:
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            bucket = new_bucket_name("crash")
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
            expected = {}
            previous = os.urandom(MIB + 5)
            s3.put_object(Bucket=bucket, Key="victim", Body=previous)
            expected["victim"] = previous
            for i in range(5):
                body = os.urandom(1000 * (i + 1))
                s3.put_object(Bucket=bucket, Key="others/%d" % i, Body=body)
                expected["others/%d" % i] = body
            # One multipart object too.
            mp_parts = [os.urandom(5 * MIB), b"mp tail"]
            upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
            done = []
            for n, data in enumerate(mp_parts, 1):
                etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=n,
                                      Body=data)["ETag"]
                done.append({"PartNumber": n, "ETag": etag})
            s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": done})
            expected["mp"] = b"".join(mp_parts)
            # A multipart upload in progress, with one part, at the crash.
            open_upload = s3.create_multipart_upload(Bucket=bucket, Key="open-mpu")["UploadId"]
            s3.upload_part(Bucket=bucket, Key="open-mpu", UploadId=open_upload, PartNumber=1,
                           Body=b"x" * 1000)

            # Two 100 MiB uploads in flight: one overwriting "victim", one new.
            uploads = [SlowUpload(server.port, bucket, "victim", 100 * MIB),
                       SlowUpload(server.port, bucket, "fresh", 100 * MIB)]
            for u in uploads:
                u.start()
            deadline = time.monotonic() + 60
            while min(u.sent for u in uploads) < 30 * MIB:
                for u in uploads:
                    self.assertFalse(u.early_response, "server answered mid-upload: %r"
                                     % u.early_response[:500])
                    self.assertIsNone(u.error, "upload failed before the kill (%d bytes sent): %r"
                                      % (u.sent, u.error))
                    self.assertTrue(u.is_alive() or u.sent >= u.total, "upload thread ended")
                self.assertLess(time.monotonic(), deadline, "uploads too slow: %r"
                                % [u.sent for u in uploads])
                time.sleep(0.05)
            server.kill()
            for u in uploads:
                u.stop_sending.set()
                u.join(timeout=15)
                self.assertLess(u.sent, u.total, "the upload finished before the kill")

            server.restart()
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            listed = {}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for entry in page.get("Contents", []):
                    listed[entry["Key"]] = entry
            self.assertEqual(sorted(listed), sorted(expected))
            self.assertNotIn("fresh", listed)
            for key, entry in listed.items():
                with self.subTest(key=key):
                    got = s3.get_object(Bucket=bucket, Key=key)
                    data = got["Body"].read()
                    self.assertEqual(data, expected[key])
                    self.assertEqual(entry["Size"], len(data))
                    if key == "mp":
                        self.assertEqual(entry["ETag"], multipart_etag(mp_parts))
                    else:
                        self.assertEqual(entry["ETag"], quoted_md5(data))
                        self.assertEqual(got["ETag"], quoted_md5(data))
            with self.assertRaises(ClientError) as ctx:
                s3.head_object(Bucket=bucket, Key="fresh")
            self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

            # The upload that was open at the crash is still usable.
            parts = s3.list_parts(Bucket=bucket, Key="open-mpu", UploadId=open_upload)
            self.assertEqual([p["PartNumber"] for p in parts["Parts"]], [1])
            s3.abort_multipart_upload(Bucket=bucket, Key="open-mpu", UploadId=open_upload)

            # The keys take new writes after the restart.
            s3.put_object(Bucket=bucket, Key="victim", Body=b"after restart")
            s3.put_object(Bucket=bucket, Key="fresh", Body=b"fresh after restart")
            self.assertEqual(s3.get_object(Bucket=bucket, Key="victim")["Body"].read(),
                             b"after restart")
            self.assertEqual(s3.get_object(Bucket=bucket, Key="fresh")["Body"].read(),
                             b"fresh after restart")
            server.stop()

            # And a graceful restart keeps everything.
            server.restart()
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            self.assertEqual(s3.get_object(Bucket=bucket, Key="fresh")["Body"].read(),
                             b"fresh after restart")
            self.assertEqual(s3.get_object(Bucket=bucket, Key="mp")["Body"].read(), expected["mp"])
            server.stop()
        finally:
            server.__exit__(None, None, None)


if __name__ == "__main__":
    unittest.main(verbosity=2)
