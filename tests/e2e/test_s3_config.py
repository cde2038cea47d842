"""End-to-end tests of S3's tagging, CORS and bucket configurations (policy,
lifecycle, encryption, ownership controls, public access block) against the
real offcloud binary, driven by boto3, the aws CLI and raw HTTP (CORS
preflights, which browsers send unsigned).

What "right" means is what Amazon S3 does (botocore's s3 model and the S3 API
reference): status codes, error codes, XML shapes.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_s3_config.py -v
"""

import http.client
import json
import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REGION = harness.REGION
PATH_STYLE = harness.PATH_STYLE


def new_bucket_name(tag="cfg"):
    return harness.new_bucket_name(tag)


class ConfigCase(harness.ServerTestCase):
    """One server per class; tests make their own buckets."""

    def make_bucket(self, tag="cfg"):
        name = new_bucket_name(tag)
        self.s3.create_bucket(Bucket=name,
                              CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def assertClientError(self, ctx, code, status):
        err = ctx.exception.response.get("Error", {})
        meta = ctx.exception.response.get("ResponseMetadata", {})
        detail = "want %s/%d, got %r %r" % (code, status, err, meta.get("HTTPStatusCode"))
        self.assertEqual(err.get("Code"), code, detail)
        self.assertEqual(meta.get("HTTPStatusCode"), status, detail)
        return err

    def refused(self, code, status, call, *args, **kw):
        with self.assertRaises(ClientError) as ctx:
            call(*args, **kw)
        return self.assertClientError(ctx, code, status)

    def aws(self, *args):
        result = self.server.aws(*args)
        return result

    def aws_json(self, *args):
        result = self.server.aws(*args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout) if result.stdout.strip() else None


# ---------------------------------------------------------------------------
# Tagging
# ---------------------------------------------------------------------------


class TaggingTests(ConfigCase):
    def test_object_tagging_put_get_delete(self):
        bucket = self.make_bucket("tag")
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"], [])
        tags = [{"Key": "project", "Value": "blue"}, {"Key": "empty", "Value": ""}]
        resp = self.s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tags})
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"], tags)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="k")["TagCount"], 2)
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key="k")["TagCount"], 2)
        # versionId "null" names the current version of an unversioned object.
        got = self.s3.get_object_tagging(Bucket=bucket, Key="k", VersionId="null")
        self.assertEqual(got["TagSet"], tags)
        resp = self.s3.delete_object_tagging(Bucket=bucket, Key="k")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"], [])
        self.assertNotIn("TagCount", self.s3.head_object(Bucket=bucket, Key="k"))

    def test_object_tagging_refusals(self):
        bucket = self.make_bucket("tag")
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        put = self.s3.put_object_tagging

        def tagging(tags):
            return {"TagSet": [{"Key": k, "Value": v} for k, v in tags]}

        err = self.refused("BadRequest", 400, put, Bucket=bucket, Key="k",
                           Tagging=tagging([("k%d" % i, "v") for i in range(11)]))
        self.assertEqual(err["Message"], "Object tags cannot be greater than 10")
        put(Bucket=bucket, Key="k", Tagging=tagging([("k%d" % i, "v") for i in range(10)]))
        err = self.refused("InvalidTag", 400, put, Bucket=bucket, Key="k",
                           Tagging=tagging([("a" * 129, "v")]))
        self.assertEqual(err["Message"], "The TagKey you have provided is too long, max 128")
        err = self.refused("InvalidTag", 400, put, Bucket=bucket, Key="k",
                           Tagging=tagging([("a", "v" * 257)]))
        self.assertEqual(err["Message"], "The TagValue you have provided is too long, max 256")
        # Lengths are in characters, not bytes.
        put(Bucket=bucket, Key="k", Tagging=tagging([("日" * 128, "本" * 256)]))
        err = self.refused("InvalidTag", 400, put, Bucket=bucket, Key="k",
                           Tagging=tagging([("a", "1"), ("a", "2")]))
        self.assertEqual(err["Message"], "Cannot provide multiple Tags with the same key")
        self.refused("InvalidTag", 400, put, Bucket=bucket, Key="k",
                     Tagging=tagging([("bad{key}", "v")]))
        self.refused("NoSuchKey", 404, put, Bucket=bucket, Key="missing",
                     Tagging=tagging([("a", "b")]))
        self.refused("NoSuchKey", 404, self.s3.get_object_tagging, Bucket=bucket, Key="missing")
        self.refused("NoSuchBucket", 404, self.s3.get_object_tagging,
                     Bucket=new_bucket_name(), Key="k")

    def test_malformed_tagging_xml(self):
        bucket = self.make_bucket("tag")
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        for body in (b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
                     b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value>", b"not xml",
                     b"<Other/>"):
            resp = self.raw_signed("PUT", "/%s/k?tagging" % bucket, body)
            self.assertEqual(resp[0], 400, resp)
            self.assertIn(b"<Code>MalformedXML</Code>", resp[2])

    def raw_signed(self, method, path, body=b""):
        request = AWSRequest(method=method, url=self.server.endpoint + path, data=body)
        S3SigV4Auth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "s3",
                    REGION).add_auth(request)
        signed = dict(request.headers.items())
        conn = self.server.http()
        try:
            conn.request(method, path, body=body, headers=signed)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def test_tagging_header_on_put_object(self):
        bucket = self.make_bucket("tag")
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                           Tagging="a=1&b=two%20words&c=x+y&empty=")
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"],
                         [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"},
                          {"Key": "c", "Value": "x y"}, {"Key": "empty", "Value": ""}])
        # A new PUT replaces the tags with its own (none here).
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"y")
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"], [])
        self.refused("BadRequest", 400, self.s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                     Tagging="&".join("k%d=v" % i for i in range(11)))
        self.refused("InvalidArgument", 400, self.s3.put_object, Bucket=bucket, Key="k",
                     Body=b"x", Tagging="a=1&a=2")

    def test_tagging_header_on_multipart_upload(self):
        bucket = self.make_bucket("tag")
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key="mpu", Tagging="stage=raw")
        part = self.s3.upload_part(Bucket=bucket, Key="mpu", UploadId=upload["UploadId"],
                                   PartNumber=1, Body=b"tail")
        self.s3.complete_multipart_upload(
            Bucket=bucket, Key="mpu", UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="mpu")["TagSet"],
                         [{"Key": "stage", "Value": "raw"}])

    def test_tagging_directive_on_copy(self):
        bucket = self.make_bucket("tag")
        self.s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="from=source")
        src = {"Bucket": bucket, "Key": "src"}
        self.s3.copy_object(Bucket=bucket, Key="copy", CopySource=src)
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"],
                         [{"Key": "from", "Value": "source"}])
        self.s3.copy_object(Bucket=bucket, Key="replaced", CopySource=src,
                            TaggingDirective="REPLACE", Tagging="new=tag")
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="replaced")["TagSet"],
                         [{"Key": "new", "Value": "tag"}])
        self.s3.copy_object(Bucket=bucket, Key="bare", CopySource=src,
                            TaggingDirective="REPLACE")
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="bare")["TagSet"], [])

    def test_tags_go_with_the_object(self):
        bucket = self.make_bucket("tag")
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=b")
        self.s3.delete_object(Bucket=bucket, Key="k")
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"], [])

    def test_bucket_tagging(self):
        bucket = self.make_bucket("tag")
        err = self.refused("NoSuchTagSet", 404, self.s3.get_bucket_tagging, Bucket=bucket)
        self.assertEqual(err["Message"], "The TagSet does not exist")
        tags = [{"Key": "team", "Value": "iot"}, {"Key": "cost", "Value": "42"}]
        resp = self.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.s3.get_bucket_tagging(Bucket=bucket)["TagSet"], tags)
        many = [{"Key": "k%d" % i, "Value": "v"} for i in range(50)]
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": many})
        self.refused("InvalidTag", 400, self.s3.put_bucket_tagging, Bucket=bucket,
                     Tagging={"TagSet": many + [{"Key": "k50", "Value": "v"}]})
        self.refused("InvalidTag", 400, self.s3.put_bucket_tagging, Bucket=bucket,
                     Tagging={"TagSet": [{"Key": "aws:reserved", "Value": "v"}]})
        resp = self.s3.delete_bucket_tagging(Bucket=bucket)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.refused("NoSuchTagSet", 404, self.s3.get_bucket_tagging, Bucket=bucket)

    def test_cli_tagging(self):
        bucket = self.make_bucket("tag")
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        self.aws_json("s3api", "put-object-tagging", "--bucket", bucket, "--key", "k",
                      "--tagging", "TagSet=[{Key=env,Value=dev}]")
        got = self.aws_json("s3api", "get-object-tagging", "--bucket", bucket, "--key", "k")
        self.assertEqual(got["TagSet"], [{"Key": "env", "Value": "dev"}])
        self.aws_json("s3api", "put-bucket-tagging", "--bucket", bucket,
                      "--tagging", "TagSet=[{Key=owner,Value=me}]")
        got = self.aws_json("s3api", "get-bucket-tagging", "--bucket", bucket)
        self.assertEqual(got["TagSet"], [{"Key": "owner", "Value": "me"}])
        self.aws_json("s3api", "delete-bucket-tagging", "--bucket", bucket)
        result = self.aws("s3api", "get-bucket-tagging", "--bucket", bucket)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("NoSuchTagSet", result.stderr)


