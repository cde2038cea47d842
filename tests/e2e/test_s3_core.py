"""End-to-end tests of the S3 core behaviours test_s3.py does not cover:
conditional writes, GetObjectAttributes, GET/HEAD ?partNumber, repeated
CompleteMultipartUpload, checksum types, ListBuckets paging, ACLs,
encoding-type=url, stored Content-Encoding, presigned URL limits and storage
classes. Driven by boto3, raw SigV4-signed HTTP and the aws CLI.

What "right" means is what Amazon S3 does (botocore's s3 model and AWS's
documentation). Each TestCase class starts its own server.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_s3_core.py -v
"""

import base64
import concurrent.futures
import datetime
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import unittest
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import zlib

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_s3 import (MIB, REGION, S3Case, checksum_crc32, md5_hex, multipart_etag,  # noqa: E402
                     new_bucket_name, parse_xml_error, quoted_md5, s3_sign, urlopen)

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def crc32_b64(data):
    return checksum_crc32(data)


def xml_text(body, path):
    """The text of the first element at `path` (names without namespace,
    slash-separated) in an S3 response document, or None."""
    root = ET.fromstring(body)
    element = root.find("/".join(NS + part for part in path.split("/")))
    return None if element is None else (element.text or "")


class CoreCase(S3Case):
    def multipart(self, bucket, key, parts, **create):
        """Uploads `parts` (bytes each) as one multipart object; returns the
        completion's response."""
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key=key, **create)
        done = []
        for number, data in enumerate(parts, 1):
            kw = {}
            if create.get("ChecksumAlgorithm"):
                kw["ChecksumAlgorithm"] = create["ChecksumAlgorithm"]
            resp = self.s3.upload_part(Bucket=bucket, Key=key, UploadId=upload["UploadId"],
                                       PartNumber=number, Body=data, **kw)
            part = {"PartNumber": number, "ETag": resp["ETag"]}
            for name in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256",
                         "ChecksumCRC64NVME"):
                if resp.get(name):
                    part[name] = resp[name]
            done.append(part)
        return self.s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"],
            MultipartUpload={"Parts": done})


# ---------------------------------------------------------------------------
# 1. Conditional writes
# ---------------------------------------------------------------------------


class ConditionalWriteTests(CoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("cond")

    def test_if_none_match_star(self):
        self.assertStatus(self.s3.put_object(Bucket=self.bucket, Key="new", Body=b"1",
                                             IfNoneMatch="*"))
        with self.assertRaises(Exception) as ctx:
            self.s3.put_object(Bucket=self.bucket, Key="new", Body=b"2", IfNoneMatch="*")
        err = self.assertClientError(ctx, "PreconditionFailed", 412)
        self.assertEqual(err.get("Condition"), "If-None-Match", err)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="new")["Body"].read(), b"1")

    def test_if_match(self):
        etag = self.s3.put_object(Bucket=self.bucket, Key="m", Body=b"one")["ETag"]
        resp = self.s3.put_object(Bucket=self.bucket, Key="m", Body=b"two", IfMatch=etag)
        self.assertEqual(resp["ETag"], quoted_md5(b"two"))
        with self.assertRaises(Exception) as ctx:
            self.s3.put_object(Bucket=self.bucket, Key="m", Body=b"three", IfMatch=etag)
        err = self.assertClientError(ctx, "PreconditionFailed", 412)
        self.assertEqual(err.get("Condition"), "If-Match", err)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="m")["Body"].read(), b"two")

    def test_if_match_on_missing_key_is_no_such_key(self):
        with self.assertRaises(Exception) as ctx:
            self.s3.put_object(Bucket=self.bucket, Key="missing", Body=b"x",
                               IfMatch=quoted_md5(b"x"))
        self.assertClientError(ctx, "NoSuchKey", 404)
        with self.assertRaises(Exception):
            self.s3.head_object(Bucket=self.bucket, Key="missing")

    def test_if_none_match_other_than_star_is_not_implemented(self):
        resp = self.raw("PUT", "/%s/etag-none" % self.bucket, body=b"x",
                        headers={"If-None-Match": quoted_md5(b"y")})
        self.assertRawError(resp, "NotImplemented", 501)

    def test_concurrent_creates_one_wins(self):
        key = "race"

        def put(i):
            try:
                self.client().put_object(Bucket=self.bucket, Key=key, Body=b"writer %d" % i,
                                         IfNoneMatch="*")
                return 200
            except Exception as e:  # noqa: BLE001
                return e.response["ResponseMetadata"]["HTTPStatusCode"]

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(put, range(16)))
        self.assertEqual(statuses.count(200), 1, statuses)
        self.assertTrue(all(s in (200, 412, 409) for s in statuses), statuses)

    def test_delete_during_conditional_put_is_a_conflict(self):
        # If-None-Match: * while the key holds an object that a delete removes
        # before the upload ends: AWS answers 409 ConditionalRequestConflict.
        key = "conflict"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"old")
        data = os.urandom(64 * 1024)
        path = "/%s/%s" % (self.bucket, key)
        headers = {"If-None-Match": "*", "Content-Length": str(len(data))}
        signed = s3_sign("PUT", self.server.endpoint + path, headers, unsigned_payload=True)
        signed["Host"] = "127.0.0.1:%d" % self.server.port
        sock = self.server.connect(timeout=30)
        try:
            sock.sendall(harness.build_request("PUT", path, self.server.port, headers=signed)
                         + data[:1000])
            time.sleep(0.3)
            self.s3.delete_object(Bucket=self.bucket, Key=key)
            sock.sendall(data[1000:])
            resp = harness.SocketReader(sock).read_response()
        finally:
            sock.close()
        self.assertEqual(resp.status, 409, resp)
        self.assertEqual(parse_xml_error(resp.body)["Code"], "ConditionalRequestConflict")

    def test_complete_multipart_if_none_match(self):
        key = "mp-cond"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"there")
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)
        part = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"],
                                   PartNumber=1, Body=b"part")
        parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        with self.assertRaises(Exception) as ctx:
            self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key,
                                              UploadId=upload["UploadId"], MultipartUpload=parts,
                                              IfNoneMatch="*")
        self.assertClientError(ctx, "PreconditionFailed", 412)
        # The upload is still there: completing it with the right ETag works.
        current = self.s3.head_object(Bucket=self.bucket, Key=key)["ETag"]
        with self.assertRaises(Exception) as ctx:
            self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key,
                                              UploadId=upload["UploadId"], MultipartUpload=parts,
                                              IfMatch=quoted_md5(b"not it"))
        self.assertClientError(ctx, "PreconditionFailed", 412)
        done = self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key,
                                                 UploadId=upload["UploadId"],
                                                 MultipartUpload=parts, IfMatch=current)
        self.assertEqual(done["ETag"], multipart_etag([b"part"]))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(), b"part")

    def test_complete_multipart_if_match_on_missing_key(self):
        key = "mp-missing"
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)
        part = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"],
                                   PartNumber=1, Body=b"part")
        with self.assertRaises(Exception) as ctx:
            self.s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload["UploadId"],
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
                IfMatch=quoted_md5(b"x"))
        self.assertClientError(ctx, "NoSuchKey", 404)

    def test_cli_if_none_match(self):
        path = os.path.join(self.server.data_dir, "cli-body.txt")
        with open(path, "wb") as f:
            f.write(b"from the cli")
        args = ["s3api", "put-object", "--bucket", self.bucket, "--key", "cli-cond",
                "--body", path, "--if-none-match", "*"]
        first = self.server.aws(*args)
        self.assertEqual(first.returncode, 0, first.stderr)
        second = self.server.aws(*args)
        self.assertNotEqual(second.returncode, 0)
        self.assertIn("PreconditionFailed", second.stderr)


