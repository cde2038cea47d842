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
import shutil
import sys
import tempfile

from benchlib import Server, free_port, peak_rss_mib, run_wrk

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUCKET = "bench"
SIZES = [("1 KiB", 1024), ("1 MiB", 1024 * 1024)]


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
