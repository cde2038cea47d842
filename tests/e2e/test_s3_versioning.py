"""End-to-end tests of S3 versioning against the real offcloud binary,
driven by boto3 and the aws CLI: PutBucketVersioning/GetBucketVersioning,
versions and delete markers made by every write and delete, reads and
copies of one version, ListObjectVersions and its paging, the null version
of suspended buckets, DeleteBucket while versions remain, and versions
across a restart.

What "right" means is what Amazon S3 does (botocore's s3 model and the S3
API reference): status codes, error codes, headers, XML shapes.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_s3_versioning.py -v
"""

import json
import os
import re
import shutil
import sys
import tempfile
import unittest
import uuid

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REGION = harness.REGION
PATH_STYLE = harness.PATH_STYLE
VERSION_ID = re.compile(r"^[A-Za-z0-9._]{32}$")
UNKNOWN_VERSION = "A" * 32  # well-formed, names nothing


def new_bucket_name(tag="ver"):
    return harness.new_bucket_name(tag)


class VersioningCase(harness.ServerTestCase):
    """One server per class; tests make their own buckets."""

    def make_bucket(self, status="Enabled", tag="ver"):
        name = new_bucket_name(tag)
        self.s3.create_bucket(Bucket=name,
                              CreateBucketConfiguration={"LocationConstraint": REGION})
        if status:
            self.s3.put_bucket_versioning(Bucket=name,
                                          VersioningConfiguration={"Status": status})
        return name

    def put(self, bucket, key, body):
        return self.s3.put_object(Bucket=bucket, Key=key, Body=body)

    def body(self, bucket, key, version=None):
        kw = {"VersionId": version} if version else {}
        return self.s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()

    def all_versions(self, bucket, **kw):
        """(key, version id, is latest, is delete marker) in listing order."""
        resp = self.s3.list_object_versions(Bucket=bucket, **kw)
        entries = [(v["Key"], v["VersionId"], v["IsLatest"], False, v["LastModified"])
                   for v in resp.get("Versions", [])]
        entries += [(m["Key"], m["VersionId"], m["IsLatest"], True, m["LastModified"])
                    for m in resp.get("DeleteMarkers", [])]
        # botocore splits the two kinds; the order within a key is by time.
        entries.sort(key=lambda e: (e[0], not e[2], -e[4].timestamp()))
        return [e[:4] for e in entries]