# ---------------------------------------------------------------------------
# 2-4. GetObjectAttributes, ?partNumber, repeated completion
# ---------------------------------------------------------------------------


class PartsTests(CoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("parts")
        cls.part1 = os.urandom(5 * MIB)
        cls.part2 = os.urandom(5 * MIB)
        cls.part3 = os.urandom(1234)
        cls.parts = [cls.part1, cls.part2, cls.part3]
        cls.done = cls.multipart(cls, cls.bucket, "mp", cls.parts, ChecksumAlgorithm="CRC32")
        cls.plain = b"a plain object"
        cls.s3.put_object(Bucket=cls.bucket, Key="plain", Body=cls.plain)

    def test_get_part_of_multipart_object(self):
        offset = 0
        for number, data in enumerate(self.parts, 1):
            got = self.s3.get_object(Bucket=self.bucket, Key="mp", PartNumber=number)
            self.assertEqual(got["ResponseMetadata"]["HTTPStatusCode"], 206)
            self.assertEqual(got["PartsCount"], 3)
            self.assertEqual(got["ContentLength"], len(data))
            self.assertEqual(got["ContentRange"], "bytes %d-%d/%d" % (
                offset, offset + len(data) - 1, sum(map(len, self.parts))))
            self.assertEqual(got["ETag"], multipart_etag(self.parts))
            self.assertEqual(got["Body"].read(), data)
            offset += len(data)

    def test_head_part(self):
        head = self.s3.head_object(Bucket=self.bucket, Key="mp", PartNumber=3)
        self.assertEqual(head["ResponseMetadata"]["HTTPStatusCode"], 206)
        self.assertEqual(head["ContentLength"], len(self.part3))
        self.assertEqual(head["PartsCount"], 3)

    def test_part_beyond_the_last(self):
        with self.assertRaises(Exception) as ctx:
            self.s3.get_object(Bucket=self.bucket, Key="mp", PartNumber=4)
        self.assertClientError(ctx, "InvalidPartNumber", 416)
        with self.assertRaises(Exception) as ctx:
            self.s3.get_object(Bucket=self.bucket, Key="plain", PartNumber=2)
        self.assertClientError(ctx, "InvalidPartNumber", 416)

    def test_plain_object_part_one_is_the_whole(self):
        got = self.s3.get_object(Bucket=self.bucket, Key="plain", PartNumber=1)
        self.assertEqual(got["Body"].read(), self.plain)
        self.assertEqual(got["ContentLength"], len(self.plain))
        self.assertNotIn("PartsCount", got)

    def test_bad_part_numbers(self):
        for value in ("0", "10001", "x"):
            resp = self.raw("GET", "/%s/mp?partNumber=%s" % (self.bucket, value))
            self.assertRawError(resp, "InvalidArgument", 400)
        resp = self.raw("GET", "/%s/mp?partNumber=1" % self.bucket, headers={"Range": "bytes=0-1"})
        self.assertRawError(resp, "InvalidRequest", 400)

    def test_get_object_attributes_multipart(self):
        attrs = self.s3.get_object_attributes(
            Bucket=self.bucket, Key="mp",
            ObjectAttributes=["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"])
        self.assertEqual(attrs["ETag"], multipart_etag(self.parts).strip('"'))
        self.assertEqual(attrs["ObjectSize"], sum(map(len, self.parts)))
        self.assertEqual(attrs["StorageClass"], "STANDARD")
        self.assertEqual(attrs["Checksum"]["ChecksumType"], "COMPOSITE")
        self.assertIn("ChecksumCRC32", attrs["Checksum"])
        self.assertIn("LastModified", attrs)
        parts = attrs["ObjectParts"]
        self.assertEqual(parts["TotalPartsCount"], 3)
        self.assertEqual([p["Size"] for p in parts["Parts"]], [len(p) for p in self.parts])
        self.assertEqual([p["ChecksumCRC32"] for p in parts["Parts"]],
                         [crc32_b64(p) for p in self.parts])

    def test_get_object_attributes_paging(self):
        first = self.s3.get_object_attributes(Bucket=self.bucket, Key="mp", MaxParts=2,
                                              ObjectAttributes=["ObjectParts"])["ObjectParts"]
        self.assertTrue(first["IsTruncated"])
        self.assertEqual([p["PartNumber"] for p in first["Parts"]], [1, 2])
        self.assertEqual(first["NextPartNumberMarker"], 2)
        rest = self.s3.get_object_attributes(Bucket=self.bucket, Key="mp", MaxParts=2,
                                             PartNumberMarker=2,
                                             ObjectAttributes=["ObjectParts"])["ObjectParts"]
        self.assertFalse(rest["IsTruncated"])
        self.assertEqual([p["PartNumber"] for p in rest["Parts"]], [3])

    def test_get_object_attributes_plain_and_refusals(self):
        attrs = self.s3.get_object_attributes(Bucket=self.bucket, Key="plain",
                                              ObjectAttributes=["ETag", "ObjectSize",
                                                                "ObjectParts"])
        self.assertEqual(attrs["ETag"], md5_hex(self.plain))
        self.assertEqual(attrs["ObjectSize"], len(self.plain))
        self.assertNotIn("ObjectParts", attrs)
        self.assertNotIn("StorageClass", attrs)
        with self.assertRaises(Exception) as ctx:
            self.s3.get_object_attributes(Bucket=self.bucket, Key="nope",
                                          ObjectAttributes=["ETag"])
        self.assertClientError(ctx, "NoSuchKey", 404)
        resp = self.raw("GET", "/%s/plain?attributes" % self.bucket,
                        headers={"x-amz-object-attributes": "Color"})
        self.assertRawError(resp, "InvalidArgument", 400)
        resp = self.raw("GET", "/%s/plain?attributes" % self.bucket)
        self.assertRawError(resp, "InvalidRequest", 400)

    def test_cli_get_object_attributes(self):
        out = self.server.aws("s3api", "get-object-attributes", "--bucket", self.bucket,
                              "--key", "plain", "--object-attributes", "ETag", "ObjectSize")
        self.assertEqual(out.returncode, 0, out.stderr)
        doc = json.loads(out.stdout)
        self.assertEqual(doc["ObjectSize"], len(self.plain))
        self.assertEqual(doc["ETag"], md5_hex(self.plain))

    def test_repeated_complete_answers_again(self):
        key = "again"
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)
        # A part sent twice: the last write counts.
        self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"],
                            PartNumber=1, Body=b"first write")
        part = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"],
                                   PartNumber=1, Body=b"second write")
        parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        first = self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key,
                                                  UploadId=upload["UploadId"],
                                                  MultipartUpload=parts)
        again = self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key,
                                                  UploadId=upload["UploadId"],
                                                  MultipartUpload=parts)
        self.assertStatus(again)
        self.assertEqual(again["ETag"], first["ETag"])
        self.assertEqual(first["ETag"], multipart_etag([b"second write"]))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read(),
                         b"second write")
        # The upload itself is gone.
        with self.assertRaises(Exception) as ctx:
            self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"])
        self.assertClientError(ctx, "NoSuchUpload", 404)
        with self.assertRaises(Exception) as ctx:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                           UploadId=upload["UploadId"])
        self.assertClientError(ctx, "NoSuchUpload", 404)


