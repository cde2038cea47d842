"""The web console in a real browser: Debian's Chromium, headless, driven by
playwright-core from npm (js/console_walk.mjs; it downloads no browser),
against the real offcloud with --firehose-max-interval 2. The walk does the
hands-on through the console only and fails on any request to another host.
Also checks how the console is served (types, ETags, the redirect from /,
a signed GET / still ListBuckets) without a browser.

A second walk (js/console_forms.mjs) checks the forms added later, the
keyboard, and measures the issue's performance targets.

Screenshots go to $OFFCLOUD_ARTIFACTS, else build/test-artifacts/console/.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_console.py -v
"""

import http.client
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_js_sdk  # noqa: E402

JS_DIR = test_js_sdk.JS_DIR
CHROMIUM = test_js_sdk.CHROMIUM
ARTIFACTS = os.environ.get("OFFCLOUD_ARTIFACTS") or os.path.join(
    os.path.dirname(os.path.dirname(harness.offcloud_bin())), "test-artifacts", "console")
CONSOLE_DIR = os.path.join(harness.REPO_ROOT, "console")


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def mqtt_port(server):
    """The plain MQTT port (--mqtt-port 0) from the server's listening lines."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in list(server.extra_stdout):
            m = re.match(r"^offcloud mqtt listening on mqtt://127\.0\.0\.1:(\d+)$", line.strip())
            if m:
                return int(m.group(1))
        time.sleep(0.02)
    raise AssertionError("no mqtt listening line: %r" % server.extra_stdout)


class ConsoleServingTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.OffcloudServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_root_without_credentials_redirects(self):
        status, headers, _ = get(self.server.port, "/")
        self.assertIn(status, (302, 307))
        self.assertEqual(headers["Location"], "/_offcloud/console/")

    def test_signed_root_stays_list_buckets(self):
        s3 = harness.boto3.client("s3", endpoint_url=self.server.endpoint,
                                  aws_access_key_id="test", aws_secret_access_key="test",
                                  region_name="us-east-1")
        self.assertIn("Buckets", s3.list_buckets())
        # A presigned ListBuckets is not redirected either.
        url = s3.generate_presigned_url("list_buckets", ExpiresIn=60)
        status, _, body = get(self.server.port, url[len(self.server.endpoint):])
        self.assertEqual(status, 200, body)
        self.assertIn(b"ListAllMyBucketsResult", body)

    def test_assets_types_etags(self):
        status, headers, body = get(self.server.port, "/_offcloud/console/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'self'", headers["Content-Security-Policy"])
        with open(os.path.join(CONSOLE_DIR, "index.html"), "rb") as f:
            self.assertEqual(body, f.read())
        status, headers, body = get(self.server.port, "/_offcloud/console/js/sigv4.js")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/javascript; charset=utf-8")
        self.assertEqual(headers["Cache-Control"], "no-cache")
        status, again, body = get(self.server.port, "/_offcloud/console/js/sigv4.js",
                                  {"If-None-Match": headers["ETag"]})
        self.assertEqual(status, 304)
        self.assertEqual(body, b"")
        self.assertEqual(get(self.server.port, "/_offcloud/console/css/console.css")[1]["Content-Type"],
                         "text/css; charset=utf-8")
        self.assertEqual(get(self.server.port, "/_offcloud/console/nope.js")[0], 404)
        self.assertEqual(get(self.server.port, "/_offcloud/console")[0], 301)

    def test_every_file_is_served_and_small(self):
        total = 0
        for dirpath, _, filenames in os.walk(CONSOLE_DIR):
            for name in filenames:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, CONSOLE_DIR).replace(os.sep, "/")
                status, _, body = get(self.server.port, "/_offcloud/console/" + rel)
                self.assertEqual(status, 200, rel)
                with open(path, "rb") as f:
                    self.assertEqual(body, f.read(), rel)
                total += len(body)
        self.assertLess(total, 300 * 1024, "every asset together must stay under 300 KiB")


class ConsoleBrowserTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        test_js_sdk.require_browser()

    def walk(self, script, name, max_interval):
        """Runs js/<script> against a fresh offcloud whose Firehose intervals
        are capped at `max_interval` s; returns its output."""
        os.makedirs(ARTIFACTS, exist_ok=True)
        with harness.OffcloudServer(args=["--firehose-max-interval", str(max_interval),
                                          "--mqtt-port", "0"]) as server:
            result = subprocess.run(
                ["node", script], cwd=JS_DIR, stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=240,
                env=test_js_sdk.node_env({"OFFCLOUD_ENDPOINT": server.endpoint,
                                          "OFFCLOUD_MQTT_PORT": str(mqtt_port(server)),
                                          "OFFCLOUD_ARTIFACTS": ARTIFACTS,
                                          "CHROMIUM": CHROMIUM}))
            output = result.stdout + result.stderr
            self.assertEqual(result.returncode, 0,
                             "%s failed (screenshots in %s):\n%s\nstderr tail:\n%s"
                             % (name, ARTIFACTS, output[-8000:], harness._tail(server.stderr_path)))
            self.assertIn("%s: ok" % name, output)
            server.stop()
        return output

    def test_hands_on_through_the_console(self):
        self.walk("console_walk.mjs", "console walk", 2)

    def test_overview_and_live_activity(self):
        # js/console_overview.mjs: the Overview's picture of the hands-on's
        # flow with live counts, and Activity following the live feed.
        self.walk("console_overview.mjs", "console overview", 2)

    def test_forms_keyboard_and_speed(self):
        # js/console_forms.mjs: updating a stream, the SQL checked as typed,
        # retained messages, the keyboard, the countdown (capped at 4 s so
        # that it visibly runs), and the performance targets,
        # measured and printed ("#   measured: ...").
        output = self.walk("console_forms.mjs", "console forms", 4)
        for line in output.splitlines():
            if "measured:" in line:
                print(line, file=sys.stderr)

if __name__ == "__main__":
    unittest.main(verbosity=2)