class BucketVersioningTests(VersioningCase):
    def test_never_set_then_enabled_then_suspended(self):
        bucket = self.make_bucket(status=None)
        resp = self.s3.get_bucket_versioning(Bucket=bucket)
        self.assertNotIn("Status", resp)
        self.assertNotIn("MFADelete", resp)
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=bucket)["Status"], "Enabled")
        self.s3.put_bucket_versioning(Bucket=bucket,
                                      VersioningConfiguration={"Status": "Suspended",
                                                               "MFADelete": "Disabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=bucket)["Status"], "Suspended")

    def test_refusals(self):
        bucket = self.make_bucket(status=None)
        put = self.s3.put_bucket_versioning
        self.refused("MalformedXML", 400, put, Bucket=bucket,
                     VersioningConfiguration={"Status": "On"})
        self.refused("MalformedXML", 400, put, Bucket=bucket,
                     VersioningConfiguration={"Status": "Enabled", "MFADelete": "Maybe"})
        self.refused("IllegalVersioningConfigurationException", 400, put, Bucket=bucket,
                     VersioningConfiguration={})
        # MFA delete needs an MFA device offcloud does not have.
        self.refused("AccessDenied", 403, put, Bucket=bucket,
                     VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
        self.refused("NoSuchBucket", 404, put, Bucket=new_bucket_name("none"),
                     VersioningConfiguration={"Status": "Enabled"})
        self.refused("NoSuchBucket", 404, self.s3.get_bucket_versioning,
                     Bucket=new_bucket_name("none"))
        # Nothing was set by the refused requests.
        self.assertNotIn("Status", self.s3.get_bucket_versioning(Bucket=bucket))

    def test_aws_cli(self):
        bucket = self.make_bucket(status=None)
        result = self.server.aws("s3api", "put-bucket-versioning", "--bucket", bucket,
                                 "--versioning-configuration", "Status=Enabled")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.server.aws("s3api", "get-bucket-versioning", "--bucket", bucket)
        self.assertEqual(json.loads(result.stdout)["Status"], "Enabled")
        with tempfile.NamedTemporaryFile() as src:
            src.write(b"first")
            src.flush()
            first = json.loads(self.server.aws("s3api", "put-object", "--bucket", bucket,
                                               "--key", "k", "--body", src.name).stdout)
        self.put(bucket, "k", b"second")
        self.assertRegex(first["VersionId"], VERSION_ID)
        listed = json.loads(self.server.aws("s3api", "list-object-versions",
                                            "--bucket", bucket).stdout)
        self.assertEqual(len(listed["Versions"]), 2)
        out = tempfile.mkdtemp()
        try:
            target = os.path.join(out, "got")
            result = self.server.aws("s3api", "get-object", "--bucket", bucket, "--key", "k",
                                     "--version-id", first["VersionId"], target)
            self.assertEqual(result.returncode, 0, result.stderr)
            with open(target, "rb") as f:
                self.assertEqual(f.read(), b"first")
        finally:
            shutil.rmtree(out)
        result = self.server.aws("s3api", "delete-object", "--bucket", bucket, "--key", "k",
                                 "--version-id", first["VersionId"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["VersionId"], first["VersionId"])
        self.assertEqual(len(self.all_versions(bucket)), 1)


class ObjectVersionTests(VersioningCase):
    def test_unversioned_bucket_names_no_version(self):
        bucket = self.make_bucket(status=None)
        resp = self.put(bucket, "k", b"x")
        self.assertNotIn("VersionId", resp)
        self.assertNotIn("VersionId", self.s3.head_object(Bucket=bucket, Key="k"))
        resp = self.s3.delete_object(Bucket=bucket, Key="k")
        self.assertNotIn("VersionId", resp)
        self.assertNotIn("DeleteMarker", resp)
        self.assertEqual(self.all_versions(bucket), [])

    def test_each_put_is_a_version(self):
        bucket = self.make_bucket()
        ids = [self.put(bucket, "k", b"v%d" % i)["VersionId"] for i in range(3)]
        for version in ids:
            self.assertRegex(version, VERSION_ID)
        self.assertEqual(len(set(ids)), 3)
        for i, version in enumerate(ids):
            self.assertEqual(self.body(bucket, "k", version), b"v%d" % i)
            head = self.s3.head_object(Bucket=bucket, Key="k", VersionId=version)
            self.assertEqual(head["VersionId"], version)
            self.assertEqual(head["ContentLength"], 2)
        got = self.s3.get_object(Bucket=bucket, Key="k")
        self.assertEqual(got["Body"].read(), b"v2")
        self.assertEqual(got["VersionId"], ids[2])
        self.assertEqual(self.all_versions(bucket),
                         [("k", ids[2], True, False), ("k", ids[1], False, False),
                          ("k", ids[0], False, False)])
        # Only the current one is listed as an object.
        listed = self.s3.list_objects_v2(Bucket=bucket)["Contents"]
        self.assertEqual([(o["Key"], o["Size"]) for o in listed], [("k", 2)])

    def test_unknown_and_malformed_versions(self):
        bucket = self.make_bucket()
        self.put(bucket, "k", b"x")
        resp = self.refused("NoSuchVersion", 404, self.s3.get_object, Bucket=bucket, Key="k",
                            VersionId=UNKNOWN_VERSION)
        self.assertEqual(resp["Error"].get("VersionId"), UNKNOWN_VERSION)
        self.refused(None, 404, self.s3.head_object, Bucket=bucket, Key="k",
                     VersionId=UNKNOWN_VERSION)
        resp = self.refused("InvalidArgument", 400, self.s3.get_object, Bucket=bucket, Key="k",
                            VersionId="not-a-version")
        self.assertEqual(resp["Error"]["Message"], "Invalid version id specified")
        self.refused("InvalidArgument", 400, self.s3.delete_object, Bucket=bucket, Key="k",
                     VersionId="not-a-version")
        self.refused("InvalidArgument", 400, self.s3.get_object_tagging, Bucket=bucket, Key="k",
                     VersionId="short")
        # A well-formed unknown version deletes nothing, and says so quietly.
        self.s3.delete_object(Bucket=bucket, Key="k", VersionId=UNKNOWN_VERSION)
        self.assertEqual(self.body(bucket, "k"), b"x")

    def test_delete_markers(self):
        bucket = self.make_bucket()
        v1 = self.put(bucket, "k", b"one")["VersionId"]
        resp = self.s3.delete_object(Bucket=bucket, Key="k")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertTrue(resp["DeleteMarker"])
        marker = resp["VersionId"]
        self.assertRegex(marker, VERSION_ID)
        # The key reads as deleted, and says why.
        resp = self.refused("NoSuchKey", 404, self.s3.get_object, Bucket=bucket, Key="k")
        headers = resp["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers.get("x-amz-delete-marker"), "true")
        self.assertEqual(headers.get("x-amz-version-id"), marker)
        resp = self.refused(None, 404, self.s3.head_object, Bucket=bucket, Key="k")
        self.assertEqual(resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker"),
                         "true")
        # The marker itself is no object: 405 to GET and HEAD.
        resp = self.refused("MethodNotAllowed", 405, self.s3.get_object, Bucket=bucket,
                            Key="k", VersionId=marker)
        headers = resp["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers.get("x-amz-delete-marker"), "true")
        self.assertEqual(headers.get("x-amz-version-id"), marker)
        self.assertIn("last-modified", headers)
        self.refused(None, 405, self.s3.head_object, Bucket=bucket, Key="k", VersionId=marker)
        self.assertEqual(self.body(bucket, "k", v1), b"one")
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket=bucket))
        self.assertNotIn("Contents", self.s3.list_objects(Bucket=bucket))
        self.assertEqual(self.all_versions(bucket),
                         [("k", marker, True, True), ("k", v1, False, False)])
        # Another plain delete stacks another marker.
        second = self.s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
        self.assertNotEqual(second, marker)
        # Deleting the markers by id brings the object back.
        for version in (second, marker):
            resp = self.s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
            self.assertTrue(resp["DeleteMarker"])
            self.assertEqual(resp["VersionId"], version)
        self.assertEqual(self.body(bucket, "k"), b"one")
        # A marker is made even where nothing was.
        resp = self.s3.delete_object(Bucket=bucket, Key="never")
        self.assertTrue(resp["DeleteMarker"])

    def test_deleting_a_version_for_good(self):
        bucket = self.make_bucket()
        v1 = self.put(bucket, "k", b"one")["VersionId"]
        v2 = self.put(bucket, "k", b"two")["VersionId"]
        resp = self.s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
        self.assertEqual(resp["VersionId"], v2)
        self.assertNotIn("DeleteMarker", resp)
        self.assertEqual(self.body(bucket, "k"), b"one")
        self.refused("NoSuchVersion", 404, self.s3.get_object, Bucket=bucket, Key="k",
                     VersionId=v2)
        self.s3.delete_object(Bucket=bucket, Key="k", VersionId=v1)
        self.refused("NoSuchKey", 404, self.s3.get_object, Bucket=bucket, Key="k")
        self.assertEqual(self.all_versions(bucket), [])

    def test_objects_from_before_versioning_are_the_null_version(self):
        bucket = self.make_bucket(status=None)
        self.put(bucket, "k", b"old")
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key="k")["VersionId"], "null")
        v1 = self.put(bucket, "k", b"new")["VersionId"]
        self.assertEqual(self.body(bucket, "k", "null"), b"old")
        self.assertEqual(self.all_versions(bucket),
                         [("k", v1, True, False), ("k", "null", False, False)])

    def test_suspended_bucket_replaces_the_null_version(self):
        bucket = self.make_bucket()
        v1 = self.put(bucket, "k", b"one")["VersionId"]
        self.s3.put_bucket_versioning(Bucket=bucket,
                                      VersioningConfiguration={"Status": "Suspended"})
        # AWS names no version in a suspended bucket's write answer...
        self.assertNotIn("VersionId", self.put(bucket, "k", b"null one"))
        # ...but reads name the null one.
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key="k")["VersionId"], "null")
        self.put(bucket, "k", b"null two")
        self.assertEqual(self.body(bucket, "k"), b"null two")
        self.assertEqual(self.body(bucket, "k", "null"), b"null two")
        self.assertEqual(self.body(bucket, "k", v1), b"one")
        self.assertEqual(self.all_versions(bucket),
                         [("k", "null", True, False), ("k", v1, False, False)])
        resp = self.s3.delete_object(Bucket=bucket, Key="k")
        self.assertTrue(resp["DeleteMarker"])
        self.assertEqual(resp["VersionId"], "null")
        self.assertEqual(self.all_versions(bucket),
                         [("k", "null", True, True), ("k", v1, False, False)])
        # Deleting the null marker by id brings v1 back.
        self.s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
        self.assertEqual(self.body(bucket, "k"), b"one")

    def test_copy_from_a_version(self):
        bucket = self.make_bucket()
        v1 = self.put(bucket, "src", b"one")["VersionId"]
        self.put(bucket, "src", b"two")
        resp = self.s3.copy_object(Bucket=bucket, Key="dst",
                                   CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
        self.assertEqual(resp["CopySourceVersionId"], v1)
        self.assertRegex(resp["VersionId"], VERSION_ID)
        self.assertEqual(self.body(bucket, "dst"), b"one")
        # Copying an old version onto its own key restores it as a new version.
        resp = self.s3.copy_object(Bucket=bucket, Key="src",
                                   CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
        self.assertEqual(self.body(bucket, "src"), b"one")
        self.assertEqual(len([v for v in self.all_versions(bucket) if v[0] == "src"]), 3)
        # A delete marker is nothing to copy.
        marker = self.s3.delete_object(Bucket=bucket, Key="src")["VersionId"]
        self.refused("InvalidRequest", 400, self.s3.copy_object, Bucket=bucket, Key="x",
                     CopySource={"Bucket": bucket, "Key": "src", "VersionId": marker})
        self.refused("NoSuchKey", 404, self.s3.copy_object, Bucket=bucket, Key="x",
                     CopySource={"Bucket": bucket, "Key": "src"})
        self.refused("NoSuchVersion", 404, self.s3.copy_object, Bucket=bucket, Key="x",
                     CopySource={"Bucket": bucket, "Key": "src", "VersionId": UNKNOWN_VERSION})
        # Into an unversioned bucket: the source's version, none of its own.
        plain = self.make_bucket(status=None)
        resp = self.s3.copy_object(Bucket=plain, Key="c",
                                   CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
        self.assertEqual(resp["CopySourceVersionId"], v1)
        self.assertNotIn("VersionId", resp)

    def test_multipart_upload_makes_a_version(self):
        bucket = self.make_bucket()
        v1 = self.put(bucket, "mp", b"small")["VersionId"]
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
        part = self.s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1,
                                   Body=b"multi")
        resp = self.s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        self.assertRegex(resp["VersionId"], VERSION_ID)
        self.assertEqual(self.body(bucket, "mp"), b"multi")
        self.assertEqual(self.body(bucket, "mp", v1), b"small")

    def test_delete_objects_with_versions(self):
        bucket = self.make_bucket()
        v1 = self.put(bucket, "a", b"a1")["VersionId"]
        v2 = self.put(bucket, "a", b"a2")["VersionId"]
        self.put(bucket, "b", b"b")
        resp = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [
            {"Key": "a", "VersionId": v1},
            {"Key": "b"},
            {"Key": "a", "VersionId": "bad"},
        ]})
        deleted = {(d["Key"], d.get("VersionId")): d for d in resp["Deleted"]}
        self.assertNotIn("DeleteMarker", deleted[("a", v1)])
        made = deleted[("b", None)]
        self.assertTrue(made["DeleteMarker"])
        self.assertRegex(made["DeleteMarkerVersionId"], VERSION_ID)
        self.assertEqual([(e["Key"], e["Code"]) for e in resp["Errors"]],
                         [("a", "InvalidArgument")])
        # The marker deleted by id says it was one.
        resp = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [
            {"Key": "b", "VersionId": made["DeleteMarkerVersionId"]}]})
        self.assertTrue(resp["Deleted"][0]["DeleteMarker"])
        self.assertEqual(resp["Deleted"][0]["DeleteMarkerVersionId"],
                         made["DeleteMarkerVersionId"])
        self.assertEqual(self.body(bucket, "b"), b"b")
        self.assertEqual(self.all_versions(bucket, Prefix="a"), [("a", v2, True, False)])

    def test_tagging_acl_and_attributes_of_a_version(self):
        bucket = self.make_bucket()
        v1 = self.put(bucket, "k", b"one")["VersionId"]
        v2 = self.put(bucket, "k", b"second")["VersionId"]
        tags = {"TagSet": [{"Key": "v", "Value": "1"}]}
        resp = self.s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1, Tagging=tags)
        self.assertEqual(resp["VersionId"], v1)
        got = self.s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
        self.assertEqual(got["TagSet"], tags["TagSet"])
        self.assertEqual(got["VersionId"], v1)
        current = self.s3.get_object_tagging(Bucket=bucket, Key="k")
        self.assertEqual(current["TagSet"], [])
        self.assertEqual(current["VersionId"], v2)
        self.s3.delete_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key="k",
                                                    VersionId=v1)["TagSet"], [])
        acl = self.s3.get_object_acl(Bucket=bucket, Key="k", VersionId=v1)
        self.assertEqual(acl["Grants"][0]["Permission"], "FULL_CONTROL")
        self.refused("NoSuchVersion", 404, self.s3.get_object_acl, Bucket=bucket, Key="k",
                     VersionId=UNKNOWN_VERSION)
        attributes = self.s3.get_object_attributes(Bucket=bucket, Key="k", VersionId=v1,
                                                   ObjectAttributes=["ObjectSize"])
        self.assertEqual(attributes["ObjectSize"], 3)
        self.assertEqual(attributes["VersionId"], v1)
        marker = self.s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
        self.refused("MethodNotAllowed", 405, self.s3.get_object_tagging, Bucket=bucket,
                     Key="k", VersionId=marker)
        self.refused("NoSuchKey", 404, self.s3.get_object_tagging, Bucket=bucket, Key="k")

    def test_delete_bucket_while_versions_remain(self):
        bucket = self.make_bucket()
        v1 = self.put(bucket, "k", b"x")["VersionId"]
        marker = self.s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket=bucket))
        self.refused("BucketNotEmpty", 409, self.s3.delete_bucket, Bucket=bucket)
        self.s3.delete_object(Bucket=bucket, Key="k", VersionId=v1)
        # A lone delete marker still keeps it.
        self.refused("BucketNotEmpty", 409, self.s3.delete_bucket, Bucket=bucket)
        self.s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
        self.s3.delete_bucket(Bucket=bucket)
        self.refused(None, 404, self.s3.head_bucket, Bucket=bucket)

    def test_rule_s3_action_writes_versions(self):
        # Writes that do not come through the S3 API version too.
        bucket = self.make_bucket()
        iot = self.server.boto3_client("iot")
        iotdata = self.server.boto3_client("iot-data")
        rule = "ver_" + uuid.uuid4().hex[:8]
        iot.create_topic_rule(ruleName=rule, topicRulePayload={
            "sql": "SELECT * FROM 'ver/%s'" % rule, "awsIotSqlVersion": "2016-03-23",
            "actions": [{"s3": {"roleArn": "arn:aws:iam::000000000000:role/r",
                                "bucketName": bucket, "key": "latest"}}]})
        for i in range(3):
            iotdata.publish(topic="ver/%s" % rule, qos=1, payload=json.dumps({"n": i}))
        versions = self.all_versions(bucket)
        self.assertEqual(len(versions), 3, versions)
        self.assertEqual(json.loads(self.body(bucket, "latest")), {"n": 2})
        self.assertEqual(json.loads(self.body(bucket, "latest", versions[2][1])), {"n": 0})


