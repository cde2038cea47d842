"""Abuse tests: what students' scripts and broken devices may throw at a
long-running offcloud, over loopback, bounded in count and time.

- 1,000 idle connections and slow-drip (slowloris) clients, while a normal
  signed client is still served within a latency bound; the slow ones are
  cut off by the header/body deadline (--idle-timeout), however they drip.
- Oversized headers and URLs (431), bodies (413) and keys, each refused
  with the target service's AWS error shape.
- Malformed and truncated chunked bodies (Transfer-Encoding: chunked and S3's
  aws-chunked) get a 4xx; the server keeps serving.
- 100 concurrent clients mixing every service for 30 s with no error, and no
  growth of the server's RSS between a warm-up and the end of the run.
- Keys, bucket names, Firehose prefixes and IoT topics crafted to escape the
  data dir: nothing appears outside it, and every key round-trips as the
  opaque string it is.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_abuse.py -v
"""

import hashlib
import json
import os
import random
import re
import selectors
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import boto3
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import workload  # noqa: E402
from test_s3 import FixedPayloadAuth, aws_chunked, s3_sign  # noqa: E402
from test_server import extract_error_code  # noqa: E402

REGION = harness.REGION
PATH_STYLE = workload.PATH_STYLE


def exchange(server, request_bytes, timeout=10.0, half_close=False, head_request=False):
    """Sends raw bytes and reads one response; half_close shuts our sending
    side afterwards, as a client whose upload was cut short."""
    with server.connect(timeout=timeout) as sock:
        try:
            sock.sendall(request_bytes)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before we finished: the answer should be there still
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return harness.SocketReader(sock).read_response(head_request=head_request)


def s3_headers(server, method, path, headers=None, body=b"", unsigned_payload=False):
    return s3_sign(method, server.endpoint + path, headers, body,
                   unsigned_payload=unsigned_payload)


def json_target_headers(server, target, service, body):
    return server.signed_headers("POST", "/", body=body, service=service, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})


def query_headers(server, service, body):
    return server.signed_headers("POST", "/", body=body, service=service, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})


class AbuseCase(unittest.TestCase):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = harness.OffcloudServer(args=cls.server_args)
        cls.server.__enter__()
        cls.s3 = cls.server.boto3_client("s3", config=PATH_STYLE)
        cls.iotdata = cls.server.boto3_client("iot-data")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()  # a crash during the tests shows up as a non-zero exit
        finally:
            cls.server.__exit__(None, None, None)

    def assertStillServing(self):
        resp = exchange(self.server, harness.build_request("GET", "/_offcloud/health",
                                                           self.server.port))
        self.assertEqual(resp.status, 200, resp)
        meta = self.iotdata.publish(topic="e2e/abuse/alive", qos=1, payload=b"{}")
        self.assertEqual(meta["ResponseMetadata"]["HTTPStatusCode"], 200)

    def assertAwsError(self, resp, status, code, shape):
        """`resp` is `status` with AWS error `code`, in `shape`: "s3" (an
        <Error> document), "query" (<ErrorResponse><Error>) or "json"."""
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(extract_error_code(resp), code, resp)
        if shape == "json":
            self.assertIn("json", resp.header("Content-Type", ""), resp)
            json.loads(resp.body)
        else:
            root = ET.fromstring(resp.body)
            self.assertEqual(root.tag, "Error" if shape == "s3" else "ErrorResponse", resp)


# ---------------------------------------------------------------------------
# 1. Idle and slow clients
# ---------------------------------------------------------------------------


