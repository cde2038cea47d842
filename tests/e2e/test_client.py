"""End-to-end tests of the device tools in client/: offcloud-publish and
offcloud-loadgen (its HTTP and its MQTT workloads) against the real offcloud
binary, checked with boto3.

Run: OFFCLOUD_BIN=build/bin/offcloud OFFCLOUD_PUBLISH=build/bin/offcloud-publish \
     OFFCLOUD_LOADGEN=build/bin/offcloud-loadgen python3 tests/e2e/test_client.py -v
"""

import http.server
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BIN_DIR = os.path.join(harness.REPO_ROOT, "build", "bin")
PUBLISH = os.environ.get("OFFCLOUD_PUBLISH", os.path.join(BIN_DIR, "offcloud-publish"))
LOADGEN = os.environ.get("OFFCLOUD_LOADGEN", os.path.join(BIN_DIR, "offcloud-loadgen"))

# offcloud-publish's exit statuses.
EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 1, 2, 3

STUDENT_KEY, STUDENT_SECRET = "AKIASTUDENT1EXAMPLE", "student1-secret"


def unique_topic(name):
    return "e2e/client/%s-%s" % (name, uuid.uuid4().hex[:8])


def tool_env(server, **extra):
    """The tools see only what the test gives them, as the aws CLI does in
    harness.aws(): the root key and the server's endpoint."""
    env = harness._isolated_aws_env()
    env.update({"AWS_ACCESS_KEY_ID": harness.ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": harness.SECRET_KEY,
                "AWS_REGION": harness.REGION,
                "AWS_ENDPOINT_URL": server.endpoint})
    env.update(extra)
    return env


def run(args, env, stdin_text=None, timeout=120):
    return subprocess.run(args, input=stdin_text, capture_output=True, text=True, env=env,
                          timeout=timeout)


def publish_lines(stderr_text):
    """The client address of each Publish the server logged."""
    return re.findall(r" INFO (\S+) iotdata Publish 200 ", stderr_text)


class ClientCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in (PUBLISH, LOADGEN):
            if not os.access(tool, os.X_OK):
                raise unittest.SkipTest("%s not built (set OFFCLOUD_PUBLISH/OFFCLOUD_LOADGEN)"
                                        % tool)
        cls.config_dir = tempfile.mkdtemp(prefix="offcloud-client-e2e-")
        config = os.path.join(cls.config_dir, "offcloud.json")
        with open(config, "w") as f:
            json.dump({"users": [{"name": "student1", "access_keys": [
                {"access_key_id": STUDENT_KEY, "secret_access_key": STUDENT_SECRET}]}]}, f)
        cls.server = harness.OffcloudServer(args=["--config", config])
        cls.server.__enter__()
        cls.iot = cls.server.boto3_client("iot-data")
        cls.s3 = cls.server.boto3_client("s3")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.__exit__(None, None, None)
            shutil.rmtree(cls.config_dir, ignore_errors=True)

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code,
                         "stdout=%r stderr=%r" % (result.stdout, result.stderr))

    def retained(self, topic):
        return self.iot.get_retained_message(topic=topic)


