#!/usr/bin/env python3
"""offcloud against the machine's limit (nginx answering 200 from memory),
against s3rver, and its MQTT broker against mosquitto, in one run, as one
markdown table. bench/run builds and installs what this needs, then runs it.

Every small-request workload is offcloud-loadgen sending the same signed
requests over kept-alive connections at a fixed concurrency for a bounded
time, to one server at a time, all on loopback. Peak RSS is per workload
(VmHWM reset before it, summed over the server's processes). The 1 GiB PUT
is curl streaming a file to a presigned URL, against dd copying the same
file on the same disk.

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

from servers import Server, Tls

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
    # offcloud first: mosquitto's TLS listener takes offcloud's CA.
    servers = {name: Server(name, workdir, args.bin, mqtt=True, tls=tls)
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
    m = {}
    if args.only in (None, "http"):
        measure_http(args, workdir, m)
    if args.only in (None, "mqtt"):
        measure_mqtt(args, workdir, m)
    return m


def measure_http(args, workdir, m):
    m.update({"results": {}, "started": {}, "idle": {}, "rules": rules_bench(args)})
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


def print_table(args, m, seconds_taken):
    how = ("offcloud-loadgen at concurrency %d, %g s per workload and server" % (
        args.concurrency, args.seconds) if "results" in m else
        "offcloud-loadgen's MQTT workloads, %g s per workload and broker" % args.seconds)
    print("%s; %s; %s, all on loopback; took %.0f s.\n" % (
        time.strftime("%Y-%m-%d %H:%M %Z"), machine(), how, seconds_taken))
    row("workload", "server", "result", "p50 ms", "p99 ms", "peak RSS MiB", "errors",
        "x baseline", "x s3rver")
    row("---", "---", *["---:"] * 7)
    problems, notes = [], []
    if "results" in m:
        print_http_rows(args, m, problems)
        notes.append("Ratios are offcloud's value over the other's: the baseline is nginx, or dd"
                     " without fdatasync for the big PUT (offcloud does not fsync objects: a"
                     " killed process loses nothing, a power cut may). nginx's IoT and Firehose"
                     " rows are the same requests answered with 200.")
    if "mqtt" in m:
        notes.append(print_mqtt_rows(args, m, problems))
    print("\n" + " ".join(notes))
    for problem in problems:
        print("- " + problem)


def print_http_rows(args, m, problems):
    results = m["results"]
    for label, flags, names in WORKLOADS:
        for name in names:
            r, peak = results[(label, name)]
            errors = r["non_2xx"] + r["no_response"]
            if errors or r["failed_records"]:
                problems.append("errors: %s, %s: %d failed records; %s" % (
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
                row(full, name, "%.0f msg/s delivered (client %.2f cores)" % (
                    r["delivered_per_s"], r["client_cpu"]), "%.2f" % r["p50_ms"],
                    "%.2f" % r["p99_ms"], "%.1f" % peak, errors_of(r, full, name), versus)
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
                row(label, name, "never all connected", *[""] * 3, errors_of(r, label, name))
                continue
            versus = (ratio(growth["offcloud"], growth["mosquitto"])
                      if name == "offcloud" and growth["mosquitto"] else "")
            row(label, name, "+%.1f MiB (%.1f KiB a connection; %d connected in %.1f s)" % (
                growth[name], growth[name] * 1024 / max(r["connected"], 1), r["connected"],
                r["connect_seconds"]), "", "", "%.1f" % r["rss_during"],
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
            row(label, name, "%d/%d connected in %.2f s" % (
                r["connected"], r["connections"], r["connect_seconds"]), "%.2f" % r["p50_ms"],
                "%.2f" % r["p99_ms"], "", errors_of(r, label, name),
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
        tools += ["nginx", "node", "curl", "dd"]
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
