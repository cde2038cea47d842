"""Requests exactly as the AWS SDKs send them, for wrk to replay
(bench/wrk_replay.lua): wrk is a lighter client than offcloud-loadgen, so
the server, not the client, is what a row measures; but it cannot sign.

So botocore builds each request shape once, the way boto3 (and the aws CLI,
which is botocore too) builds it, and a `before-send` handler keeps it
instead of sending it. Shapes whose requests differ only by key (S3 PUT and
GET) are then re-signed here with SigV4 for every key: botocore takes about
a millisecond a request, too slow for the hundreds of thousands a row of new
keys needs. The re-signing is checked against botocore's own signature on
the first key, byte for byte, so a drift in botocore's signing shows as an
error rather than as 403s that look like speed.

One change to what botocore sends: its S3 PUT carries `Expect:
100-continue` and waits for the server's 100 Continue before the body. wrk
counts that interim answer as a response of its own, and nginx 1.22 sends
it even when the body came with the head (checked), so the header is left
out and header and body go at once; a real SDK PUT costs the server one
write more and the client a round trip more. The wire bytes are what
Python's http.client sends (Host and Accept-Encoding first, then botocore's
headers in order)."""
import datetime
import hashlib
import hmac
import json
import os
import re
import subprocess
import uuid
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
WRK_THREADS = 2
AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                  r"SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$")


class Request:
    """One HTTP request: method, path (with query), headers in wire order, body."""

    def __init__(self, method, path, headers, body=b""):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def with_headers(self, **changed):
        """A copy with some headers' values replaced (names as in the request,
        '-' spelled '_', case ignored)."""
        wanted = {k.lower().replace("_", "-"): v for k, v in changed.items()}
        return Request(self.method, self.path, [
            (k, wanted.get(k.lower(), v)) for k, v in self.headers], self.body)

    def wire(self):
        head = "%s %s HTTP/1.1\r\n%s\r\n" % (
            self.method, self.path, "".join("%s: %s\r\n" % h for h in self.headers))
        return head.encode() + self.body


class _Raw:
    """The body of the fake response: empty, which every operation used here
    parses as success."""

    def stream(self, *args, **kwargs):
        yield b""


def capture(endpoint, key, secret, service, operation, **params):
    """The request botocore's default client builds for one call, as a
    Request; nothing is sent."""
    import boto3
    import botocore.awsrequest
    client = boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                          aws_access_key_id=key, aws_secret_access_key=secret)
    kept = []

    def keep(request, **_):
        kept.append(request)
        return botocore.awsrequest.AWSResponse(request.url, 200, {}, _Raw())

    client.meta.events.register("before-send", keep)
    getattr(client, operation)(**params)
    sent = kept[-1]
    url = urlsplit(sent.url)
    body = sent.body.read() if hasattr(sent.body, "read") else sent.body or b""
    if isinstance(body, str):
        body = body.encode()
    headers = [("Host", url.netloc), ("Accept-Encoding", "identity")]
    for name, value in sent.headers.items():
        if name.lower() != "expect":
            headers.append((name, value.decode() if isinstance(value, bytes) else value))
    return Request(sent.method, url.path + ("?" + url.query if url.query else ""), headers, body)


