"""End-to-end tests of S3 Object Lock against the real offcloud binary,
driven by boto3 and the aws CLI: buckets made with Object Lock (and lock
enabled on an existing versioned bucket), PutObjectLockConfiguration and
its default retention, retention and legal hold per version
(Put/GetObjectRetention, Put/GetObjectLegalHold, the x-amz-object-lock-*
headers of writes and reads), deletes of locked versions refused (DELETE,
DeleteObjects per key), the governance bypass and its permission,
compliance that nobody shortens, and locks across a restart.

What "right" means is what Amazon S3 does (botocore's s3 model and the S3
API reference "Locking objects with Object Lock"): status codes, error
codes, headers, XML shapes.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_s3_object_lock.py -v
"""

import base64
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile
import unittest

from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REGION = harness.REGION
PATH_STYLE = harness.PATH_STYLE
UTC = datetime.timezone.utc


def in_days(days):
    """A retain-until date `days` from now, in whole seconds: botocore sends
    the x-amz-object-lock-retain-until-date header without fractions."""
    now = datetime.datetime.now(UTC) + datetime.timedelta(days=days)
    return now.replace(microsecond=0)


class LockCase(harness.ServerTestCase):
    def make_bucket(self, lock=True, tag="lock"):
        name = harness.new_bucket_name(tag)
        kw = {"ObjectLockEnabledForBucket": True} if lock else {}
        self.s3.create_bucket(Bucket=name,
                              CreateBucketConfiguration={"LocationConstraint": REGION}, **kw)
        return name

    def put_locked(self, bucket, key, mode="GOVERNANCE", days=1, hold=None):
        kw = {"ObjectLockMode": mode, "ObjectLockRetainUntilDate": in_days(days)} if mode else {}
        if hold:
            kw["ObjectLockLegalHoldStatus"] = hold
        return self.s3.put_object(Bucket=bucket, Key=key, Body=b"locked", **kw)["VersionId"]

    def versions(self, bucket, key):
        resp = self.s3.list_object_versions(Bucket=bucket, Prefix=key)
        return [v["VersionId"] for v in resp.get("Versions", [])]


class BucketConfigurationTests(LockCase):
    def test_a_bucket_made_with_lock_is_versioned_for_good(self):
        bucket = self.make_bucket()
        config = self.s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        self.assertEqual(config, {"ObjectLockEnabled": "Enabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=bucket)["Status"], "Enabled")
        resp = self.refused("InvalidBucketState", 409, self.s3.put_bucket_versioning,
                            Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
        self.assertIn("Object Lock configuration is present", resp["Error"]["Message"])
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=bucket)["Status"], "Enabled")

    def test_default_retention_is_stored_and_given_back(self):
        bucket = self.make_bucket()
        for retention in ({"Mode": "GOVERNANCE", "Days": 1}, {"Mode": "COMPLIANCE", "Years": 2}):
            config = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}}
            self.s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
            got = self.s3.get_object_lock_configuration(Bucket=bucket)
            self.assertEqual(got["ObjectLockConfiguration"], config)
        # Without a rule the default retention goes.
        self.s3.put_object_lock_configuration(
            Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
        got = self.s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        self.assertNotIn("Rule", got)

    def test_invalid_configurations_are_refused_as_aws_refuses_them(self):
        bucket = self.make_bucket()

        def put(config):
            return self.s3.put_object_lock_configuration(Bucket=bucket,
                                                         ObjectLockConfiguration=config)

        def rule(**retention):
            return {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": retention}}

        self.refused("MalformedXML", 400, put, rule(Mode="GOVERNANCE", Days=1, Years=1))
        self.refused("MalformedXML", 400, put, rule(Mode="GOVERNANCE"))
        self.refused("MalformedXML", 400, put, rule(Mode="governance", Days=1))
        self.refused("MalformedXML", 400, put, rule(Days=1))
        self.refused("MalformedXML", 400, put, {"ObjectLockEnabled": "Disabled"})
        self.refused("MalformedXML", 400, put, {"ObjectLockEnabled": "Enabled", "Rule": {}})
        for retention in ({"Days": 0}, {"Days": -3}, {"Years": 0}, {"Years": 101}):
            resp = self.refused("InvalidArgument", 400, put, rule(Mode="COMPLIANCE", **retention))
            self.assertEqual(resp["Error"].get("ArgumentName"), list(retention)[0])
        # Nothing was stored.
        got = self.s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        self.assertNotIn("Rule", got)

    def test_lock_on_an_existing_bucket_needs_versioning_enabled(self):
        bucket = self.make_bucket(lock=False)
        self.refused("ObjectLockConfigurationNotFoundError", 404,
                     self.s3.get_object_lock_configuration, Bucket=bucket)
        config = {"ObjectLockEnabled": "Enabled"}
        self.refused("InvalidBucketState", 409, self.s3.put_object_lock_configuration,
                     Bucket=bucket, ObjectLockConfiguration=config)
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
        self.refused("InvalidBucketState", 409, self.s3.put_object_lock_configuration,
                     Bucket=bucket, ObjectLockConfiguration=config)
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
        self.assertEqual(
            self.s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"],
            config)
        self.refused("NoSuchBucket", 404, self.s3.get_object_lock_configuration,
                     Bucket=harness.new_bucket_name("none"))

    def test_lock_operations_on_a_bucket_without_lock_are_invalid_requests(self):
        bucket = self.make_bucket(lock=False)
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        retention = {"Mode": "GOVERNANCE", "RetainUntilDate": in_days(1)}
        for call, kw in ((self.s3.put_object_retention, {"Retention": retention}),
                         (self.s3.get_object_retention, {}),
                         (self.s3.put_object_legal_hold, {"LegalHold": {"Status": "ON"}}),
                         (self.s3.get_object_legal_hold, {})):
            resp = self.refused("InvalidRequest", 400, call, Bucket=bucket, Key="k", **kw)
            self.assertEqual(resp["Error"]["Message"], "Bucket is missing Object Lock Configuration")
        self.refused("InvalidRequest", 400, self.s3.put_object, Bucket=bucket, Key="k2", Body=b"x",
                     ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_days(1))
        self.refused("InvalidRequest", 400, self.s3.put_object, Bucket=bucket, Key="k2", Body=b"x",
                     ObjectLockLegalHoldStatus="ON")
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket)["KeyCount"], 1)
        self.refused("InvalidRequest", 400, self.s3.create_multipart_upload, Bucket=bucket,
                     Key="m", ObjectLockLegalHoldStatus="ON")


