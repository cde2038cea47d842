"""What the server benchmarks share: starting servers on free loopback
ports, signing one request with botocore, and replaying it with wrk."""
import hashlib
import os
import re
import signal
import socket
import subprocess
import time

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("port %d never opened" % port)


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


class Server:
    def __init__(self, name, argv, port, key, secret, env=None):
        self.name, self.port, self.key, self.secret = name, port, key, secret
        self.endpoint = "http://127.0.0.1:%d" % port
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=env)
        wait_port(port)

    def client(self, service="s3"):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.key, aws_secret_access_key=self.secret,
                            config=Config(s3={"addressing_style": "path"}))

    def signed(self, method, path, body=b"", service="s3", headers=None):
        request = AWSRequest(method=method, url=self.endpoint + path, data=body,
                             headers=dict(headers or {}))
        if service == "s3":
            request.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        SigV4Auth(Credentials(self.key, self.secret), service, "us-east-1").add_auth(request)
        return dict(request.headers)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def run_wrk(server, method, path, headers, body, seconds, connections, workdir):
    script = os.path.join(workdir, "request.lua")
    lines = ['wrk.method = "%s"' % method]
    for name, value in headers.items():
        lines.append('wrk.headers["%s"] = "%s"' % (name, value))
    if body:
        body_file = os.path.join(workdir, "body.bin")
        with open(body_file, "wb") as f:
            f.write(body)
        lines.append('local f = io.open("%s", "rb"); wrk.body = f:read("*a"); f:close()' % body_file)
    lines.append("done = function(summary, latency, requests)")
    lines.append('  io.write(string.format("P99_US %d\\n", latency:percentile(99)))')
    lines.append('  io.write(string.format("ERRORS %d\\n", summary.errors.status + '
                 "summary.errors.connect + summary.errors.read + summary.errors.write + "
                 "summary.errors.timeout))")
    lines.append("end")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "-s", script,
                          server.endpoint + path], capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99_ms = int(re.search(r"P99_US (\d+)", out).group(1)) / 1000.0
    errors = int(re.search(r"ERRORS (\d+)", out).group(1))
    if errors:
        raise RuntimeError("%s: %d errors (non-2xx or socket) in %s %s\n%s"
                           % (server.name, errors, method, path, out))
    return rps, p99_ms
