#!/usr/bin/env python3
"""offcloud against the machine's limit (nginx answering 200 from memory),
against s3rver, and its MQTT broker against mosquitto, in one run, as
markdown tables. bench/run builds and installs what this needs, then runs it.

Every small-request workload sends the same requests over kept-alive
connections at a fixed concurrency for a bounded time, to one server at a
time, all on loopback. The client is part of what a row measures, so each
request shape runs first against nginx with both clients there are for it:
wrk (2 threads) replaying requests exactly as boto3 builds them, pre-signed
by bench/replay.py and sent by bench/wrk_replay.lua, and offcloud-loadgen
where it has the workload. Both nginx rows are printed (the client's own
ceiling), and offcloud and s3rver then run with whichever client was faster
there. The shapes: IoT publish and Firehose PutRecordBatch as boto3 sends
them; S3 PUT of 1 KiB as boto3 and the aws CLI send it over http (payload
SHA-256 signed, CRC32 checksum header), to 1,000 keys in turn and to a new
key each; S3 PUT in offcloud-loadgen's own shape; S3 GET of the 1,000 keys;
1 MiB PUT and GET with offcloud-loadgen. Errors are non-2xx answers (for
wrk, status > 399), requests without an answer, and Firehose records
reported failed. Server CPU per request is the server's process tree's
utime+stime over the row divided by the requests answered; peak RSS is per
workload (VmHWM reset before it, summed over the server's processes). The
1 GiB PUT is curl streaming a file to a presigned URL, against dd copying
the same file on the same disk and openssl hashing it (MD5, the ETag, is
the PUT's limit). A summary table first, as issue 19 shows it, with each of
its targets met or missed; then every row.

The MQTT rows are offcloud-loadgen's MQTT workloads (many connections on
one client thread) against offcloud's MQTT ports and against mosquitto,
alternating, one broker measured at a time: delivered messages/s at the
subscribers for QoS 0 and 1 fan-in and fan-out, the RSS 10,000 idle
connections add, and connect times in a storm of 1,000 connects, over plain
TCP; then the fan rows and the storm again over mutual TLS (both brokers
with offcloud's CA and server certificate, every client with one device
certificate offcloud issued). `--only mqtt` runs only those rows,
`--only http` only the others.

    bench/bench.py [--seconds 10] [--concurrency 32] [--starts 10] [--big-mib 1024]
                   [--only http|mqtt] [--idle-connections 10000] [--storm 1000] [--mqtt-runs 2]
"""
import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import replay
from servers import Server, Tls

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HANDSON_TOPIC = "handson/analysisLogData"
STREAM, BUCKET = "bench", "bench"
KIB, MIB = 1024, 1024 * 1024

# The bodies the replayed rows send: a 1 KiB object, and a 300 B JSON
# record as the hands-on's devices publish.
OBJECT_1K = b"x" * KIB


def json_of_size(size):
    """A device's JSON record padded to `size` bytes."""
    record = {"deviceId": "bench-device-0001", "timestamp": "2026-01-01T00:00:00Z",
              "temperature": 21.5, "humidity": 40.2, "log": ""}
    record["log"] = "x" * (size - len(json.dumps(record, separators=(",", ":"))))
    return json.dumps(record, separators=(",", ":")).encode()


PAYLOAD = json_of_size(300)
# The keys the SDK-shaped PUT overwrites in turn (and the GET reads back).
OVERWRITTEN = ["sdk-1k/%04d" % i for i in range(1000)]
# Rows of new keys sign this many at most (about 2 KiB each, held by wrk),
# enough for 30,000 PUTs/s over 10 s; past it wrk starts over and the
# table says keys repeated. nginx, which ignores keys, gets NGINX_KEYS.
MAX_NEW_KEYS, NGINX_KEYS = 300000, 20000


class Workload:
    """One request shape: `loadgen`, offcloud-loadgen's flags for it (None
    if it has no such workload); `replay`, a function (server, count) giving
    the raw requests wrk replays (None for loadgen-only rows); `servers`, the
    servers measured besides nginx, which both clients always run against.
    `new_keys`: each request a key of its own, `count` of them.
    `failed`: the Lua pattern of failed records in a 2xx answer. `prepare`:
    a function (server) run before the row on offcloud and s3rver."""

    def __init__(self, label, loadgen=None, replay=None, servers=("offcloud",),
                 new_keys=False, failed=None, prepare=None):
        self.label, self.loadgen, self.replay, self.servers = label, loadgen, replay, servers
        self.new_keys, self.failed, self.prepare = new_keys, failed, prepare