class RetentionTests(LockCase):
    def test_default_retention_applies_to_new_versions(self):
        bucket = self.make_bucket()
        self.s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
        before = datetime.datetime.now(UTC)
        version = self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
        head = self.s3.head_object(Bucket=bucket, Key="k")
        self.assertEqual(head["ObjectLockMode"], "GOVERNANCE")
        until = head["ObjectLockRetainUntilDate"]
        self.assertLess(abs((until - before - datetime.timedelta(days=1)).total_seconds()), 60)
        got = self.s3.get_object_retention(Bucket=bucket, Key="k", VersionId=version)
        self.assertEqual(got["Retention"], {"Mode": "GOVERNANCE", "RetainUntilDate": until})
        self.refused("AccessDenied", 403, self.s3.delete_object, Bucket=bucket, Key="k",
                     VersionId=version)
        # The request's own lock wins over the default; copies and
        # multipart uploads get one too.
        explicit = in_days(3)
        self.s3.put_object(Bucket=bucket, Key="e", Body=b"x", ObjectLockMode="COMPLIANCE",
                           ObjectLockRetainUntilDate=explicit)
        got = self.s3.get_object_retention(Bucket=bucket, Key="e")["Retention"]
        self.assertEqual(got, {"Mode": "COMPLIANCE", "RetainUntilDate": explicit})
        self.s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "e"})
        self.assertEqual(self.s3.get_object_retention(Bucket=bucket, Key="c")["Retention"]["Mode"],
                         "GOVERNANCE")
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key="m",
                                                 ObjectLockLegalHoldStatus="ON")
        part = self.s3.upload_part(Bucket=bucket, Key="m", UploadId=upload["UploadId"],
                                   PartNumber=1, Body=b"part")
        self.s3.complete_multipart_upload(
            Bucket=bucket, Key="m", UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        head = self.s3.head_object(Bucket=bucket, Key="m")
        self.assertEqual(head["ObjectLockLegalHoldStatus"], "ON")
        self.assertEqual(head["ObjectLockMode"], "GOVERNANCE")

    def test_governance_delete_is_refused_then_allowed_with_the_bypass(self):
        bucket = self.make_bucket()
        version = self.put_locked(bucket, "k")
        resp = self.refused("AccessDenied", 403, self.s3.delete_object, Bucket=bucket, Key="k",
                            VersionId=version)
        self.assertIn("object lock", resp["Error"]["Message"])
        # The header without "true" bypasses nothing.
        self.refused("AccessDenied", 403, self.s3.delete_object, Bucket=bucket, Key="k",
                     VersionId=version, BypassGovernanceRetention=False)
        # A plain DELETE only stacks a delete marker on it.
        marker = self.s3.delete_object(Bucket=bucket, Key="k")
        self.assertTrue(marker["DeleteMarker"])
        self.assertEqual(self.versions(bucket, "k"), [version])
        self.refused("BucketNotEmpty", 409, self.s3.delete_bucket, Bucket=bucket)
        deleted = self.s3.delete_object(Bucket=bucket, Key="k", VersionId=version,
                                        BypassGovernanceRetention=True)
        self.assertEqual(deleted["VersionId"], version)
        self.assertEqual(self.versions(bucket, "k"), [])

    def test_governance_is_shortened_only_with_the_bypass(self):
        bucket = self.make_bucket()
        version = self.put_locked(bucket, "k", days=5)
        shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": in_days(1)}
        self.refused("AccessDenied", 403, self.s3.put_object_retention, Bucket=bucket, Key="k",
                     Retention=shorter)
        self.refused("AccessDenied", 403, self.s3.put_object_retention, Bucket=bucket, Key="k",
                     Retention={"Mode": "COMPLIANCE", "RetainUntilDate": in_days(9)})
        self.refused("AccessDenied", 403, self.s3.put_object_retention, Bucket=bucket, Key="k",
                     Retention={})
        longer = {"Mode": "GOVERNANCE", "RetainUntilDate": in_days(7)}
        self.s3.put_object_retention(Bucket=bucket, Key="k", Retention=longer)
        self.assertEqual(self.s3.get_object_retention(Bucket=bucket, Key="k")["Retention"], longer)
        self.s3.put_object_retention(Bucket=bucket, Key="k", VersionId=version, Retention=shorter,
                                     BypassGovernanceRetention=True)
        self.assertEqual(self.s3.get_object_retention(Bucket=bucket, Key="k")["Retention"],
                         shorter)
        # Removed with the bypass: nothing left to read, nothing protecting it.
        self.s3.put_object_retention(Bucket=bucket, Key="k", Retention={},
                                     BypassGovernanceRetention=True)
        self.refused("NoSuchObjectLockConfiguration", 404, self.s3.get_object_retention,
                     Bucket=bucket, Key="k")
        self.s3.delete_object(Bucket=bucket, Key="k", VersionId=version)

    def test_compliance_is_never_shortened_nor_deleted(self):
        bucket = self.make_bucket()
        version = self.put_locked(bucket, "k", mode="COMPLIANCE", days=5)
        for retention in ({"Mode": "COMPLIANCE", "RetainUntilDate": in_days(1)},
                          {"Mode": "GOVERNANCE", "RetainUntilDate": in_days(9)}, {}):
            self.refused("AccessDenied", 403, self.s3.put_object_retention, Bucket=bucket,
                         Key="k", Retention=retention, BypassGovernanceRetention=True)
        self.refused("AccessDenied", 403, self.s3.delete_object, Bucket=bucket, Key="k",
                     VersionId=version, BypassGovernanceRetention=True)
        longer = {"Mode": "COMPLIANCE", "RetainUntilDate": in_days(10)}
        self.s3.put_object_retention(Bucket=bucket, Key="k", Retention=longer)
        got = self.s3.get_object_retention(Bucket=bucket, Key="k", VersionId=version)
        self.assertEqual(got["Retention"], longer)

    def test_retention_and_header_refusals(self):
        bucket = self.make_bucket()
        self.s3.put_object(Bucket=bucket, Key="k", Body=b"x")
        self.refused("NoSuchObjectLockConfiguration", 404, self.s3.get_object_retention,
                     Bucket=bucket, Key="k")
        self.refused("NoSuchObjectLockConfiguration", 404, self.s3.get_object_legal_hold,
                     Bucket=bucket, Key="k")
        self.refused("NoSuchKey", 404, self.s3.get_object_retention, Bucket=bucket, Key="none")
        self.refused("NoSuchVersion", 404, self.s3.put_object_legal_hold, Bucket=bucket,
                     Key="k", VersionId="A" * 32, LegalHold={"Status": "ON"})
        resp = self.refused("InvalidArgument", 400, self.s3.put_object_retention, Bucket=bucket,
                            Key="k",
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_days(-1)})
        self.assertEqual(resp["Error"]["Message"], "The retain until date must be in the future!")
        self.refused("MalformedXML", 400, self.s3.put_object_retention, Bucket=bucket, Key="k",
                     Retention={"Mode": "governance", "RetainUntilDate": in_days(1)})
        self.refused("MalformedXML", 400, self.s3.put_object_retention, Bucket=bucket, Key="k",
                     Retention={"Mode": "GOVERNANCE"})
        self.refused("MalformedXML", 400, self.s3.put_object_legal_hold, Bucket=bucket, Key="k",
                     LegalHold={"Status": "on"})

        def put(**kw):
            return self.s3.put_object(Bucket=bucket, Key="h", Body=b"x", **kw)

        resp = self.refused("InvalidArgument", 400, put, ObjectLockMode="GOVERNANCE")
        self.assertIn("must both be supplied", resp["Error"]["Message"])
        self.refused("InvalidArgument", 400, put, ObjectLockRetainUntilDate=in_days(1))
        resp = self.refused("InvalidArgument", 400, put, ObjectLockMode="WORM",
                            ObjectLockRetainUntilDate=in_days(1))
        self.assertEqual(resp["Error"]["Message"], "Unknown wormMode directive.")
        self.refused("InvalidArgument", 400, put, ObjectLockMode="COMPLIANCE",
                     ObjectLockRetainUntilDate=in_days(-1))
        self.refused("InvalidArgument", 400, put, ObjectLockLegalHoldStatus="on")
        self.refused("InvalidArgument", 400, self.s3.copy_object, Bucket=bucket, Key="c",
                     CopySource={"Bucket": bucket, "Key": "k"}, ObjectLockLegalHoldStatus="YES")
        self.assertEqual(self.versions(bucket, "h"), [])

    def test_a_put_with_lock_needs_content_md5_or_a_checksum(self):
        bucket = self.make_bucket()
        bare = self.server.boto3_client(
            "s3", config=PATH_STYLE.merge(Config(request_checksum_calculation="when_required")))
        resp = self.refused("InvalidRequest", 400, bare.put_object, Bucket=bucket, Key="k",
                            Body=b"x", ObjectLockLegalHoldStatus="ON")
        self.assertIn("Content-MD5", resp["Error"]["Message"])
        # The same client may write without a lock, and with one given its MD5.
        bare.put_object(Bucket=bucket, Key="free", Body=b"x")
        md5 = base64.b64encode(hashlib.md5(b"x").digest()).decode()
        bare.put_object(Bucket=bucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON",
                        ContentMD5=md5)
        self.assertEqual(self.s3.get_object_legal_hold(Bucket=bucket, Key="k")["LegalHold"],
                         {"Status": "ON"})
        self.refused("BadDigest", 400, bare.put_object, Bucket=bucket, Key="k", Body=b"y",
                     ObjectLockLegalHoldStatus="ON", ContentMD5=md5)