class MigrationTests(unittest.TestCase):
    """A data dir from before parts, storage classes and ACLs were kept
    opens, and its objects read as STANDARD, private, one part."""

    def test_old_data_dir(self):
        with harness.OffcloudServer() as server:
            s3 = server.boto3_client("s3", config=Config(s3={"addressing_style": "path"}))
            bucket = new_bucket_name("old")
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_object(Bucket=bucket, Key="k", Body=b"old bytes")
            server.stop()
            db = sqlite3.connect(os.path.join(server.data_dir, "s3", "s3.db"))
            for table, column in (("object", "parts"), ("object", "storage_class"),
                                  ("object", "acl"), ("object", "checksum_type"),
                                  ("bucket", "acl"), ("upload", "checksum_type"),
                                  ("upload", "storage_class"), ("upload", "acl")):
                db.execute("ALTER TABLE %s DROP COLUMN %s" % (table, column))
            db.execute("DROP TABLE completed_upload")
            db.commit()
            db.close()
            server.restart()
            s3 = server.boto3_client("s3", config=Config(s3={"addressing_style": "path"}))
            got = s3.get_object(Bucket=bucket, Key="k", PartNumber=1)
            self.assertEqual(got["Body"].read(), b"old bytes")
            self.assertEqual(s3.list_objects_v2(Bucket=bucket)["Contents"][0]["StorageClass"],
                             "STANDARD")
            grants = s3.get_object_acl(Bucket=bucket, Key="k")["Grants"]
            self.assertEqual([g["Permission"] for g in grants], ["FULL_CONTROL"])


# ---------------------------------------------------------------------------
# 5. Checksum types and BadDigest
# ---------------------------------------------------------------------------