# ---------------------------------------------------------------------------
# CORS
# ---------------------------------------------------------------------------

RULES = [
    {"ID": "app", "AllowedOrigins": ["https://app.example.com", "http://*.example.org"],
     "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["Content-Type", "x-amz-*"],
     "ExposeHeaders": ["ETag", "x-amz-request-id"], "MaxAgeSeconds": 3000},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]},
]


class CorsTests(ConfigCase):
    def preflight(self, path, origin=None, method=None, headers=None):
        request_headers = {}
        if origin is not None:
            request_headers["Origin"] = origin
        if method is not None:
            request_headers["Access-Control-Request-Method"] = method
        if headers is not None:
            request_headers["Access-Control-Request-Headers"] = headers
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.request("OPTIONS", path, headers=request_headers)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def error_code(self, body):
        return ET.fromstring(body).findtext("Code")

    def test_put_get_delete(self):
        bucket = self.make_bucket("cors")
        err = self.refused("NoSuchCORSConfiguration", 404, self.s3.get_bucket_cors, Bucket=bucket)
        self.assertEqual(err["Message"], "The CORS configuration does not exist")
        self.s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
        self.assertEqual(self.s3.get_bucket_cors(Bucket=bucket)["CORSRules"], RULES)
        resp = self.s3.delete_bucket_cors(Bucket=bucket)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.refused("NoSuchCORSConfiguration", 404, self.s3.get_bucket_cors, Bucket=bucket)

    def test_validation(self):
        bucket = self.make_bucket("cors")
        put = self.s3.put_bucket_cors

        def rules(**rule):
            base = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
            base.update(rule)
            return {"CORSRules": [base]}

        err = self.refused("InvalidRequest", 400, put, Bucket=bucket,
                           CORSConfiguration=rules(AllowedMethods=["PATCH"]))
        self.assertIn("Unsupported method is PATCH", err["Message"])
        err = self.refused("InvalidRequest", 400, put, Bucket=bucket,
                           CORSConfiguration=rules(AllowedOrigins=["http://*.*.com"]))
        self.assertIn("can not have more than one wildcard", err["Message"])
        self.refused("InvalidRequest", 400, put, Bucket=bucket,
                     CORSConfiguration=rules(AllowedHeaders=["x-*-*"]))
        many = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101}
        self.refused("InvalidRequest", 400, put, Bucket=bucket, CORSConfiguration=many)
        put(Bucket=bucket, CORSConfiguration={"CORSRules": many["CORSRules"][:100]})
        self.refused("MalformedXML", 400, put, Bucket=bucket, CORSConfiguration={"CORSRules": []})

    def test_preflight(self):
        bucket = self.make_bucket("cors")
        path = "/%s/some/key.txt" % bucket
        status, _, body = self.preflight(path, "https://app.example.com", "GET")
        self.assertEqual(status, 403)
        self.assertEqual(self.error_code(body), "AccessForbidden")
        self.s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})

        status, headers, body = self.preflight(path, "https://app.example.com", "PUT",
                                               "content-type, X-Amz-Date")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b"")
        self.assertEqual(headers["access-control-allow-origin"], "https://app.example.com")
        self.assertEqual(headers["access-control-allow-methods"], "GET, PUT")
        self.assertEqual(headers["access-control-allow-headers"], "content-type, X-Amz-Date")
        self.assertEqual(headers["access-control-expose-headers"], "ETag, x-amz-request-id")
        self.assertEqual(headers["access-control-max-age"], "3000")
        self.assertEqual(headers["access-control-allow-credentials"], "true")
        self.assertIn("Origin", headers["vary"])

        # A wildcard origin pattern; a rule open to all answers '*'.
        status, headers, _ = self.preflight(path, "http://a.example.org", "GET")
        self.assertEqual(status, 200)
        self.assertEqual(headers["access-control-allow-origin"], "http://a.example.org")
        status, headers, _ = self.preflight("/" + bucket, "http://elsewhere", "HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(headers["access-control-allow-origin"], "*")
        self.assertNotIn("access-control-allow-credentials", headers)

        # Refused: origin, method or a header no rule allows.
        for origin, method, hdrs in (("https://evil.example.com", "GET", None),
                                     ("https://app.example.com", "DELETE", None),
                                     ("https://app.example.com", "GET", "x-custom")):
            status, _, body = self.preflight(path, origin, method, hdrs)
            self.assertEqual(status, 403, (origin, method, hdrs))
            root = ET.fromstring(body)
            self.assertEqual(root.findtext("Code"), "AccessForbidden")
            self.assertTrue(root.findtext("Message").startswith(
                "CORSResponse: This CORS request is not allowed."))

        # Origin and Access-Control-Request-Method are required.
        status, _, body = self.preflight(path, None, "GET")
        self.assertEqual((status, self.error_code(body)), (400, "BadRequest"))
        status, _, body = self.preflight(path, "https://app.example.com", None)
        self.assertEqual((status, self.error_code(body)), (400, "BadRequest"))
        status, _, body = self.preflight(path, "https://app.example.com", "PATCH")
        self.assertEqual((status, self.error_code(body)), (400, "BadRequest"))

    def test_preflight_unknown_bucket(self):
        status, _, body = self.preflight("/%s/k" % new_bucket_name(), "http://x", "GET")
        self.assertEqual((status, self.error_code(body)), (403, "AccessForbidden"))

    def test_unsigned_requests_other_than_preflight_are_still_refused(self):
        bucket = self.make_bucket("cors")
        self.s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.request("GET", "/%s?cors" % bucket, headers={"Origin": "https://app.example.com"})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        self.assertEqual(resp.status, 403, body)

    def test_cors_headers_on_actual_requests(self):
        bucket = self.make_bucket("cors")
        self.s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        seen = {}

        def capture(http_response, **kw):
            seen.update({k.lower(): v for k, v in http_response.headers.items()})

        client = self.server.boto3_client("s3", config=PATH_STYLE)
        client.meta.events.register("before-call.s3.*",
                                    lambda params, **kw: params["headers"].update(
                                        {"Origin": "https://app.example.com"}))
        client.meta.events.register("after-call.s3.GetObject", capture)
        client.get_object(Bucket=bucket, Key="k")["Body"].read()
        self.assertEqual(seen.get("access-control-allow-origin"), "https://app.example.com")
        self.assertEqual(seen.get("access-control-allow-methods"), "GET, PUT")
        self.assertEqual(seen.get("access-control-expose-headers"), "ETag, x-amz-request-id")
        # No Origin, no CORS headers; an origin no rule allows, none either.
        resp = self.s3.get_object(Bucket=bucket, Key="k")
        self.assertNotIn("access-control-allow-origin", resp["ResponseMetadata"]["HTTPHeaders"])
        seen.clear()
        other = self.server.boto3_client("s3", config=PATH_STYLE)
        other.meta.events.register("before-call.s3.*",
                                   lambda params, **kw: params["headers"].update(
                                       {"Origin": "https://evil.example.com"}))
        other.meta.events.register("after-call.s3.GetObject", capture)
        other.get_object(Bucket=bucket, Key="k")["Body"].read()
        self.assertNotIn("access-control-allow-origin", seen)

    def test_cors_headers_on_errors(self):
        # As on AWS, a refusal carries the rule's headers too, so that the
        # page can read it: the handler's (NoSuchKey), authorization's on the
        # head alone (an unsigned GET) and before a streamed body is read
        # (an unsigned PUT).
        bucket = self.make_bucket("cors")
        self.s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
        signed = self.server.boto3_client("s3", config=PATH_STYLE)
        signed.meta.events.register("before-call.s3.*",
                                    lambda params, **kw: params["headers"].update(
                                        {"Origin": "https://app.example.com"}))
        with self.assertRaises(ClientError) as caught:
            signed.get_object(Bucket=bucket, Key="missing")
        headers = caught.exception.response["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(caught.exception.response["Error"]["Code"], "NoSuchKey")
        self.assertEqual(headers.get("access-control-allow-origin"), "https://app.example.com")

        def raw(method, origin, body=None):
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            try:
                conn.request(method, "/%s/k" % bucket, body=body, headers={"Origin": origin})
                resp = conn.getresponse()
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
            finally:
                conn.close()

        for method, payload in (("GET", None), ("PUT", b"unsigned")):
            status, headers, body = raw(method, "https://app.example.com", payload)
            self.assertEqual((status, self.error_code(body)), (403, "AccessDenied"), method)
            self.assertEqual(headers.get("access-control-allow-origin"), "https://app.example.com")
            self.assertEqual(headers.get("access-control-expose-headers"), "ETag, x-amz-request-id")
            status, headers, _ = raw(method, "https://evil.example.com", payload)
            self.assertEqual(status, 403)
            self.assertNotIn("access-control-allow-origin", headers)

    def test_cli_cors(self):
        bucket = self.make_bucket("cors")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"CORSRules": RULES}, f)
        try:
            self.aws_json("s3api", "put-bucket-cors", "--bucket", bucket,
                          "--cors-configuration", "file://" + f.name)
        finally:
            os.unlink(f.name)
        got = self.aws_json("s3api", "get-bucket-cors", "--bucket", bucket)
        self.assertEqual(got["CORSRules"], RULES)
        self.aws_json("s3api", "delete-bucket-cors", "--bucket", bucket)
        result = self.aws("s3api", "get-bucket-cors", "--bucket", bucket)
        self.assertIn("NoSuchCORSConfiguration", result.stderr)