class ListObjectVersionsTests(VersioningCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = "e2e-verlist-" + uuid.uuid4().hex[:12]
        cls.s3.create_bucket(Bucket=cls.bucket,
                             CreateBucketConfiguration={"LocationConstraint": REGION})
        cls.s3.put_bucket_versioning(Bucket=cls.bucket,
                                     VersioningConfiguration={"Status": "Enabled"})
        # Expected listing, built as the versions are made: newest first per key.
        cls.expected = {}
        for key, count in (("a", 7), ("b/1", 3), ("b/2", 2), ("c d", 5), ("e", 1)):
            for i in range(count):
                version = cls.s3.put_object(Bucket=cls.bucket, Key=key,
                                            Body=b"%s-%d" % (key.encode(), i))["VersionId"]
                cls.expected.setdefault(key, []).insert(0, (version, False))
        marker = cls.s3.delete_object(Bucket=cls.bucket, Key="e")["VersionId"]
        cls.expected["e"].insert(0, (marker, True))

    def expected_entries(self, keys=None):
        out = []
        for key in sorted(self.expected):
            if keys is None or key in keys:
                for i, (version, is_marker) in enumerate(self.expected[key]):
                    out.append((key, version, i == 0, is_marker))
        return out

    def page_through(self, max_keys, **kw):
        """Every entry, one raw page at a time, in the server's order."""
        entries, prefixes, pages = [], [], 0
        params = dict(kw)
        while True:
            pages += 1
            self.assertLess(pages, 100)
            resp = self.s3.list_object_versions(Bucket=self.bucket, MaxKeys=max_keys, **params)
            self.assertEqual(resp["MaxKeys"], max_keys)
            page = [(v["Key"], v["VersionId"], v["IsLatest"], False)
                    for v in resp.get("Versions", [])]
            page += [(m["Key"], m["VersionId"], m["IsLatest"], True)
                     for m in resp.get("DeleteMarkers", [])]
            self.assertLessEqual(len(page) + len(resp.get("CommonPrefixes", [])), max_keys)
            entries += page
            prefixes += [p["Prefix"] for p in resp.get("CommonPrefixes", [])]
            if not resp["IsTruncated"]:
                self.assertNotIn("NextKeyMarker", resp)
                return entries, prefixes, pages
            params["KeyMarker"] = resp["NextKeyMarker"]
            if "NextVersionIdMarker" in resp:
                params["VersionIdMarker"] = resp["NextVersionIdMarker"]
            else:
                params.pop("VersionIdMarker", None)

    def test_everything_in_order(self):
        resp = self.s3.list_object_versions(Bucket=self.bucket)
        self.assertFalse(resp["IsTruncated"])
        self.assertEqual(len(resp["Versions"]), 18)
        self.assertEqual(len(resp["DeleteMarkers"]), 1)
        self.assertEqual(self.all_versions(self.bucket), self.expected_entries())
        self.assertEqual(resp["DeleteMarkers"][0]["Owner"]["ID"],
                         self.s3.list_buckets()["Owner"]["ID"])

    def test_paging_across_many_versions(self):
        for max_keys in (1, 2, 3, 4, 7, 19):
            # (botocore splits a page's versions from its delete markers, so
            # the order across pages is the unit tests' to check.)
            entries, _, pages = self.page_through(max_keys)
            self.assertEqual(sorted(entries), sorted(self.expected_entries()),
                             "max_keys=%d" % max_keys)
            self.assertEqual(pages, -(-19 // max_keys), "max_keys=%d" % max_keys)

    def test_paginator(self):
        paginator = self.s3.get_paginator("list_object_versions")
        versions = []
        for page in paginator.paginate(Bucket=self.bucket, PaginationConfig={"PageSize": 4}):
            versions += [v["VersionId"] for v in page.get("Versions", [])]
        self.assertEqual(len(versions), 18)
        self.assertEqual(len(set(versions)), 18)

    def test_prefix_delimiter_and_common_prefixes(self):
        entries, prefixes, _ = self.page_through(2, Delimiter="/")
        self.assertEqual(prefixes, ["b/"])
        self.assertEqual(sorted(entries), sorted(self.expected_entries({"a", "c d", "e"})))
        resp = self.s3.list_object_versions(Bucket=self.bucket, Prefix="b/")
        self.assertEqual(self.all_versions(self.bucket, Prefix="b/"),
                         self.expected_entries({"b/1", "b/2"}))
        self.assertEqual(resp["Prefix"], "b/")

    def test_markers(self):
        # key-marker alone: after all of that key's versions.
        resp = self.s3.list_object_versions(Bucket=self.bucket, KeyMarker="b/2")
        self.assertEqual(sorted({v["Key"] for v in resp["Versions"]}), ["c d", "e"])
        # with a version: after that version of the key.
        third = self.expected["a"][2][0]
        resp = self.s3.list_object_versions(Bucket=self.bucket, KeyMarker="a",
                                            VersionIdMarker=third, MaxKeys=3)
        self.assertEqual([v["VersionId"] for v in resp["Versions"]],
                         [v for v, _ in self.expected["a"][3:6]])
        self.assertEqual(resp["VersionIdMarker"], third)
        self.assertEqual(resp["NextVersionIdMarker"], self.expected["a"][5][0])
        self.refused("InvalidArgument", 400, self.s3.list_object_versions, Bucket=self.bucket,
                     VersionIdMarker=third)
        self.refused("InvalidArgument", 400, self.s3.list_object_versions, Bucket=self.bucket,
                     KeyMarker="a", VersionIdMarker="bad")

    def test_url_encoding(self):
        # Asked for by the caller, botocore leaves the encoding as it came.
        resp = self.s3.list_object_versions(Bucket=self.bucket, Prefix="c ", EncodingType="url")
        self.assertEqual({v["Key"] for v in resp["Versions"]}, {"c%20d"})
        self.assertEqual(resp["Prefix"], "c%20")
        self.assertEqual(resp["EncodingType"], "url")
        self.assertEqual(len(resp["Versions"]), 5)


class RestartTests(unittest.TestCase):
    def test_versions_survive_a_restart(self):
        data_dir = tempfile.mkdtemp(prefix="offcloud-e2e-ver-")
        try:
            with harness.OffcloudServer(data_dir=data_dir) as server:
                s3 = server.boto3_client("s3", config=PATH_STYLE)
                bucket = new_bucket_name("restart")
                s3.create_bucket(Bucket=bucket,
                                 CreateBucketConfiguration={"LocationConstraint": REGION})
                s3.put_bucket_versioning(Bucket=bucket,
                                         VersioningConfiguration={"Status": "Enabled"})
                ids = [s3.put_object(Bucket=bucket, Key="k", Body=b"v%d" % i)["VersionId"]
                       for i in range(3)]
                marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
                server.stop()
                server.restart()
                s3 = server.boto3_client("s3", config=PATH_STYLE)
                self.assertEqual(s3.get_bucket_versioning(Bucket=bucket)["Status"], "Enabled")
                for i, version in enumerate(ids):
                    got = s3.get_object(Bucket=bucket, Key="k", VersionId=version)
                    self.assertEqual(got["Body"].read(), b"v%d" % i)
                with self.assertRaises(ClientError) as ctx:
                    s3.get_object(Bucket=bucket, Key="k")
                self.assertEqual(ctx.exception.response["Error"]["Code"], "NoSuchKey")
                newest = s3.put_object(Bucket=bucket, Key="k", Body=b"after")["VersionId"]
                resp = s3.list_object_versions(Bucket=bucket)
                self.assertEqual([v["VersionId"] for v in resp["Versions"]],
                                 [newest] + ids[::-1])
                self.assertEqual([m["VersionId"] for m in resp["DeleteMarkers"]], [marker])
                self.assertFalse(resp["DeleteMarkers"][0]["IsLatest"])
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
