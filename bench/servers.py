"""The servers bench/bench.py measures, each on its own free loopback port
with its own temp directory: offcloud, nginx (the baseline, bench/nginx.conf),
s3rver (pinned in bench/package-lock.json) and mosquitto (Debian's MQTT
broker, the MQTT rows' baseline, with a config file written here). With
`tls`, both brokers also serve MQTT over mutual TLS with offcloud's CA and
server certificate, and offcloud hands out the one device certificate every
TLS client presents (Tls below). Also what is read from /proc about them:
RSS of the whole process tree, its peak since a reset, and its CPU time."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = {"offcloud": ("test", "test"), "nginx": ("test", "test"), "s3rver": ("S3RVER", "S3RVER"),
        "mosquitto": ("test", "test")}

# mosquitto as the MQTT rows measure it: loopback only, anyone may connect,
# as many connections as the file descriptor limit allows, nothing written
# to disk. QoS 1 deliveries are not capped in flight (mosquitto's default is
# 20 per client), as offcloud does not cap them either; mosquitto 2.0.11 with
# the cap also strands messages queued behind it once publishing stops.
MOSQUITTO_CONF = """listener @PORT@ 127.0.0.1
allow_anonymous true
max_connections -1
max_inflight_messages 0
persistence false
log_dest stderr
log_type error
"""
# Its TLS listener, as offcloud's --mqtt-tls-port: offcloud's CA is the only
# one trusted, its server certificate and key (ECDSA P-256) are served, a
# client certificate is required (the user name stays the CONNECT's), TLS
# 1.2 or later.
MOSQUITTO_TLS_CONF = """listener @PORT@ 127.0.0.1
cafile @DIR@/ca.pem
certfile @DIR@/server.pem
keyfile @DIR@/server.key
require_certificate true
use_identity_as_username false
tls_version tlsv1.2
"""
CA_FILES = ("ca.pem", "ca.key", "server.pem", "server.key", "server.names")


class Tls:
    """The TLS material both brokers share, in one directory: offcloud's CA
    and server certificate, taken from its first start and given to every
    later one (so each fresh offcloud keeps the CA mosquitto trusts), and the
    device certificate (device.pem, device.key) registered in the offcloud
    started last, with a policy allowing iot:* on *."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, mode=0o755, exist_ok=True)
        self.ca = os.path.join(directory, "ca.pem")
        self.cert = os.path.join(directory, "device.pem")
        self.key = os.path.join(directory, "device.key")

    def seed(self, data_dir):
        """Before offcloud starts on data_dir: the CA of its first start."""
        if os.path.exists(self.ca):
            os.makedirs(os.path.join(data_dir, "ca"), mode=0o700)
            for name in CA_FILES:
                if os.path.exists(os.path.join(self.dir, name)):
                    dest = os.path.join(data_dir, "ca", name)
                    shutil.copyfile(os.path.join(self.dir, name), dest)
                    os.chmod(dest, 0o600 if name.endswith(".key") else 0o644)

    def take(self, server):
        """Once offcloud answers: keep its CA (the first time) and register a
        device certificate in it."""
        if not os.path.exists(self.ca):
            for name in CA_FILES:
                source = os.path.join(server.data_dir, "ca", name)
                if os.path.exists(source):
                    # Readable by mosquitto, whichever user it serves as.
                    dest = os.path.join(self.dir, name)
                    shutil.copyfile(source, dest)
                    os.chmod(dest, 0o644)
        iot = server.client("iot")
        made = iot.create_keys_and_certificate(setAsActive=True)
        iot.create_policy(policyName="bench-all", policyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}))
        iot.attach_policy(policyName="bench-all", target=made["certificateArn"])
        with open(self.cert, "w") as f:
            f.write(made["certificatePem"])
        with open(self.key, "w") as f:
            f.write(made["keyPair"]["PrivateKey"])
        os.chmod(self.key, 0o600)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    """Whether an HTTP request to the port gets any response line."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(5) == b"HTTP/"
    except OSError:
        return False


def mqtt_answers(port):
    """Whether an MQTT CONNECT to the port gets a CONNACK that accepts it."""
    user, password = b"test", b"test"
    client_id = b"bench-probe-%d" % os.getpid()
    body = (b"\x00\x04MQTT\x04\xc2\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id +
            len(user).to_bytes(2, "big") + user + len(password).to_bytes(2, "big") + password)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(bytes([0x10, len(body)]) + body)
            answer = b""
            while len(answer) < 4:
                chunk = s.recv(4 - len(answer))
                if not chunk:
                    return False
                answer += chunk
            s.sendall(b"\xe0\x00")  # DISCONNECT
            return answer[0] == 0x20 and answer[3] == 0
    except OSError:
        return False


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def tree(pid):
    """pid and its descendants (nginx's workers, anything node forks)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [pid]
    while todo:
        pids.append(todo.pop())
        todo.extend(children.get(pids[-1], []))
    return pids


def status_kib(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Server:
    """One server process, started with start() and ended with stop()."""

    def __init__(self, name, workdir, bin_dir, mqtt=False, tls=None):
        """`mqtt`: offcloud opens its plain MQTT port too (self.mqtt_port).
        `tls` (a Tls): MQTT over mutual TLS as well (self.mqtt_tls_port); offcloud
        must start before mosquitto, whose listener takes offcloud's CA."""
        self.name, self.bin_dir, self.mqtt = name, bin_dir, mqtt or name == "mosquitto"
        self.tls = tls
        self.key, self.secret = KEYS[name]
        self.dir = os.path.join(workdir, name)
        self.proc = None
        self.runs = 0

    def argv(self, port, data_dir):
        if self.name == "offcloud":
            # IAM stays on (--iam enforce, the default): the root key's
            # requests are allowed without evaluating policies, as on AWS.
            argv = [os.path.join(self.bin_dir, "offcloud"), "--port", str(port), "--data-dir",
                    data_dir, "--log-level", "warn"]
            if self.mqtt:
                argv += ["--mqtt-port", str(self.mqtt_port)]
            if self.tls:
                argv += ["--mqtt-tls-port", "0"]
            return argv
        if self.name == "mosquitto":
            conf = os.path.join(data_dir, "mosquitto.conf")
            with open(conf, "w") as f:
                f.write(MOSQUITTO_CONF.replace("@PORT@", str(port)))
                if self.tls:
                    f.write(MOSQUITTO_TLS_CONF.replace("@PORT@", str(self.mqtt_tls_port))
                            .replace("@DIR@", self.tls.dir))
            return ["mosquitto", "-c", conf]
        if self.name == "s3rver":
            return ["node", os.path.join(HERE, "node_modules", ".bin", "s3rver"), "-d", data_dir,
                    "-a", "127.0.0.1", "-p", str(port), "--silent"]
        with open(os.path.join(HERE, "nginx.conf")) as f:
            conf = f.read().replace("@PREFIX@", data_dir).replace("@PORT@", str(port))
        with open(os.path.join(data_dir, "nginx.conf"), "w") as f:
            f.write(conf)
        # Root's nginx serves as nobody, who must reach the GET object.
        os.chmod(data_dir, 0o755)
        return ["nginx", "-p", data_dir, "-c", os.path.join(data_dir, "nginx.conf"), "-e",
                os.path.join(data_dir, "error.log")]

    def start(self):
        """Starts on a fresh port and data directory; returns the seconds
        from process start to the first answered request."""
        self.runs += 1
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        if self.name == "mosquitto":
            self.mqtt_port = self.port  # mosquitto has no HTTP
        elif self.mqtt:
            self.mqtt_port = free_port()
        if self.mqtt:
            self.mqtt_endpoint = "mqtt://127.0.0.1:%d" % self.mqtt_port
        # offcloud's is read from what it prints once listening.
        self.mqtt_tls_port = free_port() if self.tls and self.name == "mosquitto" else None
        data_dir = "%s-%d" % (self.dir, self.runs)
        os.makedirs(os.path.dirname(data_dir), mode=0o755, exist_ok=True)
        os.mkdir(data_dir)
        self.data_dir = data_dir
        if self.tls and self.name == "offcloud":
            self.tls.seed(data_dir)
        argv = self.argv(self.port, data_dir)
        # offcloud's MQTT over TLS port (8883 by default) on a free port, not
        # one another process may hold.
        env = dict(os.environ, OFFCLOUD_MQTT_TLS_PORT="0")
        self.stdout_path = os.path.join(data_dir, "stdout")
        started = time.monotonic()
        with open(self.stdout_path, "w") as stdout:
            self.proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL, env=env)
        while not self.ready():
            if self.proc.poll() is not None or time.monotonic() - started > 30:
                raise RuntimeError("%s did not start: %s" % (self.name, " ".join(argv)))
            time.sleep(0.001)
        took = time.monotonic() - started
        if self.tls and self.name == "offcloud":
            self.tls.take(self)
        return took

    def ready(self):
        if self.name == "mosquitto":
            return mqtt_answers(self.mqtt_port) and (not self.tls or listening(self.mqtt_tls_port))
        if self.tls and self.mqtt_tls_port is None:
            with open(self.stdout_path) as f:
                found = re.search(r"offcloud mqtt listening on mqtts://127\.0\.0\.1:(\d+)",
                                  f.read())
            if not found:
                return False
            self.mqtt_tls_port = int(found.group(1))
        return answers(self.port) and (not self.mqtt or mqtt_answers(self.mqtt_port))

    def rss_mib(self):
        return sum(status_kib(p, "VmRSS") for p in tree(self.proc.pid)) / 1024.0

    def reset_peak(self):
        """Resets each process's VmHWM to its current RSS (clear_refs 5)."""
        for pid in tree(self.proc.pid):
            try:
                with open("/proc/%d/clear_refs" % pid, "w") as f:
                    f.write("5")
            except OSError:
                pass

    def peak_mib(self):
        """Peak RSS since reset_peak(): the sum of each process's peak, so for
        nginx's master and workers an upper bound."""
        return sum(status_kib(p, "VmHWM") for p in tree(self.proc.pid)) / 1024.0

    def cpu_seconds(self):
        """utime+stime of the process tree so far, children it reaped
        included (cutime+cstime), so that a row's CPU is the difference."""
        ticks = 0
        for pid in tree(self.proc.pid):
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def client(self, service):
        import boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.key, aws_secret_access_key=self.secret,
                            config=Config(signature_version="s3v4",
                                          s3={"addressing_style": "path"}))

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