def sdk_publish(topic):
    return lambda server, count: replay.sdk_call(server, "iot-data", "publish", topic=topic,
                                                 qos=0, payload=PAYLOAD)


def sdk_put(prefix):
    return lambda server, count: replay.sdk_s3(
        server, "put_object", BUCKET,
        OVERWRITTEN if count is None else ["%s/%07d" % (prefix, i) for i in range(count)],
        OBJECT_1K)


def put_overwritten(server):
    """Every key the GET row reads: a slow server's PUT row may not have
    come round to all 1,000 in its time."""
    s3 = server.client("s3")
    for key in OVERWRITTEN:
        s3.put_object(Bucket=BUCKET, Key=key, Body=OBJECT_1K)


SDK_PUT = ("S3 PUT 1 KiB as boto3 and the aws CLI send it (SHA-256 of the payload signed,"
           " CRC32 header)")
SDK_PUBLISH = "IoT publish as boto3 sends it (iot-data publish, qos=0, 300 B JSON)"
WORKLOADS = [
    Workload(SDK_PUBLISH + ", no rule",
             ["--workload", "iot", "--size", "300", "--topic", "bench/plain"],
             sdk_publish("bench/plain")),
    Workload(SDK_PUBLISH + ", through the hands-on rule into a durable Firehose buffer",
             ["--workload", "iot", "--size", "300", "--topic", HANDSON_TOPIC],
             sdk_publish(HANDSON_TOPIC)),
    Workload("Firehose PutRecordBatch, 500 records of 300 B",
             ["--workload", "firehose", "--batch", "500", "--size", "300", "--stream", STREAM],
             lambda server, count: replay.sdk_call(
                 server, "firehose", "put_record_batch", DeliveryStreamName=STREAM,
                 Records=[{"Data": PAYLOAD}] * 500),
             failed='"FailedPutCount":%s*(%d+)'),
    Workload(SDK_PUT + ", 1,000 keys overwritten in turn", replay=sdk_put(None),
             servers=("offcloud", "s3rver")),
    Workload(SDK_PUT + ", a new key each", replay=sdk_put("sdk-new"),
             servers=("offcloud", "s3rver"), new_keys=True),
    Workload("S3 PUT 1 KiB, offcloud-loadgen's shape (SHA-256 of the payload signed, no"
             " checksum header, no SDK headers), a new key each",
             ["--workload", "s3-put", "--size", str(KIB)],
             lambda server, count: replay.loadgen_put(
                 server, BUCKET, ["loadgen-shape/%07d" % i for i in range(count)], OBJECT_1K),
             servers=("offcloud", "s3rver"), new_keys=True),
    Workload("S3 GET 1 KiB as boto3 sends it (x-amz-checksum-mode), the 1,000 keys PUT above",
             ["--workload", "s3-get", "--size", str(KIB)],
             lambda server, count: replay.sdk_s3(server, "get_object", BUCKET, OVERWRITTEN),
             servers=("offcloud", "s3rver"), prepare=put_overwritten),
    Workload("S3 PUT 1 MiB, a new key each", ["--workload", "s3-put", "--size", str(MIB)],
             servers=("offcloud", "s3rver")),
    Workload("S3 GET 1 MiB", ["--workload", "s3-get", "--size", str(MIB)],
             servers=("offcloud", "s3rver")),
]
CLIENTS = ("wrk", "offcloud-loadgen")


# (label, loadgen flags): 300 B payloads, as the hands-on's records. Each
# publisher has at most --max-lag messages some subscriber has not had yet
# (and at QoS 1 at most --inflight without PUBACK), sized so that neither
# broker drops: at QoS 0, 100 x 8 stays under mosquitto's queue of 1,000 per
# client; at QoS 1, offcloud keeps at most 100 deliveries in flight to a
# client (AWS IoT's quota) and 100 queued, and drops beyond, so the fan-in's
# 100 publishers have 1 message each on its way, the fan-out's publisher 100.
MQTT_FAN = [
    ("MQTT QoS 0 fan-in, 100 publishers to 1 subscriber on #",
     ["--workload", "mqtt-fan-in", "--qos", "0", "--max-lag", "8"]),
    ("MQTT QoS 1 fan-in, 100 publishers to 1 subscriber on #",
     ["--workload", "mqtt-fan-in", "--qos", "1", "--max-lag", "1"]),
    ("MQTT QoS 0 fan-out, 1 publisher to 100 subscribers",
     ["--workload", "mqtt-fan-out", "--qos", "0", "--max-lag", "100"]),
    ("MQTT QoS 1 fan-out, 1 publisher to 100 subscribers",
     ["--workload", "mqtt-fan-out", "--qos", "1", "--max-lag", "100", "--inflight", "100"]),
]
MQTT_SIZE = 300
MQTT_SERVERS = ("offcloud", "mosquitto")
# The transports the MQTT rows run over, as (name in the label, URL scheme).
# Over TLS the idle row is left out (the fan rows and the storm are the
# ones asked for).
MQTT_TRANSPORTS = [("TCP", "mqtt"), ("TLS", "mqtts")]


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