class SlowClientTests(AbuseCase):
    IDLE_TIMEOUT_S = 4.0
    IDLE_CONNECTIONS = 1000
    HEADER_DRIPPERS = 40
    BODY_DRIPPERS = 10
    DRIP_EVERY_S = 0.7
    LATENCY_BOUND_S = 1.0
    server_args = ("--idle-timeout", str(IDLE_TIMEOUT_S))

    @classmethod
    def setUpClass(cls):
        # The server inherits the limit: 1,000 sockets each side and spare.
        limit = workload.raise_nofile(4096)
        if limit < cls.IDLE_CONNECTIONS + 500:
            raise AssertionError("RLIMIT_NOFILE is %d and cannot be raised (hard limit); "
                                 "1,000 idle connections need more" % limit)
        super().setUpClass()

    def test_idle_and_dripping_clients_do_not_starve_a_normal_client(self):
        server = self.server
        s3 = self.s3
        bucket = workload.make_bucket(s3, "slow")
        sts = server.boto3_client("sts")
        firehose = server.boto3_client("firehose")
        # Warm the normal client's connection pools before the crowd arrives.
        s3.put_object(Bucket=bucket, Key="warm", Body=b"w")
        self.iotdata.publish(topic="e2e/slow", qos=1, payload=b"{}")

        started = time.monotonic()
        sockets = {}  # socket -> [kind, connected_at, bytes_dripped, last_drip_at]
        for _ in range(self.IDLE_CONNECTIONS):
            sockets[server.connect(timeout=5)] = ["idle", time.monotonic(), 0, None]
        body_path = "/topics/e2e/slow-body?qos=1"
        body_head = harness.build_request("POST", body_path, server.port, headers=dict(
            server.signed_headers("POST", body_path, body=b"x" * 200), **{
                "Content-Length": "200"}))
        drippers = []
        for i in range(self.HEADER_DRIPPERS + self.BODY_DRIPPERS):
            sock = server.connect(timeout=5)
            if i < self.HEADER_DRIPPERS:
                sock.sendall(b"GET /_offcloud/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                sockets[sock] = ["header-drip", time.monotonic(), 0, None]
            else:
                sock.sendall(body_head)
                sockets[sock] = ["body-drip", time.monotonic(), 0, None]
            drippers.append(sock)
        opened_in = time.monotonic() - started

        stop = threading.Event()
        closed = {}  # socket -> (seconds after connect, bytes received)
        lock = threading.Lock()

        def drip():
            while not stop.wait(self.DRIP_EVERY_S):
                for sock in drippers:
                    with lock:
                        if sock in closed:
                            continue
                    try:
                        sock.send(b"x")
                    except OSError:
                        continue
                    state = sockets[sock]
                    state[2] += 1
                    state[3] = time.monotonic()

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        try:
            # The normal client, while all of them hang on.
            latencies = []
            n = 0
            while time.monotonic() - started < self.IDLE_TIMEOUT_S * 0.6:
                calls = [
                    lambda: s3.put_object(Bucket=bucket, Key="k%d" % n, Body=b"v%d" % n),
                    lambda: s3.get_object(Bucket=bucket, Key="k%d" % n)["Body"].read(),
                    lambda: self.iotdata.publish(topic="e2e/slow", qos=1, payload=b"{}"),
                    lambda: sts.get_caller_identity(),
                    lambda: firehose.list_delivery_streams(),
                ]
                for call in calls:
                    t0 = time.monotonic()
                    call()
                    latencies.append(time.monotonic() - t0)
                n += 1
            self.assertGreater(len(latencies), 0)
            print("\nSlowClientTests: %d sockets opened in %.2f s; normal client: %d requests, "
                  "max %.3f s, median %.3f s" % (len(sockets), opened_in, len(latencies),
                                                 max(latencies), sorted(latencies)[len(latencies) // 2]),
                  file=sys.stderr)
            self.assertLess(max(latencies), self.LATENCY_BOUND_S,
                            "a normal request took %.2f s among %d idle and slow clients"
                            % (max(latencies), len(sockets)))

            # Every one of them is cut off by the deadline, dripping or not.
            selector = selectors.DefaultSelector()
            for sock in sockets:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            received = {sock: b"" for sock in sockets}
            deadline = started + opened_in + self.IDLE_TIMEOUT_S + 5
            while len(closed) < len(sockets) and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=0.2):
                    sock = key.fileobj
                    try:
                        data = sock.recv(65536)
                    except BlockingIOError:
                        continue
                    except ConnectionResetError:
                        data = b""
                    if data:
                        received[sock] += data
                        continue
                    selector.unregister(sock)
                    with lock:
                        closed[sock] = (time.monotonic() - sockets[sock][1], received[sock])
            selector.close()
        finally:
            stop.set()
            dripper.join(5)
            for sock in sockets:
                sock.close()

        open_kinds = {}
        for sock, state in sockets.items():
            if sock not in closed:
                open_kinds[state[0]] = open_kinds.get(state[0], 0) + 1
        self.assertEqual(open_kinds, {}, "still open %.0f s after the %.0f s deadline"
                         % (5, self.IDLE_TIMEOUT_S))
        for sock, (after, data) in closed.items():
            kind, _, dripped, last_drip = sockets[sock]
            self.assertTrue(data == b"" or data.startswith(b"HTTP/1.1 408"),
                            "%s client got %r before the close" % (kind, data[:200]))
            self.assertGreaterEqual(after, self.IDLE_TIMEOUT_S * 0.8,
                                    "%s client closed after %.2f s, before the deadline"
                                    % (kind, after))
            if kind != "idle":
                # It kept sending all along: only a deadline on the whole
                # header (or body piece) stops it.
                self.assertGreaterEqual(dripped, 3, "%s client dripped only %d bytes"
                                        % (kind, dripped))
        print("SlowClientTests: all %d closed after %.2f-%.2f s (deadline %.1f s)"
              % (len(closed), min(a for a, _ in closed.values()),
                 max(a for a, _ in closed.values()), self.IDLE_TIMEOUT_S), file=sys.stderr)
        self.assertStillServing()


# ---------------------------------------------------------------------------
# 2. Oversized requests
# ---------------------------------------------------------------------------


class OversizedTests(AbuseCase):
    MAX_HEADER = 16384
    MAX_BODY = 65536
    server_args = ("--max-header-bytes", str(MAX_HEADER), "--max-body-bytes", str(MAX_BODY))

    def test_header_section_over_the_limit_is_431(self):
        bucket = workload.make_bucket(self.s3, "hdr")
        path = "/%s/k" % bucket
        headers = s3_headers(self.server, "GET", path)
        headers["X-Huge"] = "h" * (self.MAX_HEADER * 2)
        resp = exchange(self.server, harness.build_request("GET", path, self.server.port,
                                                           headers=headers))
        self.assertAwsError(resp, 431, "RequestHeaderSectionTooLarge", "s3")
        many = {"X-Many-%d" % i: "v" * 40 for i in range(self.MAX_HEADER // 40)}
        resp = exchange(self.server, harness.build_request("GET", "/_offcloud/health",
                                                           self.server.port, headers=many))
        self.assertAwsError(resp, 431, "RequestHeaderSectionTooLarge", "s3")
        self.assertStillServing()

    def test_url_over_the_limit_is_431(self):
        # S3's RequestHeaderSectionTooLarge: "The request header and query
        # parameters used to make the request exceed the maximum allowed
        # size"; the request line counts against the same limit.
        bucket = workload.make_bucket(self.s3, "url")
        for path in ("/%s/%s" % (bucket, "k" * (self.MAX_HEADER * 2)),
                     "/_offcloud/health?" + "q=1&" * self.MAX_HEADER):
            resp = exchange(self.server, harness.build_request("GET", path, self.server.port))
            self.assertAwsError(resp, 431, "RequestHeaderSectionTooLarge", "s3")
        self.assertStillServing()

    def test_key_over_1024_bytes_is_key_too_long(self):
        bucket = workload.make_bucket(self.s3, "longkey")
        key = "k" * 1025
        path = "/%s/%s" % (bucket, key)
        resp = exchange(self.server, harness.build_request(
            "PUT", path, self.server.port, body=b"v",
            headers=s3_headers(self.server, "PUT", path, body=b"v")))
        self.assertAwsError(resp, 400, "KeyTooLongError", "s3")
        self.s3.put_object(Bucket=bucket, Key="k" * 1024, Body=b"v")  # the limit itself is fine
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key="k" * 1024)["Body"].read(), b"v")

    def test_bodies_over_the_limit_are_413_in_each_services_shape(self):
        bucket = workload.make_bucket(self.s3, "body")
        big = b"x" * (self.MAX_BODY + 1)
        cases = [
            # (what, path, headers, expected code, shape)
            ("firehose", "/", json_target_headers(
                self.server, "Firehose_20150804.PutRecord", "firehose", big),
             "RequestEntityTooLargeException", "json"),
            ("iam", "/", query_headers(self.server, "iam", big),
             "RequestEntityTooLargeException", "query"),
            ("s3 DeleteObjects", "/%s?delete" % bucket,
             s3_headers(self.server, "POST", "/%s?delete" % bucket, body=big),
             "EntityTooLarge", "s3"),
        ]
        for what, path, headers, code, shape in cases:
            for chunked in (False, True):
                with self.subTest(what=what, chunked=chunked):
                    headers = dict(headers)
                    if chunked:
                        # No declared length: refused once the limit is crossed.
                        headers.pop("Content-Length", None)
                        headers["Transfer-Encoding"] = "chunked"
                        wire = b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 8192]), big[i:i + 8192])
                                        for i in range(0, len(big), 8192)) + b"0\r\n\r\n"
                    else:
                        headers["Content-Length"] = str(len(big))
                        wire = big
                    resp = exchange(self.server, harness.build_request(
                        "POST", path, self.server.port, headers=headers) + wire)
                    self.assertAwsError(resp, 413, code, shape)
        # IoT Data's own limit, 128 KiB, whatever --max-body-bytes says.
        path = "/topics/e2e/big?qos=1"
        payload = b"p" * (128 * 1024 + 1)
        headers = self.server.signed_headers("POST", path, body=payload)
        resp = exchange(self.server, harness.build_request("POST", path, self.server.port,
                                                           headers=headers, body=payload))
        self.assertAwsError(resp, 413, "RequestEntityTooLargeException", "json")
        self.assertStillServing()