class LegalHoldTests(LockCase):
    def test_a_legal_hold_blocks_deletes_until_removed(self):
        bucket = self.make_bucket()
        version = self.put_locked(bucket, "k", mode=None)
        self.s3.put_object_legal_hold(Bucket=bucket, Key="k", VersionId=version,
                                      LegalHold={"Status": "ON"})
        self.assertEqual(self.s3.get_object_legal_hold(Bucket=bucket, Key="k")["LegalHold"],
                         {"Status": "ON"})
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="k")["ObjectLockLegalHoldStatus"],
                         "ON")
        self.refused("AccessDenied", 403, self.s3.delete_object, Bucket=bucket, Key="k",
                     VersionId=version, BypassGovernanceRetention=True)
        self.s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "OFF"})
        self.assertEqual(self.s3.get_object_legal_hold(Bucket=bucket, Key="k")["LegalHold"],
                         {"Status": "OFF"})
        self.s3.delete_object(Bucket=bucket, Key="k", VersionId=version)
        self.assertEqual(self.versions(bucket, "k"), [])

    def test_delete_objects_reports_each_locked_key(self):
        bucket = self.make_bucket()
        governed = self.put_locked(bucket, "g")
        held = self.put_locked(bucket, "h", mode=None, hold="ON")
        free = self.s3.put_object(Bucket=bucket, Key="f", Body=b"x")["VersionId"]
        objects = [{"Key": "g", "VersionId": governed}, {"Key": "h", "VersionId": held},
                   {"Key": "f", "VersionId": free}]
        resp = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
        self.assertEqual([d["Key"] for d in resp.get("Deleted", [])], ["f"])
        errors = sorted(resp["Errors"], key=lambda e: e["Key"])
        self.assertEqual([(e["Key"], e["VersionId"], e["Code"]) for e in errors],
                         [("g", governed, "AccessDenied"), ("h", held, "AccessDenied")])
        resp = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[:2]},
                                      BypassGovernanceRetention=True)
        self.assertEqual([d["Key"] for d in resp.get("Deleted", [])], ["g"])
        self.assertEqual([e["Key"] for e in resp["Errors"]], ["h"])