def loadgen_argv(args, server, scheme, flags):
    if scheme == "mqtts":
        endpoint = "mqtts://127.0.0.1:%d" % server.mqtt_tls_port
        flags = ["--ca", server.tls.ca, "--cert", server.tls.cert, "--key", server.tls.key] + flags
    else:
        endpoint = "mqtt://127.0.0.1:%d" % server.mqtt_port
    return [os.path.join(args.bin, "offcloud-loadgen"), "--endpoint", endpoint, "--json"] + flags


def loadgen_env(server):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=server.key, AWS_SECRET_ACCESS_KEY=server.secret,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def last_json(done, argv):
    lines = done.stdout.strip().splitlines() if done.stdout else []
    if done.returncode not in (0, 1) or not lines:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), done.returncode, done.stderr))
    return json.loads(lines[-1])


def mqtt_fan(args, server, scheme, flags):
    """One fan-in or fan-out workload: loadgen's JSON and the peak RSS."""
    argv = loadgen_argv(args, server, scheme, flags + [
        "--size", str(MQTT_SIZE), "--duration", str(args.seconds)])
    server.reset_peak()
    done = subprocess.run(argv, env=loadgen_env(server), capture_output=True, text=True,
                          timeout=args.seconds + 120)
    return last_json(done, argv), server.peak_mib()


def mqtt_idle(args, server, scheme):
    """RSS before, and 1 s into holding, --idle-connections idle connections."""
    before = server.rss_mib()
    argv = loadgen_argv(args, server, scheme, [
        "--workload", "mqtt-idle", "--connections", str(args.idle_connections),
        "--duration", "3"])
    proc = subprocess.Popen(argv, env=loadgen_env(server), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        holding = proc.stdout.readline()
        during = None
        if holding.startswith('{"event":"holding"'):
            time.sleep(1)
            during = server.rss_mib()
        out, err = proc.communicate(timeout=180)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    done = subprocess.CompletedProcess(argv, proc.returncode, holding + out, err)
    result = last_json(done, argv)
    result["rss_before"], result["rss_during"] = before, during
    return result


def mqtt_storm(args, server, scheme):
    argv = loadgen_argv(args, server, scheme, [
        "--workload", "mqtt-connect", "--connections", str(args.storm), "--duration", "60"])
    done = subprocess.run(argv, env=loadgen_env(server), capture_output=True, text=True,
                          timeout=180)
    return last_json(done, argv)


def measure_mqtt(args, workdir, m):
    """The MQTT rows. Both brokers run, and each workload runs on one, then
    at once on the other, so whatever else the machine does at the time
    weighs on both alike. The fan workloads share a process; idle
    connections and the connect storm get fresh ones (so the RSS added is
    the connections', not the heap the fan workloads left)."""
    m["mqtt"] = {}
    tls = Tls(os.path.join(workdir, "tls"))
    # Data directories of their own: the HTTP rows' offcloud-1... are there.
    mqtt_dir = os.path.join(workdir, "mqtt")
    # offcloud first: mosquitto's TLS listener takes offcloud's CA.
    servers = {name: Server(name, mqtt_dir, args.bin, mqtt=True, tls=tls)
               for name in MQTT_SERVERS}
    try:
        for transport, scheme in MQTT_TRANSPORTS:
            for server in servers.values():
                server.start()
            for label, flags in MQTT_FAN:
                # The better of --mqtt-runs runs each, in the order A B B A.
                order = list(servers.items())
                runs = []
                for i in range(args.mqtt_runs):
                    runs += order if i % 2 == 0 else order[::-1]
                for name, server in runs:
                    r, peak = mqtt_fan(args, server, scheme, flags)
                    best = m["mqtt"].get((label, transport, name))
                    if best is None or r["delivered_per_s"] > best[0]["delivered_per_s"]:
                        best = (r, best[1] if best else 0)
                    m["mqtt"][(label, transport, name)] = (best[0], max(best[1], peak))
            for server in servers.values():
                server.stop()
                server.start()
            time.sleep(1)
            for name, server in servers.items():
                if transport == "TCP":
                    m["mqtt"][("idle", transport, name)] = mqtt_idle(args, server, scheme)
            for name, server in servers.items():
                m["mqtt"][("storm", transport, name)] = mqtt_storm(args, server, scheme)
            for server in servers.values():
                server.stop()
    finally:
        for server in servers.values():
            server.stop()


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


def timed(argv, after=lambda: None, sync=True):
    """Seconds of the faster of two runs, each after a sync when `sync` (the
    first write of a run is often the slower one, whoever makes it; a run
    that only reads needs none)."""
    best = float("inf")
    for _ in range(2):
        if sync:
            os.sync()
        started = time.monotonic()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.monotonic() - started)
        after()
    return best


