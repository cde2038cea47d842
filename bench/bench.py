#!/usr/bin/env python3
"""offcloud against the machine's limit (nginx answering 200 from memory) and
against s3rver, in one run, as one markdown table. bench/run builds and
installs what this needs, then runs it.

Every small-request workload is offcloud-loadgen sending the same signed
requests over kept-alive connections at a fixed concurrency for a bounded
time, to one server at a time, all on loopback. Peak RSS is per workload
(VmHWM reset before it, summed over the server's processes). The 1 GiB PUT
is curl streaming a file to a presigned URL, against dd copying the same
file on the same disk.

    bench/bench.py [--seconds 10] [--concurrency 32] [--starts 10] [--big-mib 1024]
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from servers import Server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HANDSON_TOPIC = "handson/analysisLogData"
STREAM, BUCKET = "bench", "bench"
KIB, MIB = 1024, 1024 * 1024

# (label, loadgen workload and flags, servers measured)
WORKLOADS = [
    ("IoT publish, signed 300 B JSON, no rule",
     ["--workload", "iot", "--size", "300", "--topic", "bench/plain"], ("offcloud", "nginx")),
    ("IoT publish through the hands-on rule into a durable Firehose buffer",
     ["--workload", "iot", "--size", "300", "--topic", HANDSON_TOPIC], ("offcloud", "nginx")),
    ("Firehose PutRecordBatch, 500 records of 300 B",
     ["--workload", "firehose", "--batch", "500", "--size", "300", "--stream", STREAM],
     ("offcloud", "nginx")),
    ("S3 PUT 1 KiB", ["--workload", "s3-put", "--size", str(KIB)], ("offcloud", "nginx", "s3rver")),
    ("S3 GET 1 KiB", ["--workload", "s3-get", "--size", str(KIB)], ("offcloud", "nginx", "s3rver")),
    ("S3 PUT 1 MiB", ["--workload", "s3-put", "--size", str(MIB)], ("offcloud", "nginx", "s3rver")),
    ("S3 GET 1 MiB", ["--workload", "s3-get", "--size", str(MIB)], ("offcloud", "nginx", "s3rver")),
]


def loadgen(args, server, flags):
    """Runs one workload; returns loadgen's JSON result and the peak RSS."""
    flags = list(flags)
    if server.name == "nginx":
        flags += ["--no-setup", "--status-only"]
        if "s3-get" in flags:
            with open(os.path.join(server.data_dir, "object"), "wb") as f:
                f.write(b"x" * int(flags[flags.index("--size") + 1]))
    elif "iot" in flags or "firehose" in flags:
        flags.append("--no-setup")  # offcloud's bucket, stream and rule come from setup_rule()
    else:
        # A bucket per workload: s3rver answers a second CreateBucket with
        # BucketAlreadyExists, which loadgen rightly takes as someone else's.
        flags += ["--bucket", "-".join(["loadgen"] + flags[1::2])]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=server.key, AWS_SECRET_ACCESS_KEY=server.secret,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env.pop("AWS_SESSION_TOKEN", None)
    argv = [os.path.join(args.bin, "offcloud-loadgen"), "--endpoint", server.endpoint,
            "--region", "us-east-1", "--concurrency", str(args.concurrency),
            "--duration", str(args.seconds), "--json"] + flags
    server.reset_peak()
    done = subprocess.run(argv, env=env, capture_output=True, text=True,
                          timeout=args.seconds + 120)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError("%s: %s failed (%d): %s" % (server.name, " ".join(argv),
                                                       done.returncode, done.stderr))
    return json.loads(done.stdout.strip().splitlines()[-1]), server.peak_mib()


