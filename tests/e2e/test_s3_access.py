"""End-to-end tests of S3 access control against the real offcloud binary, as
AWS documents "How Amazon S3 authorizes a request":

- bucket policies (Principal "*", an account, a user ARN; Condition keys
  aws:SourceIp, s3:prefix, s3:x-amz-acl), an explicit Deny winning over any
  Allow, same-account (identity OR bucket policy) and cross-account (both
  sides) evaluation;
- ACL grants (AllUsers, AuthenticatedUsers, another account's canonical id)
  when the bucket's ownership controls enable ACLs, canned ACLs on every
  write, the owner of an object another account writes;
- anonymous requests (no credentials at all): what a policy or ACL gives
  everyone, else 403 AccessDenied;
- the public access block (IgnorePublicAcls, RestrictPublicBuckets) and
  BucketOwnerEnforced, which new buckets have, as on AWS.

Clients: boto3 (the owner's root, an IAM user of the owner, another
account's root and one of its users, an UNSIGNED client), urllib, the aws CLI.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_s3_access.py -v
"""

import itertools
import json
import os
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REGION = "us-east-1"
ALICE = "111122223333"  # the bucket owner
BOB = "444455556666"  # another account
CAROL = "777788889999"  # a third account, by a 12-digit key
ALICE_KEY = ("AKIAALICEROOT0000001", "alice-root-secret")
BOB_KEY = ("AKIABOBROOT00000001", "bob-root-secret")
PATH_STYLE = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
ALL_S3 = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}

CONFIG = {
    "accounts": [
        {"id": ALICE, "name": "alice",
         "root_access_key_id": ALICE_KEY[0], "root_secret_access_key": ALICE_KEY[1]},
        {"id": BOB, "name": "bob",
         "root_access_key_id": BOB_KEY[0], "root_secret_access_key": BOB_KEY[1]},
    ]
}

_names = itertools.count()


def new_bucket_name(tag):
    return "access-%s-%d-%d" % (tag, os.getpid(), next(_names))