def big_put(args, server, workdir):
    """MiB/s of dd (without and with fdatasync), of openssl hashing the file
    (MD5, the ETag, bounds the PUT), and of offcloud's PUT of the same file,
    on the same disk; and offcloud's peak RSS during the PUT."""
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
    # The PUT's limits: the ETag is the body's MD5, and the body's SHA-256
    # is computed too; one core's speed of each, the file in page cache.
    for name in ("md5", "sha256"):
        rates["openssl dgst -" + name] = args.big_mib / timed(
            ["openssl", "dgst", "-" + name, source], sync=False)
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


COLUMNS = ("workload", "server", "client", "result", "p50 ms", "p99 ms",
           "server CPU µs/request", "peak RSS MiB", "errors", "x baseline", "x s3rver")


def row(*cells):
    """A markdown row of the detailed table's COLUMNS, the missing ones empty."""
    cells = list(cells) + [""] * (len(COLUMNS) - len(cells))
    print("| " + " | ".join(str(c) for c in cells) + " |")


def measure(args, workdir):
    """Every number of the table, one server running at a time."""
    m = {}
    if args.only in (None, "http"):
        measure_http(args, workdir, m)
    if args.only in (None, "mqtt"):
        measure_mqtt(args, workdir, m)
    return m


def measure_http(args, workdir, m):
    """The HTTP rows, one server at a time: nginx first, with every client
    that has the workload, so each shape's faster client against nginx is
    known before offcloud and s3rver run with it."""
    m.update({"results": {}, "client": {}, "started": {}, "idle": {}, "checks": [],
              "rules": rules_bench(args)})
    for name in ("nginx", "offcloud", "s3rver"):
        server = Server(name, workdir, args.bin)
        try:
            if name != "nginx":
                m["started"][name] = start_times(server, args.starts)
            server.start()
            time.sleep(1)
            m["idle"][name] = server.rss_mib()
            if name == "offcloud":
                setup_rule(server)
            elif name == "s3rver":
                server.client("s3").create_bucket(Bucket=BUCKET)
            measure_workloads(args, server, workdir, m)
            if name != "nginx":
                check_stored(server, m)
            if name == "offcloud":
                server.stop()
                server.start()  # a fresh process: the peak RSS is the big PUT's own
                server.client("s3").create_bucket(Bucket=BUCKET)
                m["big"] = big_put(args, server, workdir)
        finally:
            server.stop()


def measure_workloads(args, server, workdir, m):
    """Every workload's rows on one server: against nginx with each client
    there is, elsewhere with the client nginx showed faster."""
    put_rates = []
    for w in WORKLOADS:
        if server.name == "nginx":
            clients = [c for c in CLIENTS if (w.replay if c == "wrk" else w.loadgen)]
        elif server.name in w.servers:
            clients = [m["client"][w.label]]
        else:
            continue
        if server.name != "nginx" and w.prepare:
            w.prepare(server)
        for client in clients:
            count = key_count(args, server, put_rates) if w.new_keys else None
            began = time.monotonic()
            result = run_row(args, server, w, client, workdir, count)
            m["results"][(w.label, server.name, client)] = result
            print("bench: %s, %s, %s: %.0f req/s (%.1f s)" % (
                w.label, server.name, client, result[0]["requests_per_s"],
                time.monotonic() - began), file=sys.stderr)
            if w.label.startswith("S3 PUT 1 KiB"):
                put_rates.append(result[0]["requests_per_s"])
        if server.name == "nginx":
            m["client"][w.label] = max(clients, key=lambda c: m["results"][
                (w.label, "nginx", c)][0]["requests_per_s"])


