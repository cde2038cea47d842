"""Builds the container image with scripts/image (no registry) and runs the
hands-on against a container of it, as a classroom would: the classroom
config mounted, student01's key for the setup and as the device's key.
State lives in a named volume and survives new containers; `stop` (SIGTERM)
exits 0 and delivers what Firehose still buffers.

Run: python3 tests/e2e/test_image.py -v   (needs podman or a docker daemon)
"""

import json
import os
import sys
import tarfile
import tempfile
import time
import shutil
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import containers  # noqa: E402
import harness  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

IMAGE = os.environ.get("OFFCLOUD_IMAGE", "offcloud:latest")
CLASSROOM = os.path.join(harness.REPO_ROOT, "docker", "classroom.json")
REGION = harness.REGION
BUCKET, STREAM, RULE = "offcloud-handson", "handson-stream", "handsonToFirehose"
TOPIC = "handson/analysisLogData"
# The runtime image: the binaries and what they link, no distribution.
MAX_IMAGE_BYTES = 100 * 1000 * 1000


def records(first):
    return [{"timestamp": "2021-01-10 15:41:43", "face_id": i, "AgeRange-Low": 22,
             "AgeRange-High": 34, "Gender": "Female" if i % 2 == 0 else "Male",
             "Smile": i == 0, "Calm": 72.5} for i in range(first, first + 3)]


class ImageTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="offcloud-image-")
        cls.tarball = os.path.join(cls.tmp, "offcloud.tar")
        containers.script("image", "--save", cls.tarball, timeout=2400)
        cls.tag = "%d-%d" % (os.getpid(), int(time.time()))
        cls.volume = "offcloud-e2e-" + cls.tag
        with open(CLASSROOM) as f:
            cls.student = json.load(f)["accounts"][0]

    @classmethod
    def tearDownClass(cls):
        for n in range(3):
            containers.remove_container("offcloud-e2e-%s-%d" % (cls.tag, n))
        containers.run("volume", "rm", "-f", cls.volume, check=False)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- a container of the image, as docker/compose.yml runs it ---------

    def start(self, n, *args):
        name = "offcloud-e2e-%s-%d" % (self.tag, n)
        self.port = containers.free_port()
        containers.run("run", "-d", "--name", name, *containers.engine()[1],
                       "-p", "127.0.0.1:%d:4566" % self.port, "-v", self.volume + ":/data",
                       "-v", CLASSROOM + ":/etc/offcloud/config.json:ro",
                       IMAGE, "--config", "/etc/offcloud/config.json", *args)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/_offcloud/health" % self.port,
                                            timeout=2) as response:
                    if response.status == 200:
                        return name
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.fail("container %s not healthy in 60 s:\n%s" % (
                    name, containers.run("logs", name, check=False).stderr[-3000:]))
            time.sleep(0.5)

    def stop(self, name):
        """`stop` sends SIGTERM; offcloud must exit 0 well within the grace."""
        started = time.monotonic()
        containers.run("stop", "-t", "30", name, timeout=60)
        self.assertLess(time.monotonic() - started, 25, "stop waited for the kill")
        state = containers.run("inspect", "--format", "{{.State.ExitCode}}", name)
        self.assertEqual(state.stdout.strip(), "0",
                         containers.run("logs", name, check=False).stderr[-3000:])

    def client(self, service):
        session = boto3.session.Session(
            aws_access_key_id=self.student["root_access_key_id"],
            aws_secret_access_key=self.student["root_secret_access_key"], region_name=REGION)
        config = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30,
                        s3={"addressing_style": "path"}, signature_version="s3v4")
        return session.client(service, endpoint_url="http://127.0.0.1:%d" % self.port,
                              config=config)

    def publish(self, name, lines):
        """The device: offcloud-publish in the container, with the student's key."""
        containers.run("exec", "-i", "-e", "AWS_ACCESS_KEY_ID=" + self.student["root_access_key_id"],
                       "-e", "AWS_SECRET_ACCESS_KEY=" + self.student["root_secret_access_key"],
                       "-e", "AWS_REGION=" + REGION, name, "offcloud-publish",
                       "--endpoint", "http://127.0.0.1:4566", "--topic", TOPIC, "--qos", "1",
                       input="".join(json.dumps(line) + "\n" for line in lines))

    def objects(self, count, timeout):
        """Waits for `count` objects in the bucket; returns their records, oldest first."""
        s3 = self.client("s3")
        deadline = time.monotonic() + timeout
        while True:
            listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
            if len(listed) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(len(listed), count, [o["Key"] for o in listed])
        listed.sort(key=lambda o: (o["LastModified"], o["Key"]))
        return [[json.loads(line) for line in
                 s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read().decode().splitlines()]
                for o in listed]

    # -- the tests ---------------------------------------------------------

    def test_image_is_small_and_its_tarball_loads(self):
        size = int(containers.run("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
        print("image %s: %.1f MB" % (IMAGE, size / 1e6), file=sys.stderr)
        self.assertLess(size, MAX_IMAGE_BYTES)
        # Distroless: the binaries run, and there is no shell.
        version = containers.run("run", "--rm", *containers.engine()[1], "--entrypoint",
                                 "offcloud", IMAGE, "--version")
        self.assertRegex(version.stdout, r"^offcloud \d+\.\d+\.\d+")
        shell = containers.run("run", "--rm", *containers.engine()[1], "--entrypoint",
                               "/bin/sh", IMAGE, "-c", "true", check=False)
        self.assertNotEqual(shell.returncode, 0)
        # The tarball is a docker-archive with the image's name in it.
        with tarfile.open(self.tarball) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        self.assertEqual(len(manifest), 1)
        self.assertTrue(any(tag.endswith(IMAGE) for tag in manifest[0]["RepoTags"]), manifest)
        loaded = containers.run("load", "-i", self.tarball, timeout=300)
        self.assertIn(IMAGE, loaded.stdout + loaded.stderr)

    def test_handson_state_across_containers_and_clean_stop(self):
        student_account = self.student["id"]
        # 1. The hands-on, Firehose capped at 2 s so delivery is quick.
        first = self.start(0, "--firehose-max-interval", "2")
        self.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        firehose = self.client("firehose")
        firehose.create_delivery_stream(
            DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::%s:role/firehose-delivery" % student_account,
                "BucketARN": "arn:aws:s3:::" + BUCKET,
                "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60},
                "CompressionFormat": "UNCOMPRESSED"})
        deadline = time.monotonic() + 30
        while firehose.describe_delivery_stream(DeliveryStreamName=STREAM)[
                "DeliveryStreamDescription"]["DeliveryStreamStatus"] != "ACTIVE":
            self.assertLess(time.monotonic(), deadline, "stream not ACTIVE")
            time.sleep(0.5)
        self.client("iot").create_topic_rule(ruleName=RULE, topicRulePayload={
            "sql": "SELECT * FROM '%s'" % TOPIC, "awsIotSqlVersion": "2016-03-23",
            "actions": [{"firehose": {
                "deliveryStreamName": STREAM, "separator": "\n",
                "roleArn": "arn:aws:iam::%s:role/iot-firehose" % student_account}}]})
        self.publish(first, records(0))
        self.assertEqual(self.objects(1, timeout=30), [records(0)])
        self.stop(first)

        # 2. A new container on the same volume, AWS's 60 s interval: what
        # the first made is there; records published now are still buffered
        # when `stop` comes, and are delivered before offcloud exits.
        second = self.start(1)
        self.assertEqual(self.objects(1, timeout=0), [records(0)])
        self.assertEqual(self.client("iot").get_topic_rule(ruleName=RULE)["rule"]["ruleName"],
                         RULE)
        self.publish(second, records(3))
        time.sleep(1)  # the rule hands the records to Firehose
        self.assertEqual(len(self.objects(1, timeout=0)), 1)  # still buffered
        self.stop(second)

        third = self.start(2)
        self.assertEqual(self.objects(2, timeout=0), [records(0), records(3)])
        self.stop(third)


if __name__ == "__main__":
    unittest.main(verbosity=2)
