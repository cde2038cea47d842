"""End-to-end tests of the console's live feed, GET /_offcloud/live upgraded
to WebSocket (emulator/activity/live_feed.h), with a client that is no
browser: botocore's SigV4QueryAuth presigns the URL for the service
"offcloud", and a small WebSocket client below speaks RFC 6455.

- A wrong secret, no signature, a plain GET and a bad query are refused.
- Activity arrives live, with the Activity endpoint's visibility: the
  built-in test/test sees every account, an account's root its account, a
  user its own requests; `after` resumes exactly where GET left off.
- Counters follow the hands-on's flow (topic, rule, stream, bucket) for a
  root key; a publish-only user gets none.
- Buffers: the Firehose buffers of the streams a key may describe, pushed
  when they change (records in, then their delivery).
- Counters survive a restart.
- Back-pressure: a reader that does not acknowledge gets at most `window`
  frames, and then the newest entries with "missed".

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_live.py -v
"""

import base64
import json
import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_accounts  # noqa: E402
import test_activity  # noqa: E402
from test_activity import (ALICE, ALICE_KEY, BOB, BOB_KEY, STUDENT_KEY, TEACHER_KEY,  # noqa: E402
                           TOKYO, WATCHER_KEY)

from botocore.auth import SigV4Auth, SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

BUCKET = "live-analysis-log-data"
STREAM = "live-analysis-log-stream"
RULE = "livePutAnalysisLogDataToS3"
TOPIC = "handson/analysisLogData"


class Refused(Exception):
    def __init__(self, status, headers, body):
        super().__init__("HTTP %d: %s" % (status, body[:300]))
        self.status = status
        self.body = body
        # JSON services name the error in this header (botocore reads it there).
        self.code = headers.get("x-amzn-errortype", "").split(":")[0]