def key_count(args, server, put_rates):
    """How many new keys a row signs: twice what the server's fastest 1 KiB
    PUT so far would need, so that keys do not repeat; nginx ignores keys."""
    if server.name == "nginx":
        return NGINX_KEYS
    return min(MAX_NEW_KEYS, max(NGINX_KEYS, int(2 * max(put_rates, default=0) * args.seconds)))


def run_row(args, server, workload, client, workdir, count):
    """One row: (the client's JSON, peak RSS in MiB, server CPU in µs per
    request: its process tree's utime+stime over the row / requests)."""
    if client == "offcloud-loadgen":
        before = server.cpu_seconds()
        result, peak = loadgen(args, server, workload.loadgen)
        used = server.cpu_seconds() - before
    else:
        # Signed right before the row: signatures hold 15 minutes.
        path = os.path.join(workdir, "requests")
        distinct = replay.write_requests(path, workload.replay(server, count))
        if server.name == "nginx":  # the file the SDK-shaped GET gets
            with open(os.path.join(server.data_dir, "object"), "wb") as f:
                f.write(OBJECT_1K)
        server.reset_peak()
        before = server.cpu_seconds()
        result = replay.wrk(server, path, args.seconds, args.concurrency, workload.failed)
        used = server.cpu_seconds() - before
        peak = server.peak_mib()
        os.remove(path)
        result["distinct"] = distinct
    requests = result["requests"]
    return result, peak, used * 1e6 / requests if requests else None


def check_stored(server, m):
    """That the replayed PUTs of new keys stored what they sent (the GET
    row reads the overwritten keys back): a 2xx from the server is not
    proof the row stored anything."""
    s3 = server.client("s3")
    # wrk's first thread spends its first request() on checking it parses
    # (script_verify_request), so request 0 is never sent: each thread's
    # second, requests WRK_THREADS to 2 * WRK_THREADS - 1, always are.
    keys = ["sdk-new/%07d" % i for i in range(replay.WRK_THREADS, 2 * replay.WRK_THREADS)]
    for key in keys:
        try:
            body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        except Exception as e:  # noqa: BLE001 (reported, not raised: the table still prints)
            m["checks"].append("%s: GET %s after the PUT rows: %s" % (server.name, key, e))
            continue
        if body != OBJECT_1K:
            m["checks"].append("%s: %s holds %d bytes, not the %d PUT" % (
                server.name, key, len(body), len(OBJECT_1K)))


def print_table(args, m, seconds_taken):
    how = ("wrk (2 threads) or offcloud-loadgen, whichever is faster against nginx, at"
           " concurrency %d, %g s per workload and server" % (args.concurrency, args.seconds)
           if "results" in m else
           "offcloud-loadgen's MQTT workloads, %g s per workload and broker" % args.seconds)
    print("%s; %s; %s, all on loopback; took %.0f s.\n" % (
        time.strftime("%Y-%m-%d %H:%M %Z"), machine(), how, seconds_taken))
    problems, notes = [], []
    if "results" in m:
        print_summary(args, m)
        print()
    row(*COLUMNS)
    row("---", "---", "---", *["---:"] * (len(COLUMNS) - 3))
    if "results" in m:
        print_http_rows(args, m, problems)
        notes.append("Ratios are offcloud's value over the other's: the baseline is nginx"
                     " measured with the same client, or dd without fdatasync for the big PUT"
                     " (offcloud does not fsync objects: a killed process loses nothing, a"
                     " power cut may). nginx's IoT and Firehose rows are the same requests"
                     " answered with 200. Both clients run against nginx: that row is the"
                     " client's own ceiling. Server CPU: utime+stime of the server's processes"
                     " over the row, divided by the requests it answered.")
    if "mqtt" in m:
        notes.append(print_mqtt_rows(args, m, problems))
    print("\n" + " ".join(notes))
    for problem in problems:
        print("- " + problem)


def result_of(m, label, name):
    """(JSON, peak, CPU µs) of a server's row measured with the chosen client."""
    return m["results"][(label, name, m["client"][label])]