class ChecksumTypeTests(CoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("cktype")

    def test_full_object_crc32(self):
        parts = [os.urandom(5 * MIB), os.urandom(4321)]
        created = self.s3.create_multipart_upload(Bucket=self.bucket, Key="full",
                                                  ChecksumAlgorithm="CRC32",
                                                  ChecksumType="FULL_OBJECT")
        self.assertEqual(created.get("ChecksumType"), "FULL_OBJECT")
        self.assertEqual(created.get("ChecksumAlgorithm"), "CRC32")
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key="full",
                                       UploadId=created["UploadId"])
        done = self.multipart(self.bucket, "full", parts, ChecksumAlgorithm="CRC32",
                              ChecksumType="FULL_OBJECT")
        whole = b"".join(parts)
        self.assertEqual(done.get("ChecksumType"), "FULL_OBJECT")
        self.assertEqual(done.get("ChecksumCRC32"), crc32_b64(whole))
        head = self.s3.head_object(Bucket=self.bucket, Key="full", ChecksumMode="ENABLED")
        self.assertEqual(head.get("ChecksumCRC32"), crc32_b64(whole))
        self.assertEqual(head.get("ChecksumType"), "FULL_OBJECT")

    def test_composite_is_the_default_for_crc32(self):
        parts = [os.urandom(5 * MIB), b"tail"]
        done = self.multipart(self.bucket, "composite", parts, ChecksumAlgorithm="CRC32")
        self.assertEqual(done.get("ChecksumType"), "COMPOSITE")
        self.assertTrue(done["ChecksumCRC32"].endswith("-2"), done)
        head = self.s3.head_object(Bucket=self.bucket, Key="composite", ChecksumMode="ENABLED")
        self.assertEqual(head.get("ChecksumType"), "COMPOSITE")

    def test_crc64nvme_defaults_to_full_object(self):
        created = self.s3.create_multipart_upload(Bucket=self.bucket, Key="nvme",
                                                  ChecksumAlgorithm="CRC64NVME")
        self.assertEqual(created.get("ChecksumType"), "FULL_OBJECT")
        parts = self.s3.list_parts(Bucket=self.bucket, Key="nvme", UploadId=created["UploadId"])
        self.assertEqual(parts.get("ChecksumType"), "FULL_OBJECT")

    def test_refused_combinations(self):
        for algorithm, kind in (("SHA256", "FULL_OBJECT"), ("SHA1", "FULL_OBJECT"),
                                ("CRC64NVME", "COMPOSITE")):
            with self.subTest(algorithm=algorithm, kind=kind):
                with self.assertRaises(Exception) as ctx:
                    self.s3.create_multipart_upload(Bucket=self.bucket, Key="bad",
                                                    ChecksumAlgorithm=algorithm,
                                                    ChecksumType=kind)
                self.assertClientError(ctx, "InvalidRequest", 400)
        resp = self.raw("POST", "/%s/bad?uploads" % self.bucket,
                        headers={"x-amz-checksum-type": "FULL_OBJECT"})
        self.assertRawError(resp, "InvalidRequest", 400)
        resp = self.raw("POST", "/%s/bad?uploads" % self.bucket,
                        headers={"x-amz-checksum-algorithm": "CRC32",
                                 "x-amz-checksum-type": "WHOLE"})
        self.assertRawError(resp, "InvalidRequest", 400)

    def test_wrong_full_object_checksum_on_complete_is_bad_digest(self):
        key = "wrong-full"
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                 ChecksumAlgorithm="CRC32",
                                                 ChecksumType="FULL_OBJECT")
        part = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"],
                                   PartNumber=1, Body=b"only part", ChecksumAlgorithm="CRC32")
        parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"],
                            "ChecksumCRC32": part["ChecksumCRC32"]}]}
        with self.assertRaises(Exception) as ctx:
            self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key,
                                              UploadId=upload["UploadId"], MultipartUpload=parts,
                                              ChecksumCRC32=crc32_b64(b"something else"),
                                              ChecksumType="FULL_OBJECT")
        self.assertClientError(ctx, "BadDigest", 400)
        done = self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key,
                                                 UploadId=upload["UploadId"],
                                                 MultipartUpload=parts,
                                                 ChecksumCRC32=crc32_b64(b"only part"),
                                                 ChecksumType="FULL_OBJECT")
        self.assertEqual(done["ChecksumCRC32"], crc32_b64(b"only part"))

    def test_put_with_wrong_checksum_is_bad_digest(self):
        with self.assertRaises(Exception) as ctx:
            self.s3.put_object(Bucket=self.bucket, Key="bad-crc", Body=b"body",
                               ChecksumCRC32=crc32_b64(b"other body"))
        self.assertClientError(ctx, "BadDigest", 400)
        with self.assertRaises(Exception):
            self.s3.head_object(Bucket=self.bucket, Key="bad-crc")
        ok = self.s3.put_object(Bucket=self.bucket, Key="good-crc", Body=b"body",
                                ChecksumCRC32=crc32_b64(b"body"))
        self.assertEqual(ok.get("ChecksumType"), "FULL_OBJECT")


# ---------------------------------------------------------------------------
# 6-7. ListBuckets paging, ACLs, CreateBucket's location constraint
# ---------------------------------------------------------------------------