class BypassPermissionTests(LockCase):
    """The bypass needs s3:BypassGovernanceRetention: the root has it, an IAM
    user only when a policy gives it."""

    def user(self, name, actions):
        iam = self.server.boto3_client("iam")
        iam.create_user(UserName=name)
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": "*"}]}
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return self.server.boto3_client("s3", access_key=key["AccessKeyId"],
                                        secret_key=key["SecretAccessKey"], config=PATH_STYLE)

    def test_an_iam_user_bypasses_only_with_the_permission(self):
        bucket = self.make_bucket()
        version = self.put_locked(bucket, "k", days=5)
        basic = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
                 "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:ListBucketVersions"]
        clerk = self.user("lock-clerk", basic)
        self.refused("AccessDenied", 403, clerk.delete_object, Bucket=bucket, Key="k",
                     VersionId=version, BypassGovernanceRetention=True)
        self.refused("AccessDenied", 403, clerk.put_object_retention, Bucket=bucket, Key="k",
                     Retention={"Mode": "GOVERNANCE", "RetainUntilDate": in_days(1)},
                     BypassGovernanceRetention=True)
        # Without s3:GetObjectRetention the lock headers are not shown.
        head = clerk.head_object(Bucket=bucket, Key="k")
        self.assertNotIn("ObjectLockMode", head)
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key="k")["ObjectLockMode"],
                         "GOVERNANCE")
        # An unlocked version needs no bypass, whatever the header says.
        free = self.put_locked(bucket, "free", mode=None)
        clerk.delete_object(Bucket=bucket, Key="free", VersionId=free,
                            BypassGovernanceRetention=True)
        officer = self.user("lock-officer", basic + ["s3:BypassGovernanceRetention"])
        officer.delete_object(Bucket=bucket, Key="k", VersionId=version,
                              BypassGovernanceRetention=True)
        self.assertEqual(self.versions(bucket, "k"), [])

    def test_lock_headers_on_a_write_need_the_lock_permissions(self):
        bucket = self.make_bucket()
        writer = self.user("lock-writer", ["s3:PutObject"])
        writer.put_object(Bucket=bucket, Key="plain", Body=b"x")
        self.refused("AccessDenied", 403, writer.put_object, Bucket=bucket, Key="k", Body=b"x",
                     ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=in_days(1))
        self.refused("AccessDenied", 403, writer.put_object, Bucket=bucket, Key="k", Body=b"x",
                     ObjectLockLegalHoldStatus="ON")
        self.refused("AccessDenied", 403, writer.get_object_lock_configuration, Bucket=bucket)