class PublishTests(ClientCase):
    def test_publishes_an_argument(self):
        topic = unique_topic("arg")
        payload = json.dumps({"face_id": 0, "Smile": True, "text": "ü"})
        result = run([PUBLISH, "--topic", topic, "--qos", "1", "--retain", payload],
                     tool_env(self.server))
        self.assertExit(result, 0)
        got = self.retained(topic)
        self.assertEqual(got["payload"], payload.encode("utf-8"))
        self.assertEqual(got["qos"], 1)

    def test_handson_topic_with_explicit_endpoint_and_region(self):
        env = tool_env(self.server)
        del env["AWS_ENDPOINT_URL"], env["AWS_REGION"]
        result = run([PUBLISH, "--endpoint", self.server.endpoint, "--region", "ap-northeast-1",
                      "--topic", "handson/analysisLogData", '{"face_id": 0}'], env)
        self.assertExit(result, 0)

    def test_publishes_a_file_byte_for_byte(self):
        topic = unique_topic("file")
        payload = bytes(range(256)) * 4
        path = os.path.join(self.config_dir, "payload.bin")
        with open(path, "wb") as f:
            f.write(payload)
        result = run([PUBLISH, "--topic", topic, "--retain", "--file", path],
                     tool_env(self.server))
        self.assertExit(result, 0)
        self.assertEqual(self.retained(topic)["payload"], payload)

    def test_key_profile_and_endpoint_from_the_aws_files(self):
        # A student's machine: no AWS_* variables, a profile in
        # ~/.aws/credentials and the endpoint in ~/.aws/config.
        home = tempfile.mkdtemp(prefix="home-", dir=self.config_dir)
        os.makedirs(os.path.join(home, ".aws"))
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = nobody\naws_secret_access_key = x\n"
                    "[student1]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (STUDENT_KEY, STUDENT_SECRET))
        with open(os.path.join(home, ".aws", "config"), "w") as f:
            f.write("[profile student1]\nregion = ap-northeast-1\nendpoint_url = %s\n"
                    % self.server.endpoint)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"HOME": home, "AWS_PROFILE": "student1"})
        topic = unique_topic("profile")
        self.assertExit(run([PUBLISH, "--topic", topic, "--retain", "hi"], env), 0)
        self.assertEqual(self.retained(topic)["payload"], b"hi")
        # The default profile's key is unknown to the server.
        del env["AWS_PROFILE"]
        result = run([PUBLISH, "--endpoint", self.server.endpoint, "--topic", topic, "hi"], env)
        self.assertExit(result, EXIT_REFUSED)
        self.assertIn("UnrecognizedClientException", result.stderr)

    def test_wrong_secret_is_refused_with_the_servers_error(self):
        result = run([PUBLISH, "--topic", unique_topic("bad"), "x"],
                     tool_env(self.server, AWS_SECRET_ACCESS_KEY="not-the-secret"))
        self.assertExit(result, EXIT_REFUSED)
        self.assertIn("InvalidSignatureException", result.stderr)
        self.assertIn("AWS_SECRET_ACCESS_KEY", result.stderr)

    def test_unknown_key_is_refused_with_the_servers_error(self):
        result = run([PUBLISH, "--topic", unique_topic("bad"), "x"],
                     tool_env(self.server, AWS_ACCESS_KEY_ID="AKIANOBODY"))
        self.assertExit(result, EXIT_REFUSED)
        self.assertIn("UnrecognizedClientException", result.stderr)
        self.assertIn("AKIANOBODY", result.stderr)

    def test_reserved_topic_is_refused(self):
        result = run([PUBLISH, "--topic", "$aws/forbidden/topic", "x"], tool_env(self.server))
        self.assertExit(result, EXIT_REFUSED)
        self.assertIn("InvalidRequestException", result.stderr)
        self.assertIn("reserved", result.stderr)

    def test_bad_usage(self):
        result = run([PUBLISH, '{"no": "topic"}'], tool_env(self.server))
        self.assertExit(result, EXIT_USAGE)
        self.assertIn("--topic is required", result.stderr)
        result = run([PUBLISH, "--topic", "t", "--qos", "2", "x"], tool_env(self.server))
        self.assertExit(result, EXIT_USAGE)
        self.assertExit(run([PUBLISH, "--help"], tool_env(self.server)), 0)

    def test_missing_credentials(self):
        env = tool_env(self.server)
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        result = run([PUBLISH, "--topic", "t", "x"], env)
        self.assertExit(result, 4)
        self.assertIn("no AWS credentials", result.stderr)

    def test_stopped_server(self):
        with harness.OffcloudServer() as stopped:
            endpoint = stopped.endpoint
            stopped.stop()
        result = run([PUBLISH, "--endpoint", endpoint, "--topic", "t", "x"],
                     tool_env(self.server))
        self.assertExit(result, EXIT_UNREACHABLE)
        self.assertIn("Connection refused", result.stderr)
        self.assertIn(endpoint, result.stderr)