class BucketCoreTests(CoreCase):
    def acl_bucket(self, tag, **create):
        """A bucket that takes ACLs, as on AWS: since April 2023 a new bucket
        has BucketOwnerEnforced (ACLs disabled) and blocks public ACLs."""
        name = new_bucket_name(tag)
        self.s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter",
                              CreateBucketConfiguration={"LocationConstraint": REGION}, **create)
        self.s3.delete_public_access_block(Bucket=name)
        return name

    def test_list_buckets_pages(self):
        tag = "page%s" % os.urandom(3).hex()
        names = sorted(self.make_bucket(tag) for _ in range(5))
        prefix = names[0][:len("e2e-") + len(tag)]
        seen, token, pages = [], None, 0
        while True:
            kw = {"MaxBuckets": 2, "Prefix": prefix}
            if token:
                kw["ContinuationToken"] = token
            page = self.s3.list_buckets(**kw)
            self.assertEqual(page.get("Prefix"), prefix)
            seen += [b["Name"] for b in page["Buckets"]]
            pages += 1
            token = page.get("ContinuationToken")
            if not token:
                break
        self.assertEqual(seen, names)
        self.assertEqual(pages, 3)
        paginated = [b["Name"] for page in self.s3.get_paginator("list_buckets").paginate(
            Prefix=prefix, PaginationConfig={"PageSize": 2}) for b in page["Buckets"]]
        self.assertEqual(paginated, names)

    def test_list_buckets_by_region(self):
        name = self.make_bucket("region")
        listed = [b["Name"] for b in self.s3.list_buckets(BucketRegion=REGION)["Buckets"]]
        self.assertIn(name, listed)
        self.assertEqual(self.s3.list_buckets(BucketRegion="eu-west-3", Prefix=name)["Buckets"],
                         [])

    def test_list_buckets_bad_max(self):
        for value in ("0", "10001", "x"):
            self.assertRawError(self.raw("GET", "/?max-buckets=%s" % value), "InvalidArgument",
                                400)
        self.assertRawError(self.raw("GET", "/?continuation-token=%21%21%21"), "InvalidArgument", 400)

    def test_create_bucket_anywhere_from_us_east_1(self):
        east = self.client(region="us-east-1")
        name = new_bucket_name("anyloc")
        east.create_bucket(Bucket=name,
                           CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertEqual(east.get_bucket_location(Bucket=name)["LocationConstraint"],
                         "eu-west-1")
        # Other regions' endpoints still take only their own region.
        with self.assertRaises(Exception) as ctx:
            self.s3.create_bucket(Bucket=new_bucket_name("wrongloc"),
                                  CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertClientError(ctx, "IllegalLocationConstraintException", 400)

    def grants(self, acl):
        return sorted((g["Grantee"]["Type"], g["Grantee"].get("URI") or g["Grantee"].get("ID"),
                       g["Permission"]) for g in acl["Grants"])

    def test_bucket_acl_canned_and_document(self):
        name = self.acl_bucket("acl")
        owner = self.s3.get_bucket_acl(Bucket=name)["Owner"]
        self.assertEqual(self.grants(self.s3.get_bucket_acl(Bucket=name)),
                         [("CanonicalUser", owner["ID"], "FULL_CONTROL")])
        self.assertStatus(self.s3.put_bucket_acl(Bucket=name, ACL="public-read"))
        self.assertEqual(self.grants(self.s3.get_bucket_acl(Bucket=name)),
                         [("CanonicalUser", owner["ID"], "FULL_CONTROL"),
                          ("Group", ALL_USERS, "READ")])
        policy = {"Owner": owner, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "READ"},
            {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "WRITE"}]}
        self.s3.put_bucket_acl(Bucket=name, AccessControlPolicy=policy)
        self.assertEqual(self.grants(self.s3.get_bucket_acl(Bucket=name)),
                         [("CanonicalUser", owner["ID"], "READ"), ("Group", ALL_USERS, "WRITE")])
        self.s3.put_bucket_acl(Bucket=name, ACL="private")
        self.assertEqual(len(self.s3.get_bucket_acl(Bucket=name)["Grants"]), 1)

    def test_create_bucket_with_acl(self):
        # Not a public grant: public ones are refused until the new bucket's
        # public access block is lifted, on AWS.
        reader = "a" * 64
        name = self.acl_bucket("cacl", GrantRead='id="%s"' % reader)
        self.assertEqual(self.grants(self.s3.get_bucket_acl(Bucket=name)),
                         [("CanonicalUser", reader, "READ")])

    def test_object_acl(self):
        name = self.acl_bucket("oacl")
        self.s3.put_object(Bucket=name, Key="o", Body=b"x", ACL="public-read")
        self.assertIn(("Group", ALL_USERS, "READ"),
                      self.grants(self.s3.get_object_acl(Bucket=name, Key="o")))
        self.s3.put_object_acl(Bucket=name, Key="o", ACL="private")
        self.assertEqual(len(self.s3.get_object_acl(Bucket=name, Key="o")["Grants"]), 1)
        self.s3.put_object_acl(Bucket=name, Key="o", GrantRead='uri="%s"' % ALL_USERS)
        self.assertEqual(self.grants(self.s3.get_object_acl(Bucket=name, Key="o")),
                         [("Group", ALL_USERS, "READ")])
        # An overwrite takes the new request's ACL (private by default).
        self.s3.put_object(Bucket=name, Key="o", Body=b"y")
        self.assertEqual(len(self.s3.get_object_acl(Bucket=name, Key="o")["Grants"]), 1)
        with self.assertRaises(Exception) as ctx:
            self.s3.put_object_acl(Bucket=name, Key="missing", ACL="private")
        self.assertClientError(ctx, "NoSuchKey", 404)

    def test_acl_refusals(self):
        name = self.acl_bucket("badacl")
        self.s3.put_object(Bucket=name, Key="o", Body=b"x")
        resp = self.raw("PUT", "/%s/o?acl" % name, headers={"x-amz-acl": "everyone-please"})
        self.assertRawError(resp, "InvalidArgument", 400)
        resp = self.raw("PUT", "/%s/o?acl" % name,
                        headers={"x-amz-acl": "private", "x-amz-grant-read": 'uri="%s"' % ALL_USERS})
        self.assertRawError(resp, "InvalidRequest", 400)
        resp = self.raw("PUT", "/%s?acl" % name, body=b"<AccessControlPolicy><oops/>")
        self.assertRawError(resp, "MalformedACLError", 400)
        resp = self.raw("PUT", "/%s?acl" % name)
        self.assertRawError(resp, "MissingSecurityHeader", 400)

    def test_cli_acls(self):
        name = self.acl_bucket("cliacl")
        path = os.path.join(self.server.data_dir, "acl-body.txt")
        with open(path, "wb") as f:
            f.write(b"shared")
        out = self.server.aws("s3", "cp", path, "s3://%s/shared.txt" % name, "--acl", "public-read")
        self.assertEqual(out.returncode, 0, out.stderr)
        out = self.server.aws("s3api", "get-object-acl", "--bucket", name, "--key", "shared.txt")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(ALL_USERS, out.stdout)
        out = self.server.aws("s3api", "put-bucket-acl", "--bucket", name, "--acl", "public-read")
        self.assertEqual(out.returncode, 0, out.stderr)
        out = self.server.aws("s3api", "get-bucket-acl", "--bucket", name)
        self.assertIn(ALL_USERS, out.stdout)


# ---------------------------------------------------------------------------
# 8-9. encoding-type=url, stored Content-Encoding
# ---------------------------------------------------------------------------


class UnimplementedTests(CoreCase):
    """What offcloud does not implement is refused with 501 NotImplemented,
    whatever the method: never a fallback that deletes or creates a bucket,
    lists its objects or overwrites an object."""

    def test_bucket_configurations_change_nothing(self):
        bucket = self.make_bucket("unimpl")  # empty: a DeleteBucket would succeed
        for sub in ("website", "replication", "analytics&id=a", "metrics&id=m",
                    "inventory&id=i", "intelligent-tiering&id=t", "metadataConfiguration",
                    "metadataTable", "notification", "logging", "accelerate", "requestPayment",
                    "abac", "session"):
            for method in ("DELETE", "GET", "PUT", "POST"):
                resp = self.raw(method, "/%s?%s" % (bucket, sub))
                self.assertRawError(resp, "NotImplemented", 501)
        self.assertStatus(self.s3.head_bucket(Bucket=bucket))
        # A PUT of one on a bucket that does not exist creates nothing.
        missing = new_bucket_name("unimpl")
        for sub in ("abac", "metadataInventoryTable", "metadataJournalTable", "website"):
            self.assertRawError(self.raw("PUT", "/%s?%s" % (missing, sub)), "NotImplemented", 501)
        with self.assertRaises(Exception) as ctx:
            self.s3.head_bucket(Bucket=missing)
        self.assertClientError(ctx, "404", 404)

    def test_sdk_calls_get_not_implemented(self):
        bucket = self.make_bucket("unimpl")
        calls = [
            lambda: self.s3.delete_bucket_website(Bucket=bucket),
            lambda: self.s3.delete_bucket_replication(Bucket=bucket),
            lambda: self.s3.delete_bucket_metrics_configuration(Bucket=bucket, Id="m"),
            lambda: self.s3.get_bucket_website(Bucket=bucket),
            lambda: self.s3.get_bucket_metadata_table_configuration(Bucket=bucket),
        ]
        for call in calls:
            with self.assertRaises(Exception) as ctx:
                call()
            self.assertClientError(ctx, "NotImplemented", 501)
        self.assertStatus(self.s3.head_bucket(Bucket=bucket))

    def test_object_rename_and_encryption_update_write_nothing(self):
        bucket = self.make_bucket("unimpl")
        self.s3.put_object(Bucket=bucket, Key="kept", Body=b"original")
        document = (b"<ObjectEncryption><SSE-KMS><KMSKeyArn>arn:aws:kms:us-east-1:"
                    b"000000000000:key/k</KMSKeyArn></SSE-KMS></ObjectEncryption>")
        self.assertRawError(self.raw("PUT", "/%s/kept?encryption" % bucket, body=document),
                            "NotImplemented", 501)
        self.assertRawError(self.raw("PUT", "/%s/renamed?renameObject" % bucket,
                                     headers={"x-amz-rename-source": "/%s/kept" % bucket}),
                            "NotImplemented", 501)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="kept")["Body"].read(),
                         b"original")
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        self.assertEqual(keys, ["kept"])


