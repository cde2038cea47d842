"""Runs examples/iot-handson/run.sh, the hands-on with the aws CLI and
offcloud-publish, against the real offcloud binary, twice: a second run on
the same server reuses what the first made and delivers a new object.

Run: OFFCLOUD_BIN=build/bin/offcloud OFFCLOUD_PUBLISH=build/bin/offcloud-publish \
     python3 tests/e2e/test_examples.py -v
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SCRIPT = os.path.join(harness.REPO_ROOT, "examples", "iot-handson", "run.sh")
PUBLISH = os.environ.get("OFFCLOUD_PUBLISH",
                         os.path.join(harness.REPO_ROOT, "build", "bin", "offcloud-publish"))


class IotHandsonExampleTests(unittest.TestCase):
    def run_example(self, server):
        env = harness._isolated_aws_env()
        env.update({"AWS_ENDPOINT_URL": server.endpoint, "OFFCLOUD_PUBLISH": PUBLISH,
                    "HANDSON_WAIT_S": "60"})
        result = subprocess.run([SCRIPT], capture_output=True, text=True, env=env, timeout=180)
        self.assertEqual(result.returncode, 0, "stdout=%r\nstderr=%r" % (result.stdout,
                                                                        result.stderr))
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def test_records_reach_s3_through_the_rule_and_firehose(self):
        if not shutil.which("aws"):
            self.skipTest("needs the aws CLI")
        with harness.OffcloudServer(args=["--firehose-max-interval", "2"]) as server:
            records = self.run_example(server)
            self.assertEqual([r["face_id"] for r in records], [0, 1, 2])
            self.assertEqual(records[0]["Gender"], "Female")
            self.assertIs(records[0]["Smile"], True)
            self.assertEqual(self.run_example(server), records)
            keys = server.boto3_client("s3").list_objects_v2(Bucket="offcloud-handson")
            self.assertEqual(keys["KeyCount"], 2)
            server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