def setup_rule(server):
    """The hands-on's bucket, delivery stream and rule, as a student makes them."""
    server.client("s3").create_bucket(Bucket=BUCKET)
    server.client("firehose").create_delivery_stream(
        DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose",
            "BucketARN": "arn:aws:s3:::" + BUCKET,
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60}})
    server.client("iot").create_topic_rule(ruleName="handsonToFirehose", topicRulePayload={
        "sql": "SELECT * FROM '%s'" % HANDSON_TOPIC,
        "actions": [{"firehose": {"deliveryStreamName": STREAM, "separator": "\n",
                                  "roleArn": "arn:aws:iam::000000000000:role/firehose"}}]})


def start_times(server, starts):
    """Median seconds from process start to first answer, over fresh starts."""
    times = []
    for _ in range(starts):
        times.append(server.start())
        server.stop()
    return statistics.median(times)


def timed(argv, after=lambda: None):
    """The faster of two runs, each after a sync: the first write of a run
    is often the slower one, whoever makes it."""
    best = float("inf")
    for _ in range(2):
        os.sync()
        started = time.monotonic()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.monotonic() - started)
        after()
    return best


def big_put(args, server, workdir):
    """MiB/s of dd (without and with fdatasync) and of offcloud's PUT of the
    same file, on the same disk; and offcloud's peak RSS during the PUT."""
    source = os.path.join(workdir, "big.bin")
    chunk = os.urandom(MIB)
    with open(source, "wb") as f:
        for _ in range(args.big_mib):
            f.write(chunk)
    rates = {}
    for name, extra in (("dd", []), ("dd conv=fdatasync", ["conv=fdatasync"])):
        target = os.path.join(workdir, "dd.bin")
        seconds = timed(["dd", "if=" + source, "of=" + target, "bs=1M", "status=none"] + extra,
                        after=lambda: os.remove(target))
        rates[name] = args.big_mib / seconds
    url = server.client("s3").generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": "big.bin"}, ExpiresIn=3600)
    server.reset_peak()
    seconds = timed(["curl", "-sSf", "-o", os.devnull, "-H", "Expect:", "-T", source, url])
    peak = server.peak_mib()
    stored = server.client("s3").head_object(Bucket=BUCKET, Key="big.bin")["ContentLength"]
    if stored != args.big_mib * MIB:
        raise RuntimeError("offcloud stored %d bytes of %d" % (stored, args.big_mib * MIB))
    rates["offcloud"] = args.big_mib / seconds
    os.remove(source)
    return rates, seconds, peak


def rules_bench(args):
    """rules_bench's rows: (rules installed, messages/s, ratio to no rules)."""
    out = subprocess.run([os.path.join(args.bin, "rules_bench"), str(min(args.seconds, 2))],
                         check=True, capture_output=True, text=True).stdout
    return re.findall(r"^\| (\d+)(?: \(baseline\))? \| (\d+) \| ([\d.]+) \|", out, re.M)


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return "%d cores, %s, Linux %s" % (os.cpu_count(), model, platform.release())


def ratio(value, other):
    return "%.2fx" % (value / other) if value and other else ""


def row(*cells):
    """A markdown row of the table's 9 columns, the missing ones empty."""
    cells = list(cells) + [""] * (9 - len(cells))
    print("| " + " | ".join(str(c) for c in cells) + " |")


def measure(args, workdir):
    """Every number of the table, one server running at a time."""
    m = {"results": {}, "started": {}, "idle": {}, "rules": rules_bench(args)}
    for name in ("offcloud", "nginx", "s3rver"):
        server = Server(name, workdir, args.bin)
        try:
            if name != "nginx":
                m["started"][name] = start_times(server, args.starts)
            server.start()
            time.sleep(1)
            m["idle"][name] = server.rss_mib()
            if name == "offcloud":
                setup_rule(server)
            for label, flags, names in WORKLOADS:
                if name in names:
                    m["results"][(label, name)] = loadgen(args, server, flags)
            if name == "offcloud":
                server.stop()
                server.start()  # a fresh process: the peak RSS is the big PUT's own
                server.client("s3").create_bucket(Bucket=BUCKET)
                m["big"] = big_put(args, server, workdir)
        finally:
            server.stop()
    return m