class ObjectSizeLimitTests(CoreCase):
    """S3 takes at most 5 GiB in one PUT or one part: a larger declared
    body is refused (400 EntityTooLarge) before any of it is read."""

    def send_head(self, path, headers):
        """The request's head alone, a body it declares never sent; the answer."""
        signed = s3_sign("PUT", "http://127.0.0.1:%d%s" % (self.server.port, path), headers,
                         b"", unsigned_payload=True)
        signed["Host"] = "127.0.0.1:%d" % self.server.port
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
            for name, value in signed.items():
                conn.putheader(name, value)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def test_put_and_part_over_five_gib(self):
        bucket = self.make_bucket("limit")
        over = 5 * 1024 ** 3 + 1
        status, body = self.send_head("/%s/huge" % bucket, {"Content-Length": str(over)})
        self.assertEqual(status, 400, body)
        error = ET.fromstring(body)
        self.assertEqual(error.findtext("Code"), "EntityTooLarge", body)
        self.assertEqual(error.findtext("ProposedSize"), str(over), body)
        self.assertEqual(error.findtext("MaxSizeAllowed"), str(5 * 1024 ** 3), body)
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
        status, body = self.send_head("/%s/parts?partNumber=1&uploadId=%s" % (bucket, upload),
                                      {"Content-Length": str(over)})
        self.assertEqual(status, 400, body)
        self.assertEqual(ET.fromstring(body).findtext("Code"), "EntityTooLarge", body)
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket)["KeyCount"], 0)


class EncodingTests(CoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("enc")
        for key in ("a b/c+d.txt", "a b/e f/g", "plain"):
            cls.s3.put_object(Bucket=cls.bucket, Key=key, Body=b"x")

    def test_boto3_round_trips(self):
        # botocore asks for encoding-type=url and decodes what AWS encodes;
        # an element encoded that AWS leaves alone would come back encoded.
        v1 = self.s3.list_objects(Bucket=self.bucket, Prefix="a b/", Delimiter="/",
                                  Marker="a b/")
        self.assertEqual(v1["Prefix"], "a b/")
        self.assertEqual(v1["Marker"], "a b/")
        self.assertEqual([o["Key"] for o in v1["Contents"]], ["a b/c+d.txt"])
        self.assertEqual([p["Prefix"] for p in v1["CommonPrefixes"]], ["a b/e f/"])
        v2 = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="a b/", Delimiter="/",
                                     StartAfter="a b/")
        self.assertEqual(v2["Prefix"], "a b/")
        self.assertEqual(v2["StartAfter"], "a b/")
        self.assertEqual([o["Key"] for o in v2["Contents"]], ["a b/c+d.txt"])
        versions = self.s3.list_object_versions(Bucket=self.bucket, Prefix="a b/")
        self.assertEqual(versions["Prefix"], "a b/")
        self.assertEqual([v["Key"] for v in versions["Versions"]], ["a b/c+d.txt", "a b/e f/g"])

    def test_raw_v1(self):
        resp = self.raw("GET", "/%s?encoding-type=url&prefix=a%%20b%%2F&delimiter=%%2F"
                        "&marker=a%%20b%%2F" % self.bucket)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(xml_text(resp.body, "Prefix"), "a b/")
        self.assertEqual(xml_text(resp.body, "Marker"), "a%20b/")
        self.assertEqual(xml_text(resp.body, "Delimiter"), "/")
        self.assertEqual(xml_text(resp.body, "Contents/Key"), "a%20b/c%2Bd.txt")
        self.assertEqual(xml_text(resp.body, "CommonPrefixes/Prefix"), "a%20b/e%20f/")

    def test_raw_v2(self):
        resp = self.raw("GET", "/%s?list-type=2&encoding-type=url&prefix=a%%20b%%2F"
                        "&start-after=a%%20b%%2F" % self.bucket)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(xml_text(resp.body, "Prefix"), "a%20b/")
        self.assertEqual(xml_text(resp.body, "StartAfter"), "a%20b/")
        self.assertEqual(xml_text(resp.body, "Contents/Key"), "a%20b/c%2Bd.txt")

    def test_raw_multipart_uploads(self):
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key="up load")
        try:
            resp = self.raw("GET", "/%s?uploads&encoding-type=url" % self.bucket)
            self.assertEqual(resp.status, 200, resp)
            self.assertEqual(xml_text(resp.body, "Upload/Key"), "up%20load")
            self.assertEqual(xml_text(resp.body, "EncodingType"), "url")
            listed = self.s3.list_multipart_uploads(Bucket=self.bucket)
            self.assertEqual([u["Key"] for u in listed["Uploads"]], ["up load"])
        finally:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key="up load",
                                           UploadId=upload["UploadId"])

    def test_bad_encoding_type(self):
        for query in ("encoding-type=base64", "versions&encoding-type=x",
                      "uploads&encoding-type=x"):
            self.assertRawError(self.raw("GET", "/%s?%s" % (self.bucket, query)),
                                "InvalidArgument", 400)

    def test_content_encoding_keeps_other_codings(self):
        for sent, stored in (("aws-chunked,gzip", "gzip"), ("gzip, aws-chunked", "gzip"),
                             ("aws-chunked", None), ("br", "br")):
            with self.subTest(sent=sent):
                resp = self.raw("PUT", "/%s/ce" % self.bucket, body=b"bytes",
                                headers={"Content-Encoding": sent})
                self.assertEqual(resp.status, 200, resp)
                head = self.s3.head_object(Bucket=self.bucket, Key="ce")
                self.assertEqual(head.get("ContentEncoding"), stored)


# ---------------------------------------------------------------------------
# 10. Presigned URL limits, Date beside X-Amz-Date
# ---------------------------------------------------------------------------