def rate_of(m, label, name):
    found = m["results"].get((label, name, m["client"][label]))
    return found[0]["requests_per_s"] if found else None


def per_s(rate):
    return "%.1fk/s" % (rate / 1000) if rate >= 10000 else "%.0f/s" % rate


def print_summary(args, m):
    """The issue's table: one line a workload, offcloud against nginx and
    s3rver with the faster client, then each target met or missed."""
    print("| workload | nginx 200 | s3rver | offcloud | offcloud CPU per request"
          " | offcloud / nginx | offcloud / s3rver | offcloud p50 / p99 ms"
          " | offcloud peak RSS MiB | offcloud errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in WORKLOADS:
        nginx, s3rver = rate_of(m, w.label, "nginx"), rate_of(m, w.label, "s3rver")
        r, peak, cpu = result_of(m, w.label, "offcloud")
        mine = r["requests_per_s"]
        print("| %s (%s) | %s | %s | %s | %s | %s | %s | %.2f / %.2f | %.1f | %d |" % (
            w.label, m["client"][w.label], per_s(nginx), per_s(s3rver) if s3rver else "—",
            per_s(mine), "%.0f µs" % cpu if cpu else "", ratio(mine, nginx),
            ratio(mine, s3rver) if s3rver else "—", r["p50_ms"], r["p99_ms"], peak,
            errors_of_http(r)))
    print()
    for ok, text in targets(args, m):
        print("- target %s: %s" % ("met" if ok else "missed", text))


def errors_of_http(r):
    return r["non_2xx"] + r["no_response"] + r["failed_records"]


def targets(args, m):
    """(met, what and how far) for each target of issue 19."""
    found = []

    def against(label, other, wanted):
        mine, theirs = rate_of(m, label, "offcloud"), rate_of(m, label, other)
        value = mine / theirs if mine and theirs else 0
        found.append((value >= wanted, "%s: offcloud >= %gx %s, is %.2fx" % (
            label, wanted, other, value)))

    for w in WORKLOADS:
        if w.label.startswith(SDK_PUT):
            against(w.label, "s3rver", 10)
            against(w.label, "nginx", 0.3)
        elif w.label.startswith(SDK_PUBLISH + ", through"):
            against(w.label, "nginx", 0.35)
            p99 = result_of(m, w.label, "offcloud")[0]["p99_ms"]
            found.append((p99 < 5, "%s: p99 < 5 ms at %d connections, is %.2f ms" % (
                w.label, args.concurrency, p99)))
        elif w.label.startswith(SDK_PUBLISH) or w.label.startswith("S3 GET 1 KiB"):
            against(w.label, "nginx", 0.5)
    rates, _, peak = m["big"]
    put = rates["offcloud"] / rates["openssl dgst -md5"]
    found.append((put >= 0.8, "S3 PUT %d MiB file: offcloud >= 0.8x openssl dgst -md5 of the"
                  " same file, is %.2fx (%.0f of %.0f MiB/s)" % (
                      args.big_mib, put, rates["offcloud"], rates["openssl dgst -md5"])))
    found.append((peak < 64, "S3 PUT %d MiB file: offcloud's peak RSS < 64 MiB, is %.1f MiB" % (
        args.big_mib, peak)))
    started = m["started"]["offcloud"] * 1000
    found.append((started < 50, "start to first answer < 50 ms, is %.0f ms" % started))
    idle = m["idle"]["offcloud"]
    found.append((idle < 20, "idle RSS < 20 MiB, is %.1f MiB" % idle))
    return found


def print_http_rows(args, m, problems):
    for w in WORKLOADS:
        nginx = rate_of(m, w.label, "nginx")
        for name in ("nginx",) + w.servers:
            clients = [c for c in CLIENTS if (w.label, name, c) in m["results"]]
            for client in clients:
                print_http_row(m, w, name, client, nginx, problems)
    rates, seconds, peak = m["big"]
    big = "S3 PUT %d MiB file, best of 2" % args.big_mib
    for name in ("dd", "dd conv=fdatasync", "openssl dgst -md5", "openssl dgst -sha256"):
        row(big if name.startswith("dd") else "the same file hashed, best of 2", name, "",
            "%.0f MiB/s" % rates[name])
    row(big + " (curl -T, presigned)", "offcloud", "curl",
        "%.0f MiB/s (%.1f s; %s openssl dgst -md5's)" % (
            rates["offcloud"], seconds, ratio(rates["offcloud"], rates["openssl dgst -md5"])),
        "", "", "", "%.1f" % peak, "", ratio(rates["offcloud"], rates["dd"]))
    started, idle = m["started"], m["idle"]
    for name in ("offcloud", "s3rver"):
        row("start to first answer, median of %d" % args.starts, name, "",
            "%.0f ms" % (started[name] * 1000), *[""] * 6,
            ratio(started[name], started["s3rver"]) if name == "offcloud" else "")
    for name in ("offcloud", "nginx", "s3rver"):
        mine = name == "offcloud"
        row("idle RSS 1 s after start", name, "", "%.1f MiB" % idle[name], *[""] * 5,
            ratio(idle[name], idle["nginx"]) if mine else "",
            ratio(idle[name], idle["s3rver"]) if mine else "")
    for installed, rate, to_none in m["rules"]:
        row("IoT rules in-process (rules_bench), %s rules" % installed, "offcloud", "",
            "%s msg/s (%sx no rules)" % (rate, to_none))
    problems.extend(m["checks"])


def print_http_row(m, w, name, client, nginx, problems):
    """One server's row of a workload, with one client."""
    r, peak, cpu = m["results"][(w.label, name, client)]
    errors = errors_of_http(r)
    if errors:
        problems.append("errors: %s, %s with %s: %d failed records; %s" % (
            w.label, name, client, r["failed_records"], json.dumps(r["errors"])))
    if w.new_keys and name != "nginx" and r["requests"] > r.get("distinct", r["requests"]):
        problems.append("keys repeated: %s, %s: %d requests of %d signed" % (
            w.label, name, r["requests"], r["distinct"]))
    rate = "%.0f req/s" % r["requests_per_s"]
    if w.loadgen and "--batch" in w.loadgen:
        batch = int(w.loadgen[w.loadgen.index("--batch") + 1])
        rate += " (%.0f records/s)" % (r["requests_per_s"] * batch)
    versus = {}
    if name == "offcloud":
        versus = {"nginx": ratio(r["requests_per_s"], nginx),
                  "s3rver": ratio(r["requests_per_s"], rate_of(m, w.label, "s3rver") or 0)}
    row(w.label, name, client, rate, "%.2f" % r["p50_ms"], "%.2f" % r["p99_ms"],
        "%.0f" % cpu if cpu else "", "%.1f" % peak, errors, versus.get("nginx", ""),
        versus.get("s3rver", ""))


def print_mqtt_rows(args, m, problems):
    """The MQTT rows (baseline: mosquitto); returns the table's note on them
    and adds each target offcloud misses to `problems`."""
    mq, targets = m["mqtt"], []

    def errors_of(r, label, name):
        count = r.get("connect_failures", r.get("failed", 0)) + r.get("dropped", 0) + r.get(
            "lost", 0)
        if count or r.get("errors"):
            keys = ("failed", "connect_failures", "dropped", "lost", "stalls", "errors")
            problems.append("errors: %s, %s: %s" % (label, name, json.dumps(
                {k: r[k] for k in keys if r.get(k)})))
        return count

    for transport, _ in MQTT_TRANSPORTS:
        for label, _ in MQTT_FAN:
            full = "%s over %s, %d B" % (label, transport, MQTT_SIZE)
            base = mq[(label, transport, "mosquitto")][0]["delivered_per_s"]
            for name in MQTT_SERVERS:
                r, peak = mq[(label, transport, name)]
                versus = ratio(r["delivered_per_s"], base) if name == "offcloud" else ""
                row(full, name, "offcloud-loadgen", "%.0f msg/s delivered (client %.2f cores)" % (
                    r["delivered_per_s"], r["client_cpu"]), "%.2f" % r["p50_ms"],
                    "%.2f" % r["p99_ms"], "", "%.1f" % peak, errors_of(r, full, name), versus)
            mine = mq[(label, transport, "offcloud")][0]["delivered_per_s"]
            targets.append((full, "delivered msg/s >= 1.0x mosquitto", mine / base >= 1.0
                            if base else False, ratio(mine, base)))
        label = "MQTT %d idle connections over %s, RSS added" % (args.idle_connections, transport)
        idle = {name: mq[("idle", transport, name)] for name in MQTT_SERVERS
                if ("idle", transport, name) in mq}
        growth = {name: r["rss_during"] - r["rss_before"] if r["rss_during"] is not None else None
                  for name, r in idle.items()}
        for name, r in idle.items():
            if growth[name] is None:
                row(label, name, "offcloud-loadgen", "never all connected", *[""] * 4,
                    errors_of(r, label, name))
                continue
            versus = (ratio(growth["offcloud"], growth["mosquitto"])
                      if name == "offcloud" and growth["mosquitto"] else "")
            row(label, name, "offcloud-loadgen",
                "+%.1f MiB (%.1f KiB a connection; %d connected in %.1f s)" % (
                    growth[name], growth[name] * 1024 / max(r["connected"], 1), r["connected"],
                    r["connect_seconds"]), "", "", "", "%.1f" % r["rss_during"],
                errors_of(r, label, name), versus)
        if growth.get("offcloud") is not None and growth.get("mosquitto"):
            targets.append((label, "RSS growth <= 2.0x mosquitto's",
                            growth["offcloud"] / growth["mosquitto"] <= 2.0,
                            ratio(growth["offcloud"], growth["mosquitto"])))
        label = "MQTT connect storm, %d clients at once over %s (TCP connect to CONNACK)" % (
            args.storm, transport)
        p99 = {name: mq[("storm", transport, name)]["p99_ms"] for name in MQTT_SERVERS}
        for name in MQTT_SERVERS:
            r = mq[("storm", transport, name)]
            row(label, name, "offcloud-loadgen", "%d/%d connected in %.2f s" % (
                r["connected"], r["connections"], r["connect_seconds"]), "%.2f" % r["p50_ms"],
                "%.2f" % r["p99_ms"], "", "", errors_of(r, label, name),
                ratio(p99["offcloud"], p99["mosquitto"]) if name == "offcloud" else "")
        r = mq[("storm", transport, "offcloud")]
        targets.append((label, "all connected, p99 reported", r["connected"] == r["connections"],
                        "p99 %.1f ms" % r["p99_ms"]))
    met = sum(1 for t in targets if t[2])
    for label, target, ok, value in targets:
        if not ok:
            problems.append("below target: %s: %s, is %s" % (label, target, value))
    return ("MQTT rows: the baseline is mosquitto %s (Debian's, config in bench/servers.py),"
            " measured in the same run; offcloud with IAM on (the root key) and its default"
            " threads; offcloud-loadgen on 1 thread (its CPU use is shown). Throughput rows:"
            " best of %d runs of %g s each, alternating brokers; messages/s received by the"
            " subscribers, latency publish to delivery; peak RSS over the runs; the"
            " idle row's ratio is RSS growth (lower is better), the storm's is p99 connect time"
            " (lower is better). Targets met: %d of %d." % (
                mosquitto_version(), args.mqtt_runs, args.seconds, met, len(targets)))


def mosquitto_version():
    try:
        out = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout
        found = re.search(r"mosquitto version (\S+)", out)
        return found.group(1) if found else ""
    except OSError:
        return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="per workload and server")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--starts", type=int, default=10, help="start-up timings, median")
    parser.add_argument("--big-mib", type=int, default=1024, help="size of the big PUT")
    parser.add_argument("--bin", default=os.path.join(ROOT, "build-release", "bin"))
    parser.add_argument("--only", choices=("http", "mqtt"),
                        help="only the HTTP rows, or only the MQTT rows")
    parser.add_argument("--idle-connections", type=int, default=10000,
                        help="MQTT idle connections held")
    parser.add_argument("--storm", type=int, default=1000, help="MQTT connect storm's clients")
    parser.add_argument("--mqtt-runs", type=int, default=2,
                        help="runs of each MQTT throughput workload per broker, the best kept")
    args = parser.parse_args()
    tools = []
    if args.only in (None, "http"):
        tools += ["nginx", "node", "curl", "dd", "wrk", "openssl"]
    if args.only in (None, "mqtt"):
        tools += ["mosquitto"]
    for tool in tools:
        if not shutil.which(tool):
            sys.exit("bench: %s is missing (scripts/setup --bench installs it)" % tool)
    # Every server and offcloud-loadgen inherits the open file limit: 10,000
    # connections need as many descriptors on each side.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max(args.idle_connections, args.storm) + 256
    if hard != resource.RLIM_INFINITY and hard < needed:
        sys.exit("bench: %d connections need %d open files; the hard limit (ulimit -Hn) is %d"
                 % (max(args.idle_connections, args.storm), needed, hard))
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, 65536))
                                                    if hard != resource.RLIM_INFINITY
                                                    else max(needed, 65536), hard))
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