class WebSocket:
    """Just enough RFC 6455 for a test: the handshake, text frames both ways
    (the client's masked), ping answered, close noticed."""

    def __init__(self, port, path, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        status = int(head.split(" ", 2)[1])
        if status != 101:
            headers = {}
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = self._read_exactly(int(headers.get("content-length", "0")))
            self.sock.close()
            raise Refused(status, headers, body.decode("utf-8", "replace"))

    def _read_until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before %r" % marker)
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _read_exactly(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-frame")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def _send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, message):
        self._send_frame(0x1, json.dumps(message).encode())

    def send_text(self, text):
        self._send_frame(0x1, text.encode())

    def recv(self, timeout=10):
        """The next frame as JSON; None when the server closed."""
        self.sock.settimeout(timeout)
        message = b""
        while True:
            try:
                first, second = self._read_exactly(2)
            except ConnectionError:
                return None
            fin = first & 0x80
            opcode = first & 0x0F
            n = second & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read_exactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exactly(8))[0]
            payload = self._read_exactly(n)
            if opcode == 0x8:
                return None
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1, 0x2):  # a message may come in fragments
                message += payload
                if fin:
                    return json.loads(message)

    def quiet(self, seconds):
        """Whether nothing arrives for `seconds`."""
        self.sock.settimeout(seconds)
        try:
            if self.buffer:
                return False
            chunk = self.sock.recv(65536)
            self.buffer += chunk
            return False
        except socket.timeout:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class LiveFeedTest(unittest.TestCase):
    # The Activity endpoint's server: its accounts, users and keys.
    setUpClass = classmethod(test_activity.OffcloudEndpointsTest.setUpClass.__func__)
    tearDownClass = classmethod(test_activity.OffcloudEndpointsTest.tearDownClass.__func__)
    client = test_accounts.AccountsTest.client

    def setUp(self):
        self.sockets = []

    def tearDown(self):
        for ws in self.sockets:
            ws.close()

    def presigned(self, key, query="", region=TOKYO, path="/_offcloud/live"):
        url = self.server.endpoint + path + ("?" + query if query else "")
        request = AWSRequest(method="GET", url=url)
        SigV4QueryAuth(Credentials(*key), "offcloud", region, expires=60).add_auth(request)
        return request.url[len(self.server.endpoint):]

    def connect(self, key, query="", region=TOKYO):
        ws = WebSocket(self.server.port, self.presigned(key, query, region))
        self.sockets.append(ws)
        hello = ws.recv()
        self.assertEqual(hello["type"], "hello", hello)
        self.assertEqual(hello["frame"], 1)
        ws.send({"ack": 1})
        return ws, hello

    def frames(self, ws, until, timeout=10, ack=True):
        """Frames (acknowledged) until `until(frames)` holds."""
        got = []
        deadline = time.monotonic() + timeout
        while not until(got):
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail("timed out; got %s" % json.dumps(got)[-2000:])
            frame = ws.recv(timeout=left)
            self.assertIsNotNone(frame, "the server closed; got %s" % got)
            got.append(frame)
            if ack:
                ws.send({"ack": frame["frame"]})
        return got

    def activity_until(self, ws, predicate, timeout=10):
        entries = []

        def done(frames):
            entries[:] = [e for f in frames if f["type"] == "activity" for e in f["entries"]]
            return predicate(entries)
        self.frames(ws, done, timeout)
        return entries

    # -- refusals -----------------------------------------------------------

    def test_refusals(self):
        with self.assertRaises(Refused) as wrong:
            WebSocket(self.server.port, self.presigned((ALICE_KEY[0], "not-the-secret")))
        self.assertEqual(wrong.exception.status, 403)
        self.assertEqual(wrong.exception.code, "InvalidSignatureException")
        with self.assertRaises(Refused) as unsigned:
            WebSocket(self.server.port, "/_offcloud/live")
        self.assertEqual(unsigned.exception.status, 403)
        self.assertEqual(unsigned.exception.code, "MissingAuthenticationTokenException")
        # Signed for the MQTT gateway: that service has no live feed.
        url = self.server.endpoint + "/_offcloud/live"
        request = AWSRequest(method="GET", url=url)
        SigV4QueryAuth(Credentials(*ALICE_KEY), "iotdevicegateway", TOKYO, 60).add_auth(request)
        with self.assertRaises(Refused) as elsewhere:
            WebSocket(self.server.port, request.url[len(self.server.endpoint):])
        self.assertEqual(elsewhere.exception.status, 404)
        for query, why in [("after=abc", "after must be"), ("feeds=activity,nope", "feeds is")]:
            with self.assertRaises(Refused) as bad:
                WebSocket(self.server.port, self.presigned(ALICE_KEY, query))
            self.assertEqual(bad.exception.status, 400, query)
            self.assertEqual(bad.exception.code, "InvalidRequestException")
            self.assertIn(why, bad.exception.body)
        # A signed plain GET: the path takes WebSocket connections only.
        request = AWSRequest(method="GET", url=url)
        SigV4Auth(Credentials(*ALICE_KEY), "offcloud", TOKYO).add_auth(request)
        conn = self.server.http()
        try:
            conn.request("GET", "/_offcloud/live", headers=dict(request.headers.items()))
            response = conn.getresponse()
            self.assertEqual(response.status, 426)
            self.assertEqual(response.getheader("Upgrade"), "websocket")
            response.read()
        finally:
            conn.close()

    def test_bad_messages_end_the_connection_with_a_reason(self):
        ws, _ = self.connect(ALICE_KEY, "feeds=activity")
        ws.send_text("hello")
        error = ws.recv()
        self.assertEqual(error["type"], "error")
        self.assertIn("ack", error["message"])
        self.assertIsNone(ws.recv())
        ws, _ = self.connect(ALICE_KEY, "feeds=activity")
        ws.send({"ack": 99})  # never sent
        error = ws.recv()
        self.assertEqual(error["type"], "error")
        self.assertIn("ack must name a frame", error["message"])
        self.assertIsNone(ws.recv())

    # -- activity -----------------------------------------------------------

    def test_visibility_follows_the_activity_endpoint(self):
        feeds = "feeds=activity"
        teacher, _ = self.connect(TEACHER_KEY, feeds)
        alice, _ = self.connect(ALICE_KEY, feeds)
        student, _ = self.connect(STUDENT_KEY, feeds)
        bob, _ = self.connect(BOB_KEY, feeds)
        marker = "live-visibility-%d" % time.monotonic_ns()
        # Each does something the others can tell apart.
        self.client("iot-data", STUDENT_KEY).publish(topic="handson/" + marker, payload=b"{}")
        with self.assertRaises(Exception):
            self.client("iot-data", STUDENT_KEY).publish(topic="other/" + marker, payload=b"{}")
        self.client("s3", ALICE_KEY).list_buckets()
        self.client("s3", BOB_KEY).list_buckets()

        student_arn = "arn:aws:iam::%s:user/student" % ALICE
        alice_arn = "arn:aws:iam::%s:root" % ALICE
        bob_arn = "arn:aws:iam::%s:root" % BOB

        def has(entries, caller, **match):
            return any(e["caller_arn"] == caller and all(e.get(k) == v for k, v in match.items())
                       for e in entries)

        def everyone(entries):
            return (has(entries, student_arn, error_code="ForbiddenException")
                    and has(entries, alice_arn, operation="ListBuckets")
                    and has(entries, bob_arn, operation="ListBuckets"))
        seen = self.activity_until(teacher, everyone)
        denied = [e for e in seen if e["error_code"] == "ForbiddenException"][-1]
        self.assertEqual(denied["reason"]["kind"], "denied")
        self.assertEqual(denied["reason"]["action"], "iot:Publish")
        self.assertIn("topic/other/" + marker, denied["reason"]["resource"])

        seen = self.activity_until(alice, lambda es: has(es, student_arn, error_code="ForbiddenException")
                                   and has(es, alice_arn, operation="ListBuckets"))
        self.assertEqual({e["account_id"] for e in seen}, {ALICE})
        seen = self.activity_until(student, lambda es: has(es, student_arn, error_code="ForbiddenException"))
        self.assertEqual({e["caller_arn"] for e in seen}, {student_arn})
        seen = self.activity_until(bob, lambda es: has(es, bob_arn, operation="ListBuckets"))
        self.assertEqual({e["account_id"] for e in seen}, {BOB})
        # Nothing of the others reached Bob, or the student, later either.
        time.sleep(0.5)
        for ws, allowed in [(bob, {bob_arn}), (student, {student_arn})]:
            while not ws.quiet(0.3):
                frame = ws.recv()
                for entry in frame.get("entries", []):
                    self.assertIn(entry["caller_arn"], allowed)
                ws.send({"ack": frame["frame"]})

    def test_after_resumes_where_the_endpoint_left_off(self):
        s3 = self.client("s3", ALICE_KEY)
        s3.list_buckets()
        request = AWSRequest(method="GET", url=self.server.endpoint + "/_offcloud/activity?after=0")
        SigV4Auth(Credentials(*ALICE_KEY), "offcloud", TOKYO).add_auth(request)
        conn = self.server.http()
        conn.request("GET", "/_offcloud/activity?after=0", headers=dict(request.headers.items()))
        page = json.loads(conn.getresponse().read())
        conn.close()
        last = page["last_seq"]
        # Two requests between the page and the feed: neither lost nor shown twice.
        for _ in range(2):
            s3.list_buckets()
        ws, _ = self.connect(ALICE_KEY, "after=%d&feeds=activity" % last)
        entries = self.activity_until(ws, lambda es: len(es) >= 2)
        seqs = [e["seq"] for e in entries]
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertGreater(seqs[0], last)
        self.assertEqual([e["operation"] for e in entries[:2]], ["ListBuckets", "ListBuckets"])
        # Without `after` the feed starts from now: nothing old comes.
        fresh, hello = self.connect(ALICE_KEY, "feeds=activity")
        self.assertGreaterEqual(hello["last_seq"], seqs[-1])
        self.assertTrue(fresh.quiet(0.5))

    # -- counters -----------------------------------------------------------

    def test_counters_follow_the_hands_on_flow(self):
        s3 = self.client("s3", ALICE_KEY)
        s3.create_bucket(Bucket=BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": TOKYO})
        self.client("firehose", ALICE_KEY).create_delivery_stream(
            DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::%s:role/firehose" % ALICE,
                "BucketARN": "arn:aws:s3:::" + BUCKET,
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})
        self.client("iot", ALICE_KEY).create_topic_rule(ruleName=RULE, topicRulePayload={
            "sql": "SELECT * FROM '%s'" % TOPIC, "ruleDisabled": False,
            "actions": [{"firehose": {"roleArn": "arn:aws:iam::%s:role/iot" % ALICE,
                                      "deliveryStreamName": STREAM, "separator": "\n"}}]})
        ws, hello = self.connect(ALICE_KEY, "feeds=counters")
        self.assertEqual(hello["feeds"], ["counters"])
        student, student_hello = self.connect(STUDENT_KEY)
        self.assertEqual(student_hello["feeds"], ["activity"])  # may not list the rules

        data = self.client("iot-data", ALICE_KEY)
        for i in range(3):
            data.publish(topic=TOPIC, payload=json.dumps({"n": i}).encode())

        def counters(frames):
            frame = next((f for f in reversed(frames) if f["type"] == "counters"), None)
            if not frame:
                return False
            topic = {t["topic"]: t for t in frame["topics"]}.get(TOPIC, {})
            rule = {r["name"]: r for r in frame["rules"]}.get(RULE, {})
            stream = {s["name"]: s for s in frame["streams"]}.get(STREAM, {})
            return (topic.get("messages") == 3 and rule.get("matches") == 3
                    and stream.get("records_in") == 3 and stream.get("objects") == 1
                    and stream.get("records_buffered") == 0)
        frames = self.frames(ws, counters, timeout=20)
        last = [f for f in frames if f["type"] == "counters"][-1]
        self.assertEqual((last["account_id"], last["region"]), (ALICE, TOKYO))
        self.assertGreater({s["name"]: s for s in last["streams"]}[STREAM]["last_delivery_ms"], 0)
        self.assertEqual({r["name"]: r for r in last["rules"]}[RULE]["errors"], 0)
        # Another region of the same account counts apart.
        other, _ = self.connect(ALICE_KEY, "feeds=counters", region="us-west-2")
        frame = self.frames(other, lambda fs: any(f["type"] == "counters" for f in fs))[-1]
        self.assertNotIn(TOPIC, [t["topic"] for t in frame["topics"]])
        # Counters sent again only when they changed; a rule failure counts.
        self.client("firehose", ALICE_KEY).delete_delivery_stream(DeliveryStreamName=STREAM)
        data.publish(topic=TOPIC, payload=b"{}")

        def failed(frames):
            rules = [{r["name"]: r for r in f["rules"]} for f in frames if f["type"] == "counters"]
            return rules and rules[-1].get(RULE, {}).get("errors") == 1
        frames = self.frames(ws, failed)
        rule = {r["name"]: r for r in frames[-1]["rules"]}[RULE]
        self.assertEqual(rule["matches"], 4)
        self.assertGreater(rule["last_error_ms"], 0)
        self.client("iot", ALICE_KEY).delete_topic_rule(ruleName=RULE)

    # -- buffers ------------------------------------------------------------

    def test_buffers_are_pushed_for_the_streams_the_key_may_describe(self):
        bucket, stream = "live-buffer-bucket", "live-buffer-stream"
        self.client("s3", ALICE_KEY).create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": TOKYO})
        firehose = self.client("firehose", ALICE_KEY)
        firehose.create_delivery_stream(
            DeliveryStreamName=stream, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::%s:role/firehose" % ALICE,
                "BucketARN": "arn:aws:s3:::" + bucket,
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})
        self.addCleanup(firehose.delete_delivery_stream, DeliveryStreamName=stream)
        firehose.create_delivery_stream(
            DeliveryStreamName="live-buffer-other", DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::%s:role/firehose" % ALICE,
                "BucketARN": "arn:aws:s3:::" + bucket})
        self.addCleanup(firehose.delete_delivery_stream, DeliveryStreamName="live-buffer-other")
        ws, hello = self.connect(ALICE_KEY, "feeds=buffers")
        self.assertEqual(hello["feeds"], ["buffers"])
        # A key that may not describe the stream gets frames without it.
        student, student_hello = self.connect(STUDENT_KEY, "feeds=buffers")
        self.assertEqual(student_hello["feeds"], ["buffers"])
        frame = self.frames(student, lambda fs: fs)[-1]
        self.assertEqual((frame["type"], frame["streams"]), ("buffers", []))
        # A key IAM lets describe one of the two sees that one only.
        watcher, _ = self.connect(WATCHER_KEY, "feeds=buffers")
        frame = self.frames(watcher, lambda fs: fs)[-1]
        self.assertEqual([v["stream"] for v in frame["streams"]], [stream])
        watcher.close()

        def view(frames):
            frame = next((f for f in reversed(frames) if f["type"] == "buffers"), None)
            return frame and {v["stream"]: v for v in frame["streams"]}.get(stream)
        first = view(self.frames(ws, view))
        self.assertEqual((first["records"], first["deliveries"]), (0, []))
        self.assertEqual(first["arn"],
                         "arn:aws:firehose:%s:%s:deliverystream/%s" % (TOKYO, ALICE, stream))
        self.assertEqual(first["size_bytes"], 1 << 20)
        # Records in, then their delivery (--firehose-max-interval 1), pushed.
        firehose.put_record_batch(DeliveryStreamName=stream,
                                  Records=[{"Data": b'{"n": 1}\n'}, {"Data": b'{"n": 2}\n'}])

        def delivered(frames):
            v = view(frames)
            return v and v["records"] == 0 and v["deliveries"]
        frames = self.frames(ws, delivered, timeout=20)
        last = [f for f in frames if f["type"] == "buffers"][-1]
        self.assertEqual((last["account_id"], last["region"]), (ALICE, TOKYO))
        self.assertGreater(last["server_time_ms"], 0)
        delivery = view(frames)["deliveries"][0]
        self.assertEqual((delivery["records"], delivery["bytes"]), (2, 18))
        # Unchanged buffers are not sent again.
        self.assertTrue(ws.quiet(1.5))
        self.assertTrue(student.quiet(0.5))


    def test_a_reader_that_does_not_acknowledge_gets_its_window_then_the_newest(self):
        ws, hello = self.connect(BOB_KEY, "feeds=activity")
        window = hello["window"]
        s3 = self.client("s3", BOB_KEY)
        got = []
        # One request per frame at most, until the window is full...
        for _ in range(window + 2):
            s3.list_buckets()
            if not ws.quiet(0.4):
                got.append(ws.recv())
        while not ws.quiet(0.5):
            got.append(ws.recv())
        # hello is acknowledged: the window holds `window` more.
        self.assertEqual(len(got), window, [f["frame"] for f in got])
        # ...then many more, more than a frame takes, while it still lags.
        for _ in range(130):
            s3.list_buckets()
        self.assertTrue(ws.quiet(0.5), "the server sent past its window")
        ws.send({"ack": got[-1]["frame"]})
        frame = ws.recv()
        self.assertEqual(frame["type"], "activity")
        self.assertTrue(frame["missed"])
        self.assertEqual(len(frame["entries"]), 100)
        self.assertEqual({e["account_id"] for e in frame["entries"]}, {BOB})
        self.assertEqual(frame["entries"][-1]["operation"], "ListBuckets")


