"""MQTT over mutual TLS and HTTPS, against the real binary: devices holding a
certificate from CreateKeysAndCertificate connect as they connect to AWS IoT
Core's port 8883, trusting offcloud's local CA (GET /_offcloud/ca.pem) where
AWS's instructions say AmazonRootCA1.pem; the IoT policies attached to the
certificate decide, with AWS's policy variables. Clients: Paho (Debian's
python3-paho-mqtt), mosquitto_pub/_sub, boto3 over https.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_mqtt_tls.py -v
"""

import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_mqtt import REGION, Client, presigned_mqtt_path, paho  # noqa: E402

LINE = re.compile(r"^offcloud (https|mqtt) listening on (https|mqtts|mqtt)://127\.0\.0\.1:(\d+)\n$")
ACCOUNT = "000000000000"


def thing_policy():
    """The policy AWS's own getting-started guide gives a thing: each device
    may use only its own client id and topics, by policy variables."""
    arn = "arn:aws:iot:%s:%s:" % (REGION, ACCOUNT)
    thing = "${iot:Connection.Thing.ThingName}"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": arn + "client/" + thing,
         "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": arn + "topic/things/" + thing + "/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": arn + "topicfilter/things/" + thing + "/*"}]})


def start(data_dir=None, extra=()):
    server = harness.OffcloudServer(data_dir=data_dir, args=(
        "--mqtt-tls-port", "0", "--tls-port", "0", "--mqtt-port", "0", "--region", REGION,
        "--hostname", "offcloud.example,192.0.2.7") + tuple(extra))
    server.start()
    ports = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(ports) < 3:
        for line in list(server.extra_stdout):
            m = LINE.match(line)
            if m:
                ports[m.group(2)] = int(m.group(3))
        time.sleep(0.02)
    if len(ports) < 3:
        server.kill()
        raise AssertionError("listening lines missing: %r" % server.extra_stdout)
    server.https_port, server.mqtts_port, server.mqtt_port = (
        ports["https"], ports["mqtts"], ports["mqtt"])
    return server


class MqttTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = start()
        cls.files = tempfile.mkdtemp(prefix="offcloud-tls-")
        cls.ca = os.path.join(cls.files, "ca.pem")
        with urllib.request.urlopen(cls.server.endpoint + "/_offcloud/ca.pem") as response:
            cls.ca_text = response.read().decode()
            cls.ca_type = response.headers["Content-Type"]
        with open(cls.ca, "w") as f:
            f.write(cls.ca_text)
        cls.iot = cls.server.boto3_client("iot", region=REGION)
        cls.iot.create_policy(policyName="thing-policy", policyDocument=thing_policy())

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def device(self, thing, attach_policy=True, active=True):
        """A certificate as `aws iot create-keys-and-certificate` makes it,
        written to files as a device keeps it, attached to `thing`."""
        made = self.iot.create_keys_and_certificate(setAsActive=active)
        cert = os.path.join(self.files, made["certificateId"] + ".pem")
        key = os.path.join(self.files, made["certificateId"] + ".key")
        with open(cert, "w") as f:
            f.write(made["certificatePem"])
        with open(key, "w") as f:
            f.write(made["keyPair"]["PrivateKey"])
        try:
            self.iot.create_thing(thingName=thing)
        except self.iot.exceptions.ResourceAlreadyExistsException:
            pass
        self.iot.attach_thing_principal(thingName=thing, principal=made["certificateArn"])
        if attach_policy:
            self.iot.attach_policy(policyName="thing-policy", target=made["certificateArn"])
        return made, cert, key

    def tls_client(self, client_id, cert, key, **kwargs):
        c = Client(self.server.mqtts_port, client_id, **kwargs)
        c.client.username_pw_set(None)
        c.client.tls_set(ca_certs=self.ca, certfile=cert, keyfile=key)
        self.addCleanup(c.stop)
        return c

    def test_the_ca_is_served_and_signs_every_certificate(self):
        self.assertIn("BEGIN CERTIFICATE", self.ca_text)
        self.assertEqual(self.ca_type, "application/x-pem-file")
        made, cert, _ = self.device("verify-me")
        result = subprocess.run(["openssl", "verify", "-CAfile", self.ca, cert],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        # The server's certificate names localhost, 127.0.0.1 and --hostname.
        pem = ssl.get_server_certificate(("127.0.0.1", self.server.mqtts_port))
        text = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"],
                              input=pem, capture_output=True, text=True).stdout
        for name in ("DNS:localhost", "IP Address:127.0.0.1", "DNS:offcloud.example",
                     "IP Address:192.0.2.7"):
            self.assertIn(name, text)

    def test_a_thing_connects_with_its_certificate_and_its_policy_decides(self):
        made, cert, key = self.device("sensor-1")
        watcher = Client(self.server.mqtt_port, "watcher")  # IAM root, plain port, same region
        self.addCleanup(watcher.stop)
        watcher.connect()
        watcher.subscribe("things/#")
        device = self.tls_client("sensor-1", cert, key, version=paho.MQTTv5)
        device.connect()
        self.assertEqual(device.subscribe("things/sensor-1/#")[0].value, 1)
        self.assertEqual(device.subscribe("things/sensor-2/#")[0].value, 135)  # not authorized
        device.client.publish("things/sensor-1/data", b'{"t": 21}', qos=1).wait_for_publish(5)
        self.assertEqual(device.next().payload, b'{"t": 21}')
        self.assertEqual(watcher.next().topic, "things/sensor-1/data")
        # A client id that is not the thing the certificate is attached to.
        other = self.tls_client("sensor-2", cert, key)
        _, rc = other.connect(expect_ok=False)
        self.assertEqual(rc, 5)
        # Another thing's topic: MQTT 5 gets PUBACK 0x87 and nothing goes out...
        device.client.publish("things/sensor-2/data", b"x", qos=1).wait_for_publish(5)
        watcher.nothing()
        device.stop()
        # ...and an MQTT 3.1.1 publisher is disconnected, as AWS does.
        v311 = self.tls_client("sensor-1", cert, key)
        v311.connect()
        v311.client.publish("things/sensor-2/data", b"x", qos=1)
        v311.disconnects.get(timeout=10)
        watcher.nothing()

    def test_mosquitto_clients_with_a_device_certificate(self):
        def tls(cert, key):
            return ["-h", "localhost", "-p", str(self.server.mqtts_port), "--cafile", self.ca,
                    "--cert", cert, "--key", key, "-q", "1"]
        _, cert1, key1 = self.device("mosq-1")
        _, cert2, key2 = self.device("mosq-2")
        watcher = Client(self.server.mqtt_port, "mosq-watcher")
        self.addCleanup(watcher.stop)
        watcher.connect()
        watcher.subscribe("things/mosq-2/#")
        sub = subprocess.Popen(["mosquitto_sub"] + tls(cert1, key1) +
                               ["-i", "mosq-1", "-t", "things/mosq-1/#", "-C", "1", "-W", "15"],
                               stdout=subprocess.PIPE, text=True)
        self.addCleanup(sub.kill)
        # A thing publishes to its own topics with its certificate...
        pub = subprocess.run(["mosquitto_pub"] + tls(cert2, key2) +
                             ["-i", "mosq-2", "-t", "things/mosq-2/x", "-m", "from-2"],
                             capture_output=True, text=True, timeout=15)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertEqual(watcher.next().payload, b"from-2")
        # ...and under no other client id.
        pub = subprocess.run(["mosquitto_pub"] + tls(cert2, key2) +
                             ["-i", "not-a-thing", "-t", "things/mosq-2/x", "-m", "no"],
                             capture_output=True, text=True, timeout=15)
        self.assertNotEqual(pub.returncode, 0)
        # The subscriber receives what the plain port's root key publishes.
        deadline = time.monotonic() + 10
        while sub.poll() is None and time.monotonic() < deadline:
            watcher.client.publish("things/mosq-1/x", b"hello", qos=1).wait_for_publish(5)
            time.sleep(0.3)
        out, _ = sub.communicate(timeout=20)
        self.assertEqual(out.strip(), "hello")

    def test_certificates_that_may_not_connect(self):
        # Inactive until UpdateCertificate says ACTIVE.
        made, cert, key = self.device("sleepy-1", active=False)
        c = self.tls_client("sleepy-1", cert, key)
        _, rc = c.connect(expect_ok=False)
        self.assertEqual(rc, 5)
        self.iot.update_certificate(certificateId=made["certificateId"], newStatus="ACTIVE")
        ok = self.tls_client("sleepy-1", cert, key)
        ok.connect()
        # A certificate IoT never registered, though signed by nobody we know.
        self_signed = os.path.join(self.files, "self.pem")
        self_key = os.path.join(self.files, "self.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        self_key, "-out", self_signed, "-subj", "/CN=stranger", "-days", "1"],
                       check=True, capture_output=True)
        stranger = self.tls_client("sleepy-1", self_signed, self_key)
        _, rc = stranger.connect(expect_ok=False)
        self.assertEqual(rc, 5)
        # No certificate at all: the handshake fails.
        context = ssl.create_default_context(cafile=self.ca)
        with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            import socket
            with socket.create_connection(("127.0.0.1", self.server.mqtts_port), timeout=5) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.sendall(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00")
                    if not tls.recv(4):
                        raise ConnectionResetError("closed")

    def test_detaching_the_policy_takes_effect(self):
        made, cert, key = self.device("detach-1")
        device = self.tls_client("detach-1", cert, key, version=paho.MQTTv5)
        device.connect()
        self.assertEqual(device.subscribe("things/detach-1/a")[0].value, 1)
        self.iot.detach_policy(policyName="thing-policy", target=made["certificateArn"])
        self.assertEqual(device.subscribe("things/detach-1/b")[0].value, 135)

    def test_rules_see_the_certificate_as_principal(self):
        made, cert, key = self.device("ruled-1")
        self.iot.create_topic_rule(ruleName="who", topicRulePayload={
            "sql": "SELECT principal() AS p, clientid() AS c FROM 'things/+/who'",
            "actions": [{"republish": {"topic": "things/ruled-1/said",
                                       "roleArn": "arn:aws:iam::000000000000:role/r"}}]})
        device = self.tls_client("ruled-1", cert, key)
        device.connect()
        device.subscribe("things/ruled-1/said")
        device.client.publish("things/ruled-1/who", b"{}", qos=1).wait_for_publish(5)
        said = json.loads(device.next().payload)
        self.assertEqual(said, {"p": made["certificateId"], "c": "ruled-1"})

    def test_https_serves_the_apis_and_mqtt_over_wss(self):
        s3 = self.server.boto3_client("s3", region=REGION)
        import boto3
        secure = boto3.client("s3", endpoint_url="https://localhost:%d" % self.server.https_port,
                              region_name=REGION, aws_access_key_id="test",
                              aws_secret_access_key="test", verify=self.ca)
        secure.create_bucket(Bucket="over-https",
                             CreateBucketConfiguration={"LocationConstraint": REGION})
        secure.put_object(Bucket="over-https", Key="k", Body=b"v" * 100000)
        self.assertEqual(s3.get_object(Bucket="over-https", Key="k")["Body"].read(),
                         b"v" * 100000)
        # wss:// at /mqtt, signed as the IoT Device SDK signs it.
        ws = Client(self.server.https_port, "browser-wss",
                    websocket_path=presigned_mqtt_path(self.server.https_port, ("test", "test")))
        ws.client.tls_set(ca_certs=self.ca)
        self.addCleanup(ws.stop)
        ws.connect()
        ws.subscribe("wss/#")
        plain = Client(self.server.mqtt_port, "plain-wss")
        self.addCleanup(plain.stop)
        plain.connect()
        plain.client.publish("wss/x", b"through", qos=1).wait_for_publish(5)
        self.assertEqual(ws.next().payload, b"through")


class CaLifetimeTest(unittest.TestCase):
    def test_the_ca_and_certificates_survive_a_restart(self):
        data_dir = tempfile.mkdtemp(prefix="offcloud-tls-restart-")
        self.addCleanup(harness.shutil.rmtree, data_dir, True)
        first = start(data_dir)
        try:
            ca = urllib.request.urlopen(first.endpoint + "/_offcloud/ca.pem").read()
            iot = first.boto3_client("iot", region=REGION)
            made = iot.create_keys_and_certificate(setAsActive=True)
            iot.create_thing(thingName="kept-1")
            iot.attach_thing_principal(thingName="kept-1", principal=made["certificateArn"])
            iot.create_policy(policyName="thing-policy", policyDocument=thing_policy())
            iot.attach_policy(policyName="thing-policy", target=made["certificateArn"])
        finally:
            first.stop()
        second = start(data_dir)
        try:
            self.assertEqual(urllib.request.urlopen(second.endpoint + "/_offcloud/ca.pem").read(),
                             ca)
            files = tempfile.mkdtemp(prefix="offcloud-tls-files-")
            paths = {}
            for name, text in (("ca", ca.decode()), ("cert", made["certificatePem"]),
                               ("key", made["keyPair"]["PrivateKey"])):
                paths[name] = os.path.join(files, name + ".pem")
                with open(paths[name], "w") as f:
                    f.write(text)
            device = Client(second.mqtts_port, "kept-1")
            device.client.tls_set(ca_certs=paths["ca"], certfile=paths["cert"],
                                  keyfile=paths["key"])
            self.addCleanup(device.stop)
            device.connect()
            self.assertEqual(device.subscribe("things/kept-1/x"), (1,))
        finally:
            second.stop()


if __name__ == "__main__":
    unittest.main()