class Signer:
    """SigV4 for S3 requests that carry X-Amz-Content-SHA256, as botocore's
    S3SigV4Auth signs them: the path is taken as it is (S3 does not encode
    it twice), no query string."""

    def __init__(self, key, secret, date, service="s3"):
        self.key, self.date, self.service = key, date, service
        self.scope = "%s/%s/%s/aws4_request" % (date[:8], REGION, service)
        signing = ("AWS4" + secret).encode()
        for part in (date[:8], REGION, service, "aws4_request"):
            signing = hmac.new(signing, part.encode(), hashlib.sha256).digest()
        self.signing_key = signing

    def authorization(self, request, signed):
        """The Authorization header for `request`, signing the headers named
        in `signed` (lower case, sorted)."""
        if "?" in request.path:
            raise ValueError("Signer does not sign query strings: " + request.path)
        values = {k.lower(): " ".join(v.split()) for k, v in request.headers}
        canonical = "\n".join([
            request.method, request.path, "",
            "".join("%s:%s\n" % (name, values[name]) for name in signed),
            ";".join(signed), values["x-amz-content-sha256"]])
        to_sign = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (
            self.date, self.scope, hashlib.sha256(canonical.encode()).hexdigest())
        signature = hmac.new(self.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        return "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            self.key, self.scope, ";".join(signed), signature)


def resigned(template, secret, paths):
    """`template` (botocore's request for paths[0]) for each of `paths`, as
    wire bytes, each with its own signature and invocation id. Raises if the
    signature made here for paths[0] is not botocore's."""
    found = AUTH.match(template.header("Authorization"))
    if not found:
        raise RuntimeError("unexpected Authorization: " + template.header("Authorization"))
    key, service, signed = found.group(1), found.group(4), found.group(5).split(";")
    signer = Signer(key, secret, template.header("X-Amz-Date"), service)
    if signer.authorization(template, signed) != template.header("Authorization"):
        raise RuntimeError("SigV4 here differs from botocore's for %s %s:\n%s\n%s" % (
            template.method, template.path, signer.authorization(template, signed),
            template.header("Authorization")))
    has_id = template.header("amz-sdk-invocation-id") is not None
    for path in paths:
        request = Request(template.method, path, template.headers, template.body)
        changed = {"authorization": signer.authorization(request, signed)}
        if has_id and path != template.path:
            changed["amz_sdk_invocation_id"] = str(uuid.uuid4())
        yield request.with_headers(**changed).wire()


def sdk_s3(server, operation, bucket, keys, body=None):
    """S3 PutObject (of `body`) or GetObject as boto3 sends them, one per key."""
    params = {"Bucket": bucket, "Key": keys[0]}
    if body is not None:
        params["Body"] = body
    template = capture(server.endpoint, server.key, server.secret, "s3", operation, **params)
    return resigned(template, server.secret,
                    ["/%s/%s" % (bucket, k) for k in keys])


def loadgen_put(server, bucket, keys, body):
    """S3 PUT as offcloud-loadgen sends it (client/s3_client.cpp and
    client/aws_client.cpp): Host, X-Amz-Date, the body's SHA-256 in
    x-amz-content-sha256 (signed, no checksum header), Authorization,
    Content-Length; nothing else."""
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    signer = Signer(server.key, server.secret, date)
    signed = ["host", "x-amz-content-sha256", "x-amz-date"]
    headers = [("Host", urlsplit(server.endpoint).netloc), ("X-Amz-Date", date),
               ("x-amz-content-sha256", hashlib.sha256(body).hexdigest()),
               ("Authorization", ""), ("Content-Length", str(len(body)))]
    for k in keys:
        request = Request("PUT", "/%s/%s" % (bucket, k), headers, body)
        yield request.with_headers(authorization=signer.authorization(request, signed)).wire()


def sdk_call(server, service, operation, **params):
    """One request as boto3 sends it, for rows that replay the same request."""
    return [capture(server.endpoint, server.key, server.secret, service, operation,
                    **params).wire()]


def write_requests(path, requests):
    """The file wrk_replay.lua reads: each request after a line with its
    length. Returns how many."""
    count = 0
    with open(path, "wb") as f:
        for raw in requests:
            f.write(b"%d\n" % len(raw))
            f.write(raw)
            count += 1
    return count


def wrk(server, path, seconds, concurrency, failed_pattern=None):
    """wrk replaying the file at `path` against the server; its done() JSON."""
    argv = ["wrk", "-t%d" % WRK_THREADS, "-c%d" % concurrency, "-d%ds" % max(1, round(seconds)),
            "-s", os.path.join(HERE, "wrk_replay.lua"), server.endpoint, "--", path,
            str(WRK_THREADS)]
    env = dict(os.environ, WRK_REPLAY_FAILED=failed_pattern or "")
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=seconds + 120)
    lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError("%s failed (%d): %s %s" % (" ".join(argv), done.returncode,
                                                      done.stdout, done.stderr))
    return json.loads(lines[-1])