class S3AccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config_dir = tempfile.mkdtemp(prefix="offcloud-access-")
        path = os.path.join(cls.config_dir, "config.json")
        with open(path, "w") as f:
            json.dump(CONFIG, f)
        cls.server = harness.OffcloudServer(args=("--config", path))
        cls.server.start()
        cls.alice = cls.client(ALICE_KEY)
        cls.bob = cls.client(BOB_KEY)
        cls.carol = cls.client((CAROL, "test"))
        cls.anonymous = cls.server.boto3_client(
            "s3", region=REGION,
            config=Config(s3={"addressing_style": "path"}, signature_version=botocore.UNSIGNED))
        # Users: Alice's with no policy and with s3:*; Bob's with no policy and with s3:*.
        cls.alice_bare = cls.make_user(ALICE_KEY, "bare", None)
        cls.alice_admin = cls.make_user(ALICE_KEY, "admin", ALL_S3)
        cls.bob_bare = cls.make_user(BOB_KEY, "bare", None)
        cls.bob_admin = cls.make_user(BOB_KEY, "admin", ALL_S3)
        cls.bob_id = cls.bob.list_buckets()["Owner"]["ID"]
        cls.alice_id = cls.alice.list_buckets()["Owner"]["ID"]

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    @classmethod
    def client(cls, key, service="s3"):
        return cls.server.boto3_client(service, access_key=key[0], secret_key=key[1],
                                       region=REGION, config=PATH_STYLE)

    @classmethod
    def make_user(cls, root_key, name, policy):
        iam = cls.client(root_key, "iam")
        iam.create_user(UserName=name)
        if policy:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return cls.client((key["AccessKeyId"], key["SecretAccessKey"]))

    # -- helpers -------------------------------------------------------------

    def make_bucket(self, tag, ownership=None, public_access_block=False, **kw):
        """Alice's bucket; `ownership` ObjectWriter or BucketOwnerPreferred
        enables ACLs; the public access block is removed unless asked."""
        name = new_bucket_name(tag)
        self.alice.create_bucket(Bucket=name, **kw)
        if ownership:
            self.alice.put_bucket_ownership_controls(
                Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})
        if not public_access_block:
            self.alice.delete_public_access_block(Bucket=name)
        return name

    def put_policy(self, bucket, *statements):
        self.alice.put_bucket_policy(Bucket=bucket, Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))

    def assertDenied(self, call, code="AccessDenied", status=403, message=None):
        with self.assertRaises(ClientError) as caught:
            call()
        error = caught.exception.response["Error"]
        self.assertEqual((error["Code"], caught.exception.response["ResponseMetadata"]
                          ["HTTPStatusCode"]), (code, status), caught.exception.response)
        if message:
            self.assertIn(message, error["Message"])

    def assertHeadDenied(self, call):
        with self.assertRaises(ClientError) as caught:
            call()
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)

    def read(self, s3, bucket, key):
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def url_get(self, bucket, key):
        """A plain GET, as a browser or curl sends it: (status, body)."""
        url = "%s/%s/%s" % (self.server.endpoint, bucket, key)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    # -- ACLs ----------------------------------------------------------------

    def test_public_read_object_acl_lets_anyone_read_that_object_only(self):
        bucket = self.make_bucket("pubobj", ownership="ObjectWriter")
        self.alice.put_object(Bucket=bucket, Key="open.txt", Body=b"hello world")
        self.alice.put_object(Bucket=bucket, Key="closed.txt", Body=b"secret")
        status, body = self.url_get(bucket, "open.txt")
        self.assertEqual(status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", body)
        self.assertIn(b"<RequestId>", body)
        self.alice.put_object_acl(Bucket=bucket, Key="open.txt", ACL="public-read")
        self.assertEqual(self.url_get(bucket, "open.txt"), (200, b"hello world"))
        self.assertEqual(self.read(self.anonymous, bucket, "open.txt"), b"hello world")
        self.assertEqual(self.anonymous.head_object(Bucket=bucket, Key="open.txt")
                         ["ContentLength"], 11)
        self.assertEqual(self.read(self.bob, bucket, "open.txt"), b"hello world")
        self.assertEqual(self.url_get(bucket, "closed.txt")[0], 403)
        self.assertDenied(lambda: self.anonymous.get_object(Bucket=bucket, Key="closed.txt"))
        self.assertDenied(lambda: self.bob.get_object(Bucket=bucket, Key="closed.txt"))
        # READ is not READ_ACP, nor WRITE, nor listing.
        self.assertDenied(lambda: self.anonymous.get_object_acl(Bucket=bucket, Key="open.txt"))
        self.assertDenied(lambda: self.anonymous.put_object(Bucket=bucket, Key="x", Body=b"x"))
        self.assertDenied(lambda: self.anonymous.list_objects_v2(Bucket=bucket))
        self.assertDenied(lambda: self.anonymous.delete_object(Bucket=bucket, Key="open.txt"))
        self.assertEqual(self.read(self.alice, bucket, "open.txt"), b"hello world")

    def test_bucket_acls_grant_listing_and_writing(self):
        bucket = self.make_bucket("pubbucket", ownership="ObjectWriter")
        self.alice.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
        self.alice.put_bucket_acl(Bucket=bucket, ACL="public-read")
        listed = self.anonymous.list_objects(Bucket=bucket)
        self.assertEqual([o["Key"] for o in listed["Contents"]], ["a.txt"])
        self.assertEqual(listed["Contents"][0]["Owner"]["ID"], self.alice_id)
        self.anonymous.head_bucket(Bucket=bucket)
        # Listing is not reading the objects.
        self.assertDenied(lambda: self.anonymous.get_object(Bucket=bucket, Key="a.txt"))
        self.assertDenied(lambda: self.anonymous.put_object(Bucket=bucket, Key="b", Body=b"b"))
        self.alice.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
        self.anonymous.put_object(Bucket=bucket, Key="dropped.txt", Body=b"anonymous")
        self.assertEqual(self.read(self.alice, bucket, "dropped.txt"), b"anonymous")
        self.anonymous.delete_object(Bucket=bucket, Key="dropped.txt")
        self.assertDenied(lambda: self.anonymous.get_bucket_acl(Bucket=bucket))
        self.alice.put_bucket_acl(Bucket=bucket, ACL="private")
        self.assertDenied(lambda: self.anonymous.list_objects_v2(Bucket=bucket))

    def test_authenticated_users_is_any_signed_caller_whose_account_allows_it(self):
        bucket = self.make_bucket("authread", ownership="ObjectWriter")
        self.alice.put_object(Bucket=bucket, Key="k", Body=b"for signed callers",
                              ACL="authenticated-read")
        self.assertEqual(self.read(self.bob, bucket, "k"), b"for signed callers")
        self.assertEqual(self.read(self.carol, bucket, "k"), b"for signed callers")
        self.assertEqual(self.read(self.bob_admin, bucket, "k"), b"for signed callers")
        # Bob's user needs Bob's permission too.
        self.assertDenied(lambda: self.bob_bare.get_object(Bucket=bucket, Key="k"),
                          message="no identity-based policy allows the s3:GetObject action")
        self.assertDenied(lambda: self.anonymous.get_object(Bucket=bucket, Key="k"))
        self.assertEqual(self.url_get(bucket, "k")[0], 403)

    def test_a_canonical_id_grant_shares_with_that_account_only(self):
        bucket = self.make_bucket("grant", ownership="ObjectWriter")
        self.alice.put_object(Bucket=bucket, Key="k", Body=b"for bob",
                              GrantRead='id="%s"' % self.bob_id)
        self.assertEqual(self.read(self.bob, bucket, "k"), b"for bob")
        self.assertEqual(self.read(self.bob_admin, bucket, "k"), b"for bob")
        self.assertDenied(lambda: self.carol.get_object(Bucket=bucket, Key="k"))
        self.assertDenied(lambda: self.anonymous.get_object(Bucket=bucket, Key="k"))
        self.assertDenied(lambda: self.bob.get_object_acl(Bucket=bucket, Key="k"))
        # READ_ACP by a document: Bob sees the grants, the owner being Alice.
        acl = self.alice.get_object_acl(Bucket=bucket, Key="k")
        acl["Grants"].append({"Grantee": {"Type": "CanonicalUser", "ID": self.bob_id},
                              "Permission": "READ_ACP"})
        self.alice.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy={
            "Grants": acl["Grants"], "Owner": acl["Owner"]})
        seen = self.bob.get_object_acl(Bucket=bucket, Key="k")
        self.assertEqual(seen["Owner"]["ID"], self.alice_id)
        self.assertIn({"Grantee": {"Type": "CanonicalUser", "ID": self.bob_id},
                       "Permission": "READ"}, [{"Grantee": {k: v for k, v in g["Grantee"].items()
                                                            if k != "DisplayName"},
                                                "Permission": g["Permission"]}
                                               for g in seen["Grants"]])
        # Bucket WRITE to Bob: his objects are his (ObjectWriter).
        self.alice.put_bucket_acl(Bucket=bucket, GrantWrite='id="%s"' % self.bob_id,
                                  GrantFullControl='id="%s"' % self.alice_id)
        self.bob.put_object(Bucket=bucket, Key="from-bob", Body=b"bob's")
        self.assertEqual(self.bob.get_object_acl(Bucket=bucket, Key="from-bob")["Owner"]["ID"],
                         self.bob_id)
        self.assertEqual(self.read(self.bob, bucket, "from-bob"), b"bob's")
        owners = {o["Key"]: o["Owner"]["ID"]
                  for o in self.alice.list_objects(Bucket=bucket)["Contents"]}
        self.assertEqual(owners, {"k": self.alice_id, "from-bob": self.bob_id})
        self.assertDenied(lambda: self.carol.put_object(Bucket=bucket, Key="c", Body=b"c"))
        self.assertDenied(lambda: self.bob_bare.put_object(Bucket=bucket, Key="c", Body=b"c"))

    def test_bucket_owner_preferred_takes_objects_handed_over(self):
        bucket = self.make_bucket("preferred", ownership="BucketOwnerPreferred")
        self.alice.put_bucket_acl(Bucket=bucket, GrantWrite='id="%s"' % self.bob_id,
                                  GrantFullControl='id="%s"' % self.alice_id)
        self.bob.put_object(Bucket=bucket, Key="handed", Body=b"x",
                            ACL="bucket-owner-full-control")
        self.assertEqual(self.alice.get_object_acl(Bucket=bucket, Key="handed")["Owner"]["ID"],
                         self.alice_id)
        self.bob.put_object(Bucket=bucket, Key="kept", Body=b"y")
        acl = self.bob.get_object_acl(Bucket=bucket, Key="kept")
        self.assertEqual(acl["Owner"]["ID"], self.bob_id)
        # bucket-owner-read from an object writer grants Alice READ.
        self.bob.put_object(Bucket=bucket, Key="shown", Body=b"z", ACL="bucket-owner-read")
        grants = self.bob.get_object_acl(Bucket=bucket, Key="shown")["Grants"]
        self.assertIn(("READ", self.alice_id),
                      [(g["Permission"], g["Grantee"].get("ID")) for g in grants])

    def test_canned_acls_on_every_write(self):
        bucket = self.make_bucket("canned", ownership="ObjectWriter")
        self.alice.put_object(Bucket=bucket, Key="src", Body=b"source")
        self.alice.copy_object(Bucket=bucket, Key="copied", CopySource="%s/src" % bucket,
                               ACL="public-read")
        self.assertEqual(self.url_get(bucket, "copied"), (200, b"source"))
        upload = self.alice.create_multipart_upload(Bucket=bucket, Key="multi",
                                                    ACL="public-read")
        part = self.alice.upload_part(Bucket=bucket, Key="multi", UploadId=upload["UploadId"],
                                      PartNumber=1, Body=b"parts")
        self.alice.complete_multipart_upload(
            Bucket=bucket, Key="multi", UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        self.assertEqual(self.url_get(bucket, "multi"), (200, b"parts"))
        self.assertEqual(self.url_get(bucket, "src")[0], 403)
        # CreateBucket's canned ACL, once the public access block is gone.
        name = new_bucket_name("created")
        self.alice.create_bucket(Bucket=name, ACL="authenticated-read",
                                 ObjectOwnership="ObjectWriter")
        self.assertDenied(lambda: self.bob.list_objects_v2(Bucket=name))  # IgnorePublicAcls
        self.alice.delete_public_access_block(Bucket=name)
        self.assertEqual(self.bob.list_objects_v2(Bucket=name)["KeyCount"], 0)
        self.assertDenied(lambda: self.anonymous.list_objects_v2(Bucket=name))

    def test_bucket_owner_enforced_makes_acls_irrelevant(self):
        bucket = self.make_bucket("enforced", ownership="ObjectWriter")
        self.alice.put_object(Bucket=bucket, Key="k", Body=b"public", ACL="public-read")
        self.assertEqual(self.url_get(bucket, "k"), (200, b"public"))
        self.alice.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        self.assertEqual(self.url_get(bucket, "k")[0], 403)
        self.assertDenied(lambda: self.bob.get_object(Bucket=bucket, Key="k"))
        self.assertEqual(self.read(self.alice, bucket, "k"), b"public")

    def test_ignore_public_acls(self):
        bucket = self.make_bucket("ignore", ownership="ObjectWriter")
        self.alice.put_object(Bucket=bucket, Key="k", Body=b"public", ACL="public-read")
        self.alice.put_object(Bucket=bucket, Key="bob", Body=b"bob's",
                              GrantRead='id="%s"' % self.bob_id)
        self.assertEqual(self.url_get(bucket, "k")[0], 200)
        self.alice.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "IgnorePublicAcls": True})
        self.assertEqual(self.url_get(bucket, "k")[0], 403)
        self.assertDenied(lambda: self.bob.get_object(Bucket=bucket, Key="k"))
        # A grant to an account is not public.
        self.assertEqual(self.read(self.bob, bucket, "bob"), b"bob's")
        self.alice.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "IgnorePublicAcls": False})
        self.assertEqual(self.url_get(bucket, "k")[0], 200)

    # -- bucket policies ------------------------------------------------------

    def test_a_policy_shares_with_another_account_which_delegates_to_its_users(self):
        bucket = self.make_bucket("xacct", public_access_block=True)
        self.alice.put_object(Bucket=bucket, Key="shared/k", Body=b"shared")
        self.assertDenied(lambda: self.bob.get_object(Bucket=bucket, Key="shared/k"))
        self.put_policy(bucket, {
            "Effect": "Allow", "Principal": {"AWS": BOB},
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/shared/*" % bucket]})
        self.assertEqual(self.read(self.bob, bucket, "shared/k"), b"shared")
        self.assertEqual(self.read(self.bob_admin, bucket, "shared/k"), b"shared")
        self.assertEqual(self.bob.list_objects_v2(Bucket=bucket)["KeyCount"], 1)
        self.assertDenied(lambda: self.bob_bare.get_object(Bucket=bucket, Key="shared/k"))
        self.assertDenied(lambda: self.carol.get_object(Bucket=bucket, Key="shared/k"))
        self.assertDenied(lambda: self.anonymous.get_object(Bucket=bucket, Key="shared/k"))
        self.assertDenied(lambda: self.bob.put_object(Bucket=bucket, Key="shared/x", Body=b"x"))
        self.assertDenied(lambda: self.bob.delete_bucket(Bucket=bucket))
        self.assertDenied(lambda: self.bob.get_bucket_policy(Bucket=bucket))
        # Copying out needs the source allowed: Bob may copy into his own bucket.
        mine = new_bucket_name("bobs")
        self.bob.create_bucket(Bucket=mine)
        self.bob.copy_object(Bucket=mine, Key="c", CopySource="%s/shared/k" % bucket)
        self.assertEqual(self.read(self.bob, mine, "c"), b"shared")
        self.alice.put_object(Bucket=bucket, Key="private/k", Body=b"p")
        self.assertDenied(lambda: self.bob.copy_object(Bucket=mine, Key="d",
                                                       CopySource="%s/private/k" % bucket))
        # A user ARN names that user alone.
        self.put_policy(bucket, {
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/bare" % BOB},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket})
        self.assertDenied(lambda: self.bob_bare.get_object(Bucket=bucket, Key="shared/k"))
        self.assertDenied(lambda: self.bob_admin.get_object(Bucket=bucket, Key="shared/k"))
        self.alice.delete_bucket_policy(Bucket=bucket)
        self.assertDenied(lambda: self.bob.get_object(Bucket=bucket, Key="shared/k"))

    def test_a_policy_condition_on_the_canned_acl(self):
        bucket = self.make_bucket("aclcond", public_access_block=True)
        self.put_policy(bucket, {
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % BOB},
            "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/*" % bucket,
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}})
        self.assertDenied(lambda: self.bob.put_object(Bucket=bucket, Key="k", Body=b"x"))
        self.bob.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
        self.assertEqual(self.read(self.alice, bucket, "k"), b"x")

    def test_everyone_with_source_ip_and_prefix_conditions(self):
        bucket = self.make_bucket("star")
        self.alice.put_object(Bucket=bucket, Key="public/a.txt", Body=b"open")
        self.alice.put_object(Bucket=bucket, Key="private/b.txt", Body=b"closed")
        self.put_policy(bucket, {
            "Sid": "Read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::%s/public/*" % bucket,
            "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}, {
            "Sid": "List", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::%s" % bucket,
            "Condition": {"StringEquals": {"s3:prefix": "public/"}}})
        self.assertEqual(self.url_get(bucket, "public/a.txt"), (200, b"open"))
        self.assertEqual(self.read(self.anonymous, bucket, "public/a.txt"), b"open")
        self.assertEqual(self.read(self.carol, bucket, "public/a.txt"), b"open")
        self.assertEqual(self.url_get(bucket, "private/b.txt")[0], 403)
        listed = self.anonymous.list_objects_v2(Bucket=bucket, Prefix="public/")
        self.assertEqual([o["Key"] for o in listed["Contents"]], ["public/a.txt"])
        self.assertDenied(lambda: self.anonymous.list_objects_v2(Bucket=bucket))
        self.assertDenied(lambda: self.anonymous.list_objects_v2(Bucket=bucket, Prefix="private/"))
        # From elsewhere, nothing.
        self.put_policy(bucket, {
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::%s/public/*" % bucket,
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
        self.assertEqual(self.url_get(bucket, "public/a.txt")[0], 403)

    def test_an_explicit_deny_wins_over_any_allow(self):
        bucket = self.make_bucket("deny", public_access_block=True)
        self.alice.put_object(Bucket=bucket, Key="secret/k", Body=b"s")
        self.alice.put_object(Bucket=bucket, Key="open/k", Body=b"o")
        self.assertEqual(self.read(self.alice_admin, bucket, "secret/k"), b"s")
        self.assertDenied(lambda: self.alice_bare.get_object(Bucket=bucket, Key="open/k"),
                          message="no identity-based policy allows")
        self.put_policy(bucket, {
            "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::%s:user/admin" % ALICE},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/secret/*" % bucket}, {
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:user/bare" % ALICE},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket})
        self.assertDenied(lambda: self.alice_admin.get_object(Bucket=bucket, Key="secret/k"),
                          message="with an explicit deny in a resource-based policy")
        self.assertEqual(self.read(self.alice_admin, bucket, "open/k"), b"o")
        # Same account: the bucket policy alone allows a user with no policy.
        self.assertEqual(self.read(self.alice_bare, bucket, "open/k"), b"o")
        self.assertDenied(lambda: self.alice_bare.put_object(Bucket=bucket, Key="x", Body=b"x"))
        # A Deny of the account reaches its root, but never locks the policy.
        self.put_policy(bucket, {
            "Effect": "Deny", "Principal": {"AWS": ALICE}, "Action": "s3:*",
            "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket]})
        self.assertDenied(lambda: self.alice.get_object(Bucket=bucket, Key="open/k"))
        self.assertDenied(lambda: self.alice.delete_bucket(Bucket=bucket))
        self.assertIn("Deny", self.alice.get_bucket_policy(Bucket=bucket)["Policy"])
        self.alice.delete_bucket_policy(Bucket=bucket)
        self.assertEqual(self.read(self.alice, bucket, "open/k"), b"o")

    def test_restrict_public_buckets(self):
        bucket = self.make_bucket("restrict")
        self.alice.put_object(Bucket=bucket, Key="k", Body=b"public")
        self.put_policy(bucket, {
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::%s/*" % bucket})
        self.assertTrue(self.alice.get_bucket_policy_status(Bucket=bucket)
                        ["PolicyStatus"]["IsPublic"])
        self.assertEqual(self.url_get(bucket, "k"), (200, b"public"))
        self.assertEqual(self.read(self.bob, bucket, "k"), b"public")
        self.alice.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "RestrictPublicBuckets": True})
        self.assertEqual(self.url_get(bucket, "k")[0], 403)
        self.assertDenied(lambda: self.bob.get_object(Bucket=bucket, Key="k"))
        # The owner's account keeps what the policy gives it.
        self.assertEqual(self.read(self.alice_bare, bucket, "k"), b"public")
        self.alice.delete_public_access_block(Bucket=bucket)
        self.assertEqual(self.url_get(bucket, "k")[0], 200)

    def test_new_buckets_block_public_access_as_on_aws(self):
        name = new_bucket_name("fresh")
        self.alice.create_bucket(Bucket=name)
        self.alice.put_object(Bucket=name, Key="k", Body=b"x")
        self.assertDenied(lambda: self.alice.put_object_acl(Bucket=name, Key="k", ACL="public-read"),
                          code="AccessControlListNotSupported", status=400)
        self.assertDenied(lambda: self.alice.put_bucket_policy(Bucket=name, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::%s/*" % name}]})))
        self.assertEqual(self.url_get(name, "k")[0], 403)

    # -- anonymous requests ---------------------------------------------------

    def test_anonymous_requests_get_access_denied(self):
        self.assertDenied(self.anonymous.list_buckets)
        self.assertDenied(lambda: self.anonymous.create_bucket(Bucket=new_bucket_name("anon")))
        bucket = self.make_bucket("anon")
        self.alice.put_object(Bucket=bucket, Key="k", Body=b"x")
        for call in [lambda: self.anonymous.get_object(Bucket=bucket, Key="k"),
                     lambda: self.anonymous.put_object(Bucket=bucket, Key="k", Body=b"y"),
                     lambda: self.anonymous.delete_object(Bucket=bucket, Key="k"),
                     lambda: self.anonymous.list_objects(Bucket=bucket),
                     lambda: self.anonymous.get_bucket_policy(Bucket=bucket),
                     lambda: self.anonymous.put_bucket_acl(Bucket=bucket, ACL="public-read"),
                     lambda: self.anonymous.delete_bucket(Bucket=bucket)]:
            self.assertDenied(call)
        self.assertHeadDenied(lambda: self.anonymous.head_object(Bucket=bucket, Key="k"))
        self.assertEqual(self.read(self.alice, bucket, "k"), b"x")
        # A bucket that does not exist is said not to.
        self.assertDenied(lambda: self.anonymous.get_object(Bucket=new_bucket_name("none"),
                                                            Key="k"),
                          code="NoSuchBucket", status=404)

    def test_a_bad_signature_is_never_anonymous(self):
        bucket = self.make_bucket("badsig", ownership="ObjectWriter")
        self.alice.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
        wrong = self.server.boto3_client("s3", access_key=ALICE_KEY[0], secret_key="wrong",
                                         region=REGION, config=PATH_STYLE)
        self.assertDenied(lambda: wrong.get_object(Bucket=bucket, Key="k"),
                          code="SignatureDoesNotMatch")
        # A presigned URL missing its algorithm is refused, not served as public.
        url = "%s/%s/k?X-Amz-Signature=00&X-Amz-Credential=x" % (self.server.endpoint, bucket)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url, timeout=10)
        self.assertEqual(caught.exception.code, 403)
        self.assertEqual(self.url_get(bucket, "k"), (200, b"x"))

    def test_aws_cli_unsigned(self):
        bucket = self.make_bucket("cli", ownership="ObjectWriter")
        self.alice.put_object(Bucket=bucket, Key="open.txt", Body=b"cli", ACL="public-read")
        self.alice.put_object(Bucket=bucket, Key="closed.txt", Body=b"no")
        with tempfile.TemporaryDirectory() as out:
            got = self.server.aws("s3api", "get-object", "--no-sign-request", "--bucket", bucket,
                                  "--key", "open.txt", os.path.join(out, "f"))
            self.assertEqual(got.returncode, 0, got.stderr)
            with open(os.path.join(out, "f"), "rb") as f:
                self.assertEqual(f.read(), b"cli")
            got = self.server.aws("s3api", "get-object", "--no-sign-request", "--bucket", bucket,
                                  "--key", "closed.txt", os.path.join(out, "g"))
            self.assertNotEqual(got.returncode, 0)
            self.assertIn("AccessDenied", got.stderr)


class IamOffTest(unittest.TestCase):
    """--iam off: identity policies are not enforced, a bucket owner's grants
    still are."""

    def test_other_accounts_need_the_owners_grant(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "config.json")
            with open(path, "w") as f:
                json.dump(CONFIG, f)
            with harness.OffcloudServer(args=("--config", path, "--iam", "off")) as server:
                def client(key):
                    return server.boto3_client("s3", access_key=key[0], secret_key=key[1],
                                               region=REGION, config=PATH_STYLE)
                alice, bob = client(ALICE_KEY), client(BOB_KEY)
                bucket = new_bucket_name("iamoff")
                alice.create_bucket(Bucket=bucket)
                alice.put_object(Bucket=bucket, Key="k", Body=b"x")
                with self.assertRaises(ClientError) as caught:
                    bob.get_object(Bucket=bucket, Key="k")
                self.assertEqual(caught.exception.response["Error"]["Code"], "AccessDenied")
                alice.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
                    "Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Principal": {"AWS": BOB}, "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::%s/*" % bucket}]}))
                self.assertEqual(bob.get_object(Bucket=bucket, Key="k")["Body"].read(), b"x")


if __name__ == "__main__":
    unittest.main(verbosity=2)
