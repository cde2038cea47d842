"""Runs the AWS SDK for JavaScript v2 tests (js/) against a real offcloud.

Installs js/node_modules from the committed package-lock.json (npm ci) when
they are missing, so a fresh clone or CI needs only node, npm and the npm
registry.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_js_sdk.py -v
"""

import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
JS_TESTS = ["publish_v2.test.js"]


def node_env(extra):
    # Only what the test passes: no AWS_* from the machine (profiles,
    # AWS_SDK_LOAD_CONFIG, endpoint overrides).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE"] = "1"
    env.update(extra)
    return env


class JsSdkV2Tests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("node", "npm"):
            if shutil.which(tool) is None:
                raise AssertionError("%s is not on PATH; the JS SDK tests need Node.js 20+" % tool)
        if not os.path.isfile(os.path.join(JS_DIR, "node_modules", "aws-sdk", "package.json")):
            result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR,
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    timeout=600)
            if result.returncode != 0:
                raise AssertionError("npm ci in %s failed (exit %d):\n%s\n%s"
                                     % (JS_DIR, result.returncode, result.stdout[-3000:],
                                        result.stderr[-3000:]))

    def test_node_sdk_v2(self):
        with harness.OffcloudServer() as server:
            result = subprocess.run(["node", "--test", "--test-reporter=tap"] + JS_TESTS, cwd=JS_DIR,
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    env=node_env({"OFFCLOUD_ENDPOINT": server.endpoint}),
                                    timeout=180)
            output = result.stdout + result.stderr
            self.assertEqual(result.returncode, 0, "node --test failed:\n" + output[-8000:])
            # Guards against a runner that found no test and passed vacuously.
            self.assertRegex(output, r"# pass [1-9]", output[-3000:])
            server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
