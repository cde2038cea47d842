"""End-to-end tests of S3 SSE-C (server-side encryption with customer-provided
keys) against the real offcloud binary, driven by boto3 (SSECustomerKey=...,
botocore computes the key's MD5) and the aws CLI (s3api --sse-customer-*, and
aws s3 cp --sse-c): round trips, ranged and partNumber reads, multipart
uploads, copies with source and target keys, POST uploads, versions, every
refusal S3 gives, and the bytes on disk, which must never hold the plaintext
or the key.

What "right" means is what Amazon S3 does ("Using server-side encryption with
customer-provided keys", the GetObject/HeadObject/CopyObject/UploadPart API
references): status codes, error codes, headers. One documented difference:
AWS refuses SSE-C over plain HTTP; offcloud accepts it (it is usually reached
over HTTP on the loopback).

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_s3_sse_c.py -v
"""

import base64
import hashlib
import json
import os
import shutil
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_s3_post import multipart  # noqa: E402

REGION = harness.REGION
PATH_STYLE = harness.PATH_STYLE
MIB = 1024 * 1024


def new_key():
    """A 256-bit key as boto3 takes it: a str of 32 characters (its UTF-8 bytes)."""
    return os.urandom(16).hex()


def key_md5(key):
    return base64.b64encode(hashlib.md5(key.encode()).digest()).decode()


def sse(key):
    """boto3's SSE-C arguments; botocore base64-encodes the key and adds its MD5."""
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}


def copy_source_sse(key):
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key}


def data_of(size, seed=b"sse-c"):
    block = hashlib.sha256(seed).digest() * 2048  # 64 KiB, not a repeating 16-byte pattern
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest() + block[:4064]
        counter += 1
    return bytes(out[:size])


