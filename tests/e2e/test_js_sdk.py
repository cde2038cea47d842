"""Runs the AWS SDK for JavaScript tests (js/*.test.js: v2 aws-sdk and v3
@aws-sdk/client-s3) against a real offcloud, one unittest test per file, each
with its own server; and js/s3_browser.mjs, the SDK v3 in Debian's Chromium
on a page of another origin (S3 CORS and browser POST uploads).

Installs js/node_modules from the committed package-lock.json (npm ci) when
any dependency is missing, so a fresh clone or CI needs only node, npm and
the npm registry.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_js_sdk.py -v
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
# iot_device_sdk.test.js needs the TLS ports: test_iot_device_sdk.py runs it.
JS_TESTS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(JS_DIR, "*.test.js"))
                  if not p.endswith("iot_device_sdk.test.js"))


def node_env(extra):
    # Only what the test passes: no AWS_* from the machine (profiles,
    # AWS_SDK_LOAD_CONFIG, endpoint overrides).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE"] = "1"
    env.update(extra)
    return env


def missing_dependencies():
    with open(os.path.join(JS_DIR, "package.json")) as f:
        deps = json.load(f).get("dependencies", {})
    return [name for name in deps
            if not os.path.isfile(os.path.join(JS_DIR, "node_modules", name, "package.json"))]


class JsSdkTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("node", "npm"):
            if shutil.which(tool) is None:
                raise AssertionError("%s is not on PATH; the JS SDK tests need Node.js 20+" % tool)
        if missing_dependencies():
            result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR,
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    timeout=600)
            if result.returncode != 0:
                raise AssertionError("npm ci in %s failed (exit %d):\n%s\n%s"
                                     % (JS_DIR, result.returncode, result.stdout[-3000:],
                                        result.stderr[-3000:]))
        still = missing_dependencies()
        if still:
            raise AssertionError("after npm ci, still missing in node_modules: %s" % still)

    def run_js(self, filename):
        with harness.OffcloudServer() as server:
            result = subprocess.run(["node", "--test", "--test-reporter=tap", filename],
                                    cwd=JS_DIR, stdin=subprocess.DEVNULL, capture_output=True,
                                    text=True, env=node_env({"OFFCLOUD_ENDPOINT": server.endpoint}),
                                    timeout=180)
            output = result.stdout + result.stderr
            self.assertEqual(result.returncode, 0,
                             "node --test %s failed:\n%s" % (filename, output[-8000:]))
            # Guards against a runner that found no test and passed vacuously.
            self.assertRegex(output, r"# pass [1-9]", output[-3000:])
            server.stop()

    def test_found_js_tests(self):
        self.assertIn("publish_v2.test.js", JS_TESTS)
        self.assertIn("s3_v3.test.js", JS_TESTS)
        self.assertIn("mqtt_ws.test.js", JS_TESTS)


def require_browser():
    """Debian's Chromium and node_modules, for the browser walks."""
    if not os.access(CHROMIUM, os.X_OK):
        raise AssertionError("%s is missing: scripts/setup --test installs Debian's chromium"
                             % CHROMIUM)
    JsSdkTests.setUpClass()  # npm ci when node_modules lacks a dependency


class S3BrowserTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_browser()

    def test_cors_and_post_from_a_browser(self):
        # js/s3_browser.mjs: PutObject/GetObject under a bucket's CORS rule,
        # the preflight refused (403) without one, createPresignedPost's
        # form posted with a File (201, EntityTooLarge, an expired policy).
        with harness.OffcloudServer() as server:
            result = subprocess.run(["node", "s3_browser.mjs"], cwd=JS_DIR, stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True, timeout=180,
                                    env=node_env({"OFFCLOUD_ENDPOINT": server.endpoint,
                                                  "CHROMIUM": CHROMIUM}))
            output = result.stdout + result.stderr
            self.assertEqual(result.returncode, 0, "s3_browser.mjs failed:\n%s\nstderr tail:\n%s"
                             % (output[-8000:], harness._tail(server.stderr_path)))
            self.assertIn("s3 browser: ok", output)
            server.stop()


def _add_js_test(filename):
    name = "test_" + filename.replace(".test.js", "").replace(".", "_").replace("-", "_")
    setattr(JsSdkTests, name, lambda self: self.run_js(filename))


for _filename in JS_TESTS:
    _add_js_test(_filename)


if __name__ == "__main__":
    unittest.main(verbosity=2)
