#!/usr/bin/env python3
"""Two builds of offcloud against each other on the hot rows of bench.py, in
one run: a change's cost measured as a ratio, not against last week's table.

The builds take turns, row after row, each row on a fresh server and data
dir, driven by the same offcloud-loadgen (the --after build's); each row
reports the median over the rounds and after/before. Alternating keeps the
machine's drift (other load, thermal state) out of the ratio.

    bench/ab.py --before OLD/bin --after NEW/bin [--rounds 3] [--seconds 5]

Build each side in Release first, e.g. a git worktree of the old commit:
    git worktree add /tmp/before <commit>
    cmake -S /tmp/before -B /tmp/before/build-release -G Ninja -DCMAKE_BUILD_TYPE=Release \\
      -DBUILD_TESTING=OFF && cmake --build /tmp/before/build-release --target offcloud
"""
import argparse
import os
import statistics
import sys
import tempfile
import shutil
import time

import botocore.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import HANDSON_TOPIC, KIB, loadgen, setup_rule  # noqa: E402
from servers import Server  # noqa: E402

VERSIONED_BUCKET = "bench-versioned"

ROWS = [
    ("IoT publish, no rule", ["--workload", "iot", "--size", "300", "--topic", "bench/plain"]),
    ("IoT publish through the hands-on rule",
     ["--workload", "iot", "--size", "300", "--topic", HANDSON_TOPIC]),
    ("S3 PUT 1 KiB", ["--workload", "s3-put", "--size", str(KIB)]),
    ("S3 GET 1 KiB", ["--workload", "s3-get", "--size", str(KIB)]),
    # The same on a bucket with versioning enabled: each PUT keeps the
    # version it replaces. A build without versioning runs them on a plain
    # bucket, so their ratio is "versioned now / plain before".
    ("S3 PUT 1 KiB, versioned bucket",
     ["--workload", "s3-put", "--size", str(KIB), "--bucket", VERSIONED_BUCKET]),
    ("S3 GET 1 KiB, versioned bucket",
     ["--workload", "s3-get", "--size", str(KIB), "--bucket", VERSIONED_BUCKET]),
]


def setup_versioned_bucket(server):
    """VERSIONED_BUCKET with versioning enabled; False when the build has no
    versioning (the bucket then stays plain)."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket=VERSIONED_BUCKET)
    try:
        s3.put_bucket_versioning(Bucket=VERSIONED_BUCKET,
                                 VersioningConfiguration={"Status": "Enabled"})
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] != "NotImplemented":
            raise
        return False
    return True


def one_row(args, bin_dir, workdir, label, flags):
    """requests/s of one row for one build, on a fresh server in its own
    `workdir`, and whether the build has versioning. A server per row: what
    one row writes (thousands of objects) does not slow the next."""
    os.mkdir(workdir)
    server = Server("offcloud", workdir, bin_dir)
    try:
        server.start()
        setup_rule(server)
        versioning = setup_versioned_bucket(server)
        result, _ = loadgen(args, server, flags)
        errors = result["non_2xx"] + result["no_response"] + result["failed_records"]
        if errors:
            raise RuntimeError("%s with %s: %d errors" % (label, bin_dir, errors))
        return result["requests_per_s"], versioning
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="bin/ of the old build")
    parser.add_argument("--after", required=True, help="bin/ of the new build (its loadgen too)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5, help="per row, build and round")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    args.bin = args.after  # bench.loadgen runs this build's offcloud-loadgen
    workdir = tempfile.mkdtemp(prefix="offcloud-ab-")
    os.chmod(workdir, 0o755)
    began = time.monotonic()
    samples = {"before": {}, "after": {}}
    versioning = {}
    try:
        for number in range(args.rounds):
            for row, (label, flags) in enumerate(ROWS):
                # Each row alternates which build goes first, round by round.
                sides = ("before", "after") if (number + row) % 2 == 0 else ("after", "before")
                for side in sides:
                    run_dir = os.path.join(workdir, "%s-%d-%d" % (side, number, row))
                    rate, versioning[side] = one_row(args, getattr(args, side), run_dir,
                                                     label, flags)
                    samples[side].setdefault(label, []).append(rate)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("%s; %d rounds, builds alternating, a fresh server per row, %g s per row, "
          "concurrency %d; took %.0f s.\n"
          % (time.strftime("%Y-%m-%d %H:%M %Z"), args.rounds, args.seconds, args.concurrency,
             time.monotonic() - began))
    for side in ("before", "after"):
        if not versioning[side]:
            print("(The %s build has no versioning: its versioned rows ran on a plain bucket.)\n"
                  % side)
    print("| workload | before req/s | after req/s | after / before | after, each round |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, _ in ROWS:
        before = statistics.median(samples["before"][label])
        after = statistics.median(samples["after"][label])
        rounds = ", ".join("%.0f" % r for r in samples["after"][label])
        print("| %s | %.0f | %.0f | %.3f | %s |" % (label, before, after, after / before, rounds))


if __name__ == "__main__":
    main()