class ForbiddenTopicTests(unittest.TestCase):
    """A device key whose IAM policy allows publishing under allowed/ only."""

    def test_topic_outside_the_policy_is_forbidden(self):
        config_dir = tempfile.mkdtemp(prefix="offcloud-client-e2e-")
        config = os.path.join(config_dir, "offcloud.json")
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "iot:Publish",
            "Resource": "arn:aws:iot:*:*:topic/allowed/*"}]}
        with open(config, "w") as f:
            json.dump({"users": [{"name": "device", "access_keys": [
                {"access_key_id": "AKIADEVICEEXAMPLE", "secret_access_key": "device-secret"}],
                "policies": [{"name": "allowed-only", "document": policy}]}]}, f)
        with harness.OffcloudServer(data_dir=config_dir, args=["--config", config]) as server:
            env = tool_env(server, AWS_ACCESS_KEY_ID="AKIADEVICEEXAMPLE",
                           AWS_SECRET_ACCESS_KEY="device-secret")
            result = run([PUBLISH, "--topic", "allowed/sensor", "x"], env)
            self.assertEqual(result.returncode, 0, result.stderr)
            result = run([PUBLISH, "--topic", "other/sensor", "x"], env)
            self.assertEqual(result.returncode, EXIT_REFUSED, result.stderr)
            self.assertIn("ForbiddenException", result.stderr)
            self.assertIn("may not publish to this topic", result.stderr)
            server.stop()
        shutil.rmtree(config_dir, ignore_errors=True)


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every POST with 200 {} and notes what arrived on which
    connection (its client port)."""
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.seen.append((self.client_address[1], self.path,
                                 self.headers.get("Authorization", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class TlsTests(unittest.TestCase):
    """https endpoints: a self-signed server is refused unless trusted through
    AWS_CA_BUNDLE or --no-verify-ssl, and lines still share one connection."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which("openssl"):
            raise unittest.SkipTest("needs the openssl command")
        cls.dir = tempfile.mkdtemp(prefix="offcloud-client-tls-")
        cls.cert = os.path.join(cls.dir, "cert.pem")
        key = os.path.join(cls.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                        "-keyout", key, "-out", cls.cert], check=True, capture_output=True)
        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
        cls.httpd.seen = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cls.cert, key)
        cls.httpd.socket = context.wrap_socket(cls.httpd.socket, server_side=True)
        cls.thread = threading.Thread(target=cls.httpd.serve_forever, daemon=True)
        cls.thread.start()
        cls.endpoint = "https://localhost:%d" % cls.httpd.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.httpd.shutdown()
        cls.httpd.server_close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def env(self, **extra):
        env = harness._isolated_aws_env()
        env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_ENDPOINT_URL": self.endpoint})
        env.update(extra)
        return env

    def test_untrusted_certificate_is_refused(self):
        result = run([PUBLISH, "--topic", "t", "x"], self.env())
        self.assertEqual(result.returncode, EXIT_UNREACHABLE, result.stderr)
        self.assertIn("certificate", result.stderr)

    def test_ca_bundle_trusts_it_and_lines_share_one_connection(self):
        self.httpd.seen.clear()
        result = run([PUBLISH, "--topic", "tls/topic"], self.env(AWS_CA_BUNDLE=self.cert),
                     stdin_text="one\ntwo\nthree\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([body for _, _, _, body in self.httpd.seen], [b"one", b"two", b"three"])
        self.assertEqual({path for _, path, _, _ in self.httpd.seen}, {"/topics/tls%2Ftopic?qos=0"})
        self.assertTrue(all(a.startswith("AWS4-HMAC-SHA256 Credential=test/")
                            for _, _, a, _ in self.httpd.seen))
        self.assertEqual(len({port for port, _, _, _ in self.httpd.seen}), 1)

    def test_no_verify_ssl(self):
        result = run([PUBLISH, "--no-verify-ssl", "--topic", "t", "x"], self.env())
        self.assertEqual(result.returncode, 0, result.stderr)


class StdinTests(unittest.TestCase):
    """Its own server, so its log holds only this test's publishes."""

    def test_ten_thousand_lines_over_one_connection(self):
        count = 10000
        topic = unique_topic("stdin")
        lines = "".join(json.dumps({"seq": i}) + "\n" for i in range(count))
        with harness.OffcloudServer() as server:
            result = run([PUBLISH, "--topic", topic, "--retain"], tool_env(server),
                         stdin_text=lines, timeout=240)
            self.assertEqual(result.returncode, 0, result.stderr)
            got = server.boto3_client("iot-data").get_retained_message(topic=topic)
            self.assertEqual(json.loads(got["payload"]), {"seq": count - 1})
            clients = publish_lines(server.stderr_text())
            self.assertEqual(len(clients), count, server.stderr_tail())
            self.assertEqual(len(set(clients)), 1, "more than one connection: %s"
                             % sorted(set(clients))[:10])
            server.stop()


class LoadgenTests(ClientCase):
    REQUESTS = 300

    def loadgen(self, *args, env=None):
        result = run([LOADGEN, "--json"] + list(args), env or tool_env(self.server), timeout=240)
        lines = result.stdout.strip().splitlines()
        self.assertTrue(lines, "no output; stderr=%r" % result.stderr)
        return result, json.loads(lines[-1])

    def check_all_ok(self, workload, *args):
        result, report = self.loadgen("--workload", workload, "--concurrency", "4",
                                      "--requests", str(self.REQUESTS), *args)
        self.assertExit(result, 0)
        self.assertEqual(report["requests"], self.REQUESTS, report)
        self.assertEqual(report["ok_2xx"], self.REQUESTS, report)
        self.assertEqual(report["non_2xx"] + report["no_response"], 0, report)
        self.assertGreater(report["requests_per_s"], 0, report)
        self.assertLessEqual(report["p50_ms"], report["p90_ms"])
        self.assertLessEqual(report["p90_ms"], report["p99_ms"])
        return report

    def test_iot_publish(self):
        before = len(publish_lines(self.server.stderr_text()))
        self.check_all_ok("iot", "--topic", unique_topic("loadgen"), "--qos", "1")
        clients = publish_lines(self.server.stderr_text())[before:]
        self.assertEqual(len(clients), self.REQUESTS)
        # Four threads, each on its own kept-alive connection.
        self.assertEqual(len(set(clients)), 4, sorted(set(clients)))

    def test_firehose_put_record_batch(self):
        report = self.check_all_ok("firehose", "--stream", "loadgen-e2e", "--bucket",
                                   "loadgen-firehose-e2e", "--batch", "5")
        self.assertEqual(report["failed_records"], 0)
        firehose = self.server.boto3_client("firehose")
        stream = firehose.describe_delivery_stream(DeliveryStreamName="loadgen-e2e")
        self.assertEqual(stream["DeliveryStreamDescription"]["DeliveryStreamStatus"], "ACTIVE")

    def test_s3_put_then_get(self):
        bucket = "loadgen-s3-e2e"
        self.check_all_ok("s3-put", "--bucket", bucket, "--size", "4096")
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                      Prefix="loadgen/"):
            keys += [o["Key"] for o in page.get("Contents", []) if o["Size"] == 4096]
        self.assertEqual(len(keys), self.REQUESTS)
        self.check_all_ok("s3-get", "--bucket", bucket, "--size", "1000")
        body = self.s3.get_object(Bucket=bucket, Key="loadgen/object")["Body"].read()
        self.assertEqual(len(body), 1000)

    def test_time_bound(self):
        result, report = self.loadgen("--workload", "iot", "--concurrency", "2",
                                      "--duration", "1")
        self.assertExit(result, 0)
        self.assertGreater(report["requests"], 0)
        self.assertGreaterEqual(report["seconds"], 1.0)
        self.assertEqual(report["ok_2xx"], report["requests"])

    def test_refusals_are_counted_and_fail_the_run(self):
        env = tool_env(self.server, AWS_SECRET_ACCESS_KEY="not-the-secret")
        result, report = self.loadgen("--workload", "iot", "--requests", "20", env=env)
        self.assertExit(result, 1)
        self.assertEqual(report["ok_2xx"], 0)
        self.assertEqual(report["non_2xx"], 20)
        self.assertEqual(list(report["errors"].values()), [20])
        self.assertIn("InvalidSignatureException", list(report["errors"])[0])

    def test_human_output_has_no_progress_line_when_piped(self):
        result = run([LOADGEN, "--workload", "iot", "--requests", "50"], tool_env(self.server))
        self.assertExit(result, 0)
        self.assertIn("requests/s: ", result.stdout)
        self.assertRegex(result.stdout, r"latency ms: p50 [\d.]+  p90 [\d.]+  p99 [\d.]+")
        self.assertIn("2xx: 50 ", result.stdout)
        self.assertNotIn("\r", result.stdout)


