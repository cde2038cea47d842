"""End-to-end tests of S3's browser-based uploads (POST Object) against the
real offcloud binary: forms built by boto3's generate_presigned_post (SigV4)
or by hand (SigV2, malformed bodies), posted with http.client as a browser
would, then checked with boto3.

What "right" means is what Amazon S3 does (the POST Object API reference and
"Browser-based uploads using POST"): status codes, error codes, XML shapes.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_s3_post.py -v
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
import time
import unittest
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import botocore.exceptions


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REGION = harness.REGION
PATH_STYLE = harness.PATH_STYLE


def new_bucket_name():
    return harness.new_bucket_name("post")


def multipart(fields, file_content=None, filename="upload.bin", after=None, boundary=None):
    """A multipart/form-data body: `fields` in order, then the file (when
    given), then `after` (fields S3 must ignore)."""
    boundary = boundary or "----offcloudBoundary" + uuid.uuid4().hex
    out = []
    for name, value in list(fields.items()) if isinstance(fields, dict) else fields:
        out.append(b"--" + boundary.encode() + b"\r\n")
        out.append(b'Content-Disposition: form-data; name="%s"\r\n\r\n' % name.encode())
        out.append(value.encode() if isinstance(value, str) else value)
        out.append(b"\r\n")
    if file_content is not None:
        out.append(b"--" + boundary.encode() + b"\r\n")
        out.append(b'Content-Disposition: form-data; name="file"; filename="%s"\r\n'
                   % filename.encode())
        out.append(b"Content-Type: application/octet-stream\r\n\r\n")
        out.append(file_content)
        out.append(b"\r\n")
    for name, value in (after or {}).items():
        out.append(b"--" + boundary.encode() + b"\r\n")
        out.append(b'Content-Disposition: form-data; name="%s"\r\n\r\n' % name.encode())
        out.append(value.encode())
        out.append(b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), "multipart/form-data; boundary=" + boundary


class PostCase(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.iam = cls.server.boto3_client("iam")

    def setUp(self):
        self.bucket = new_bucket_name()
        self.s3.create_bucket(Bucket=self.bucket,
                              CreateBucketConfiguration={"LocationConstraint": REGION})

    def post(self, body, content_type, path=None, host=None, origin=None):
        conn = self.server.http()
        headers = {"Content-Type": content_type}
        if host:
            headers["Host"] = host
        if origin:
            headers["Origin"] = origin
        conn.request("POST", path or "/" + self.bucket, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def post_form(self, post, content=b"hello", filename="upload.bin", extra=None, after=None,
                  origin=None):
        fields = dict(post["fields"])
        fields.update(extra or {})
        body, content_type = multipart(fields, content, filename, after)
        self.assertEqual(post["url"], self.server.endpoint + "/" + self.bucket)
        return self.post(body, content_type, origin=origin)

    def presigned(self, key, fields=None, conditions=None, expires=300, client=None):
        return (client or self.s3).generate_presigned_post(
            self.bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires)

    def assertError(self, result, status, code, message_part=None):
        got_status, _, body = result
        self.assertEqual(got_status, status, body)
        error = ET.fromstring(body)
        self.assertEqual(error.findtext("Code"), code, body)
        if message_part:
            self.assertIn(message_part, error.findtext("Message"), body)
        return error

    def body_of(self, key):
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    # -- success -----------------------------------------------------------

    def test_default_success_is_204_with_etag_and_location(self):
        status, headers, body = self.post_form(self.presigned("docs/a.txt"), b"hello post")
        self.assertEqual(status, 204, body)
        self.assertEqual(body, b"")
        self.assertEqual(headers["etag"], '"%s"' % hashlib.md5(b"hello post").hexdigest())
        self.assertTrue(headers["location"].endswith("/%s/docs/a.txt" % self.bucket))
        self.assertEqual(self.body_of("docs/a.txt"), b"hello post")
        head = self.s3.head_object(Bucket=self.bucket, Key="docs/a.txt")
        self.assertEqual(head["ETag"], headers["etag"])
        self.assertEqual(head["ContentType"], "binary/octet-stream")

    def test_201_answers_post_response_xml(self):
        post = self.presigned("k201", fields={"success_action_status": "201"},
                              conditions=[{"success_action_status": "201"}])
        status, headers, body = self.post_form(post, b"x")
        self.assertEqual(status, 201, body)
        doc = ET.fromstring(body)
        self.assertEqual(doc.tag, "PostResponse")
        self.assertEqual(doc.findtext("Bucket"), self.bucket)
        self.assertEqual(doc.findtext("Key"), "k201")
        self.assertEqual(doc.findtext("ETag"), '"%s"' % hashlib.md5(b"x").hexdigest())
        self.assertTrue(doc.findtext("Location").endswith("/%s/k201" % self.bucket))

    def test_200_answers_empty(self):
        post = self.presigned("k200", fields={"success_action_status": "200"},
                              conditions=[{"success_action_status": "200"}])
        status, _, body = self.post_form(post)
        self.assertEqual((status, body), (200, b""))

    def test_redirect_is_303_with_bucket_key_and_etag(self):
        target = "https://example.com/done?from=test"
        post = self.presigned("red irect", fields={"success_action_redirect": target},
                              conditions=[{"success_action_redirect": target}])
        status, headers, body = self.post_form(post, b"r")
        self.assertEqual(status, 303, body)
        location = urllib.parse.urlparse(headers["location"])
        self.assertEqual(location.netloc, "example.com")
        query = urllib.parse.parse_qs(location.query)
        self.assertEqual(query["from"], ["test"])
        self.assertEqual(query["bucket"], [self.bucket])
        self.assertEqual(query["key"], ["red irect"])
        self.assertEqual(query["etag"], ['"%s"' % hashlib.md5(b"r").hexdigest()])
        self.assertEqual(self.body_of("red irect"), b"r")

    def test_filename_substitution(self):
        post = self.presigned("uploads/${filename}")
        self.assertIn(["starts-with", "$key", "uploads/"],
                      json.loads(base64.b64decode(post["fields"]["policy"]))["conditions"])
        status, _, body = self.post_form(post, b"jpeg bytes", filename="photo.jpg")
        self.assertEqual(status, 204, body)
        self.assertEqual(self.body_of("uploads/photo.jpg"), b"jpeg bytes")

    def test_metadata_content_type_and_headers_are_stored(self):
        fields = {"Content-Type": "text/plain", "x-amz-meta-owner": "alice",
                  "Cache-Control": "max-age=60", "Content-Disposition": "inline",
                  "x-amz-storage-class": "STANDARD_IA",
                  "x-amz-server-side-encryption": "AES256"}
        post = self.presigned("meta.txt", fields=fields,
                              conditions=[{k: v} for k, v in fields.items()])
        status, headers, body = self.post_form(post, b"text")
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["x-amz-server-side-encryption"], "AES256")
        head = self.s3.head_object(Bucket=self.bucket, Key="meta.txt")
        self.assertEqual(head["ContentType"], "text/plain")
        self.assertEqual(head["Metadata"], {"owner": "alice"})
        self.assertEqual(head["CacheControl"], "max-age=60")
        self.assertEqual(head["ContentDisposition"], "inline")
        self.assertEqual(head["StorageClass"], "STANDARD_IA")

    def test_tagging_document_is_stored(self):
        tagging = ("<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag>"
                   "</TagSet></Tagging>")
        post = self.presigned("tagged", fields={"x-amz-tagging": tagging},
                              conditions=[{"x-amz-tagging": tagging}])
        status, _, body = self.post_form(post)
        self.assertEqual(status, 204, body)
        tags = self.s3.get_object_tagging(Bucket=self.bucket, Key="tagged")["TagSet"]
        self.assertEqual(tags, [{"Key": "team", "Value": "web"}])

    def test_object_lock_default_retention(self):
        # AWS applies a bucket's default retention to every object, however
        # it arrives; POST Object has no lock fields of its own.
        bucket = new_bucket_name()
        self.s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True,
                              CreateBucketConfiguration={"LocationConstraint": REGION})
        self.s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
        self.bucket = bucket
        status, _, body = self.post_form(self.presigned("defaulted"))
        self.assertEqual(status, 204, body)
        head = self.s3.head_object(Bucket=bucket, Key="defaulted")
        self.assertEqual(head["ObjectLockMode"], "GOVERNANCE")
        left = head["ObjectLockRetainUntilDate"].timestamp() - time.time()
        self.assertTrue(86000 < left <= 86400, left)
        # So the version cannot be deleted for good without the bypass.
        with self.assertRaises(botocore.exceptions.ClientError) as refused:
            self.s3.delete_object(Bucket=bucket, Key="defaulted", VersionId=head["VersionId"])
        self.assertEqual(refused.exception.response["Error"]["Code"], "AccessDenied")
        self.s3.delete_object(Bucket=bucket, Key="defaulted", VersionId=head["VersionId"],
                              BypassGovernanceRetention=True)

    def test_large_file_streams_across_chunks(self):
        # Bytes that look like a delimiter's start, across many reads.
        content = (b"\r\n--not-the-boundary\r\n" + os.urandom(1 << 16)) * 64
        post = self.presigned("big.bin")
        status, headers, body = self.post_form(post, content)
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["etag"], '"%s"' % hashlib.md5(content).hexdigest())
        self.assertEqual(self.body_of("big.bin"), content)

    def test_fields_after_the_file_are_ignored(self):
        post = self.presigned("after")
        status, _, body = self.post_form(post, b"a", after={"x-amz-meta-late": "1", "key": "other"})
        self.assertEqual(status, 204, body)
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="after")["Metadata"], {})
        self.assertEqual(self.s3.list_objects_v2(Bucket=self.bucket)["KeyCount"], 1)

    def test_x_ignore_fields_need_no_condition(self):
        status, _, body = self.post_form(self.presigned("ign"), extra={"x-ignore-me": "1"})
        self.assertEqual(status, 204, body)

    def test_virtual_hosted_style(self):
        post = self.presigned("vh.txt")
        body, content_type = multipart(post["fields"], b"vhost")
        status, _, data = self.post(body, content_type, path="/",
                                    host="%s.localhost:%d" % (self.bucket, self.server.port))
        self.assertEqual(status, 204, data)
        self.assertEqual(self.body_of("vh.txt"), b"vhost")

    # -- the policy ---------------------------------------------------------

    def test_starts_with_passes_and_fails(self):
        post = self.presigned("img", fields={"Content-Type": "image/png"},
                              conditions=[["starts-with", "$Content-Type", "image/"]])
        status, _, body = self.post_form(post)
        self.assertEqual(status, 204, body)
        bad = self.post_form(post, extra={"Content-Type": "text/html"})
        self.assertError(bad, 403, "AccessDenied",
                         'Policy Condition failed: ["starts-with", "$content-type", "image/"]')

    def test_empty_starts_with_takes_anything(self):
        post = self.presigned("any", conditions=[["starts-with", "$x-amz-meta-note", ""]])
        status, _, body = self.post_form(post, extra={"x-amz-meta-note": "whatever"})
        self.assertEqual(status, 204, body)

    def test_content_length_range(self):
        post = self.presigned("sized", conditions=[["content-length-range", 2, 10]])
        status, _, body = self.post_form(post, b"12345")
        self.assertEqual(status, 204, body)
        self.assertError(self.post_form(post, b"x" * 11), 400, "EntityTooLarge")
        self.assertError(self.post_form(post, b"x"), 400, "EntityTooSmall")
        self.assertEqual(self.body_of("sized"), b"12345")

    def test_expired_policy(self):
        post = self.presigned("late", expires=-60)
        self.assertError(self.post_form(post), 403, "AccessDenied",
                         "Invalid according to Policy: Policy expired.")
        self.assertEqual(self.s3.list_objects_v2(Bucket=self.bucket)["KeyCount"], 0)

    def test_refusals_carry_cors_headers(self):
        # A page posting the form reads S3's refusal only with the CORS
        # headers, which AWS sends on it as on a success; found by
        # js/s3_browser.mjs (the refusal is made while the body streams in).
        page = "http://page.example.com"
        self.s3.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": [
            {"AllowedOrigins": [page], "AllowedMethods": ["POST"], "AllowedHeaders": ["*"]}]})
        sized = self.presigned("sized", conditions=[["content-length-range", 1, 4]])
        for post, content, status, code in ((sized, b"12", 204, None),
                                            (sized, b"12345", 400, "EntityTooLarge"),
                                            (self.presigned("late", expires=-60), b"x", 403,
                                             "AccessDenied")):
            result = self.post_form(post, content, origin=page)
            if code:
                self.assertError(result, status, code)
            self.assertEqual(result[0], status, result[2])
            self.assertEqual(result[1].get("access-control-allow-origin"), page, code)
            self.assertEqual(result[1].get("access-control-allow-methods"), "POST", code)
            other = self.post_form(post, content, origin="http://other.example.com")
            self.assertEqual(other[0], status, other[2])
            self.assertNotIn("access-control-allow-origin", other[1])

    def test_exact_key_mismatch(self):
        post = self.presigned("exact")
        self.assertError(self.post_form(post, extra={"key": "other"}), 403, "AccessDenied",
                         'Policy Condition failed: ["eq", "$key", "exact"]')

    def test_extra_field_not_in_policy(self):
        post = self.presigned("extra")
        self.assertError(self.post_form(post, extra={"x-amz-meta-sneaky": "1"}), 403,
                         "AccessDenied", "Extra input fields: x-amz-meta-sneaky")

    def test_tampered_policy_and_signature(self):
        post = self.presigned("tamper")
        policy = json.loads(base64.b64decode(post["fields"]["policy"]))
        policy["expiration"] = "2099-01-01T00:00:00Z"
        forged = base64.b64encode(json.dumps(policy).encode()).decode()
        self.assertError(self.post_form(post, extra={"policy": forged}), 403,
                         "SignatureDoesNotMatch")
        signature = post["fields"]["x-amz-signature"]
        wrong = ("0" if signature[0] != "0" else "1") + signature[1:]
        self.assertError(self.post_form(post, extra={"x-amz-signature": wrong}), 403,
                         "SignatureDoesNotMatch")
        self.assertEqual(self.s3.list_objects_v2(Bucket=self.bucket)["KeyCount"], 0)

    def test_unknown_access_key(self):
        other = self.server.boto3_client("s3", access_key="AKIANOSUCHKEY0000000",
                                         secret_key="x", config=PATH_STYLE)
        self.assertError(self.post_form(self.presigned("k", client=other)), 403,
                         "InvalidAccessKeyId")

    def test_invalid_policy_documents(self):
        def signed(document):
            policy = base64.b64encode(json.dumps(document).encode()).decode()
            signature = base64.b64encode(hmac.new(b"test", policy.encode(), hashlib.sha1)
                                         .digest()).decode()
            return {"key": "p", "AWSAccessKeyId": "test", "policy": policy,
                    "signature": signature}
        future = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        for document in ({"conditions": [{"key": "p"}]},
                         {"expiration": "tomorrow", "conditions": [{"key": "p"}]},
                         {"expiration": future},
                         {"expiration": future, "conditions": [{}]},
                         {"expiration": future, "conditions": [["content-length-range", -1, 5]]}):
            body, content_type = multipart(signed(document), b"x")
            self.assertError(self.post(body, content_type), 400, "InvalidPolicyDocument")

    # -- SigV2 --------------------------------------------------------------

    def test_sigv2_form(self):
        future = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        document = {"expiration": future,
                    "conditions": [{"bucket": self.bucket}, ["starts-with", "$key", "v2/"],
                                   {"acl": "private"}]}
        policy = base64.b64encode(json.dumps(document).encode())
        signature = base64.b64encode(hmac.new(b"test", policy, hashlib.sha1).digest()).decode()
        fields = {"key": "v2/${filename}", "AWSAccessKeyId": "test", "acl": "private",
                  "policy": policy.decode(), "signature": signature}
        body, content_type = multipart(fields, b"v2 bytes", "f.txt")
        status, _, data = self.post(body, content_type)
        self.assertEqual(status, 204, data)
        self.assertEqual(self.body_of("v2/f.txt"), b"v2 bytes")
        fields["signature"] = base64.b64encode(b"\0" * 20).decode()
        body, content_type = multipart(fields, b"v2 bytes", "g.txt")
        self.assertError(self.post(body, content_type), 403, "SignatureDoesNotMatch")

    # -- malformed requests -------------------------------------------------

    def test_missing_file(self):
        post = self.presigned("nofile")
        body, content_type = multipart(post["fields"])
        self.assertError(self.post(body, content_type), 400,
                         "IncorrectNumberOfFilesInPostRequest")

    def test_missing_key_field(self):
        post = self.presigned("nokey")
        fields = {k: v for k, v in post["fields"].items() if k != "key"}
        body, content_type = multipart(fields, b"x")
        self.assertError(self.post(body, content_type), 400, "InvalidArgument",
                         "must contain a field named 'key'")

    def test_malformed_body(self):
        self.assertError(self.post(b"this is not a form", "multipart/form-data; boundary=abc"),
                         400, "MalformedPOSTRequest")
        body, content_type = multipart(self.presigned("cut")["fields"], b"x" * 100)
        self.assertError(self.post(body[:-10], content_type), 400, "MalformedPOSTRequest")
        self.assertError(self.post(b"--x\r\n", "multipart/form-data"), 400,
                         "MalformedPOSTRequest")

    def test_anonymous_form_on_private_bucket(self):
        body, content_type = multipart({"key": "anon"}, b"x")
        self.assertError(self.post(body, content_type), 403, "AccessDenied")
        self.assertEqual(self.s3.list_objects_v2(Bucket=self.bucket)["KeyCount"], 0)

    def test_no_such_bucket(self):
        missing = new_bucket_name()
        post = self.s3.generate_presigned_post(missing, "k")
        body, content_type = multipart(post["fields"], b"x")
        self.assertError(self.post(body, content_type, path="/" + missing), 404, "NoSuchBucket")

    # -- IAM ------------------------------------------------------------------

    def user_client(self, actions):
        name = "post-%s" % uuid.uuid4().hex[:8]
        self.iam.create_user(UserName=name)
        document = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions,
             "Resource": ["arn:aws:s3:::%s/allowed/*" % self.bucket]}]}
        self.iam.put_user_policy(UserName=name, PolicyName="inline",
                                 PolicyDocument=json.dumps(document))
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return self.server.boto3_client("s3", access_key=key["AccessKeyId"],
                                        secret_key=key["SecretAccessKey"], config=PATH_STYLE)

    def test_iam_user_needs_put_object(self):
        reader = self.user_client(["s3:GetObject"])
        self.assertError(self.post_form(self.presigned("allowed/r", client=reader)), 403,
                         "AccessDenied", "s3:PutObject")
        writer = self.user_client(["s3:PutObject"])
        status, _, body = self.post_form(self.presigned("allowed/w", client=writer))
        self.assertEqual(status, 204, body)
        self.assertError(self.post_form(self.presigned("elsewhere", client=writer)), 403,
                         "AccessDenied", "s3:PutObject")
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.bucket)["Contents"]]
        self.assertEqual(keys, ["allowed/w"])


if __name__ == "__main__":
    unittest.main()
