"""End-to-end tests of offcloud's process and HTTP behaviour, over raw
sockets and http.client: startup line, health, keep-alive, chunked bodies,
Expect: 100-continue, idle timeout, oversized headers, shutdown.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_server.py -v
"""

import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HANDSON_RECORD = {"timestamp": "2021-01-10 15:41:43", "face_id": 0, "AgeRange-Low": 22,
                  "AgeRange-High": 34, "Gender": "Female", "Smile": True, "Calm": 72.5}


def health_request(port, extra_headers=None):
    return harness.build_request("GET", "/_offcloud/health", port, headers=extra_headers)


def extract_error_code(resp):
    """The AWS error code of a raw response, whichever protocol shaped it."""
    header = resp.header("x-amzn-ErrorType")
    if header:
        return header.split(":")[0]
    text = resp.body.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict):
            code = parsed.get("__type") or parsed.get("code") or parsed.get("Code")
            if code:
                return code.split("#")[-1]
    except ValueError:
        pass
    m = re.search(r"<Code>([^<]+)</Code>", text)
    return m.group(1) if m else None


class StartupTests(unittest.TestCase):
    def test_port_zero_prints_exact_listening_line(self):
        with harness.OffcloudServer() as server:
            self.assertRegex(server.listening_line,
                             r"^offcloud listening on http://127\.0\.0\.1:[1-9][0-9]*\n$")
            self.assertNotEqual(server.port, 0)
            with server.connect() as sock:
                sock.sendall(health_request(server.port))
                resp = harness.SocketReader(sock).read_response()
            self.assertEqual(resp.status, 200, resp)
            server.stop()
            self.assertEqual(server.extra_stdout, [], "stdout must hold only the listening line")

    def test_two_servers_get_distinct_ports(self):
        with harness.OffcloudServer() as a, harness.OffcloudServer() as b:
            self.assertNotEqual(a.port, b.port)
            a.stop()
            b.stop()

    def test_environment_variables_configure_the_server(self):
        data_dir = tempfile.mkdtemp(prefix="offcloud-e2e-env-")
        self.addCleanup(shutil.rmtree, data_dir, True)
        env = {"OFFCLOUD_HOST": "127.0.0.1", "OFFCLOUD_PORT": "0", "OFFCLOUD_DATA_DIR": data_dir}
        with harness.OffcloudServer(data_dir=data_dir, env=env, cli_defaults=False) as server:
            iot = server.boto3_client("iot-data")
            iot.publish(topic="e2e/env/retained", retain=True, payload=b"persist me")
            server.stop()
        stored = [name for name in os.listdir(data_dir) if name != "offcloud-stderr.log"]
        self.assertTrue(stored, "OFFCLOUD_DATA_DIR was not used for data: %r"
                        % os.listdir(data_dir))

    def test_sigint_exits_zero(self):
        with harness.OffcloudServer() as server:
            elapsed = server.stop(sig=signal.SIGINT, timeout=1.0)
            self.assertLessEqual(elapsed, 1.0)

    def test_request_logs_go_to_stderr(self):
        with harness.OffcloudServer(args=("--log-level", "debug")) as server:
            before = len(server.stderr_text())
            server.boto3_client("iot-data").publish(topic="e2e/log", payload=b"{}")
            # The log line may be written just after the response.
            deadline = time.monotonic() + 2
            while len(server.stderr_text()) == before and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertGreater(len(server.stderr_text()), before, "no request log on stderr")
            server.stop()
            self.assertEqual(server.extra_stdout, [], "request logs leaked to stdout")


