#!/usr/bin/env python3
"""S3 PUT and GET of 1 KiB and 1 MiB objects: offcloud against s3rver, in
one run, on loopback, driven by wrk with the same signed requests.

Each workload replays one SigV4-signed request (valid for the run, which is
far shorter than the 15-minute window) at concurrency 32 for a bounded
time. Prints requests/s, p99 latency and peak RSS (VmHWM) of each server,
and offcloud's ratio to s3rver.

    bench/s3_bench.py [--seconds 10] [--connections 32]
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUCKET = "bench"
SIZES = [("1 KiB", 1024), ("1 MiB", 1024 * 1024)]


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

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.key, aws_secret_access_key=self.secret,
                            config=Config(s3={"addressing_style": "path"}))

    def signed(self, method, path, body=b""):
        request = AWSRequest(method=method, url=self.endpoint + path, data=body)
        import hashlib
        request.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        SigV4Auth(Credentials(self.key, self.secret), "s3", "us-east-1").add_auth(request)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--offcloud", default=os.path.join(ROOT, "build", "bin", "offcloud"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing (scripts/setup --bench installs it)")
    s3rver = os.path.join(HERE, "node_modules", ".bin", "s3rver")
    if not os.path.exists(s3rver):
        sys.exit("bench: s3rver is missing (run npm ci in bench/)")

    workdir = tempfile.mkdtemp(prefix="offcloud-bench-")
    servers = []
    try:
        port = free_port()
        servers.append(Server("offcloud", [args.offcloud, "--port", str(port), "--data-dir",
                                           os.path.join(workdir, "offcloud"), "--log-level",
                                           "warn"], port, "test", "test"))
        port = free_port()
        os.makedirs(os.path.join(workdir, "s3rver"))
        servers.append(Server("s3rver", ["node", s3rver, "-d", os.path.join(workdir, "s3rver"),
                                         "-a", "127.0.0.1", "-p", str(port), "--silent"],
                              port, "S3RVER", "S3RVER"))
        results = {}
        for server in servers:
            client = server.client()
            client.create_bucket(Bucket=BUCKET)
            for label, size in SIZES:
                body = os.urandom(size)
                key = "/%s/object-%d" % (BUCKET, size)
                client.put_object(Bucket=BUCKET, Key=key.split("/", 2)[2], Body=body)
                put = run_wrk(server, "PUT", key + "-put", server.signed("PUT", key + "-put", body),
                              body, args.seconds, args.connections, workdir)
                get = run_wrk(server, "GET", key, server.signed("GET", key), b"",
                              args.seconds, args.connections, workdir)
                results[(server.name, "PUT " + label)] = put
                results[(server.name, "GET " + label)] = get
            results[(server.name, "rss")] = peak_rss_mib(server.proc.pid)

        print("S3, %d connections, %d s per workload, wrk on loopback (%d cores)\n"
              % (args.connections, args.seconds, os.cpu_count()))
        print("| workload | offcloud req/s | offcloud p99 ms | s3rver req/s | s3rver p99 ms "
              "| offcloud / s3rver |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for label, _ in SIZES:
            for method in ("PUT", "GET"):
                name = method + " " + label
                o_rps, o_p99 = results[("offcloud", name)]
                s_rps, s_p99 = results[("s3rver", name)]
                print("| %s | %.0f | %.2f | %.0f | %.2f | %.1fx |"
                      % (name, o_rps, o_p99, s_rps, s_p99, o_rps / s_rps))
        print("| peak RSS (MiB) | %.1f | | %.1f | | |"
              % (results[("offcloud", "rss")], results[("s3rver", "rss")]))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
