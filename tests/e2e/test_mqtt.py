"""End-to-end tests of offcloud's MQTT broker (AWS IoT Core's message broker)
against the real binary, with real clients: mosquitto_pub and mosquitto_sub
(Debian's mosquitto-clients) and Paho for Python (Debian's
python3-paho-mqtt), over offcloud's plain MQTT port (--mqtt-port; user name =
access key id, password = its secret) and over WebSocket at /mqtt on the main
port with a SigV4 presigned URL (service iotdevicegateway), as AWS's SDKs
connect.

Every publish, whatever its protocol, reaches every matching subscriber and
rule of its account and region: MQTT to MQTT, HTTP Publish to MQTT, MQTT to
the rules engine, rules' republish to MQTT.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_mqtt.py -v
"""

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from botocore.auth import SigV4Auth, SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

try:
    import paho.mqtt.client as paho
except ImportError:  # Debian's python3-paho-mqtt, beside another python3
    sys.path.append("/usr/lib/python3/dist-packages")
    import paho.mqtt.client as paho
from paho.mqtt.properties import Properties  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402

MQTT_LINE = re.compile(r"^offcloud mqtt listening on mqtt://127\.0\.0\.1:(\d+)\n$")
REGION = "ap-northeast-1"
DEVICE_KEY = ("AKIAMQTTDEVICE000001", "device-secret")
CONFIG = {
    "policies": [{"name": "handson-device", "document": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:Connect"],
         "Resource": ["arn:aws:iot:%s:000000000000:client/device-*" % REGION]},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": ["arn:aws:iot:%s:000000000000:topic/handson/*" % REGION]},
        {"Effect": "Allow", "Action": ["iot:Subscribe"],
         "Resource": ["arn:aws:iot:%s:000000000000:topicfilter/handson/*" % REGION]}]}}],
    "users": [{"name": "device", "attached_policies": ["handson-device"], "access_keys": [
        {"access_key_id": DEVICE_KEY[0], "secret_access_key": DEVICE_KEY[1]}]}],
}


def start_server(test_case, extra_args=()):
    config_dir = harness.tempfile.mkdtemp(prefix="offcloud-mqtt-")
    path = os.path.join(config_dir, "config.json")
    with open(path, "w") as f:
        json.dump(CONFIG, f)
    server = harness.OffcloudServer(args=("--config", path, "--mqtt-port", "0", "--region",
                                          REGION, "--firehose-max-interval", "1") +
                                    tuple(extra_args))
    server.start()
    return wait_for_mqtt_port(server)


def wait_for_mqtt_port(server):
    """Sets server.mqtt_port from the listening line (after a start or a
    restart: the port changes)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in list(server.extra_stdout):
            m = MQTT_LINE.match(line)
            if m:
                server.mqtt_port = int(m.group(1))
                return server
        time.sleep(0.02)
    server.kill()
    raise AssertionError("no mqtt listening line: %r" % server.extra_stdout)


def presigned_mqtt_path(port, key, region=REGION, service="iotdevicegateway"):
    """/mqtt?X-Amz-..., signed as the AWS IoT Device SDKs sign it."""
    request = AWSRequest(method="GET", url="http://127.0.0.1:%d/mqtt" % port)
    SigV4QueryAuth(Credentials(*key), service, region, expires=300).add_auth(request)
    return request.url[request.url.index("/mqtt"):]


class Client:
    """A Paho client that records what it receives."""

    def __init__(self, port, client_id, key=("test", "test"), version=paho.MQTTv311,
                 clean=True, will=None, websocket_path=None):
        self.messages = queue.Queue()
        self.disconnects = queue.Queue()
        self.connack = queue.Queue()
        self.subacks = queue.Queue()
        kwargs = {"client_id": client_id, "protocol": version}
        if version != paho.MQTTv5:
            kwargs["clean_session"] = clean
        if websocket_path:
            kwargs["transport"] = "websockets"
        self.client = paho.Client(**kwargs)
        if websocket_path:
            self.client.ws_set_options(path=websocket_path)
        else:
            self.client.username_pw_set(*key)
        if will:
            self.client.will_set(*will)
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.on_connect = lambda c, u, flags, rc, *rest: self.connack.put((flags, rc))
        self.client.on_disconnect = lambda c, u, rc, *rest: self.disconnects.put(rc)
        self.client.on_subscribe = lambda c, u, mid, granted, *rest: self.subacks.put(granted)
        self.version = version
        self.port = port
        self.clean = clean

    def connect(self, expect_ok=True):
        kwargs = {}
        if self.version == paho.MQTTv5:
            kwargs["clean_start"] = self.clean
            if not self.clean:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = 600
                kwargs["properties"] = props
        self.client.connect("127.0.0.1", self.port, keepalive=60, **kwargs)
        self.client.loop_start()
        flags, rc = self.connack.get(timeout=10)
        if expect_ok:
            assert rc == 0, "CONNACK %s" % rc
        return flags, rc

    def subscribe(self, topic, qos=1):
        self.client.subscribe(topic, qos)
        return self.subacks.get(timeout=10)

    def next(self, timeout=10):
        return self.messages.get(timeout=timeout)

    def nothing(self, wait=0.5):
        try:
            message = self.messages.get(timeout=wait)
        except queue.Empty:
            return True
        raise AssertionError("unexpected message on %s: %r" % (message.topic, message.payload))

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()


class MqttTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls)
        cls.port = cls.server.mqtt_port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def client(self, client_id, **kwargs):
        c = Client(self.port, client_id, **kwargs)
        self.addCleanup(c.stop)
        return c

    def mosquitto(self, tool, *args, key=("test", "test"), timeout=15):
        return subprocess.run([tool, "-h", "127.0.0.1", "-p", str(self.port), "-u", key[0],
                               "-P", key[1]] + list(args), capture_output=True, text=True,
                              timeout=timeout)

    def test_mosquitto_clients_publish_and_subscribe(self):
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), "-u",
                                "test", "-P", "test", "-t", "room/+/temp", "-C", "2", "-v",
                                "-i", "sub-1"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)  # let it subscribe
        for room, value in (("a", "21"), ("b", "22")):
            done = self.mosquitto("mosquitto_pub", "-t", "room/%s/temp" % room, "-m", value,
                                  "-q", "1")
            self.assertEqual(done.returncode, 0, done.stderr)
        out, _ = sub.communicate(timeout=10)
        self.assertEqual(out.splitlines(), ["room/a/temp 21", "room/b/temp 22"])

    def test_wrong_secret_and_unknown_key_are_refused(self):
        for key in (("test", "wrong"), ("AKIANOBODY0000000000", "x")):
            done = self.mosquitto("mosquitto_pub", "-t", "a", "-m", "x", key=key)
            self.assertNotEqual(done.returncode, 0)
            self.assertIn("bad user name or password", done.stderr.lower())

    def activity(self, **match):
        """The built-in root's Activity entries that have every field of `match`."""
        request = AWSRequest(method="GET",
                             url=self.server.endpoint + "/_offcloud/activity?after=0")
        SigV4Auth(Credentials("test", "test"), "offcloud", REGION).add_auth(request)
        conn = self.server.http()
        try:
            conn.request("GET", "/_offcloud/activity?after=0", headers=dict(request.headers))
            entries = json.loads(conn.getresponse().read())["entries"]
        finally:
            conn.close()
        return [e for e in entries if all(e.get(k) == v for k, v in match.items())]

    def wait_activity(self, **match):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = self.activity(**match)
            if found:
                return found[-1]
            time.sleep(0.1)
        self.fail("no Activity entry %r among %s" % (match, json.dumps(self.activity()[-5:])))

    def test_refusals_on_the_mqtt_port_show_in_activity(self):
        device_arn = "arn:aws:iam::000000000000:user/device"
        # The device's key with a wrong secret: credited to the key's owner.
        done = self.mosquitto("mosquitto_pub", "-t", "handson/x", "-m", "x", "-i", "device-bad",
                              key=(DEVICE_KEY[0], "not-the-secret"))
        self.assertNotEqual(done.returncode, 0)
        entry = self.wait_activity(service="mqtt", operation="CONNECT",
                                   access_key_id=DEVICE_KEY[0])
        self.assertEqual((entry["error_code"], entry["caller_arn"], entry["account_id"]),
                         ("BadUserNameOrPassword", device_arn, "000000000000"))
        self.assertEqual(entry["reason"], {"kind": "mqtt", "code": "BadUserNameOrPassword",
                                           "client_id": "device-bad", "key_known": True,
                                           "key_active": True})
        self.assertTrue(entry["source"].startswith("127.0.0.1:"), entry)
        # A key nobody has: nobody's entry, which the built-in root sees.
        self.mosquitto("mosquitto_pub", "-t", "a", "-m", "x", "-i", "stranger",
                       key=("AKIANOBODY0000000000", "x"))
        entry = self.wait_activity(service="mqtt", access_key_id="AKIANOBODY0000000000")
        self.assertEqual((entry["account_id"], entry["reason"]["key_known"]), ("", False))
        # A client id the device's policy does not allow to connect.
        laptop = self.client("laptop-1", key=DEVICE_KEY)
        _, rc = laptop.connect(expect_ok=False)
        self.assertEqual(rc, 5)  # not authorized
        entry = self.wait_activity(service="mqtt", operation="CONNECT", error_code="NotAuthorized")
        self.assertEqual(entry["reason"], {
            "kind": "denied", "action": "iot:Connect", "explicit_deny": False,
            "resource": "arn:aws:iot:%s:000000000000:client/laptop-1" % REGION})
        self.assertEqual(entry["caller_arn"], device_arn)
        # A publish outside handson/*: AWS drops the connection; Activity says why.
        device = self.client("device-77", key=DEVICE_KEY)
        device.connect()
        device.client.publish("elsewhere/x", b"{}", qos=1)
        device.disconnects.get(timeout=10)
        entry = self.wait_activity(service="mqtt", operation="PUBLISH")
        self.assertEqual((entry["error_code"], entry["caller_arn"]), ("NotAuthorized", device_arn))
        self.assertEqual(entry["reason"]["action"], "iot:Publish")
        self.assertEqual(entry["resource"],
                         "arn:aws:iot:%s:000000000000:topic/elsewhere/x" % REGION)
        # And a subscription outside its filters (refused in the SUBACK).
        device = self.client("device-78", key=DEVICE_KEY)
        device.connect()
        self.assertEqual(device.subscribe("elsewhere/#"), (128,))
        entry = self.wait_activity(service="mqtt", operation="SUBSCRIBE")
        self.assertEqual(entry["reason"]["action"], "iot:Subscribe")

    def test_http_publish_reaches_mqtt_and_mqtt_reaches_rules(self):
        sub = self.client("sub-http")
        sub.connect()
        sub.subscribe("bridge/#")
        iot_data = self.server.boto3_client("iot-data", region=REGION)
        iot_data.publish(topic="bridge/http", qos=1, payload=b'{"via": "http"}')
        message = sub.next()
        self.assertEqual((message.topic, message.payload), ("bridge/http", b'{"via": "http"}'))
        # A rule republishes what MQTT publishes; the subscriber sees both.
        self.server.boto3_client("iot", region=REGION).create_topic_rule(
            ruleName="echo", topicRulePayload={
                "sql": "SELECT *, clientid() AS client FROM 'bridge/in'",
                "actions": [{"republish": {"topic": "bridge/out",
                                           "roleArn": "arn:aws:iam::000000000000:role/r"}}]})
        pub = self.client("pub-rule")
        pub.connect()
        pub.client.publish("bridge/in", b'{"n": 1}', qos=1).wait_for_publish(5)
        seen = {}
        for _ in range(2):
            m = sub.next()
            seen[m.topic] = json.loads(m.payload)
        self.assertEqual(seen["bridge/in"], {"n": 1})
        self.assertEqual(seen["bridge/out"], {"n": 1, "client": "pub-rule"})

    def test_the_handson_with_an_mqtt_device(self):
        s3 = self.server.boto3_client("s3", region=REGION)
        s3.create_bucket(Bucket="handson-mqtt",
                         CreateBucketConfiguration={"LocationConstraint": REGION})
        self.server.boto3_client("firehose", region=REGION).create_delivery_stream(
            DeliveryStreamName="handson-mqtt", DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "BucketARN": "arn:aws:s3:::handson-mqtt",
                "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60}})
        self.server.boto3_client("iot", region=REGION).create_topic_rule(
            ruleName="handson_mqtt", topicRulePayload={
                "sql": "SELECT * FROM 'handson/analysisLogData'",
                "actions": [{"firehose": {"deliveryStreamName": "handson-mqtt", "separator": "\n",
                                          "roleArn": "arn:aws:iam::000000000000:role/r"}}]})
        everything = self.client("console-like", version=paho.MQTTv5)
        everything.connect()
        everything.subscribe("#")
        device = self.client("device-01", key=DEVICE_KEY)
        device.connect()
        records = [{"face_id": i, "Smile": i % 2 == 0} for i in range(3)]
        for record in records:
            device.client.publish("handson/analysisLogData", json.dumps(record),
                                  qos=1).wait_for_publish(5)
        seen = [json.loads(everything.next().payload) for _ in range(3)]
        self.assertEqual(seen, records)
        deadline = time.monotonic() + 20
        keys = []
        while time.monotonic() < deadline and not keys:
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket="handson-mqtt").get("Contents", [])]
            time.sleep(0.2)
        self.assertEqual(len(keys), 1, keys)
        body = s3.get_object(Bucket="handson-mqtt", Key=keys[0])["Body"].read().decode()
        self.assertEqual([json.loads(line) for line in body.splitlines()], records)

    def test_basic_ingest_over_mqtt_reaches_only_its_rule(self):
        self.server.boto3_client("iot", region=REGION).create_topic_rule(
            ruleName="ingest_rule", topicRulePayload={
                "sql": "SELECT topic() AS t, clientid() AS c, n FROM 'ingest/#'",
                "actions": [{"republish": {"topic": "ingested/result",
                                           "roleArn": "arn:aws:iam::000000000000:role/r"}}]})
        everything = self.client("ingest-watcher")
        everything.connect()
        everything.subscribe("#")
        device = self.client("ingest-device")
        device.connect()
        device.client.publish("$aws/rules/ingest_rule/ingest/x", b'{"n": 7}',
                              qos=1).wait_for_publish(5)
        # The rule saw the topic after the prefix; nobody saw the ingest itself.
        message = everything.next()
        self.assertEqual(message.topic, "ingested/result")
        self.assertEqual(json.loads(message.payload),
                         {"t": "ingest/x", "c": "ingest-device", "n": 7})
        everything.nothing()

    def test_iam_policies_decide_connect_publish_and_subscribe(self):
        # iot:Connect only for client ids device-*.
        other = Client(self.port, "laptop", key=DEVICE_KEY)
        _, rc = other.connect(expect_ok=False)
        other.client.loop_stop()
        self.assertEqual(rc, 5)  # not authorized
        device = self.client("device-02", key=DEVICE_KEY)
        device.connect()
        granted = device.subscribe("elsewhere/#")
        self.assertEqual(granted, (128,))
        self.assertEqual(device.subscribe("handson/#"), (1,))
        # Publishing outside handson/* ends the connection, as AWS does.
        device.client.publish("elsewhere/x", b"x", qos=1)
        self.assertIsNotNone(device.disconnects.get(timeout=10))

    def test_retained_messages_and_get_retained_message(self):
        pub = self.client("retainer")
        pub.connect()
        pub.client.publish("lamp/state", b"on", qos=1, retain=True).wait_for_publish(5)
        sub = self.client("late")
        sub.connect()
        sub.subscribe("lamp/+")
        message = sub.next()
        self.assertEqual((message.topic, message.payload, message.retain),
                         ("lamp/state", b"on", 1))
        got = self.server.boto3_client("iot-data", region=REGION).get_retained_message(
            topic="lamp/state")
        self.assertEqual(got["payload"], b"on")
        pub.client.publish("lamp/state", b"", qos=1, retain=True).wait_for_publish(5)
        sub.next()  # the empty message itself
        again = self.client("later")
        again.connect()
        again.subscribe("lamp/+")
        self.assertTrue(again.nothing())

    def test_last_will_on_a_lost_connection(self):
        watcher = self.client("watcher")
        watcher.connect()
        watcher.subscribe("wills/#")
        raw = socket.create_connection(("127.0.0.1", self.port))
        connect = bytes([0x10]) + self._remaining(
            b"\x00\x04MQTT\x04" + bytes([0b11000110]) + b"\x00\x3c" + self._s(b"dying") +
            self._s(b"wills/dying") + self._s(b"gone") + self._s(b"test") + self._s(b"test"))
        raw.sendall(connect)
        self.assertEqual(raw.recv(4), b"\x20\x02\x00\x00")
        raw.close()  # no DISCONNECT: the will goes out
        message = watcher.next()
        self.assertEqual((message.topic, message.payload), ("wills/dying", b"gone"))

    def test_a_second_connection_takes_the_client_id_over(self):
        first = self.client("same-id")
        first.connect()
        second = self.client("same-id")
        second.connect()
        self.assertIsNotNone(first.disconnects.get(timeout=10))

    def test_qos2_and_malformed_packets_end_the_connection_not_the_server(self):
        client = self.client("qos2")
        client.connect()
        client.client.publish("a/b", b"x", qos=2)
        self.assertIsNotNone(client.disconnects.get(timeout=10))
        for junk in (b"\x30\xff\xff\xff\xff\x01", b"\xf0\x00", b"\x10\x02\x00\x01"):
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            raw.sendall(junk)
            self.assertEqual(raw.recv(100), b"")  # closed
            raw.close()
        alive = self.client("still-alive")
        alive.connect()

    def test_persistent_session_keeps_qos1_messages(self):
        events = self.client("sleeper-watch")
        events.connect()
        events.subscribe("$aws/events/presence/disconnected/sleeper")
        offline = Client(self.port, "sleeper", clean=False)
        offline.connect()
        offline.subscribe("mail/#", qos=1)
        offline.stop()
        events.next()  # the server has let the connection go
        pub = self.client("postman")
        pub.connect()
        pub.client.publish("mail/1", b"letter", qos=1).wait_for_publish(5)
        back = self.client("sleeper", clean=False)
        flags, _ = back.connect()
        self.assertEqual(flags["session present"], 1)
        message = back.next()
        self.assertEqual((message.topic, message.payload), ("mail/1", b"letter"))

    def test_an_offline_session_does_not_hold_up_the_publisher(self):
        events = self.client("holder-watch")
        events.connect()
        events.subscribe("$aws/events/presence/disconnected/holder")
        holder = Client(self.port, "holder", clean=False)
        holder.connect()
        holder.subscribe("held/#", qos=1)
        holder.stop()
        events.next()
        # The HTTP publish and the MQTT QoS 1 publish are answered at once,
        # though the message waits for the offline session.
        started = time.monotonic()
        self.server.boto3_client("iot-data", region=REGION).publish(topic="held/a", qos=1,
                                                                     payload=b"x")
        pub = self.client("holder-pub")
        pub.connect()
        info = pub.client.publish("held/b", b"y", qos=1)
        info.wait_for_publish(5)
        self.assertTrue(info.is_published())
        self.assertLess(time.monotonic() - started, 3)

    def test_the_clients_maximum_packet_size_is_honoured(self):
        small = Client(self.port, "small-client", version=paho.MQTTv5)
        self.addCleanup(small.stop)
        props = Properties(PacketTypes.CONNECT)
        props.MaximumPacketSize = 200
        small.client.connect("127.0.0.1", self.port, keepalive=60, properties=props)
        small.client.loop_start()
        self.assertEqual(small.connack.get(timeout=10)[1], 0)
        small.subscribe("sizes/#")
        pub = self.client("sizes-pub")
        pub.connect()
        pub.client.publish("sizes/big", b"x" * 1000, qos=1).wait_for_publish(5)
        pub.client.publish("sizes/small", b"y", qos=1).wait_for_publish(5)
        message = small.next()
        self.assertEqual((message.topic, message.payload), ("sizes/small", b"y"))

    def test_subscription_quotas(self):
        client = self.client("greedy")
        client.connect()
        client.client.subscribe([("q/%d" % i, 0) for i in range(9)])
        codes = client.subacks.get(timeout=10)
        self.assertEqual(list(codes[:8]), [0] * 8)
        self.assertEqual(codes[8], 128)  # over AWS's 8 filters per SUBSCRIBE

    def test_mqtt5_properties_pass_through(self):
        sub = self.client("v5-sub", version=paho.MQTTv5)
        sub.connect()
        sub.subscribe("v5/#")
        pub = self.client("v5-pub", version=paho.MQTTv5)
        pub.connect()
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = ("device", "sensor-1")
        props.ResponseTopic = "v5/replies"
        props.CorrelationData = b"\x01\x02"
        props.ContentType = "application/json"
        pub.client.publish("v5/data", b"{}", qos=1, properties=props).wait_for_publish(5)
        message = sub.next()
        self.assertEqual(message.properties.UserProperty, [("device", "sensor-1")])
        self.assertEqual(message.properties.ResponseTopic, "v5/replies")
        self.assertEqual(message.properties.CorrelationData, b"\x01\x02")
        self.assertEqual(message.properties.ContentType, "application/json")

    def test_shared_subscription_splits_the_messages(self):
        members = [self.client("worker-%d" % i) for i in range(2)]
        for member in members:
            member.connect()
            member.subscribe("$share/workers/jobs/#")
        pub = self.client("boss")
        pub.connect()
        for i in range(20):
            pub.client.publish("jobs/%d" % i, str(i), qos=1).wait_for_publish(5)
        time.sleep(1)
        counts = [member.messages.qsize() for member in members]
        self.assertEqual(sum(counts), 20, counts)

    def test_accounts_do_not_see_each_other(self):
        mine = self.client("me")
        mine.connect()
        mine.subscribe("shared/topic")
        stranger = self.client("stranger", key=("123456789012", "test"))
        stranger.connect()
        stranger.subscribe("shared/topic")
        stranger.client.publish("shared/topic", b"from another account", qos=1).wait_for_publish(5)
        self.assertEqual(stranger.next().payload, b"from another account")
        self.assertTrue(mine.nothing())

    def test_lifecycle_events(self):
        watcher = self.client("events")
        watcher.connect()
        watcher.subscribe("$aws/events/presence/+/+")
        visitor = self.client("visitor")
        visitor.connect()

        def next_visitor_event():
            # Other tests' clients may still be coming and going.
            while True:
                event = json.loads(watcher.next().payload)
                if event["clientId"] == "visitor":
                    return event

        event = next_visitor_event()
        self.assertEqual(event["eventType"], "connected")
        visitor.stop()
        event = next_visitor_event()
        self.assertEqual(event["eventType"], "disconnected")
        self.assertTrue(event["clientInitiatedDisconnect"])

    @staticmethod
    def _s(data):
        return len(data).to_bytes(2, "big") + data

    @staticmethod
    def _remaining(body):
        n, out = len(body), b""
        while True:
            digit, n = n % 128, n // 128
            out += bytes([digit | (0x80 if n else 0)])
            if not n:
                return out + body


class MqttOverWebSocketTest(unittest.TestCase):
    """GET /mqtt on the main port, upgraded to WebSocket, authenticated by
    the URL's SigV4 signature; IAM decides as for any request."""

    @classmethod
    def setUpClass(cls):
        cls.server = start_server(cls)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server.cleanup()

    def ws_client(self, client_id, key=("test", "test"), **kwargs):
        path = presigned_mqtt_path(self.server.port, key)
        c = Client(self.server.port, client_id, websocket_path=path, **kwargs)
        self.addCleanup(c.stop)
        return c

    def test_websocket_and_tcp_clients_share_the_bus(self):
        ws = self.ws_client("browser-1")
        ws.connect()
        ws.subscribe("handson/#")
        tcp = Client(self.server.mqtt_port, "tcp-1")
        self.addCleanup(tcp.stop)
        tcp.connect()
        tcp.client.publish("handson/analysisLogData", b'{"n": 1}', qos=1).wait_for_publish(5)
        message = ws.next()
        self.assertEqual((message.topic, message.payload),
                         ("handson/analysisLogData", b'{"n": 1}'))
        # And the other way, with MQTT 5 over WebSocket.
        tcp.subscribe("replies/#")
        ws5 = self.ws_client("browser-5", version=paho.MQTTv5)
        ws5.connect()
        ws5.client.publish("replies/x", b"pong", qos=1).wait_for_publish(5)
        self.assertEqual(tcp.next().payload, b"pong")

    def test_the_signature_decides_who_connects(self):
        device = self.ws_client("device-ws", key=DEVICE_KEY)
        device.connect()
        self.assertEqual(device.subscribe("elsewhere/#"), (128,))
        self.assertEqual(device.subscribe("handson/#"), (1,))
        # iot:Connect is for client ids device-* only.
        laptop = Client(self.server.port, "laptop-ws",
                        websocket_path=presigned_mqtt_path(self.server.port, DEVICE_KEY))
        _, rc = laptop.connect(expect_ok=False)
        laptop.client.loop_stop()
        self.assertEqual(rc, 5)

    def test_unsigned_or_badly_signed_upgrades_are_refused(self):
        good = presigned_mqtt_path(self.server.port, ("test", "test"))
        bad = good.replace("X-Amz-Signature=", "X-Amz-Signature=0")
        wrong_service = presigned_mqtt_path(self.server.port, ("test", "test"), service="s3")
        for path in ("/mqtt", bad, wrong_service):
            connection = self.server.http()
            connection.request("GET", path, headers={
                "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "mqtt"})
            response = connection.getresponse()
            response.read()
            connection.close()
            self.assertGreaterEqual(response.status, 400, path)
        # A plain GET of /mqtt is told to upgrade.
        connection = self.server.http()
        connection.request("GET", good)
        response = connection.getresponse()
        response.read()
        connection.close()
        self.assertEqual(response.status, 426)


class RawClient:
    """MQTT 3.1.1 over a bare socket, for what Paho will not do: read a QoS 1
    PUBLISH and never acknowledge it."""

    def __init__(self, port, client_id, clean=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        flags = 0xC0 | (0x02 if clean else 0)  # user name, password
        body = (self._s(b"MQTT") + bytes([4, flags]) + (60).to_bytes(2, "big") +
                self._s(client_id.encode()) + self._s(b"test") + self._s(b"test"))
        self.sock.sendall(b"\x10" + self._remaining(body))
        first, body = self.read_packet()
        assert first == 0x20 and body[1] == 0, "CONNACK %r" % body
        self.session_present = bool(body[0] & 1)

    def subscribe(self, topic_filter):
        body = (1).to_bytes(2, "big") + self._s(topic_filter.encode()) + b"\x01"
        self.sock.sendall(b"\x82" + self._remaining(body))
        first, body = self.read_packet()
        assert first == 0x90 and body[2] == 1, "SUBACK %r" % body

    def read_publish(self):
        """(topic, payload, packet id, dup) of the next packet, a PUBLISH."""
        first, body = self.read_packet()
        assert first >> 4 == 3, "not a PUBLISH: %#x" % first
        length = int.from_bytes(body[:2], "big")
        topic = body[2:2 + length].decode()
        packet_id = int.from_bytes(body[2 + length:4 + length], "big")
        return topic, body[4 + length:], packet_id, bool(first & 0x08)

    def puback(self, packet_id):
        self.sock.sendall(b"\x40\x02" + packet_id.to_bytes(2, "big"))

    def close(self):
        self.sock.close()

    def disconnect(self):
        """DISCONNECT, then wait for the server to close: every packet sent
        before it (a PUBACK) has then been handled, whereas a bare close may
        race the next connection's takeover."""
        self.sock.sendall(b"\xe0\x00")
        while self.sock.recv(4096):
            pass
        self.sock.close()

    def read_packet(self):
        first = self._read(1)[0]
        length, shift = 0, 0
        while True:
            digit = self._read(1)[0]
            length |= (digit & 0x7F) << shift
            shift += 7
            if not digit & 0x80:
                break
        return first, self._read(length)

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise AssertionError("connection closed")
            data += chunk
        return data

    _s = staticmethod(MqttTest._s)
    _remaining = staticmethod(MqttTest._remaining)


class PersistentSessionRestartTest(unittest.TestCase):
    """Persistent sessions, with their subscriptions and the QoS 1 messages
    queued or in flight for them, survive offcloud stopping (SIGTERM) or
    being killed (SIGKILL) and starting again on the same data dir."""

    def setUp(self):
        self.server = start_server(self)
        self.addCleanup(self.server.cleanup)

    def client(self, client_id, **kwargs):
        c = Client(self.server.mqtt_port, client_id, **kwargs)
        self.addCleanup(c.stop)
        return c

    def restart(self, sig):
        if sig == signal.SIGKILL:
            self.server.kill()
        else:
            self.server.stop(sig)
        self.server.restart()
        wait_for_mqtt_port(self.server)

    def publish(self, topic, payload):
        pub = self.client("publisher")
        pub.connect()
        # Answered (PUBACK) once the message is durable for the sessions.
        info = pub.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        self.assertTrue(info.is_published())
        pub.stop()

    def _subscribe_and_leave(self):
        clients = (("keeper-311", paho.MQTTv311), ("keeper-5", paho.MQTTv5))
        for client_id, version in clients:
            c = Client(self.server.mqtt_port, client_id, version=version, clean=False)
            c.connect()
            c.subscribe("keep/%s/#" % client_id, qos=1)
            c.stop()
        return clients

    def _come_back_and_receive(self, clients):
        for client_id, version in clients:
            back = self.client(client_id, version=version, clean=False)
            flags, _ = back.connect()
            self.assertEqual(flags["session present"], 1, client_id)
            got = [(m.topic, m.payload) for m in (back.next(), back.next())]
            self.assertEqual(got, [("keep/%s/1" % client_id, b"first"),
                                   ("keep/%s/2" % client_id, b"second")])

    def test_sessions_survive_a_graceful_restart(self):
        clients = self._subscribe_and_leave()
        self.restart(signal.SIGTERM)
        # Published while the clients are away, after the restart: the
        # subscriptions are back on the bus.
        for client_id, _ in clients:
            self.publish("keep/%s/1" % client_id, b"first")
            self.publish("keep/%s/2" % client_id, b"second")
        self._come_back_and_receive(clients)

    def test_acknowledged_messages_survive_a_kill(self):
        clients = self._subscribe_and_leave()
        for client_id, _ in clients:
            self.publish("keep/%s/1" % client_id, b"first")
            self.publish("keep/%s/2" % client_id, b"second")
        self.restart(signal.SIGKILL)
        self._come_back_and_receive(clients)

    def test_an_unacknowledged_message_comes_again_with_dup_and_its_packet_id(self):
        raw = RawClient(self.server.mqtt_port, "no-ack")
        raw.subscribe("raw/#")
        self.publish("raw/1", b"ack me")
        topic, payload, packet_id, dup = raw.read_publish()
        self.assertEqual((topic, payload, dup), ("raw/1", b"ack me", False))
        raw.close()  # no PUBACK
        raw = RawClient(self.server.mqtt_port, "no-ack")
        self.assertTrue(raw.session_present)
        self.assertEqual(raw.read_publish(), ("raw/1", b"ack me", packet_id, True))
        raw.close()  # still no PUBACK; and offcloud is killed
        self.restart(signal.SIGKILL)
        raw = RawClient(self.server.mqtt_port, "no-ack")
        self.assertTrue(raw.session_present)
        self.assertEqual(raw.read_publish(), ("raw/1", b"ack me", packet_id, True))
        raw.puback(packet_id)
        raw.disconnect()
        # Acknowledged at last: not sent again.
        raw = RawClient(self.server.mqtt_port, "no-ack")
        self.addCleanup(raw.close)
        self.assertTrue(raw.session_present)
        raw.sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            raw.read_packet()

    def test_an_expired_session_is_gone_after_a_restart(self):
        brief = Client(self.server.mqtt_port, "brief", version=paho.MQTTv5, clean=False)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 1
        brief.client.connect("127.0.0.1", self.server.mqtt_port, keepalive=60, clean_start=False,
                             properties=props)
        brief.client.loop_start()
        self.assertEqual(brief.connack.get(timeout=10)[1], 0)
        brief.subscribe("brief/#")
        brief.stop()
        self.server.stop()
        time.sleep(2)  # expires while offcloud is down
        self.server.restart()
        wait_for_mqtt_port(self.server)
        back = self.client("brief", version=paho.MQTTv5, clean=False)
        flags, _ = back.connect()
        self.assertEqual(flags["session present"], 0)
        self.publish("brief/1", b"nobody subscribed")
        self.assertTrue(back.nothing())


if __name__ == "__main__":
    unittest.main(verbosity=2)