class HttpTests(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.iot = cls.server.boto3_client("iot-data")

    def exchange(self, request_bytes, timeout=10.0):
        with self.server.connect(timeout=timeout) as sock:
            sock.sendall(request_bytes)
            return harness.SocketReader(sock).read_response()

    def test_health(self):
        conn = self.server.http()
        try:
            conn.request("GET", "/_offcloud/health")
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        self.assertEqual(resp.status, 200, body)
        self.assertIn("json", resp.getheader("Content-Type", ""))
        health = json.loads(body)
        self.assertIsInstance(health.get("version"), str, health)
        self.assertTrue(health["version"], health)
        self.assertEqual(health.get("services", {}).get("iotdata"), "running", health)

    def test_keep_alive_serves_several_requests_on_one_connection(self):
        path = "/topics/e2e-keepalive?qos=0"
        body = json.dumps(HANDSON_RECORD).encode()
        with self.server.connect() as sock:
            reader = harness.SocketReader(sock)
            sock.sendall(health_request(self.server.port))
            first = reader.read_response()
            self.assertEqual(first.status, 200, first)
            self.assertNotEqual((first.header("Connection") or "").lower(), "close", first)

            sock.sendall(health_request(self.server.port))
            second = reader.read_response()
            self.assertEqual(second.status, 200, second)

            headers = self.server.signed_headers("POST", path, body=body)
            sock.sendall(harness.build_request("POST", path, self.server.port,
                                               headers=headers, body=body))
            third = reader.read_response()
            self.assertEqual(third.status, 200, third)

    def test_connection_close_is_honoured(self):
        with self.server.connect() as sock:
            sock.sendall(health_request(self.server.port, {"Connection": "close"}))
            reader = harness.SocketReader(sock)
            resp = reader.read_response()
            self.assertEqual(resp.status, 200, resp)
            sock.settimeout(3)
            self.assertEqual(reader.buf + sock.recv(1024), b"",
                             "server kept the connection after Connection: close")

    def test_chunked_request_body(self):
        topic = "e2e-chunked-" + uuid.uuid4().hex[:8]
        path = "/topics/%s?qos=1&retain=true" % topic
        payload = json.dumps(HANDSON_RECORD).encode() * 20
        # The signature covers the payload hash, so the chunk framing below
        # is the server's to undo before it checks.
        headers = self.server.signed_headers("POST", path, body=payload)
        headers["Transfer-Encoding"] = "chunked"
        head = harness.build_request("POST", path, self.server.port, headers=headers)
        pieces = [payload[:7], payload[7:300], payload[300:]]
        with self.server.connect() as sock:
            sock.sendall(head)
            for piece in pieces:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                time.sleep(0.02)  # separate TCP segments, so the parser sees partial chunks
            sock.sendall(b"0\r\n\r\n")
            resp = harness.SocketReader(sock).read_response()
        self.assertEqual(resp.status, 200, resp)
        got = self.iot.get_retained_message(topic=topic)
        self.assertEqual(got["payload"], payload)

    def expecting_publish(self, name):
        """A signed retained publish of the hands-on record with Expect:
        100-continue: (topic, its request head, its body)."""
        topic = name + "-" + uuid.uuid4().hex[:8]
        path = "/topics/%s?qos=0&retain=true" % topic
        payload = json.dumps(HANDSON_RECORD).encode()
        headers = self.server.signed_headers("POST", path, body=payload)
        headers["Expect"] = "100-continue"
        headers["Content-Length"] = str(len(payload))
        return topic, harness.build_request("POST", path, self.server.port, headers=headers), payload

    def test_expect_100_continue(self):
        topic, head, payload = self.expecting_publish("e2e-expect")
        with self.server.connect(timeout=3.0) as sock:
            reader = harness.SocketReader(sock)
            sock.sendall(head)
            try:
                interim = reader.read_response()
            except socket.timeout:
                self.fail("no 100 Continue within 3 s of the request head")
            self.assertEqual(interim.status, 100, interim)
            sock.sendall(payload)
            final = reader.read_response()
        self.assertEqual(final.status, 200, final)
        self.assertEqual(self.iot.get_retained_message(topic=topic)["payload"], payload)

    def test_expect_100_continue_with_empty_body(self):
        # RFC 9110 lets a server skip the 100 when there is no body, but
        # botocore then misreads later answers on the connection (see
        # test_s3's test_empty_put_leaves_the_connection_fit_for_the_next_answer).
        topic = "e2e-expect-empty-" + uuid.uuid4().hex[:8]
        path = "/topics/%s?qos=0" % topic
        headers = self.server.signed_headers("POST", path, body=b"")
        headers["Expect"] = "100-continue"
        headers["Content-Length"] = "0"
        with self.server.connect(timeout=3.0) as sock:
            reader = harness.SocketReader(sock)
            sock.sendall(harness.build_request("POST", path, self.server.port, headers=headers))
            interim = reader.read_response()
            self.assertEqual(interim.status, 100, interim)
            final = reader.read_response()
        self.assertEqual(final.status, 200, final)

    def test_expect_100_continue_skipped_for_a_body_sent_at_once(self):
        # A client that sends its body without waiting (wrk, curl after its
        # timeout) gets the final answer only: an interim 100 it never waited
        # for could pass for the answer to its next request.
        topic, head, payload = self.expecting_publish("e2e-expect-sent")
        with self.server.connect(timeout=3.0) as sock:
            reader = harness.SocketReader(sock)
            sock.sendall(head + payload + head + payload)
            first, second = reader.read_response(), reader.read_response()
        self.assertEqual((first.status, second.status), (200, 200), (first, second))
        self.assertEqual(self.iot.get_retained_message(topic=topic)["payload"], payload)

    def test_unknown_service_gets_aws_style_error(self):
        body = b"{}"
        headers = self.server.signed_headers(
            "POST", "/", body=body, service="foo",
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Foo.DoThing"})
        resp = self.exchange(harness.build_request("POST", "/", self.server.port,
                                                   headers=headers, body=body))
        self.assertGreaterEqual(resp.status, 400, resp)
        self.assertLess(resp.status, 500, resp)
        self.assertTrue(resp.body, "empty error body: %r" % resp)
        self.assertTrue(extract_error_code(resp), "no AWS error code in %r" % resp)

    def test_ordinary_large_header_accepted(self):
        # Real clients send a few KiB of headers (session tokens, user agents).
        resp = self.exchange(health_request(self.server.port, {"X-Token": "t" * 4096}))
        self.assertEqual(resp.status, 200, resp)


class HostileInputTests(unittest.TestCase):
    """Each test gets its own server, so a crash is pinned on the input that
    caused it instead of failing the tests after it."""

    def exchange(self, server, request_bytes):
        with server.connect() as sock:
            sock.sendall(request_bytes)
            return harness.SocketReader(sock).read_response()

    def test_huge_header_refused_and_server_keeps_serving(self):
        with harness.OffcloudServer() as server:
            request = health_request(server.port, {"X-Huge": "h" * (100 * 1024)})
            with server.connect() as sock:
                try:
                    sock.sendall(request)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused before we finished sending; the answer should still be there
                try:
                    resp = harness.SocketReader(sock).read_response()
                except (EOFError, ConnectionResetError) as e:
                    self.fail("connection dropped without a 431/400 answer: %r" % e)
            self.assertIn(resp.status, (400, 431), resp)
            after = self.exchange(server, health_request(server.port))
            self.assertEqual(after.status, 200, after)
            server.stop()

    def test_garbage_request_refused_and_server_keeps_serving(self):
        with harness.OffcloudServer() as server:
            with server.connect(timeout=3.0) as sock:
                sock.sendall(b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n")
                try:
                    resp = harness.SocketReader(sock).read_response()
                    self.assertEqual(resp.status, 400, resp)
                except (EOFError, ConnectionResetError):
                    pass  # dropping the connection is an acceptable refusal too
            after = self.exchange(server, health_request(server.port))
            self.assertEqual(after.status, 200, after)
            server.stop()

    def test_declared_body_far_over_limit_refused_without_sending_it(self):
        # A 10 GiB Content-Length must be answered at once, not buffered.
        path = "/topics/e2e-oversized?qos=0"
        with harness.OffcloudServer() as server:
            headers = server.signed_headers("POST", path, body=b"")
            headers["Content-Length"] = str(10 * 1024 ** 3)
            with server.connect(timeout=3.0) as sock:
                sock.sendall(harness.build_request("POST", path, server.port, headers=headers))
                try:
                    resp = harness.SocketReader(sock).read_response()
                except socket.timeout:
                    self.fail("no answer within 3 s to a 10 GiB Content-Length")
            # Signed for iotdata, so iotdata's error, as for any payload over 128 KiB.
            self.assertEqual(resp.status, 413, resp)
            self.assertEqual(extract_error_code(resp), "RequestEntityTooLargeException", resp)
            after = self.exchange(server, health_request(server.port))
            self.assertEqual(after.status, 200, after)
            server.stop()


class IdleTimeoutTests(harness.ServerTestCase):
    IDLE_TIMEOUT_S = 1.0
    SERVER_ARGS = ("--idle-timeout", str(IDLE_TIMEOUT_S))

    def assertClosedByIdleTimeout(self, sock, connected_at):
        received, _ = harness.wait_closed(sock, timeout=3.0)
        total = time.monotonic() - connected_at
        self.assertTrue(received == b"" or received.startswith(b"HTTP/1.1 408"),
                        "unexpected bytes before close: %r" % received[:200])
        self.assertGreaterEqual(total, self.IDLE_TIMEOUT_S * 0.8,
                                "closed after %.2f s, before the idle timeout" % total)

    def test_silent_clients_dropped_while_others_served(self):
        idle = [self.server.connect() for _ in range(8)]
        connected_at = time.monotonic()
        try:
            conn = self.server.http(timeout=5)
            try:
                conn.request("GET", "/_offcloud/health")
                resp = conn.getresponse()
                resp.read()
            finally:
                conn.close()
            served_after = time.monotonic() - connected_at
            self.assertEqual(resp.status, 200)
            self.assertLess(served_after, self.IDLE_TIMEOUT_S * 0.9,
                            "a normal request waited %.2f s behind idle clients" % served_after)
            for sock in idle:
                self.assertClosedByIdleTimeout(sock, connected_at)
        finally:
            for sock in idle:
                sock.close()

    def test_client_stalled_mid_headers_dropped(self):
        with self.server.connect() as sock:
            connected_at = time.monotonic()
            sock.sendall(b"GET /_offcloud/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.assertClosedByIdleTimeout(sock, connected_at)

    def test_server_still_serves_after_dropping_idle_clients(self):
        with self.server.connect() as sock:
            harness.wait_closed(sock, timeout=3.0)
        iot = self.server.boto3_client("iot-data")
        resp = iot.publish(topic="e2e/after-idle", payload=json.dumps(HANDSON_RECORD))
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)


class ShutdownTests(unittest.TestCase):
    def test_sigterm_with_open_keep_alive_connection(self):
        with harness.OffcloudServer() as server:
            kept = server.connect()
            silent = server.connect()
            try:
                kept.sendall(health_request(server.port))
                resp = harness.SocketReader(kept).read_response()
                self.assertEqual(resp.status, 200, resp)
                elapsed = server.stop(timeout=1.0)
                self.assertLessEqual(elapsed, 1.0)
                received, _ = harness.wait_closed(kept, timeout=1.0)
                self.assertEqual(received, b"")
            finally:
                kept.close()
                silent.close()

    def test_sigterm_after_publishes(self):
        with harness.OffcloudServer() as server:
            iot = server.boto3_client("iot-data")
            for i in range(20):
                iot.publish(topic="e2e/shutdown/%d" % i, retain=bool(i % 2), payload=b"x" * i)
            server.stop(timeout=1.0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