class CountersAcrossRestartsTest(unittest.TestCase):
    """The Overview's counts survive a restart: saved at a graceful stop,
    and every few seconds while they change (a kill loses at most those)."""

    def test_counts_come_back_after_a_restart(self):
        server = harness.OffcloudServer(args=("--firehose-max-interval", "1"))
        server.start()
        self.addCleanup(server.cleanup)
        self.addCleanup(server.kill)
        key = ("test", "test")

        def client(service):
            return server.boto3_client(service, region=TOKYO)
        client("s3").create_bucket(Bucket=BUCKET,
                                   CreateBucketConfiguration={"LocationConstraint": TOKYO})
        client("firehose").create_delivery_stream(
            DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "BucketARN": "arn:aws:s3:::" + BUCKET,
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})
        client("iot").create_topic_rule(ruleName=RULE, topicRulePayload={
            "sql": "SELECT * FROM '%s'" % TOPIC, "ruleDisabled": False,
            "actions": [{"firehose": {"roleArn": "arn:aws:iam::000000000000:role/iot",
                                      "deliveryStreamName": STREAM, "separator": "\n"}}]})
        for i in range(3):
            client("iot-data").publish(topic=TOPIC, payload=json.dumps({"n": i}).encode())

        def counters(port):
            request = AWSRequest(method="GET", url="http://127.0.0.1:%d/_offcloud/live"
                                 "?feeds=counters" % port)
            SigV4QueryAuth(Credentials(*key), "offcloud", TOKYO, expires=60).add_auth(request)
            ws = WebSocket(port, request.url[request.url.index("/_offcloud"):])
            try:
                frame = ws.recv()
                while frame and frame["type"] != "counters":
                    frame = ws.recv()
                return frame
            finally:
                ws.close()

        def flow(frame):
            return ({t["topic"]: t["messages"] for t in frame["topics"]}.get(TOPIC),
                    {r["name"]: r["matches"] for r in frame["rules"]}.get(RULE),
                    {s["name"]: (s["records_in"], s["objects"])
                     for s in frame["streams"]}.get(STREAM))
        deadline = time.monotonic() + 20
        while flow(counters(server.port)) != (3, 3, (3, 1)):
            self.assertLess(time.monotonic(), deadline, flow(counters(server.port)))
            time.sleep(0.2)
        server.stop()
        server.restart()
        self.assertEqual(flow(counters(server.port)), (3, 3, (3, 1)))
        # And counting goes on from there.
        client("iot-data").publish(topic=TOPIC, payload=b'{"n": 3}')
        deadline = time.monotonic() + 10
        while flow(counters(server.port))[0] != 4:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
