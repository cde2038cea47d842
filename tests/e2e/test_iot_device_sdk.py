"""The AWS IoT Device SDK v2 for JavaScript (npm aws-iot-device-sdk-v2 on the
native aws-crt, pinned in js/package-lock.json) against the real binary:
js/iot_device_sdk.test.js connects as a device connects to AWS IoT Core, over
MQTT with mutual TLS (a certificate from CreateKeysAndCertificate, attached to
a thing and an IoT policy, trusting GET /_offcloud/ca.pem) and over MQTT over
WebSocket signed with SigV4 (wss on the https port, ws on the main port), with
the SDK's MQTT 3.1.1 and MQTT 5 clients.

This file starts the server with its TLS ports, hands their numbers to the
script (OFFCLOUD_ENDPOINT, OFFCLOUD_MQTTS_PORT, OFFCLOUD_HTTPS_PORT,
OFFCLOUD_REGION), and requires every test in it to run and pass: none skipped.

Installs js/node_modules from the committed package-lock.json (npm ci) when a
dependency is missing, as test_js_sdk.py does.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_iot_device_sdk.py -v
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_js_sdk import JS_DIR, missing_dependencies, node_env  # noqa: E402

REGION = "ap-northeast-1"
SCRIPT = "iot_device_sdk.test.js"
# The tests in SCRIPT: all must pass, none may be skipped.
EXPECTED_TESTS = 8
NODE_TIMEOUT_S = 240
LINE = re.compile(r"^offcloud (https|mqtt) listening on (https|mqtts)://127\.0\.0\.1:(\d+)\n$")


def ensure_node_modules():
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise AssertionError("%s is not on PATH; the IoT Device SDK tests need Node.js 20+"
                                 % tool)
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
    # The native addon ships in the aws-crt tarball; nothing may have to be
    # built or downloaded for it.
    addon = os.path.join(JS_DIR, "node_modules", "aws-crt", "dist", "bin")
    if not os.path.isdir(addon) or not any(
            os.path.isfile(os.path.join(addon, d, "aws-crt-nodejs.node"))
            for d in os.listdir(addon)):
        raise AssertionError("aws-crt ships no native addon in %s" % addon)


def start_server():
    server = harness.OffcloudServer(args=("--mqtt-tls-port", "0", "--tls-port", "0",
                                          "--region", REGION))
    server.start()
    ports = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(ports) < 2:
        for line in list(server.extra_stdout):
            m = LINE.match(line)
            if m:
                ports[m.group(2)] = int(m.group(3))
        time.sleep(0.02)
    if len(ports) < 2:
        server.cleanup()
        raise AssertionError("listening lines for https and mqtts missing: %r"
                             % server.extra_stdout)
    server.https_port, server.mqtts_port = ports["https"], ports["mqtts"]
    return server


def run_node(args, env, timeout):
    """Runs node in its own process group; on timeout, kills that group (node
    --test and the child it runs the file in) by its id and fails."""
    proc = subprocess.Popen(["node"] + args, cwd=JS_DIR, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
        raise AssertionError("node %s did not finish within %d s:\n%s\n%s"
                             % (" ".join(args), timeout, out[-6000:], err[-3000:]))
    return proc.returncode, out, err


class IotDeviceSdkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ensure_node_modules()

    def test_device_sdk_over_mtls_and_websocket(self):
        server = start_server()
        self.addCleanup(server.cleanup)
        code, out, err = run_node(
            ["--test", "--test-reporter=tap", SCRIPT],
            node_env({"OFFCLOUD_ENDPOINT": server.endpoint,
                      "OFFCLOUD_MQTTS_PORT": str(server.mqtts_port),
                      "OFFCLOUD_HTTPS_PORT": str(server.https_port),
                      "OFFCLOUD_REGION": REGION}),
            NODE_TIMEOUT_S)
        output = out + err
        report = "node %s (exit %d):\n%s\n--- offcloud stderr tail ---\n%s" % (
            SCRIPT, code, output[-12000:], server.stderr_tail(3000))
        self.assertEqual(code, 0, report)
        counts = {name: int(n) for name, n in re.findall(
            r"^# (tests|pass|fail|skipped|todo|cancelled) (\d+)$", out, re.M)}
        self.assertEqual(counts.get("tests"), EXPECTED_TESTS, report)
        self.assertEqual(counts.get("pass"), EXPECTED_TESTS, report)
        self.assertEqual(counts.get("fail"), 0, report)
        self.assertEqual(counts.get("skipped"), 0, report)
        self.assertEqual(counts.get("cancelled"), 0, report)
        # The script did what it says on the server: the things exist with
        # their certificates.
        iot = server.boto3_client("iot", region=REGION)
        for thing in ("sdk-v3-thing", "sdk-v5-thing"):
            principals = iot.list_thing_principals(thingName=thing)["principals"]
            self.assertEqual(len(principals), 1, principals)
        server.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