def print_table(args, m, seconds_taken):
    print("%s; %s; offcloud-loadgen at concurrency %d, %g s per workload and server, all on"
          " loopback; took %.0f s.\n" % (time.strftime("%Y-%m-%d %H:%M %Z"), machine(),
                                         args.concurrency, args.seconds, seconds_taken))
    row("workload", "server", "result", "p50 ms", "p99 ms", "peak RSS MiB", "errors",
        "x baseline", "x s3rver")
    row("---", "---", *["---:"] * 7)
    results, problems = m["results"], []
    for label, flags, names in WORKLOADS:
        for name in names:
            r, peak = results[(label, name)]
            errors = r["non_2xx"] + r["no_response"]
            if errors or r["failed_records"]:
                problems.append("%s, %s: %d failed records; %s" % (
                    label, name, r["failed_records"], json.dumps(r["errors"])))
            rate = "%.0f req/s" % r["requests_per_s"]
            if "--batch" in flags:
                batch = int(flags[flags.index("--batch") + 1])
                rate += " (%.0f records/s)" % (r["requests_per_s"] * batch)
            versus = {}
            if name == "offcloud":
                for other in ("nginx", "s3rver"):
                    if other in names:
                        versus[other] = ratio(r["requests_per_s"],
                                              results[(label, other)][0]["requests_per_s"])
            row(label, name, rate, "%.2f" % r["p50_ms"], "%.2f" % r["p99_ms"], "%.1f" % peak,
                errors, versus.get("nginx", ""), versus.get("s3rver", ""))
    rates, seconds, peak = m["big"]
    big = "S3 PUT %d MiB file, best of 2" % args.big_mib
    for name in ("dd", "dd conv=fdatasync"):
        row(big, name, "%.0f MiB/s" % rates[name])
    row(big + " (curl -T, presigned)", "offcloud",
        "%.0f MiB/s (%.1f s)" % (rates["offcloud"], seconds), "", "", "%.1f" % peak, "",
        ratio(rates["offcloud"], rates["dd"]))
    started, idle = m["started"], m["idle"]
    for name in ("offcloud", "s3rver"):
        row("start to first answer, median of %d" % args.starts, name,
            "%.0f ms" % (started[name] * 1000), *[""] * 5,
            ratio(started[name], started["s3rver"]) if name == "offcloud" else "")
    for name in ("offcloud", "nginx", "s3rver"):
        mine = name == "offcloud"
        row("idle RSS 1 s after start", name, "%.1f MiB" % idle[name], *[""] * 4,
            ratio(idle[name], idle["nginx"]) if mine else "",
            ratio(idle[name], idle["s3rver"]) if mine else "")
    for installed, rate, to_none in m["rules"]:
        row("IoT rules in-process (rules_bench), %s rules" % installed, "offcloud",
            "%s msg/s (%sx no rules)" % (rate, to_none))
    print("\nRatios are offcloud's value over the other's: the baseline is nginx, or dd"
          " without fdatasync for the big PUT (offcloud does not fsync objects: a killed"
          " process loses nothing, a power cut may). nginx's IoT and Firehose rows are the"
          " same requests answered with 200.")
    for problem in problems:
        print("- errors: " + problem)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="per workload and server")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--starts", type=int, default=10, help="start-up timings, median")
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the big PUT")
    parser.add_argument("--bin", default=os.path.join(ROOT, "build-release", "bin"))
    args = parser.parse_args()
    for tool in ("nginx", "node", "curl", "dd"):
        if not shutil.which(tool):
            sys.exit("bench: %s is missing (scripts/setup --bench installs it)" % tool)
    workdir = tempfile.mkdtemp(prefix="offcloud-bench-")
    os.chmod(workdir, 0o755)  # root's nginx workers run as nobody
    began = time.monotonic()
    try:
        m = measure(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(args, m, time.monotonic() - began)


if __name__ == "__main__":
    main()
