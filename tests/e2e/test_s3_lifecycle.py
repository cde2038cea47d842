"""End-to-end tests of S3 Lifecycle applied by offcloud's sweep, archived
storage classes and RestoreObject, against the real binary with a short
lifecycle day (--lifecycle-day-seconds 1: "Days 1" is one second, and the
sweep runs every half second), driven by boto3 and the aws CLI.

Expiration of current objects by prefix, tag and size (and the old
rule-level Prefix), x-amz-expiration on PUT and HEAD, delete markers on a
versioned bucket, NoncurrentVersionExpiration with NewerNoncurrentVersions,
expired delete marker cleanup, AbortIncompleteMultipartUpload, transitions
to GLACIER (and the 128 KB minimum), GET refused on archived objects,
RestoreObject (202, 409 while in progress, 200 to extend, expiry of the
restored copy), s3:RestoreObject through IAM; disabled rules and objects no
rule selects stay.

What "right" means is what Amazon S3 does (the S3 API reference and user
guide's lifecycle pages): status codes, error codes, headers.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_s3_lifecycle.py -v
"""

import json
import os
import sys
import time
import unittest

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REGION = harness.REGION
DAY_S = 1.0
WAIT_S = 15.0  # far more than a day and a sweep, for a loaded machine
BIG = 130 * 1024  # above the 128 KB transition minimum