class SseCCase(harness.ServerTestCase):
    def setUp(self):
        self.bucket = harness.new_bucket_name("ssec")
        self.s3.create_bucket(Bucket=self.bucket,
                              CreateBucketConfiguration={"LocationConstraint": REGION})
        self.key1 = new_key()
        self.key2 = new_key()

    def put(self, key, body, customer_key=None, **kw):
        extra = sse(customer_key) if customer_key else {}
        return self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **extra, **kw)

    def get(self, key, customer_key=None, **kw):
        extra = sse(customer_key) if customer_key else {}
        return self.s3.get_object(Bucket=self.bucket, Key=key, **extra, **kw)

    # -- round trips -------------------------------------------------------

    def test_put_get_head_round_trip(self):
        body = data_of(100_003)
        put = self.put("a", body, self.key1, ChecksumAlgorithm="CRC32")
        self.assertEqual(put["SSECustomerAlgorithm"], "AES256")
        self.assertEqual(put["SSECustomerKeyMD5"], key_md5(self.key1))
        self.assertNotIn("ServerSideEncryption", put)
        # An SSE-C object's ETag is no MD5 of its data (S3's Object docs).
        self.assertNotEqual(put["ETag"].strip('"'), hashlib.md5(body).hexdigest())
        self.assertRegex(put["ETag"], r'^"[0-9a-f]{32}"$')
        crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        self.assertEqual(put["ChecksumCRC32"], crc)  # checksums are the plaintext's

        got = self.get("a", self.key1, ChecksumMode="ENABLED")
        self.assertEqual(got["Body"].read(), body)  # botocore checked the CRC32 too
        self.assertEqual(got["ETag"], put["ETag"])
        self.assertEqual(got["SSECustomerAlgorithm"], "AES256")
        self.assertEqual(got["SSECustomerKeyMD5"], key_md5(self.key1))
        self.assertEqual(got["ChecksumCRC32"], crc)
        self.assertNotIn("ServerSideEncryption", got)
        head = self.s3.head_object(Bucket=self.bucket, Key="a", **sse(self.key1))
        self.assertEqual(head["ContentLength"], len(body))
        self.assertEqual(head["ETag"], put["ETag"])
        self.assertEqual(head["SSECustomerKeyMD5"], key_md5(self.key1))
        # If-Match with the ETag S3 gave works as for any object.
        self.assertEqual(self.get("a", self.key1, IfMatch=put["ETag"])["ContentLength"], len(body))
        # The same bytes under another key make another ETag (another IV too).
        again = self.put("a2", body, self.key1)
        self.assertNotEqual(again["ETag"], put["ETag"])
        # Deleting needs no key, as on S3.
        self.s3.delete_object(Bucket=self.bucket, Key="a2")

    def test_empty_object_and_content_md5(self):
        self.put("empty", b"", self.key1)
        self.assertEqual(self.get("empty", self.key1)["Body"].read(), b"")
        # Content-MD5 is of the plaintext sent.
        body = b"hello sse-c"
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        self.put("md5", body, self.key1, ContentMD5=md5)
        self.assertEqual(self.get("md5", self.key1)["Body"].read(), body)
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        self.refused("BadDigest", 400, self.put, "md5", body, self.key1, ContentMD5=wrong)

    def test_ranged_get_off_block_boundaries(self):
        body = data_of(3 * MIB + 5)
        self.put("r", body, self.key1)
        for first, last in [(0, 0), (1, 15), (5, 100), (15, 16), (17, 4096 + 3),
                            (MIB - 1, MIB + 17), (3 * MIB, 3 * MIB + 4)]:
            got = self.get("r", self.key1, Range="bytes=%d-%d" % (first, last))
            self.assertEqual(got["ResponseMetadata"]["HTTPStatusCode"], 206)
            self.assertEqual(got["Body"].read(), body[first:last + 1], (first, last))
        self.assertEqual(self.get("r", self.key1, Range="bytes=-33")["Body"].read(), body[-33:])
        self.assertEqual(self.get("r", self.key1, Range="bytes=2999999-")["Body"].read(),
                         body[2999999:])

    # -- refusals ----------------------------------------------------------

    def test_reads_need_the_right_key(self):
        self.put("k", b"secret", self.key1)
        self.refused("InvalidRequest", 400, self.get, "k")
        self.refused(None, 400, self.s3.head_object, Bucket=self.bucket, Key="k")
        response = self.refused("AccessDenied", 403, self.get, "k", self.key2)
        self.assertIn("correct secret key", response["Error"]["Message"])
        self.refused(None, 403, self.s3.head_object, Bucket=self.bucket, Key="k",
                     **sse(self.key2))
        self.refused("InvalidRequest", 400, self.s3.get_object_attributes, Bucket=self.bucket,
                     Key="k", ObjectAttributes=["ETag", "ObjectSize"])
        # botocore encodes the key for GetObject but not here: the caller does.
        attributes = self.s3.get_object_attributes(
            Bucket=self.bucket, Key="k", ObjectAttributes=["ObjectSize"],
            SSECustomerAlgorithm="AES256",
            SSECustomerKey=base64.b64encode(self.key1.encode()).decode(),
            SSECustomerKeyMD5=key_md5(self.key1))
        self.assertEqual(attributes["ObjectSize"], 6)
        # A key for an object stored without one.
        self.put("plain", b"plain")
        response = self.refused("InvalidRequest", 400, self.get, "plain", self.key1)
        self.assertEqual(response["Error"]["Message"],
                         "The encryption parameters are not applicable to this object.")
        self.assertEqual(self.get("plain")["Body"].read(), b"plain")

    def test_malformed_key_headers(self):
        # The MD5 does not match the key.
        response = self.refused("InvalidArgument", 400, self.put, "m", b"x", None,
                                SSECustomerAlgorithm="AES256", SSECustomerKey=self.key1,
                                SSECustomerKeyMD5=key_md5(self.key2))
        self.assertIn("MD5", response["Error"]["Message"])
        self.refused("InvalidArgument", 400, self.get, "m", None, SSECustomerAlgorithm="AES256",
                     SSECustomerKey=self.key1, SSECustomerKeyMD5=key_md5(self.key2))
        # Not AES256.
        response = self.refused("InvalidEncryptionAlgorithmError", 400, self.put, "m", b"x",
                                None, SSECustomerAlgorithm="AES128", SSECustomerKey=self.key1)
        self.assertEqual(response["Error"].get("ArgumentValue"), "AES128")
        # A key that is not 256 bits.
        self.refused("InvalidArgument", 400, self.put, "m", b"x", None,
                     SSECustomerAlgorithm="AES256", SSECustomerKey="k" * 24)
        # SSE-C and SSE-S3 at once.
        response = self.refused("InvalidArgument", 400, self.put, "m", b"x", self.key1,
                                ServerSideEncryption="AES256")
        self.assertIn("incompatible", response["Error"]["Message"])
        self.refused("NoSuchKey", 404, self.get, "m", self.key1)  # nothing was stored

    def test_key_without_algorithm_and_algorithm_without_key(self):
        def strip(header):
            def handler(request, **_):
                del request.headers[header]
            return handler

        client = self.server.boto3_client("s3", config=PATH_STYLE)
        client.meta.events.register(
            "before-sign.s3.PutObject",
            strip("x-amz-server-side-encryption-customer-algorithm"))
        self.refused("InvalidArgument", 400, client.put_object, Bucket=self.bucket, Key="n",
                     Body=b"x", **sse(self.key1))
        client = self.server.boto3_client("s3", config=PATH_STYLE)
        client.meta.events.register(
            "before-sign.s3.PutObject", strip("x-amz-server-side-encryption-customer-key"))
        response = self.refused("InvalidArgument", 400, client.put_object, Bucket=self.bucket,
                                Key="n", Body=b"x", **sse(self.key1))
        self.assertIn("secret key", response["Error"]["Message"])

    def test_bucket_policy_can_require_sse_c(self):
        # AWS's pattern: deny uploads without s3:x-amz-server-side-encryption-customer-algorithm.
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::%s/*" % self.bucket,
            "Condition": {"Null": {
                "s3:x-amz-server-side-encryption-customer-algorithm": "true"}}}]}
        self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))
        self.refused("AccessDenied", 403, self.put, "p", b"x")
        self.put("p", b"x", self.key1)
        self.assertEqual(self.get("p", self.key1)["Body"].read(), b"x")

    # -- multipart ---------------------------------------------------------

    def test_multipart_with_parts_and_refusals(self):
        part1 = data_of(5 * MIB + 3, b"p1")
        part2 = data_of(MIB + 11, b"p2")
        created = self.s3.create_multipart_upload(Bucket=self.bucket, Key="mp", **sse(self.key1))
        self.assertEqual(created["SSECustomerKeyMD5"], key_md5(self.key1))
        upload_id = created["UploadId"]
        args = {"Bucket": self.bucket, "Key": "mp", "UploadId": upload_id}
        # Parts need the upload's key, and no other.
        self.refused("InvalidRequest", 400, self.s3.upload_part, PartNumber=1, Body=b"x", **args)
        response = self.refused("InvalidRequest", 400, self.s3.upload_part, PartNumber=1,
                                Body=b"x", **args, **sse(self.key2))
        self.assertIn("did not match", response["Error"]["Message"])
        e1 = self.s3.upload_part(PartNumber=1, Body=part1, **args, **sse(self.key1))
        self.assertEqual(e1["SSECustomerKeyMD5"], key_md5(self.key1))
        self.assertNotEqual(e1["ETag"].strip('"'), hashlib.md5(part1).hexdigest())
        e2 = self.s3.upload_part(PartNumber=2, Body=part2, **args, **sse(self.key1))
        done = self.s3.complete_multipart_upload(
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1["ETag"]},
                                       {"PartNumber": 2, "ETag": e2["ETag"]}]}, **args)
        self.assertTrue(done["ETag"].endswith('-2"'), done["ETag"])
        # CompleteMultipartUpload's answer names no SSE-C (botocore's model has none).
        self.assertNotIn("ServerSideEncryption", done)
        whole = part1 + part2
        self.assertEqual(self.get("mp", self.key1)["Body"].read(), whole)
        # Across the parts' join, where the IV changes.
        join = len(part1)
        got = self.get("mp", self.key1, Range="bytes=%d-%d" % (join - 7, join + 20))
        self.assertEqual(got["Body"].read(), whole[join - 7:join + 21])
        got = self.get("mp", self.key1, PartNumber=2)
        self.assertEqual(got["PartsCount"], 2)
        self.assertEqual(got["Body"].read(), part2)
        self.refused("InvalidRequest", 400, self.get, "mp", PartNumber=2)
        # A part without SSE-C in a plain upload is fine; a key there is not.
        plain = self.s3.create_multipart_upload(Bucket=self.bucket, Key="plain-mp")
        self.refused("InvalidRequest", 400, self.s3.upload_part, Bucket=self.bucket,
                     Key="plain-mp", UploadId=plain["UploadId"], PartNumber=1, Body=b"x",
                     **sse(self.key1))
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key="plain-mp",
                                       UploadId=plain["UploadId"])

    def test_upload_part_copy_with_source_and_target_keys(self):
        source = data_of(6 * MIB, b"src")
        self.put("src", source, self.key1)
        upload_id = self.s3.create_multipart_upload(Bucket=self.bucket, Key="dst",
                                                    **sse(self.key2))["UploadId"]
        args = {"Bucket": self.bucket, "Key": "dst", "UploadId": upload_id,
                "CopySource": {"Bucket": self.bucket, "Key": "src"}}
        self.refused("InvalidRequest", 400, self.s3.upload_part_copy, PartNumber=1,
                     **args, **sse(self.key2))  # no source key
        self.refused("AccessDenied", 403, self.s3.upload_part_copy, PartNumber=1, **args,
                     **sse(self.key2), **copy_source_sse(self.key2))
        self.refused("InvalidRequest", 400, self.s3.upload_part_copy, PartNumber=1, **args,
                     **copy_source_sse(self.key1))  # no target key
        p1 = self.s3.upload_part_copy(PartNumber=1, CopySourceRange="bytes=0-%d" % (5 * MIB),
                                      **args, **sse(self.key2), **copy_source_sse(self.key1))
        p2 = self.s3.upload_part_copy(PartNumber=2, CopySourceRange="bytes=%d-%d"
                                      % (5 * MIB + 1, 6 * MIB - 1),
                                      **args, **sse(self.key2), **copy_source_sse(self.key1))
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key="dst", UploadId=upload_id,
            MultipartUpload={"Parts": [
                {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
                {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
        self.assertEqual(self.get("dst", self.key2)["Body"].read(), source)
        self.refused("AccessDenied", 403, self.get, "dst", self.key1)

    # -- copies ------------------------------------------------------------

    def test_copy_object_keys(self):
        body = data_of(200_001, b"copy")
        self.put("c", body, self.key1)
        src = {"Bucket": self.bucket, "Key": "c"}
        self.refused("InvalidRequest", 400, self.s3.copy_object, Bucket=self.bucket, Key="c2",
                     CopySource=src)
        self.refused("AccessDenied", 403, self.s3.copy_object, Bucket=self.bucket, Key="c2",
                     CopySource=src, **copy_source_sse(self.key2))
        self.refused("InvalidEncryptionAlgorithmError", 400, self.s3.copy_object,
                     Bucket=self.bucket, Key="c2", CopySource=src,
                     CopySourceSSECustomerAlgorithm="AES128",
                     CopySourceSSECustomerKey=self.key1)
        # SSE-C to SSE-C under another key.
        copied = self.s3.copy_object(Bucket=self.bucket, Key="c2", CopySource=src,
                                     **copy_source_sse(self.key1), **sse(self.key2))
        self.assertEqual(copied["SSECustomerKeyMD5"], key_md5(self.key2))
        self.assertEqual(self.get("c2", self.key2)["Body"].read(), body)
        self.refused("AccessDenied", 403, self.get, "c2", self.key1)
        # SSE-C to SSE-S3: readable without a key, its ETag the data's MD5.
        copied = self.s3.copy_object(Bucket=self.bucket, Key="c3", CopySource=src,
                                     **copy_source_sse(self.key1))
        self.assertEqual(copied["ServerSideEncryption"], "AES256")
        self.assertEqual(copied["CopyObjectResult"]["ETag"].strip('"'),
                         hashlib.md5(body).hexdigest())
        self.assertEqual(self.get("c3")["Body"].read(), body)
        # Plain to SSE-C.
        self.s3.copy_object(Bucket=self.bucket, Key="c4", CopySource={"Bucket": self.bucket,
                                                                      "Key": "c3"},
                            **sse(self.key1))
        self.assertEqual(self.get("c4", self.key1)["Body"].read(), body)
        self.refused("InvalidRequest", 400, self.get, "c4")
        # Onto itself with a new key: the key rotates.
        self.s3.copy_object(Bucket=self.bucket, Key="c", CopySource=src,
                            **copy_source_sse(self.key1), **sse(self.key2))
        self.assertEqual(self.get("c", self.key2)["Body"].read(), body)
        self.refused("AccessDenied", 403, self.get, "c", self.key1)

    # -- versions and POST -------------------------------------------------

    def test_each_version_has_its_own_key(self):
        self.s3.put_bucket_versioning(Bucket=self.bucket,
                                      VersioningConfiguration={"Status": "Enabled"})
        v1 = self.put("v", b"first", self.key1)["VersionId"]
        v2 = self.put("v", b"second", self.key2)["VersionId"]
        self.assertEqual(self.get("v", self.key1, VersionId=v1)["Body"].read(), b"first")
        self.assertEqual(self.get("v", self.key2, VersionId=v2)["Body"].read(), b"second")
        self.assertEqual(self.get("v", self.key2)["Body"].read(), b"second")
        self.refused("AccessDenied", 403, self.get, "v", self.key2, VersionId=v1)
        self.refused("InvalidRequest", 400, self.get, "v", VersionId=v1)
        # The noncurrent version becomes current again with its key.
        self.s3.delete_object(Bucket=self.bucket, Key="v", VersionId=v2)
        self.assertEqual(self.get("v", self.key1)["Body"].read(), b"first")

    def test_post_object_form_fields(self):
        encoded = base64.b64encode(self.key1.encode()).decode()
        fields = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
                  "x-amz-server-side-encryption-customer-key": encoded,
                  "x-amz-server-side-encryption-customer-key-MD5": key_md5(self.key1)}
        post = self.s3.generate_presigned_post(self.bucket, "posted", Fields=fields,
                                               Conditions=[{k: v} for k, v in fields.items()])
        body, content_type = multipart(post["fields"], b"posted secret")
        conn = self.server.http()
        conn.request("POST", "/" + self.bucket, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        self.assertEqual(response.status, 204, response.read())
        self.assertEqual(response.getheader("x-amz-server-side-encryption-customer-key-MD5"),
                         key_md5(self.key1))
        conn.close()
        self.assertEqual(self.get("posted", self.key1)["Body"].read(), b"posted secret")
        self.refused("InvalidRequest", 400, self.get, "posted")

    # -- the aws CLI -------------------------------------------------------

    def test_aws_cli(self):
        work = tempfile.mkdtemp(prefix="offcloud-ssec-")
        self.addCleanup(shutil.rmtree, work, True)
        key = "k" * 16 + "K" * 16  # the CLI takes the key's 32 bytes as text
        other = "o" * 32
        small = os.path.join(work, "small.txt")
        with open(small, "wb") as f:
            f.write(b"cli secret\n")
        result = self.server.aws("s3api", "put-object", "--bucket", self.bucket, "--key", "s",
                                 "--body", small, "--sse-customer-algorithm", "AES256",
                                 "--sse-customer-key", key)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(key_md5(key), result.stdout)
        result = self.server.aws("s3api", "get-object", "--bucket", self.bucket, "--key", "s",
                                 os.path.join(work, "s.out"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("InvalidRequest", result.stderr)
        result = self.server.aws("s3api", "get-object", "--bucket", self.bucket, "--key", "s",
                                 "--sse-customer-algorithm", "AES256", "--sse-customer-key",
                                 other, os.path.join(work, "s.out"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("AccessDenied", result.stderr)
        result = self.server.aws("s3api", "get-object", "--bucket", self.bucket, "--key", "s",
                                 "--sse-customer-algorithm", "AES256", "--sse-customer-key", key,
                                 os.path.join(work, "s.out"))
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(work, "s.out"), "rb") as f:
            self.assertEqual(f.read(), b"cli secret\n")

        # aws s3 cp: 9 MiB goes up in parts and comes down in ranges.
        big = os.path.join(work, "big.bin")
        content = data_of(9 * MIB + 7, b"cli")
        with open(big, "wb") as f:
            f.write(content)
        url = "s3://%s/big.bin" % self.bucket
        result = self.server.aws("s3", "cp", big, url, "--sse-c", "AES256", "--sse-c-key", key)
        self.assertEqual(result.returncode, 0, result.stderr)
        head = self.s3.head_object(Bucket=self.bucket, Key="big.bin", **sse(key))
        self.assertTrue(head["ETag"].endswith('-2"'), head["ETag"])
        down = os.path.join(work, "big.out")
        result = self.server.aws("s3", "cp", url, down, "--sse-c", "AES256", "--sse-c-key", key)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(down, "rb") as f:
            self.assertEqual(f.read(), content)
        result = self.server.aws("s3", "cp", url, down + "2")
        self.assertNotEqual(result.returncode, 0)
        # A copy to another key, re-encrypted.
        result = self.server.aws("s3", "cp", url, url + ".copy", "--sse-c", "AES256",
                                 "--sse-c-key", other, "--sse-c-copy-source", "AES256",
                                 "--sse-c-copy-source-key", key)
        self.assertEqual(result.returncode, 0, result.stderr)
        got = self.s3.get_object(Bucket=self.bucket, Key="big.bin.copy", **sse(other))
        self.assertEqual(got["Body"].read(), content)


class SseCOnDiskCase(unittest.TestCase):
    """What lands under the data dir: ciphertext only, never the key."""

    def test_plaintext_and_key_never_on_disk(self):
        marker = b"SSE-C-PLAINTEXT-MARKER-"
        key = new_key()
        plain_marker = b"PLAIN-OBJECT-MARKER-"
        with harness.OffcloudServer() as server:
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            bucket = harness.new_bucket_name("ssecdisk")
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": REGION})
            body = marker * 4000 + data_of(MIB)
            s3.put_object(Bucket=bucket, Key="one", Body=body, **sse(key))
            upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp",
                                                   **sse(key))["UploadId"]
            part = marker * (5 * MIB // len(marker) + 1)
            etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1,
                                  Body=part, **sse(key))["ETag"]
            # An uploaded part not yet completed is on disk too.
            pending = s3.create_multipart_upload(Bucket=bucket, Key="pending",
                                                 **sse(key))["UploadId"]
            s3.upload_part(Bucket=bucket, Key="pending", UploadId=pending, PartNumber=1,
                           Body=marker * 100, **sse(key))
            s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                         MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                     "ETag": etag}]})
            s3.put_object(Bucket=bucket, Key="plain", Body=plain_marker * 10)
            server.stop()
            server.restart()  # the key's record is durable; the key is not kept
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            self.assertEqual(s3.get_object(Bucket=bucket, Key="one", **sse(key))["Body"].read(),
                             body)
            self.assertEqual(s3.get_object(Bucket=bucket, Key="mp", **sse(key))["Body"].read(),
                             part)
            found_plain = False
            raw = key.encode()
            forms = [raw, raw.hex().encode(), base64.b64encode(raw)]
            for root, _, files in os.walk(server.data_dir):
                for name in files:
                    if name.startswith("offcloud-stderr"):
                        continue
                    with open(os.path.join(root, name), "rb") as f:
                        content = f.read()
                    self.assertNotIn(marker, content, os.path.join(root, name))
                    for form in forms:
                        self.assertNotIn(form, content, os.path.join(root, name))
                    found_plain = found_plain or plain_marker in content
            # The scan does see plain objects' bytes: it would have seen these.
            self.assertTrue(found_plain)


if __name__ == "__main__":
    unittest.main()