# ---------------------------------------------------------------------------
# 3. Malformed and truncated chunked bodies
# ---------------------------------------------------------------------------


BAD_CHUNKINGS = [
    ("size not hex", b"zz\r\nabc\r\n0\r\n\r\n"),
    ("negative size", b"-3\r\nabc\r\n0\r\n\r\n"),
    ("size overflows 64 bits", b"fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
    ("CRLF missing after data", b"3\r\nabcX0\r\n\r\n"),
    ("data longer than its size", b"3\r\nabcdef\r\n0\r\n\r\n"),
]


class ChunkedBodyTests(AbuseCase):
    IDLE_TIMEOUT_S = 2.0
    server_args = ("--idle-timeout", str(IDLE_TIMEOUT_S))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = workload.make_bucket(cls.s3, "chunked")

    def targets(self, key):
        """(what, path, signed headers without framing, error shape) per
        service: S3's streamed PUT and buffered bodies of the others."""
        s3_path = "/%s/%s" % (self.bucket, key)
        s3 = s3_headers(self.server, "PUT", s3_path, unsigned_payload=True)
        iot_path = "/topics/e2e/chunked?qos=1"
        iot = self.server.signed_headers("POST", iot_path, body=b"abc")
        fh = json_target_headers(self.server, "Firehose_20150804.PutRecord", "firehose", b"abc")
        out = []
        for what, method, path, headers, shape in (("s3", "PUT", s3_path, s3, "s3"),
                                                   ("iotdata", "POST", iot_path, iot, "json"),
                                                   ("firehose", "POST", "/", fh, "json")):
            headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
            headers["Transfer-Encoding"] = "chunked"
            out.append((what, method, path, headers, shape))
        return out

    def assertClientError4xx(self, resp, shape):
        self.assertGreaterEqual(resp.status, 400, resp)
        self.assertLess(resp.status, 500, resp)
        self.assertTrue(extract_error_code(resp), "no AWS error code in %r" % resp)
        if shape == "s3":
            self.assertEqual(ET.fromstring(resp.body).tag, "Error", resp)

    def test_malformed_chunked_framing_is_400(self):
        for n, (name, body) in enumerate(BAD_CHUNKINGS):
            for what, method, path, headers, shape in self.targets("bad-%d" % n):
                with self.subTest(case=name, service=what):
                    resp = exchange(self.server, harness.build_request(
                        method, path, self.server.port, headers=headers) + body)
                    self.assertClientError4xx(resp, shape)
            with self.assertRaises(ClientError):
                self.s3.head_object(Bucket=self.bucket, Key="bad-%d" % n)
        self.assertStillServing()

    def test_body_cut_short_then_half_closed_is_400(self):
        # The client stops mid-chunk (or mid size line) and closes its side:
        # it still waits for an answer.
        # Bare LFs: the parser waits for a CRLF that never comes.
        cuts = (b"10\r\nabc", b"10", b"3\r\nabc\r\n", b"3\nabc\n0\n\n")
        for n, cut in enumerate(cuts):
            for what, method, path, headers, shape in self.targets("cut-%d" % n):
                with self.subTest(cut=cut, service=what):
                    resp = exchange(self.server, harness.build_request(
                        method, path, self.server.port, headers=headers) + cut, half_close=True)
                    self.assertClientError4xx(resp, shape)
                    if what == "s3":
                        self.assertEqual(extract_error_code(resp), "IncompleteBody", resp)
        # Content-Length promised more than came.
        path = "/%s/short" % self.bucket
        headers = s3_headers(self.server, "PUT", path, unsigned_payload=True)
        headers["Content-Length"] = "100"
        resp = exchange(self.server, harness.build_request("PUT", path, self.server.port,
                                                           headers=headers) + b"abc",
                        half_close=True)
        self.assertAwsError(resp, 400, "IncompleteBody", "s3")
        for key in ["cut-%d" % n for n in range(len(cuts))] + ["short"]:
            with self.assertRaises(ClientError):
                self.s3.head_object(Bucket=self.bucket, Key=key)
        self.assertStillServing()

    def test_body_cut_short_then_silent_is_dropped_at_the_deadline(self):
        for what, method, path, headers, _ in self.targets("silent"):
            with self.subTest(service=what):
                with self.server.connect() as sock:
                    sock.sendall(harness.build_request(method, path, self.server.port,
                                                       headers=headers) + b"10\r\nabc")
                    received, waited = harness.wait_closed(sock, timeout=self.IDLE_TIMEOUT_S + 3)
                self.assertTrue(received == b"" or received.startswith(b"HTTP/1.1 4"), received)
                self.assertGreaterEqual(waited, self.IDLE_TIMEOUT_S * 0.8)
        self.assertStillServing()

    def aws_chunked_put(self, key, body, decoded_length, literal="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                        extra=None):
        path = "/%s/%s" % (self.bucket, key)
        headers = {"Content-Encoding": "aws-chunked",
                   "x-amz-decoded-content-length": str(decoded_length)}
        headers.update(extra or {})

        class Auth(FixedPayloadAuth):
            payload_literal = literal

        request = AWSRequest(method="PUT", url=self.server.endpoint + path, headers=headers)
        Auth(Credentials(harness.ACCESS_KEY, harness.SECRET_KEY), "s3", REGION).add_auth(request)
        headers = {k: (v.decode() if isinstance(v, bytes) else v)
                   for k, v in request.headers.items()}
        headers["Content-Length"] = str(len(body))
        return exchange(self.server, harness.build_request("PUT", path, self.server.port,
                                                           headers=headers) + body)

    def test_malformed_aws_chunked_bodies_are_400(self):
        data = b"0123456789" * 10
        good = aws_chunked(data, 64)
        cases = [
            ("size not hex", b"zz\r\n" + good[4:], len(data)),
            ("chunk shorter than its size", b"80\r\n" + data[:64] + b"\r\n0\r\n\r\n", 64),
            ("chunk longer than its size", b"10\r\n" + data[:64] + b"\r\n0\r\n\r\n", 16),
            ("no final chunk", good[:-5], len(data)),
            ("decoded length disagrees", good, len(data) + 1),
            ("decoded length not a number", good, "many"),
            ("size line without CRLF", b"40" + good[4:], len(data)),
            ("size overflows", b"fffffffffffffffffffffff\r\n" + good[4:], len(data)),
            ("trailer line garbage", aws_chunked(data, 64)[:-2] + b"\x00\xff garbage\r\n\r\n",
             len(data)),
        ]
        for n, (name, body, decoded) in enumerate(cases):
            with self.subTest(case=name):
                resp = self.aws_chunked_put("awsbad-%d" % n, body, decoded)
                self.assertClientError4xx(resp, "s3")
                with self.assertRaises(ClientError):
                    self.s3.head_object(Bucket=self.bucket, Key="awsbad-%d" % n)
        # Signed chunks whose signatures are missing or not hex.
        for n, sig in enumerate((b"", b";chunk-signature=", b";chunk-signature=zz" + b"0" * 62)):
            with self.subTest(signature=sig):
                body = b"%x%s\r\n%s\r\n0%s\r\n\r\n" % (len(data), sig, data, sig)
                resp = self.aws_chunked_put("awssig-%d" % n, body, len(data),
                                            literal="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
                self.assertClientError4xx(resp, "s3")
        # The well-formed one is stored, so the refusals above were for the framing.
        resp = self.aws_chunked_put("awsgood", good, len(data))
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="awsgood")["Body"].read(), data)
        self.assertStillServing()


# ---------------------------------------------------------------------------
# 4. 100 concurrent clients, every service, 30 s
# ---------------------------------------------------------------------------


class MixedLoadTests(AbuseCase):
    CLIENTS = 100
    WARMUP_S = 15.0
    RUN_S = float(os.environ.get("OFFCLOUD_E2E_MIXED_S", 30))
    # RSS after the run may exceed RSS after the warm-up by this much: the
    # page caches of offcloud's five SQLite databases (2,000 KiB each at
    # most, SQLite's default) go on filling as the tables grow, and the
    # allocator keeps some freed memory. Measured: the growth levels off
    # about 40 s into this load at some +7 MiB.
    RSS_MARGIN_KIB = 5 * 2000 + 2048
    server_args = ("--firehose-max-interval", "1")

    @classmethod
    def setUpClass(cls):
        workload.raise_nofile(4096)
        super().setUpClass()

    def test_mixed_load_without_errors_or_memory_growth(self):
        server = self.server
        setup_iot = server.boto3_client("iot")
        bucket = workload.make_bucket(self.s3, "mixed")
        fh_bucket = workload.make_bucket(self.s3, "mixedfh")
        firehose = server.boto3_client("firehose")
        stream = workload.make_stream(firehose, fh_bucket, interval=60)
        workload.make_firehose_rule(setup_iot, "e2e/mixed/+", stream)

        # Each client thread its own boto3 clients, hence its own
        # connections. (One shared client per service serialises the threads
        # in botocore and stalls some requests for half a minute.) Made from
        # one session, which loads each service model once.
        session = boto3.session.Session(aws_access_key_id=harness.ACCESS_KEY,
                                        aws_secret_access_key=harness.SECRET_KEY,
                                        region_name=REGION)
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                        read_timeout=30)
        clients = [{name: session.client(name, endpoint_url=server.endpoint,
                                         config=config.merge(PATH_STYLE) if name == "s3"
                                         else config)
                    for name in ("s3", "iot-data", "firehose", "iam", "sts")}
                   for _ in range(self.CLIENTS)]

        lock = threading.Lock()
        done = [0]
        failures = []
        phase_end = [0.0]
        phase_tag = ["warm"]
        sent_ids = set()

        def check(resp, what):
            status = resp["ResponseMetadata"]["HTTPStatusCode"]
            if not 200 <= status < 300:
                raise AssertionError("%s answered %d" % (what, status))
            return resp

        def one_client(n):
            c = clients[n]
            rng = random.Random(n)
            keys = []
            seq = 0
            while time.monotonic() < phase_end[0]:
                seq += 1
                record_id = "%s-%d-%d" % (phase_tag[0], n, seq)
                op = rng.randrange(10)
                try:
                    if op == 0:
                        key = "c%d/%s-%d" % (n, phase_tag[0], seq)
                        body = os.urandom(rng.choice((0, 100, 4096, 70000)))
                        check(c["s3"].put_object(Bucket=bucket, Key=key, Body=body), "PutObject")
                        keys.append((key, hashlib.md5(body).hexdigest()))
                    elif op == 1 and keys:
                        key, digest = rng.choice(keys)
                        got = c["s3"].get_object(Bucket=bucket, Key=key)["Body"].read()
                        if hashlib.md5(got).hexdigest() != digest:
                            raise AssertionError("GetObject %s returned other bytes" % key)
                    elif op == 2:
                        check(c["s3"].list_objects_v2(Bucket=bucket, Prefix="c%d/" % n),
                              "ListObjectsV2")
                    elif op == 3 and len(keys) > 3:
                        key, _ = keys.pop(0)
                        check(c["s3"].delete_object(Bucket=bucket, Key=key), "DeleteObject")
                    elif op in (4, 5):
                        check(c["iot-data"].publish(topic="e2e/mixed/%d" % n, qos=1,
                                                    payload=json.dumps({"id": record_id})),
                              "Publish")
                        with lock:
                            sent_ids.add(record_id)
                    elif op == 6:
                        check(c["firehose"].put_record(
                            DeliveryStreamName=stream,
                            Record={"Data": json.dumps({"id": record_id}) + "\n"}), "PutRecord")
                        with lock:
                            sent_ids.add(record_id)
                    elif op == 7:
                        ids = ["%s-%d" % (record_id, i) for i in range(rng.randint(2, 20))]
                        resp = check(c["firehose"].put_record_batch(
                            DeliveryStreamName=stream,
                            Records=[{"Data": json.dumps({"id": i}) + "\n"} for i in ids]),
                            "PutRecordBatch")
                        if resp["FailedPutCount"]:
                            raise AssertionError("PutRecordBatch failed %d records"
                                                 % resp["FailedPutCount"])
                        with lock:
                            sent_ids.update(ids)
                    elif op == 8:
                        user = "e2e-mixed-%d-%d" % (n, seq)
                        check(c["iam"].create_user(UserName=user), "CreateUser")
                        check(c["iam"].get_user(UserName=user), "GetUser")
                        check(c["iam"].delete_user(UserName=user), "DeleteUser")
                    else:
                        check(c["sts"].get_caller_identity(), "GetCallerIdentity")
                        check(c["iam"].list_users(MaxItems=5), "ListUsers")
                except Exception as e:  # every error counts: none was provoked
                    with lock:
                        failures.append("client %d op %d: %r" % (n, op, e))
                    continue
                with lock:
                    done[0] += 1

        def run_phase(seconds):
            phase_end[0] = time.monotonic() + seconds
            threads = [threading.Thread(target=one_client, args=(n,), daemon=True)
                       for n in range(self.CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(seconds + 60)
            self.assertFalse(any(t.is_alive() for t in threads), "a client hung")

        samples = []  # (seconds into the run, VmRSS KiB)
        sampling = threading.Event()

        def sample():
            t0 = time.monotonic()
            while not sampling.wait(2.0):
                samples.append((time.monotonic() - t0, workload.vm_rss_kib(server.proc.pid)))

        run_phase(self.WARMUP_S)
        phase_tag[0] = "run"
        warm_requests = done[0]
        rss_warm = workload.vm_rss_kib(server.proc.pid)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        run_phase(self.RUN_S)
        sampling.set()
        sampler.join()
        time.sleep(1)  # let the last deliveries and closes settle
        rss_after = workload.vm_rss_kib(server.proc.pid)
        run_requests = done[0] - warm_requests
        allowed = self.RSS_MARGIN_KIB
        print("\nMixedLoadTests: %d clients; warm-up %.0f s: %d requests; run %.0f s: %d requests "
              "(%.0f/s); failures %d; VmRSS after warm-up %d KiB, after the run %d KiB "
              "(%+d KiB, allowed +%d KiB)"
              % (self.CLIENTS, self.WARMUP_S, warm_requests, self.RUN_S, run_requests,
                 run_requests / self.RUN_S, len(failures), rss_warm, rss_after,
                 rss_after - rss_warm, allowed), file=sys.stderr)
        print("MixedLoadTests: VmRSS during the run (s, KiB): %s"
              % " ".join("%.0f:%d" % sample for sample in samples), file=sys.stderr)
        self.assertEqual(failures[:10], [], "%d failed requests" % len(failures))
        self.assertGreater(run_requests, self.CLIENTS * 10, "the load barely ran")
        if not harness.asan_build():
            self.assertLessEqual(rss_after - rss_warm, allowed, "RSS grew over the run")

        # Everything acknowledged into Firehose (directly or through the
        # rule) was delivered, once.
        delivered = workload.DeliveredRecords(self.s3, fh_bucket)
        counts = delivered.wait_for(sent_ids, timeout=60)
        dups = sorted(i for i, c in counts.items() if c > 1)
        self.assertEqual(dups[:10], [], "records delivered twice")
        self.assertEqual(sorted(set(counts) - sent_ids)[:10], [], "records never sent")
        self.assertStillServing()


# ---------------------------------------------------------------------------
# 5. Escaping the data dir
# ---------------------------------------------------------------------------


class EscapeTests(unittest.TestCase):
    """The data dir sits alone in a sandbox directory; every crafted name
    carries a marker, so anything written for one is found by name."""

    def setUp(self):
        self.marker = "esc%s" % uuid.uuid4().hex[:10]
        self.sandbox = tempfile.mkdtemp(prefix="offcloud-e2e-escape-")
        self.addCleanup(shutil.rmtree, self.sandbox, True)
        self.data_dir = os.path.join(self.sandbox, "data")
        os.mkdir(self.data_dir)
        # Absolute targets the crafted names point at; none may appear.
        self.absolute = [os.path.join("/tmp", self.marker), os.path.join(self.sandbox, self.marker)]
        for path in self.absolute:
            self.addCleanup(lambda p=path: os.path.exists(p) and os.remove(p))
        self.server = harness.OffcloudServer(data_dir=self.data_dir,
                                             args=("--firehose-max-interval", "1"))
        self.server.__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)
        self.s3 = self.server.boto3_client("s3", config=PATH_STYLE)

    def crafted_keys(self):
        m = self.marker
        return [
            "../%s" % m, "../../%s" % m, "../../../../../../tmp/%s" % m,
            "..%%2F..%%2F%s" % m, "..%%252F%s" % m, "/tmp/%s" % m, "//tmp/%s" % m,
            "%s/%s" % (self.sandbox, m), "./../%s" % m, "a/../../%s" % m, "a/./b/%s" % m,
            "..\\..\\%s" % m, "C:\\tmp\\%s" % m, "nul\x00%s" % m, "%s\x00/../x" % m,
            "%%00%s" % m, "\u2025/%s" % m, "\uff0e\uff0e/%s" % m, "%%C0%%AE%%C0%%AE/%s" % m,
            "%s/%s" % ("../" * 300, m), "%s%s" % ("x" * (1024 - len(m)), m),
            "~/%s" % m, "$HOME/%s" % m, "%s/" % m, "..", "../", "/",
        ]

    def raw_s3(self, method, path, body=b"", headers=None):
        signed = s3_headers(self.server, method, path, headers=headers, body=body)
        return exchange(self.server, harness.build_request(method, path, self.server.port,
                                                           headers=signed, body=body),
                        head_request=method == "HEAD")

    def assertNothingOutside(self):
        self.assertEqual(sorted(os.listdir(self.sandbox)), ["data"],
                         "the server wrote beside its data dir")
        for path in self.absolute:
            self.assertFalse(os.path.exists(path), "%s was created" % path)
        for root, dirs, files in os.walk(self.data_dir):
            for name in dirs + files:
                self.assertNotIn(self.marker, name, "a crafted name became a file name: %s"
                                 % os.path.join(root, name))
                real = os.path.realpath(os.path.join(root, name))
                self.assertTrue(real.startswith(os.path.realpath(self.data_dir) + os.sep),
                                "%s resolves outside the data dir" % real)

    def test_crafted_names_stay_inside_the_data_dir(self):
        s3 = self.s3
        bucket = workload.make_bucket(s3, "escape")
        written = {}

        # S3 PUT and GET: every key is an opaque string and round-trips.
        for n, key in enumerate(self.crafted_keys()):
            body = ("%d:%s" % (n, key)).encode("utf-8", "surrogateescape")
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            written[key] = body
        for key, body in written.items():
            self.assertEqual(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), body,
                             "key %r" % key)

        # The same through raw percent-encoded paths: what the URL decodes
        # to is the key, never a path.
        m = self.marker
        raw_paths = {"..%%2F..%%2Fraw-%s" % m: "../../raw-%s" % m,
                     "../../raw2-%s" % m: "../../raw2-%s" % m,
                     "%%2Ftmp%%2Fraw3-%s" % m: "/tmp/raw3-%s" % m,
                     "..%%5C..%%5Craw4-%s" % m: "..\\..\\raw4-%s" % m,
                     "%%2E%%2E/%%2e%%2e/raw5-%s" % m: "../../raw5-%s" % m,
                     "raw6-%s%%00" % m: "raw6-%s\x00" % m}
        for raw, key in raw_paths.items():
            resp = self.raw_s3("PUT", "/%s/%s" % (bucket, raw), body=key.encode())
            self.assertEqual(resp.status, 200, (raw, resp))
            written[key] = key.encode()
            self.assertEqual(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key.encode())

        # Overlong and invalid UTF-8 are not keys: refused, in well-formed
        # XML, on every operation; never decoded into "..".
        for raw in ("%%C0%%AE%%C0%%AE/%%C0%%AE%%C0%%AE/ovl-%s" % m, "%%E0%%80%%AE/ovl2-%s" % m,
                    "%%FF%%FE/ovl3-%s" % m, "%%ED%%A0%%80/ovl4-%s" % m):
            for method in ("PUT", "GET", "HEAD", "DELETE"):
                with self.subTest(raw=raw, method=method):
                    resp = self.raw_s3(method, "/%s/%s" % (bucket, raw),
                                       body=b"x" if method == "PUT" else b"")
                    self.assertGreaterEqual(resp.status, 400, resp)
                    self.assertLess(resp.status, 500, resp)
                    if method != "HEAD":
                        ET.fromstring(resp.body)

        # COPY from and to crafted keys.
        for n, key in enumerate(["../../%s" % m, "..%%2F..%%2F%s" % m, "/tmp/%s" % m]):
            target = "../copy%d/../../%s" % (n, m)
            s3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key})
            written[target] = written[key]
            self.assertEqual(s3.get_object(Bucket=bucket, Key=target)["Body"].read(), written[key])
        # A copy source naming another "bucket" by traversal is refused.
        for source in ("/%s/../%s/x" % (bucket, bucket), "../../etc/passwd",
                       "%s/..%%2F..%%2F..%%2Fetc%%2Fpasswd" % bucket):
            with self.subTest(copy_source=source):
                path = "/%s/copy-%s" % (bucket, m)
                resp = self.raw_s3("PUT", path, headers={"x-amz-copy-source": source})
                self.assertGreaterEqual(resp.status, 400, resp)
                self.assertLess(resp.status, 500, resp)

        # Multipart into a crafted key.
        mp_key = "../../../mp/%s" % m
        upload = s3.create_multipart_upload(Bucket=bucket, Key=mp_key)["UploadId"]
        part1, part2 = os.urandom(5 * 1024 * 1024), b"tail" * 10
        etags = [s3.upload_part(Bucket=bucket, Key=mp_key, UploadId=upload, PartNumber=i + 1,
                                Body=part)["ETag"] for i, part in enumerate((part1, part2))]
        s3.complete_multipart_upload(Bucket=bucket, Key=mp_key, UploadId=upload, MultipartUpload={
            "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
        written[mp_key] = part1 + part2
        self.assertEqual(s3.get_object(Bucket=bucket, Key=mp_key)["Body"].read(), part1 + part2)

        # Bucket names that are paths are not bucket names.
        for raw in ("..", "%2E%2E", "..%2F..%2F" + m, "%2Ftmp%2F" + m, "." + m, m + "%00",
                    "..%5C" + m):
            with self.subTest(bucket=raw):
                resp = self.raw_s3("PUT", "/%s" % raw)
                self.assertAwsErrorIn(resp, ("InvalidBucketName",))
                resp = self.raw_s3("PUT", "/%s/k" % raw, body=b"x")
                self.assertGreaterEqual(resp.status, 400, resp)
                self.assertLess(resp.status, 500, resp)

        listed = set(workload.list_keys(s3, bucket))
        self.assertEqual(listed, set(written), "listing differs from what was written")

        # Firehose prefixes with traversals, absolute paths and expressions.
        fh = self.server.boto3_client("firehose")
        fh_bucket = workload.make_bucket(s3, "escfh")
        prefixes = ["../../%s/!{timestamp:yyyy}/" % m, "/tmp/%s/" % m, "..\\%s\\" % m,
                    "!{timestamp:yyyy}/../../../%s/" % m]
        streams = {workload.make_stream(fh, fh_bucket, prefix=p, interval=60): p
                   for p in prefixes}
        for stream in streams:
            fh.put_record(DeliveryStreamName=stream,
                          Record={"Data": json.dumps({"id": stream}) + "\n"})
        delivered = workload.DeliveredRecords(s3, fh_bucket)
        delivered.wait_for(streams, timeout=30)
        for key, body in delivered.bodies.items():
            stream = json.loads(body)["id"]
            expected = streams[stream].replace("!{timestamp:yyyy}", time.strftime("%Y", time.gmtime()))
            self.assertTrue(key.startswith(expected), "%r delivered under %r" % (stream, key))

        # IoT: traversal topics, published and retained, into a rule whose
        # S3 key is the topic.
        iot = self.server.boto3_client("iot")
        iotdata = self.server.boto3_client("iot-data")
        rule_bucket = workload.make_bucket(s3, "escrule")
        iot.create_topic_rule(ruleName="escape_%s" % m, topicRulePayload={
            "sql": "SELECT * FROM '#'", "awsIotSqlVersion": "2016-03-23",
            "actions": [{"s3": {"roleArn": workload.ROLE_ARN, "bucketName": rule_bucket,
                                "key": "${topic()}"}}]})
        topics = ["../../%s" % m, "..%%2F..%%2F%s" % m, "/tmp/%s" % m, "..\\..\\%s" % m,
                  "a/../../../%s" % m, "%s/../../.." % m]
        for topic in topics:
            payload = json.dumps({"topic": topic})
            iotdata.publish(topic=topic, qos=1, retain=True, payload=payload)
            got = iotdata.get_retained_message(topic=topic)
            self.assertEqual(got["payload"], payload.encode())
        rule_objects = {k: s3.get_object(Bucket=rule_bucket, Key=k)["Body"].read()
                        for k in workload.list_keys(s3, rule_bucket)}
        self.assertEqual(sorted(rule_objects), sorted(topics))
        for key, body in rule_objects.items():
            self.assertEqual(json.loads(body)["topic"], key)

        # After a restart everything is still there, and still inside.
        self.server.stop()
        self.assertNothingOutside()
        self.server.restart()
        s3 = self.server.boto3_client("s3", config=PATH_STYLE)
        for key, body in written.items():
            self.assertEqual(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), body, key)
        self.server.stop()
        self.assertNothingOutside()

    def assertAwsErrorIn(self, resp, codes):
        self.assertIn(extract_error_code(resp), codes, resp)
        self.assertGreaterEqual(resp.status, 400, resp)
        self.assertLess(resp.status, 500, resp)


if __name__ == "__main__":
    unittest.main(verbosity=2)