class PresignLimitTests(CoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("plim")
        cls.s3.put_object(Bucket=cls.bucket, Key="k", Body=b"presigned")

    def url_error(self, url):
        status, body, _ = urlopen(url)
        return status, parse_xml_error(body) if status >= 300 else body

    def test_expires_zero_and_over_a_week(self):
        for expires in (0, 604801):
            with self.subTest(expires=expires):
                url = self.s3.generate_presigned_url(
                    "get_object", Params={"Bucket": self.bucket, "Key": "k"}, ExpiresIn=expires)
                self.assertIn("X-Amz-Expires=%d" % expires, url)
                status, err = self.url_error(url)
                self.assertEqual(status, 400, err)
                self.assertEqual(err["Code"], "AuthorizationQueryParametersError")

    def test_a_week_exactly_is_fine(self):
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "k"}, ExpiresIn=604800)
        self.assertEqual(self.url_error(url), (200, b"presigned"))

    def test_expired(self):
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": "k"}, ExpiresIn=1)
        time.sleep(2.2)
        status, err = self.url_error(url)
        self.assertEqual(status, 403, err)
        self.assertEqual((err["Code"], err["Message"]), ("AccessDenied", "Request has expired"))

    def test_date_beside_x_amz_date(self):
        # SigV4 signs X-Amz-Date; a Date header as well (an HTTP library's, or
        # a day old) does not matter.
        path = "/%s/k" % self.bucket
        for date in (datetime.datetime.now(datetime.timezone.utc),
                     datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)):
            with self.subTest(date=date):
                headers = self.signed("GET", path)
                headers["Date"] = date.strftime("%a, %d %b %Y %H:%M:%S GMT")
                resp = self.send_raw("GET", path, headers)
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.body, b"presigned")

    def signed(self, method, path):
        request = AWSRequest(method=method, url=self.server.endpoint + path)
        S3SigV4Auth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "s3",
                    REGION).add_auth(request)
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}

    def send_raw(self, method, path, headers):
        sock = self.server.connect(timeout=30)
        try:
            sock.sendall(harness.build_request(method, path, self.server.port, headers=headers))
            return harness.SocketReader(sock).read_response()
        finally:
            sock.close()


# ---------------------------------------------------------------------------
# 11. Storage classes
# ---------------------------------------------------------------------------


class StorageClassTests(CoreCase):
    CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
               "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "SNOW",
               "EXPRESS_ONEZONE")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("class")

    def test_every_class_round_trips(self):
        for storage_class in self.CLASSES:
            with self.subTest(storage_class=storage_class):
                key = "c/" + storage_class
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"x",
                                   StorageClass=storage_class)
                head = self.s3.head_object(Bucket=self.bucket, Key=key)
                if storage_class in ("GLACIER", "DEEP_ARCHIVE"):
                    # Archived: read once restored (test_s3_lifecycle.py).
                    with self.assertRaises(Exception) as ctx:
                        self.s3.get_object(Bucket=self.bucket, Key=key)
                    self.assertClientError(ctx, "InvalidObjectState", 403)
                    got = head
                else:
                    got = self.s3.get_object(Bucket=self.bucket, Key=key)
                if storage_class == "STANDARD":
                    self.assertNotIn("StorageClass", head)
                    self.assertNotIn("StorageClass", got)
                else:
                    self.assertEqual(head.get("StorageClass"), storage_class)
                    self.assertEqual(got.get("StorageClass"), storage_class)
        listed = {o["Key"][2:]: o["StorageClass"] for o in
                  self.s3.list_objects_v2(Bucket=self.bucket, Prefix="c/")["Contents"]}
        self.assertEqual(listed, {c: c for c in self.CLASSES})
        v1 = {o["Key"][2:]: o["StorageClass"] for o in
              self.s3.list_objects(Bucket=self.bucket, Prefix="c/")["Contents"]}
        self.assertEqual(v1, listed)
        versions = {v["Key"][2:]: v["StorageClass"] for v in
                    self.s3.list_object_versions(Bucket=self.bucket, Prefix="c/")["Versions"]}
        self.assertEqual(versions, listed)

    def test_invalid_class(self):
        with self.assertRaises(Exception) as ctx:
            self.s3.put_object(Bucket=self.bucket, Key="bad", Body=b"x", StorageClass="COLD")
        self.assertClientError(ctx, "InvalidStorageClass", 400)
        with self.assertRaises(Exception) as ctx:
            self.s3.create_multipart_upload(Bucket=self.bucket, Key="bad", StorageClass="COLD")
        self.assertClientError(ctx, "InvalidStorageClass", 400)
        self.s3.put_object(Bucket=self.bucket, Key="src", Body=b"x")
        with self.assertRaises(Exception) as ctx:
            self.s3.copy_object(Bucket=self.bucket, Key="dst", StorageClass="COLD",
                                CopySource={"Bucket": self.bucket, "Key": "src"})
        self.assertClientError(ctx, "InvalidStorageClass", 400)

    def test_multipart_keeps_its_class(self):
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key="mp",
                                                 StorageClass="STANDARD_IA")
        listed = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix="mp")["Uploads"]
        self.assertEqual([u["StorageClass"] for u in listed], ["STANDARD_IA"])
        part = self.s3.upload_part(Bucket=self.bucket, Key="mp", UploadId=upload["UploadId"],
                                   PartNumber=1, Body=b"p")
        self.assertEqual(self.s3.list_parts(Bucket=self.bucket, Key="mp",
                                            UploadId=upload["UploadId"])["StorageClass"],
                         "STANDARD_IA")
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key="mp", UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="mp")["StorageClass"],
                         "STANDARD_IA")
        attrs = self.s3.get_object_attributes(Bucket=self.bucket, Key="mp",
                                              ObjectAttributes=["StorageClass"])
        self.assertEqual(attrs["StorageClass"], "STANDARD_IA")

    def test_copy_changes_class_in_place(self):
        self.s3.put_object(Bucket=self.bucket, Key="move", Body=b"x", StorageClass="GLACIER_IR")
        # A copy onto itself that changes only the class is allowed.
        self.s3.copy_object(Bucket=self.bucket, Key="move", StorageClass="ONEZONE_IA",
                            CopySource={"Bucket": self.bucket, "Key": "move"})
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="move")["StorageClass"],
                         "ONEZONE_IA")
        # A copy without a class is STANDARD, as on AWS.
        self.s3.copy_object(Bucket=self.bucket, Key="copied",
                            CopySource={"Bucket": self.bucket, "Key": "move"})
        self.assertNotIn("StorageClass", self.s3.head_object(Bucket=self.bucket, Key="copied"))

    def test_cli(self):
        path = os.path.join(self.server.data_dir, "class-body.txt")
        with open(path, "wb") as f:
            f.write(b"archived")
        out = self.server.aws("s3", "cp", path, "s3://%s/cli/archived.txt" % self.bucket,
                              "--storage-class", "DEEP_ARCHIVE")
        self.assertEqual(out.returncode, 0, out.stderr)
        out = self.server.aws("s3api", "head-object", "--bucket", self.bucket,
                              "--key", "cli/archived.txt")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["StorageClass"], "DEEP_ARCHIVE")
        out = self.server.aws("s3api", "list-objects-v2", "--bucket", self.bucket,
                              "--prefix", "cli/")
        self.assertEqual(json.loads(out.stdout)["Contents"][0]["StorageClass"], "DEEP_ARCHIVE")
        out = self.server.aws("s3", "cp", path, "s3://%s/cli/bad.txt" % self.bucket,
                              "--storage-class", "COLD")
        self.assertNotEqual(out.returncode, 0)