# ---------------------------------------------------------------------------
# Policy, lifecycle, encryption, ownership, public access block
# ---------------------------------------------------------------------------


def policy(bucket, principal="*", condition=None, resource=None, action="s3:GetObject"):
    statement = {"Sid": "Read", "Effect": "Allow", "Principal": principal, "Action": action,
                 "Resource": resource or "arn:aws:s3:::%s/*" % bucket}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class PolicyTests(ConfigCase):
    def test_put_get_delete_and_status(self):
        bucket = self.make_bucket("pol")
        err = self.refused("NoSuchBucketPolicy", 404, self.s3.get_bucket_policy, Bucket=bucket)
        self.assertEqual(err["Message"], "The bucket policy does not exist")
        self.refused("NoSuchBucketPolicy", 404, self.s3.get_bucket_policy_status, Bucket=bucket)
        private = policy(bucket, principal={"AWS": "arn:aws:iam::000000000000:root"})
        resp = self.s3.put_bucket_policy(Bucket=bucket, Policy=private)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(json.loads(self.s3.get_bucket_policy(Bucket=bucket)["Policy"]),
                         json.loads(private))
        status = self.s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]
        self.assertEqual(status, {"IsPublic": False})
        resp = self.s3.delete_bucket_policy(Bucket=bucket)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.refused("NoSuchBucketPolicy", 404, self.s3.get_bucket_policy, Bucket=bucket)

    def test_public_policy_needs_the_public_access_block_lifted(self):
        bucket = self.make_bucket("pol")
        public = policy(bucket)
        # New buckets block public policies, as on AWS since April 2023.
        self.refused("AccessDenied", 403, self.s3.put_bucket_policy, Bucket=bucket, Policy=public)
        self.s3.delete_public_access_block(Bucket=bucket)
        self.s3.put_bucket_policy(Bucket=bucket, Policy=public)
        self.assertTrue(self.s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"])
        conditioned = policy(bucket, condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
        self.s3.put_bucket_policy(Bucket=bucket, Policy=conditioned)
        self.assertFalse(
            self.s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"])

    def test_malformed_policies(self):
        bucket = self.make_bucket("pol")
        put = self.s3.put_bucket_policy
        no_principal = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}]})
        for bad in ("not json", "[]", no_principal,
                    policy(bucket, principal={"AWS": "nobody"}),
                    policy(bucket, action="iot:Publish"),
                    policy(bucket, resource="arn:aws:s3:::another-bucket/*"),
                    policy(bucket).replace('"Allow"', '"Perhaps"')):
            with self.subTest(bad=bad):
                self.refused("MalformedPolicy", 400, put, Bucket=bucket, Policy=bad)

    def test_cli_policy(self):
        bucket = self.make_bucket("pol")
        document = policy(bucket, principal={"AWS": "000000000000"})
        self.aws_json("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", document)
        got = self.aws_json("s3api", "get-bucket-policy", "--bucket", bucket)
        self.assertEqual(json.loads(got["Policy"]), json.loads(document))
        result = self.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", "{")
        self.assertIn("MalformedPolicy", result.stderr)


LIFECYCLE = {"Rules": [
    {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
     "Expiration": {"Days": 30}},
    {"ID": "noncurrent", "Status": "Disabled", "Filter": {},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
]}


class LifecycleTests(ConfigCase):
    def test_put_get_delete(self):
        bucket = self.make_bucket("lc")
        err = self.refused("NoSuchLifecycleConfiguration", 404,
                           self.s3.get_bucket_lifecycle_configuration, Bucket=bucket)
        self.assertEqual(err["Message"], "The lifecycle configuration does not exist")
        resp = self.s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                                          LifecycleConfiguration=LIFECYCLE)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        got = self.s3.get_bucket_lifecycle_configuration(Bucket=bucket)
        self.assertEqual(got["Rules"], LIFECYCLE["Rules"])
        resp = self.s3.delete_bucket_lifecycle(Bucket=bucket)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.refused("NoSuchLifecycleConfiguration", 404,
                     self.s3.get_bucket_lifecycle_configuration, Bucket=bucket)

    def test_old_shape(self):
        bucket = self.make_bucket("lc")
        rules = [{"ID": "old", "Prefix": "tmp/", "Status": "Enabled",
                  "Expiration": {"Date": "2030-01-01T00:00:00Z"}}]
        self.s3.put_bucket_lifecycle(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
        got = self.s3.get_bucket_lifecycle(Bucket=bucket)["Rules"]
        self.assertEqual(got[0]["Prefix"], "tmp/")
        self.assertEqual(got[0]["Expiration"]["Date"].year, 2030)

    def test_validation(self):
        bucket = self.make_bucket("lc")
        put = self.s3.put_bucket_lifecycle_configuration

        def config(**rule):
            base = {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""},
                    "Expiration": {"Days": 1}}
            base.update(rule)
            return {"Rules": [{k: v for k, v in base.items() if v is not None}]}

        cases = [
            ("InvalidArgument", config(Expiration={"Days": 0})),
            ("InvalidArgument", config(Expiration={"Date": "2030-01-01T12:00:00Z"})),
            ("InvalidArgument", config(ID="x" * 256)),
            ("MalformedXML", config(Status="enabled")),
            ("MalformedXML", config(Filter=None)),
            ("InvalidRequest", config(Expiration=None)),
            ("InvalidArgument", config(Expiration=None,
                                       NoncurrentVersionExpiration={"NoncurrentDays": 0})),
            ("InvalidArgument", config(Expiration=None,
                                       AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})),
            ("InvalidArgument", {"Rules": config()["Rules"] * 2}),
        ]
        for code, configuration in cases:
            with self.subTest(code=code, configuration=configuration):
                self.refused(code, 400, put, Bucket=bucket, LifecycleConfiguration=configuration)
        put(Bucket=bucket, LifecycleConfiguration=config(ID="x" * 255))

    def test_cli_lifecycle(self):
        bucket = self.make_bucket("lc")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(LIFECYCLE, f)
        try:
            self.aws_json("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
                          "--lifecycle-configuration", "file://" + f.name)
        finally:
            os.unlink(f.name)
        got = self.aws_json("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
        self.assertEqual(got["Rules"], LIFECYCLE["Rules"])


class EncryptionTests(ConfigCase):
    def test_default_is_sse_s3(self):
        bucket = self.make_bucket("enc")
        rules = self.s3.get_bucket_encryption(Bucket=bucket)[
            "ServerSideEncryptionConfiguration"]["Rules"]
        self.assertEqual(rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")
        put = self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        self.assertEqual(put["ServerSideEncryption"], "AES256")
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"],
                         "AES256")
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="k")["ServerSideEncryption"],
                         "AES256")

    def test_put_get_delete_bucket_encryption(self):
        bucket = self.make_bucket("enc")
        kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/my-key"},
            "BucketKeyEnabled": True}]}
        self.s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms)
        got = self.s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        self.assertEqual(got, kms)
        # The bucket's default applies to objects written without SSE headers.
        put = self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        self.assertEqual(put["ServerSideEncryption"], "aws:kms")
        self.assertTrue(put["SSEKMSKeyId"].endswith(":alias/my-key"), put["SSEKMSKeyId"])
        self.assertTrue(put["BucketKeyEnabled"])
        head = self.s3.head_object(Bucket=bucket, Key="k")
        self.assertEqual(head["ServerSideEncryption"], "aws:kms")
        self.assertEqual(head["SSEKMSKeyId"], put["SSEKMSKeyId"])
        # The request's own headers win over the default.
        put = self.s3.put_object(Bucket=bucket, Key="aes", Body=b"x", ServerSideEncryption="AES256")
        self.assertEqual(put["ServerSideEncryption"], "AES256")
        self.assertNotIn("SSEKMSKeyId", self.s3.head_object(Bucket=bucket, Key="aes"))
        resp = self.s3.delete_bucket_encryption(Bucket=bucket)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        rules = self.s3.get_bucket_encryption(Bucket=bucket)[
            "ServerSideEncryptionConfiguration"]["Rules"]
        self.assertEqual(rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")

    def test_bucket_encryption_refusals(self):
        bucket = self.make_bucket("enc")
        put = self.s3.put_bucket_encryption
        self.refused("InvalidArgument", 400, put, Bucket=bucket,
                     ServerSideEncryptionConfiguration={"Rules": [
                         {"ApplyServerSideEncryptionByDefault": {
                             "SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]})
        self.refused("MalformedXML", 400, put, Bucket=bucket,
                     ServerSideEncryptionConfiguration={"Rules": [
                         {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}]})

    def test_object_sse_headers(self):
        bucket = self.make_bucket("enc")
        put = self.s3.put_object(Bucket=bucket, Key="kms", Body=b"x",
                                 ServerSideEncryption="aws:kms", SSEKMSKeyId="1234abcd")
        self.assertEqual(put["SSEKMSKeyId"],
                         "arn:aws:kms:%s:000000000000:key/1234abcd" % REGION)
        get = self.s3.get_object(Bucket=bucket, Key="kms")
        self.assertEqual((get["ServerSideEncryption"], get["SSEKMSKeyId"]),
                         ("aws:kms", put["SSEKMSKeyId"]))
        # A copy is encrypted as its request says, not as its source was.
        copy = self.s3.copy_object(Bucket=bucket, Key="copy",
                                   CopySource={"Bucket": bucket, "Key": "kms"})
        self.assertEqual(copy["ServerSideEncryption"], "AES256")
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key="copy")["ServerSideEncryption"],
                         "AES256")
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key="mpu",
                                                 ServerSideEncryption="aws:kms")
        self.assertEqual(upload["ServerSideEncryption"], "aws:kms")
        part = self.s3.upload_part(Bucket=bucket, Key="mpu", UploadId=upload["UploadId"],
                                   PartNumber=1, Body=b"x")
        done = self.s3.complete_multipart_upload(
            Bucket=bucket, Key="mpu", UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        self.assertEqual(done["ServerSideEncryption"], "aws:kms")
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key="mpu")["ServerSideEncryption"],
                         "aws:kms")
        self.refused("InvalidArgument", 400, self.s3.put_object, Bucket=bucket, Key="bad",
                     Body=b"x", SSEKMSKeyId="1234abcd")


class OwnershipAndPublicAccessTests(ConfigCase):
    def test_ownership_controls(self):
        bucket = self.make_bucket("own")
        rules = self.s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        self.assertEqual(rules, [{"ObjectOwnership": "BucketOwnerEnforced"}])
        self.s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
        rules = self.s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        self.assertEqual(rules, [{"ObjectOwnership": "ObjectWriter"}])
        self.refused("MalformedXML", 400, self.s3.put_bucket_ownership_controls, Bucket=bucket,
                     OwnershipControls={"Rules": [{"ObjectOwnership": "Everyone"}]})
        resp = self.s3.delete_bucket_ownership_controls(Bucket=bucket)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.refused("OwnershipControlsNotFoundError", 404,
                     self.s3.get_bucket_ownership_controls, Bucket=bucket)

    def test_object_ownership_on_create_bucket(self):
        name = new_bucket_name("own")
        self.s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred",
                              CreateBucketConfiguration={"LocationConstraint": REGION})
        rules = self.s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        self.assertEqual(rules, [{"ObjectOwnership": "BucketOwnerPreferred"}])

    def test_public_access_block(self):
        bucket = self.make_bucket("pab")
        got = self.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        self.assertEqual(got, {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                               "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        self.s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "BlockPublicPolicy": False})
        got = self.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        self.assertEqual(got, {"BlockPublicAcls": True, "IgnorePublicAcls": False,
                               "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
        resp = self.s3.delete_public_access_block(Bucket=bucket)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        err = self.refused("NoSuchPublicAccessBlockConfiguration", 404,
                           self.s3.get_public_access_block, Bucket=bucket)
        self.assertEqual(err["Message"], "The public access block configuration was not found")

    def test_cli(self):
        bucket = self.make_bucket("pab")
        self.aws_json("s3api", "put-public-access-block", "--bucket", bucket,
                      "--public-access-block-configuration",
                      "BlockPublicAcls=false,IgnorePublicAcls=false,BlockPublicPolicy=false,"
                      "RestrictPublicBuckets=false")
        got = self.aws_json("s3api", "get-public-access-block", "--bucket", bucket)
        self.assertFalse(got["PublicAccessBlockConfiguration"]["BlockPublicPolicy"])
        got = self.aws_json("s3api", "get-bucket-ownership-controls", "--bucket", bucket)
        self.assertEqual(got["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
                         "BucketOwnerEnforced")
        got = self.aws_json("s3api", "get-bucket-encryption", "--bucket", bucket)
        self.assertEqual(got["ServerSideEncryptionConfiguration"]["Rules"][0][
            "ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")


# ---------------------------------------------------------------------------
# Persistence and deletion
# ---------------------------------------------------------------------------


class PersistenceTests(unittest.TestCase):
    def test_configurations_survive_a_restart_and_go_with_the_bucket(self):
        with harness.OffcloudServer() as server:
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            bucket = new_bucket_name("keep")
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": REGION})
            s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=b")
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
            s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=LIFECYCLE)
            s3.put_bucket_policy(Bucket=bucket,
                                 Policy=policy(bucket, principal={"AWS": "000000000000"}))
            server.stop()
            server.restart()
            s3 = server.boto3_client("s3", config=PATH_STYLE)
            self.assertEqual(s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"],
                             [{"Key": "a", "Value": "b"}])
            self.assertEqual(s3.get_bucket_tagging(Bucket=bucket)["TagSet"],
                             [{"Key": "t", "Value": "v"}])
            self.assertEqual(s3.get_bucket_cors(Bucket=bucket)["CORSRules"], RULES)
            self.assertEqual(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
                             LIFECYCLE["Rules"])
            self.assertIn("Statement", s3.get_bucket_policy(Bucket=bucket)["Policy"])
            # Deleting the bucket deletes its configurations.
            s3.delete_object(Bucket=bucket, Key="k")
            s3.delete_bucket(Bucket=bucket)
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": REGION})
            for call, code in ((s3.get_bucket_tagging, "NoSuchTagSet"),
                               (s3.get_bucket_cors, "NoSuchCORSConfiguration"),
                               (s3.get_bucket_lifecycle_configuration,
                                "NoSuchLifecycleConfiguration"),
                               (s3.get_bucket_policy, "NoSuchBucketPolicy")):
                with self.assertRaises(ClientError) as ctx:
                    call(Bucket=bucket)
                self.assertEqual(ctx.exception.response["Error"]["Code"], code)


if __name__ == "__main__":
    unittest.main()