class MqttLoadgenTests(unittest.TestCase):
    """offcloud-loadgen's MQTT workloads, short and count-bound, against
    offcloud's plain MQTT port and its mutual TLS port: what bench/bench.py's
    MQTT rows run."""

    @classmethod
    def setUpClass(cls):
        if not os.access(LOADGEN, os.X_OK):
            raise unittest.SkipTest("%s not built (set OFFCLOUD_LOADGEN)" % LOADGEN)
        cls.server = harness.OffcloudServer(args=["--mqtt-port", "0", "--mqtt-tls-port", "0"])
        cls.server.__enter__()
        deadline = time.monotonic() + 10
        cls.endpoint = cls.tls_endpoint = None
        while (cls.endpoint is None or cls.tls_endpoint is None) and time.monotonic() < deadline:
            for line in list(cls.server.extra_stdout):
                m = re.match(r"offcloud mqtt listening on (mqtts?)(://\S+)", line)
                if m and m.group(1) == "mqtt":
                    cls.endpoint = m.group(1) + m.group(2)
                elif m:
                    cls.tls_endpoint = m.group(1) + m.group(2)
            time.sleep(0.02)
        if cls.endpoint is None or cls.tls_endpoint is None:
            cls.server.__exit__(None, None, None)
            raise AssertionError("no mqtt listening lines: %r" % cls.server.extra_stdout)
        cls.tls = None

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.__exit__(None, None, None)

    def loadgen(self, *args, secret=harness.SECRET_KEY, tls=None):
        """`tls`: over the TLS port with (CA, certificate, key) files."""
        env = tool_env(self.server, AWS_SECRET_ACCESS_KEY=secret)
        argv = [LOADGEN, "--endpoint", self.endpoint, "--json"]
        if tls:
            argv = [LOADGEN, "--endpoint", self.tls_endpoint, "--json", "--ca", tls[0],
                    "--cert", tls[1], "--key", tls[2]]
        result = run(argv + list(args), env, timeout=120)
        lines = result.stdout.strip().splitlines()
        self.assertTrue(lines, "no output; stderr=%r" % result.stderr)
        return result, [json.loads(line) for line in lines]

    def device(self, name, policy=True):
        """A device certificate's (CA, certificate, key) files; with `policy`
        one allowing iot:* on * is attached."""
        iot = self.server.boto3_client("iot")
        made = iot.create_keys_and_certificate(setAsActive=True)
        if policy:
            try:
                iot.create_policy(policyName="loadgen-all", policyDocument=json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}))
            except iot.exceptions.ResourceAlreadyExistsException:
                pass
            iot.attach_policy(policyName="loadgen-all", target=made["certificateArn"])
        directory = os.path.join(self.server.data_dir, "loadgen-" + name)
        os.makedirs(directory, exist_ok=True)
        files = (os.path.join(self.server.data_dir, "ca", "ca.pem"),
                 os.path.join(directory, "device.pem"), os.path.join(directory, "device.key"))
        with open(files[1], "w") as f:
            f.write(made["certificatePem"])
        with open(files[2], "w") as f:
            f.write(made["keyPair"]["PrivateKey"])
        return files

    def check_fan(self, workload, qos, publishers, subscribers, messages, *extra, tls=None):
        result, (report,) = self.loadgen(
            "--workload", workload, "--qos", str(qos), "--publishers", str(publishers),
            "--subscribers", str(subscribers), "--messages", str(messages), "--duration", "30",
            *extra, tls=tls)
        self.assertEqual(result.returncode, 0, (report, result.stderr))
        self.assertEqual(report["published"], publishers * messages, report)
        self.assertEqual(report["delivered"], publishers * messages * subscribers, report)
        self.assertEqual(report["lost"], 0, report)
        self.assertEqual(report["out_of_order"], 0, report)
        self.assertEqual(report["connect_failures"] + report["dropped"], 0, report)
        self.assertGreater(report["delivered_per_s"], 0, report)
        self.assertLessEqual(report["p50_ms"], report["p99_ms"], report)
        return report

    def test_fan_in_qos1_every_message_delivered_once(self):
        self.check_fan("mqtt-fan-in", 1, 8, 2, 250, "--inflight", "4", "--max-lag", "16")

    def test_fan_out_qos0(self):
        self.check_fan("mqtt-fan-out", 0, 1, 10, 300, "--size", "100")

    def test_idle_connections_hold_then_report(self):
        result, (holding, report) = self.loadgen("--workload", "mqtt-idle", "--connections",
                                                 "200", "--duration", "0.5")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(holding["event"], "holding")
        self.assertEqual(holding["connected"], 200)
        self.assertEqual((report["connected"], report["failed"], report["dropped"]), (200, 0, 0))
        self.assertGreaterEqual(report["held_seconds"], 0.5)

    def test_connect_storm(self):
        result, (report,) = self.loadgen("--workload", "mqtt-connect", "--connections", "200")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(report["connected"], 200, report)
        self.assertGreater(report["p99_ms"], 0)
        self.assertLessEqual(report["p50_ms"], report["p99_ms"])

    def test_refused_connect_fails_the_run(self):
        result, (report,) = self.loadgen("--workload", "mqtt-fan-in", "--publishers", "2",
                                         "--messages", "10", secret="not-the-secret")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(report["connect_failures"], 3, report)
        self.assertEqual(report["delivered"], 0)
        self.assertEqual(list(report["errors"]), ["CONNACK return code 4"])

    def test_tls_fan_in_qos1_and_fan_out_qos0_with_one_certificate(self):
        tls = self.device("fan")
        report = self.check_fan("mqtt-fan-in", 1, 6, 2, 200, "--inflight", "4", "--max-lag",
                                "16", tls=tls)
        self.assertEqual(report["transport"], "tls")
        report = self.check_fan("mqtt-fan-out", 0, 1, 8, 200, "--size", "100", tls=tls)
        self.assertEqual(report["transport"], "tls")

    def test_tls_connect_storm(self):
        result, (report,) = self.loadgen("--workload", "mqtt-connect", "--connections", "50",
                                         tls=self.device("storm"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual((report["transport"], report["connected"]), ("tls", 50), report)
        self.assertLessEqual(report["p50_ms"], report["p99_ms"])

    def test_tls_failures_fail_the_run(self):
        ca, cert, key = self.device("refused", policy=False)
        # No policy: offcloud refuses CONNECT (iot:Connect).
        result, (report,) = self.loadgen("--workload", "mqtt-fan-in", "--publishers", "2",
                                         "--messages", "10", tls=(ca, cert, key))
        self.assertEqual(result.returncode, 1)
        self.assertEqual(report["connect_failures"], 3, report)
        self.assertEqual(report["delivered"], 0)
        self.assertEqual(list(report["errors"]), ["CONNACK return code 5"])
        # A CA that did not sign the server's certificate: the handshake fails.
        result, (report,) = self.loadgen("--workload", "mqtt-connect", "--connections", "2",
                                         tls=(cert, cert, key))
        self.assertEqual(result.returncode, 1)
        self.assertEqual(report["connected"], 0, report)
        self.assertEqual(list(report["errors"]), [
            "handshake: certificate verify failed (SSL routines)"])
        # mqtts:// without the files is a usage error.
        result = run([LOADGEN, "--workload", "mqtt-connect", "--endpoint", self.tls_endpoint],
                     tool_env(self.server))
        self.assertEqual(result.returncode, 2)
        self.assertIn("--ca", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