class LifecycleCase(harness.ServerTestCase):
    SERVER_ARGS = ("--lifecycle-day-seconds", str(DAY_S))

    def make_bucket(self, versioning=None, tag="lc"):
        name = harness.new_bucket_name(tag)
        self.s3.create_bucket(Bucket=name,
                              CreateBucketConfiguration={"LocationConstraint": REGION})
        if versioning:
            self.s3.put_bucket_versioning(Bucket=name,
                                          VersioningConfiguration={"Status": versioning})
        return name

    def set_rules(self, bucket, *rules):
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)})

    def exists(self, bucket, key):
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
            return True
        except ClientError as e:
            if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                return False
            raise

    def wait_for(self, what, condition, timeout=WAIT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        self.fail("timed out waiting for " + what)

    def settle(self):
        """Two more days: long enough for any wrong deletion to show."""
        time.sleep(2 * DAY_S + 0.5)

    def versions(self, bucket, prefix=""):
        """[(version id, is delete marker, is latest)], newest first."""
        resp = self.s3.list_object_versions(Bucket=bucket, Prefix=prefix)
        entries = [(v["VersionId"], False, v["IsLatest"], v["LastModified"])
                   for v in resp.get("Versions", [])]
        entries += [(m["VersionId"], True, m["IsLatest"], m["LastModified"])
                    for m in resp.get("DeleteMarkers", [])]
        entries.sort(key=lambda e: (not e[2], -e[3].timestamp()))
        return [e[:3] for e in entries]


class ExpirationTests(LifecycleCase):
    def test_current_objects_expire_by_prefix_tag_and_size(self):
        bucket = self.make_bucket()
        self.set_rules(
            bucket,
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Days": 1}},
            {"ID": "tagged", "Status": "Enabled",
             "Filter": {"Tag": {"Key": "state", "Value": "gone"}}, "Expiration": {"Days": 1}},
            {"ID": "big", "Status": "Enabled",
             "Filter": {"And": {"Prefix": "big/", "ObjectSizeGreaterThan": 100,
                                "ObjectSizeLessThan": 1000}},
             "Expiration": {"Days": 1}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "off/"},
             "Expiration": {"Days": 1}})
        put = self.s3.put_object(Bucket=bucket, Key="tmp/a", Body=b"a")
        # AWS names the rule and the day the object expires.
        self.assertIn('rule-id="tmp"', put.get("Expiration", ""))
        self.assertIn("expiry-date=", put["Expiration"])
        head = self.s3.head_object(Bucket=bucket, Key="tmp/a")
        self.assertEqual(head.get("Expiration"), put["Expiration"])
        self.s3.put_object(Bucket=bucket, Key="tagged", Body=b"t", Tagging="state=gone")
        self.s3.put_object(Bucket=bucket, Key="kept-tag", Body=b"t", Tagging="state=here")
        self.s3.put_object(Bucket=bucket, Key="big/mid", Body=b"x" * 200)
        self.s3.put_object(Bucket=bucket, Key="big/small", Body=b"x" * 50)
        self.s3.put_object(Bucket=bucket, Key="big/large", Body=b"x" * 2000)
        self.s3.put_object(Bucket=bucket, Key="off/a", Body=b"o")
        keep = self.s3.put_object(Bucket=bucket, Key="keep/a", Body=b"k")
        self.assertNotIn("Expiration", keep)
        self.assertNotIn("Expiration", self.s3.head_object(Bucket=bucket, Key="keep/a"))
        for key in ("tmp/a", "tagged", "big/mid"):
            self.wait_for(key + " to expire", lambda key=key: not self.exists(bucket, key))
        self.refused("NoSuchKey", 404, self.s3.get_object, Bucket=bucket, Key="tmp/a")
        self.settle()
        listed = sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket)["Contents"])
        self.assertEqual(listed, ["big/large", "big/small", "keep/a", "kept-tag", "off/a"])

    def test_versioned_expiration_makes_a_delete_marker(self):
        bucket = self.make_bucket("Enabled")
        self.set_rules(bucket, {"ID": "cur", "Status": "Enabled", "Filter": {"Prefix": "cur/"},
                                "Expiration": {"Days": 1}})
        version = self.s3.put_object(Bucket=bucket, Key="cur/a", Body=b"v1")["VersionId"]
        self.wait_for("a delete marker", lambda: self.versions(bucket, "cur/")[0][1])
        listed = self.versions(bucket, "cur/")
        # The object stays as a noncurrent version under the marker.
        self.assertEqual(len(listed), 2)
        self.assertTrue(listed[0][1] and listed[0][2])
        self.assertEqual(listed[1], (version, False, False))
        self.refused("NoSuchKey", 404, self.s3.get_object, Bucket=bucket, Key="cur/a")
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="cur/a",
                                            VersionId=version)["Body"].read(), b"v1")
        self.settle()
        self.assertEqual(len(self.versions(bucket, "cur/")), 2)  # one marker, not more

    def test_noncurrent_expiration_keeps_newer_noncurrent_versions(self):
        bucket = self.make_bucket("Enabled")
        self.set_rules(bucket, {"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": "nc/"},
                                "NoncurrentVersionExpiration": {
                                    "NoncurrentDays": 1, "NewerNoncurrentVersions": 1}})
        made = [self.s3.put_object(Bucket=bucket, Key="nc/k", Body=b"%d" % i)["VersionId"]
                for i in range(4)]
        other = [self.s3.put_object(Bucket=bucket, Key="other", Body=b"%d" % i)["VersionId"]
                 for i in range(2)]
        self.wait_for("the oldest versions to go",
                      lambda: len(self.versions(bucket, "nc/")) == 2)
        self.settle()
        self.assertEqual([v[0] for v in self.versions(bucket, "nc/")], [made[3], made[2]])
        self.assertEqual([v[0] for v in self.versions(bucket, "other")], other[::-1])

    def test_expired_delete_markers_are_removed(self):
        bucket = self.make_bucket("Enabled")
        self.set_rules(bucket, {"ID": "clean", "Status": "Enabled", "Filter": {"Prefix": "d/"},
                                "Expiration": {"ExpiredObjectDeleteMarker": True},
                                "NoncurrentVersionExpiration": {"NoncurrentDays": 1}})
        self.s3.put_object(Bucket=bucket, Key="d/k", Body=b"x")
        self.s3.delete_object(Bucket=bucket, Key="d/k")
        self.s3.put_object(Bucket=bucket, Key="e/k", Body=b"x")
        self.s3.delete_object(Bucket=bucket, Key="e/k")
        # The version expires a day after the marker hid it; then the
        # marker, alone, goes too.
        self.wait_for("every version of d/k to go", lambda: self.versions(bucket, "d/") == [])
        self.assertEqual(len(self.versions(bucket, "e/")), 2)