# ---------------------------------------------------------------------------
# ListMultipartUploads: delimiter, markers, max-uploads, encoding
# ---------------------------------------------------------------------------


class ListUploadsTests(CoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = cls.make_bucket("uploads")
        cls.ids = {}
        # Two uploads of one key, begun in this order.
        for key in ("a/1", "a/2", "b", "b", "c d/x", "e"):
            upload = cls.s3.create_multipart_upload(Bucket=cls.bucket, Key=key)
            cls.ids.setdefault(key, []).append(upload["UploadId"])
            time.sleep(0.005)  # initiation times apart, so their order is known

    def all_pages(self, **kw):
        pages, marker = [], {}
        while True:
            page = self.s3.list_multipart_uploads(Bucket=self.bucket, **kw, **marker)
            pages.append(page)
            if not page["IsTruncated"]:
                return pages
            marker = {"KeyMarker": page["NextKeyMarker"]}
            if page.get("NextUploadIdMarker"):
                marker["UploadIdMarker"] = page["NextUploadIdMarker"]

    def test_paging_visits_every_upload_once_in_order(self):
        pages = self.all_pages(MaxUploads=2)
        self.assertEqual(len(pages), 3)
        self.assertTrue(pages[0]["IsTruncated"])
        self.assertEqual(pages[0]["MaxUploads"], 2)
        listed = [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])]
        expected = [(k, i) for k in ("a/1", "a/2", "b", "c d/x", "e") for i in self.ids[k]]
        self.assertEqual(listed, expected)
        self.assertEqual(pages[1]["NextKeyMarker"], "b")
        self.assertEqual(pages[1]["NextUploadIdMarker"], self.ids["b"][1])
        # A page that ends between the two uploads of "b" names the first,
        # and the next begins with the second.
        pages = self.all_pages(MaxUploads=3)
        self.assertEqual(pages[0]["NextUploadIdMarker"], self.ids["b"][0])
        self.assertEqual(pages[1]["Uploads"][0]["UploadId"], self.ids["b"][1])

    def test_key_marker_alone_skips_the_whole_key(self):
        page = self.s3.list_multipart_uploads(Bucket=self.bucket, KeyMarker="b")
        self.assertEqual([u["Key"] for u in page["Uploads"]], ["c d/x", "e"])
        self.assertEqual(page["KeyMarker"], "b")
        self.assertFalse(page["IsTruncated"])
        page = self.s3.list_multipart_uploads(Bucket=self.bucket, KeyMarker="b",
                                              UploadIdMarker=self.ids["b"][0])
        self.assertEqual([u["UploadId"] for u in page["Uploads"]][:1], [self.ids["b"][1]])

    def test_delimiter_rolls_up_common_prefixes(self):
        page = self.s3.list_multipart_uploads(Bucket=self.bucket, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in page["CommonPrefixes"]], ["a/", "c d/"])
        self.assertEqual([u["Key"] for u in page["Uploads"]], ["b", "b", "e"])
        self.assertEqual(page["Delimiter"], "/")
        page = self.s3.list_multipart_uploads(Bucket=self.bucket, Delimiter="/", Prefix="a/")
        self.assertEqual([u["Key"] for u in page["Uploads"]], ["a/1", "a/2"])
        self.assertNotIn("CommonPrefixes", page)

    def test_delimiter_pages_count_prefixes_once(self):
        pages = self.all_pages(Delimiter="/", MaxUploads=1)
        entries = []
        for page in pages:
            entries += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            entries += [u["Key"] for u in page.get("Uploads", [])]
        self.assertEqual(entries, ["a/", "b", "b", "c d/", "e"])
        self.assertEqual(pages[0]["NextKeyMarker"], "a/")

    def test_encoding_type_url(self):
        resp = self.raw("GET", "/%s?uploads&encoding-type=url&delimiter=%%2F&prefix=c%%20" %
                        self.bucket)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(xml_text(resp.body, "CommonPrefixes/Prefix"), "c%20d/")
        self.assertEqual(xml_text(resp.body, "Prefix"), "c%20")
        resp = self.raw("GET", "/%s?uploads&encoding-type=url&key-marker=b&max-uploads=1" %
                        self.bucket)
        self.assertEqual(xml_text(resp.body, "Upload/Key"), "c%20d/x")
        self.assertEqual(xml_text(resp.body, "NextKeyMarker"), "c%20d/x")
        self.assertEqual(xml_text(resp.body, "IsTruncated"), "true")

    def test_max_uploads_limits(self):
        page = self.s3.list_multipart_uploads(Bucket=self.bucket, MaxUploads=5000)
        self.assertEqual(page["MaxUploads"], 1000)
        self.assertEqual(len(page["Uploads"]), 6)
        page = self.s3.list_multipart_uploads(Bucket=self.bucket, MaxUploads=0)
        self.assertNotIn("Uploads", page)
        self.assertFalse(page["IsTruncated"])
        for bad in ("-1", "ten"):
            self.assertRawError(self.raw("GET", "/%s?uploads&max-uploads=%s" % (self.bucket, bad)),
                                "InvalidArgument", 400)
        # The CLI pages with the same markers.
        out = self.server.aws("s3api", "list-multipart-uploads", "--bucket", self.bucket,
                              "--page-size", "1")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len(json.loads(out.stdout)["Uploads"]), 6)


if __name__ == "__main__":
    unittest.main()