class CliTests(LockCase):
    def cli(self, *args):
        done = self.server.aws("s3api", *args)
        return done.returncode, done.stdout, done.stderr

    def test_the_aws_cli_locks_and_bypasses(self):
        bucket = harness.new_bucket_name("cli")
        code, _, err = self.cli("create-bucket", "--bucket", bucket,
                                "--create-bucket-configuration",
                                "LocationConstraint=" + REGION, "--object-lock-enabled-for-bucket")
        self.assertEqual(code, 0, err)
        code, out, err = self.cli(
            "put-object-lock-configuration", "--bucket", bucket, "--object-lock-configuration",
            json.dumps({"ObjectLockEnabled": "Enabled",
                        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}}))
        self.assertEqual(code, 0, err)
        code, out, err = self.cli("get-object-lock-configuration", "--bucket", bucket)
        self.assertEqual(json.loads(out)["ObjectLockConfiguration"]["Rule"]["DefaultRetention"],
                         {"Mode": "GOVERNANCE", "Days": 2})
        body = os.path.join(self.tmp, "body")
        with open(body, "wb") as f:
            f.write(b"cli")
        code, out, err = self.cli("put-object", "--bucket", bucket, "--key", "k", "--body", body,
                                  "--object-lock-mode", "COMPLIANCE",
                                  "--object-lock-retain-until-date", "2099-01-01T00:00:00Z")
        self.assertEqual(code, 0, err)
        compliance = json.loads(out)["VersionId"]
        code, out, err = self.cli("get-object-retention", "--bucket", bucket, "--key", "k")
        self.assertEqual(json.loads(out)["Retention"]["Mode"], "COMPLIANCE")
        self.assertTrue(json.loads(out)["Retention"]["RetainUntilDate"].startswith("2099-01-01"))
        code, out, err = self.cli("delete-object", "--bucket", bucket, "--key", "k",
                                  "--version-id", compliance, "--bypass-governance-retention")
        self.assertNotEqual(code, 0)
        self.assertIn("AccessDenied", err)
        code, out, err = self.cli("put-object", "--bucket", bucket, "--key", "g", "--body", body)
        governed = json.loads(out)["VersionId"]
        code, out, err = self.cli("put-object-legal-hold", "--bucket", bucket, "--key", "g",
                                  "--legal-hold", "Status=ON")
        self.assertEqual(code, 0, err)
        code, out, err = self.cli("get-object-legal-hold", "--bucket", bucket, "--key", "g")
        self.assertEqual(json.loads(out)["LegalHold"]["Status"], "ON")
        code, out, err = self.cli("delete-object", "--bucket", bucket, "--key", "g",
                                  "--version-id", governed, "--bypass-governance-retention")
        self.assertIn("AccessDenied", err)
        self.cli("put-object-legal-hold", "--bucket", bucket, "--key", "g",
                 "--legal-hold", "Status=OFF")
        code, out, err = self.cli("delete-object", "--bucket", bucket, "--key", "g",
                                  "--version-id", governed)
        self.assertNotEqual(code, 0)  # the default GOVERNANCE retention still holds it
        self.assertIn("AccessDenied", err)
        code, out, err = self.cli("delete-object", "--bucket", bucket, "--key", "g",
                                  "--version-id", governed, "--bypass-governance-retention")
        self.assertEqual(code, 0, err)
        code, out, err = self.cli("put-bucket-versioning", "--bucket", bucket,
                                  "--versioning-configuration", "Status=Suspended")
        self.assertIn("InvalidBucketState", err)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="offcloud-e2e-lock-cli-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class RestartTests(unittest.TestCase):
    def test_locks_survive_a_restart(self):
        data_dir = tempfile.mkdtemp(prefix="offcloud-e2e-lock-")
        try:
            with harness.OffcloudServer(data_dir=data_dir) as server:
                s3 = server.boto3_client("s3", config=PATH_STYLE)
                bucket = harness.new_bucket_name("restart")
                s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True,
                                 CreateBucketConfiguration={"LocationConstraint": REGION})
                config = {"ObjectLockEnabled": "Enabled",
                          "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 3}}}
                s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
                until = in_days(2)
                old = s3.put_object(Bucket=bucket, Key="k", Body=b"1", ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=until)["VersionId"]
                s3.put_object_legal_hold(Bucket=bucket, Key="k", LegalHold={"Status": "ON"})
                new = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
                server.stop()
                server.restart()
                s3 = server.boto3_client("s3", config=PATH_STYLE)
                self.assertEqual(
                    s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"],
                    config)
                got = s3.get_object_retention(Bucket=bucket, Key="k", VersionId=old)
                self.assertEqual(got["Retention"], {"Mode": "GOVERNANCE", "RetainUntilDate": until})
                self.assertEqual(s3.get_object_legal_hold(Bucket=bucket, Key="k", VersionId=old)
                                 ["LegalHold"]["Status"], "ON")
                self.assertEqual(s3.get_object_retention(Bucket=bucket, Key="k")["Retention"]
                                 ["Mode"], "COMPLIANCE")
                for version in (old, new):
                    with self.assertRaises(ClientError) as ctx:
                        s3.delete_object(Bucket=bucket, Key="k", VersionId=version,
                                         BypassGovernanceRetention=True)
                    self.assertEqual(ctx.exception.response["Error"]["Code"], "AccessDenied")
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