class UploadAndArchiveTests(LifecycleCase):
    def test_incomplete_multipart_uploads_are_aborted(self):
        bucket = self.make_bucket()
        self.set_rules(bucket, {"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": "up/"},
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}})
        stale = self.s3.create_multipart_upload(Bucket=bucket, Key="up/a")["UploadId"]
        kept = self.s3.create_multipart_upload(Bucket=bucket, Key="down/a")["UploadId"]

        def upload_ids():
            return {u["UploadId"] for u in
                    self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}
        self.wait_for("the upload to be aborted", lambda: stale not in upload_ids())
        self.settle()
        self.assertEqual(upload_ids(), {kept})
        self.refused("NoSuchUpload", 404, self.s3.upload_part, Bucket=bucket, Key="up/a",
                     UploadId=stale, PartNumber=1, Body=b"x")

    def test_transition_to_glacier_then_restore(self):
        bucket = self.make_bucket()
        self.set_rules(bucket, {"ID": "cold", "Status": "Enabled", "Filter": {"Prefix": "cold/"},
                                "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]})
        body = os.urandom(BIG)
        self.s3.put_object(Bucket=bucket, Key="cold/a", Body=body)
        self.s3.put_object(Bucket=bucket, Key="cold/small", Body=b"tiny")
        self.wait_for("the transition", lambda: self.s3.head_object(
            Bucket=bucket, Key="cold/a").get("StorageClass") == "GLACIER")
        # Below 128 KB nothing transitions, as AWS's default minimum says.
        self.assertNotIn("StorageClass", self.s3.head_object(Bucket=bucket, Key="cold/small"))
        refusal = self.refused("InvalidObjectState", 403, self.s3.get_object,
                               Bucket=bucket, Key="cold/a")
        self.assertEqual(refusal.get("StorageClass"), "GLACIER")
        self.refused("InvalidObjectState", 403, self.s3.copy_object, Bucket=bucket,
                     Key="copy", CopySource={"Bucket": bucket, "Key": "cold/a"})
        self.refused("InvalidObjectState", 403, self.s3.restore_object, Bucket=bucket,
                     Key="cold/small", RestoreRequest={"Days": 1})

        request = {"Days": 3, "GlacierJobParameters": {"Tier": "Standard"}}
        started = self.s3.restore_object(Bucket=bucket, Key="cold/a", RestoreRequest=request)
        self.assertEqual(started["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.refused("RestoreAlreadyInProgress", 409, self.s3.restore_object, Bucket=bucket,
                     Key="cold/a", RestoreRequest=request)
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key="cold/a").get("Restore"),
                         'ongoing-request="true"')
        self.wait_for("the restore", lambda: self.s3.head_object(
            Bucket=bucket, Key="cold/a").get("Restore", "").startswith('ongoing-request="false"'))
        head = self.s3.head_object(Bucket=bucket, Key="cold/a")
        self.assertIn("expiry-date=", head["Restore"])
        self.assertEqual(head["StorageClass"], "GLACIER")
        got = self.s3.get_object(Bucket=bucket, Key="cold/a")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["StorageClass"], "GLACIER")
        # Asked again once restored: 200, the copy's expiry moves on.
        again = self.s3.restore_object(Bucket=bucket, Key="cold/a", RestoreRequest=request)
        self.assertEqual(again["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.wait_for("the restored copy to expire", lambda: "Restore" not in self.s3.head_object(
            Bucket=bucket, Key="cold/a"))
        self.refused("InvalidObjectState", 403, self.s3.get_object, Bucket=bucket, Key="cold/a")

    def test_archived_storage_classes_on_put(self):
        bucket = self.make_bucket()
        for storage_class in ("GLACIER", "DEEP_ARCHIVE"):
            key = storage_class.lower()
            self.s3.put_object(Bucket=bucket, Key=key, Body=b"x", StorageClass=storage_class)
            self.refused("InvalidObjectState", 403, self.s3.get_object, Bucket=bucket, Key=key)
            head = self.s3.head_object(Bucket=bucket, Key=key)
            self.assertEqual(head["StorageClass"], storage_class)
            self.assertNotIn("Restore", head)
        # GLACIER_IR is read at once, as on AWS; it cannot be restored.
        self.s3.put_object(Bucket=bucket, Key="ir", Body=b"ir", StorageClass="GLACIER_IR")
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="ir")["Body"].read(), b"ir")
        self.refused("InvalidObjectState", 403, self.s3.restore_object, Bucket=bucket,
                     Key="ir", RestoreRequest={"Days": 1})
        self.refused("NoSuchKey", 404, self.s3.restore_object, Bucket=bucket, Key="none",
                     RestoreRequest={"Days": 1})
        self.refused("MalformedXML", 400, self.s3.restore_object, Bucket=bucket, Key="glacier",
                     RestoreRequest={"GlacierJobParameters": {"Tier": "Standard"}})

    def test_restore_object_permission(self):
        bucket = self.make_bucket()
        self.s3.put_object(Bucket=bucket, Key="g", Body=b"x", StorageClass="GLACIER")
        iam = self.server.boto3_client("iam")
        keys = {}
        for name, actions in (("reader", ["s3:GetObject"]), ("restorer", ["s3:RestoreObject"])):
            user = name + "-" + bucket[-6:]
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": actions,
                    "Resource": "arn:aws:s3:::%s/*" % bucket}]}))
            key = iam.create_access_key(UserName=user)["AccessKey"]
            keys[name] = self.server.boto3_client("s3", access_key=key["AccessKeyId"],
                                                  secret_key=key["SecretAccessKey"],
                                                  config=harness.PATH_STYLE)
        self.refused("AccessDenied", 403, keys["reader"].restore_object, Bucket=bucket, Key="g",
                     RestoreRequest={"Days": 1})
        started = keys["restorer"].restore_object(Bucket=bucket, Key="g",
                                                  RestoreRequest={"Days": 1})
        self.assertEqual(started["ResponseMetadata"]["HTTPStatusCode"], 202)


class CliTests(LifecycleCase):
    """The aws CLI starts slowly (a second or more per command): here days
    are longer than its commands and sweeps slower (--lifecycle-sweep-seconds),
    so that what it reads is still there."""

    SERVER_ARGS = ("--lifecycle-day-seconds", str(DAY_S), "--lifecycle-sweep-seconds", "4")

    def test_old_rule_level_prefix_with_the_cli(self):
        bucket = self.make_bucket()
        config = {"Rules": [{"ID": "v1", "Prefix": "v1/", "Status": "Enabled",
                             "Expiration": {"Days": 3}}]}
        done = self.server.aws("s3api", "put-bucket-lifecycle", "--bucket", bucket,
                               "--lifecycle-configuration", json.dumps(config))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.s3.put_object(Bucket=bucket, Key="v1/a", Body=b"a")
        self.s3.put_object(Bucket=bucket, Key="v2/a", Body=b"b")
        head = self.server.aws("s3api", "head-object", "--bucket", bucket, "--key", "v1/a")
        self.assertEqual(head.returncode, 0, head.stderr)
        self.assertIn('rule-id=\\"v1\\"', head.stdout)
        self.wait_for("v1/a to expire", lambda: not self.exists(bucket, "v1/a"))
        listed = self.server.aws("s3api", "list-objects-v2", "--bucket", bucket)
        self.assertEqual([o["Key"] for o in json.loads(listed.stdout)["Contents"]], ["v2/a"])

    def test_restore_object_with_the_cli(self):
        bucket = self.make_bucket()
        self.s3.put_object(Bucket=bucket, Key="deep_archive", Body=b"x",
                           StorageClass="DEEP_ARCHIVE")
        done = self.server.aws("s3api", "restore-object", "--bucket", bucket, "--key",
                               "deep_archive", "--restore-request",
                               '{"Days": 5, "GlacierJobParameters": {"Tier": "Bulk"}}')
        self.assertEqual(done.returncode, 0, done.stderr)
        head = self.server.aws("s3api", "head-object", "--bucket", bucket, "--key",
                               "deep_archive")
        self.assertEqual(head.returncode, 0, head.stderr)
        self.assertEqual(json.loads(head.stdout).get("Restore"), 'ongoing-request="true"')
        again = self.server.aws("s3api", "restore-object", "--bucket", bucket, "--key",
                                "deep_archive", "--restore-request", '{"Days": 5}')
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("RestoreAlreadyInProgress", again.stderr)
        self.wait_for("the restore", lambda: self.s3.head_object(
            Bucket=bucket, Key="deep_archive").get("Restore", "").startswith(
                'ongoing-request="false"'))
        got = self.server.aws("s3api", "get-object", "--bucket", bucket, "--key",
                              "deep_archive", os.devnull)
        self.assertEqual(got.returncode, 0, got.stderr)


if __name__ == "__main__":
    unittest.main()
