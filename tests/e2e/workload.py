"""What the abuse and crash-consistency tests share: the resources a mixed
workload writes into (a bucket, a delivery stream, a topic rule that feeds
it), reading back what Firehose delivered, and the server's memory.
"""

import json
import resource
import time
import uuid


import harness

REGION = harness.REGION
ACCOUNT = "000000000000"
ROLE_ARN = "arn:aws:iam::%s:role/offcloud-e2e" % ACCOUNT
PATH_STYLE = harness.PATH_STYLE
MIB = 1024 * 1024


def raise_nofile(want):
    """Raises this process's open-file limit to `want` where the hard limit
    allows (root may raise the hard limit too); children started afterwards
    inherit it. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    if hard == resource.RLIM_INFINITY or hard >= want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        return want
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        return want
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def new_name(tag):
    return ("e2e-%s-%s" % (tag, uuid.uuid4().hex[:12])).lower()


def make_bucket(s3, tag):
    name = new_name(tag)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def make_stream(firehose, bucket, prefix=None, interval=60, size_mb=1, timeout=30):
    """A DirectPut stream into `bucket`, waited for until ACTIVE."""
    name = new_name("stream")
    destination = {"RoleARN": ROLE_ARN, "BucketARN": "arn:aws:s3:::%s" % bucket,
                   "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": interval}}
    if prefix is not None:
        destination["Prefix"] = prefix
        destination["ErrorOutputPrefix"] = "errors/!{firehose:error-output-type}/"
    firehose.create_delivery_stream(DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                                    ExtendedS3DestinationConfiguration=destination)
    deadline = time.monotonic() + timeout
    while True:
        status = firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"]["DeliveryStreamStatus"]
        if status == "ACTIVE":
            return name
        if time.monotonic() > deadline:
            raise AssertionError("stream %s not ACTIVE in %d s (%s)" % (name, timeout, status))
        time.sleep(0.1)


def make_firehose_rule(iot, topic_filter, stream):
    """A topic rule sending every message on `topic_filter` to `stream`, one
    record per message, newline-separated."""
    name = "e2e_%s" % uuid.uuid4().hex[:12]
    iot.create_topic_rule(ruleName=name, topicRulePayload={
        "sql": "SELECT * FROM '%s'" % topic_filter, "awsIotSqlVersion": "2016-03-23",
        "actions": [{"firehose": {"roleArn": ROLE_ARN, "deliveryStreamName": stream,
                                  "separator": "\n"}}]})
    return name


def list_keys(s3, bucket, prefix=""):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [entry["Key"] for entry in page.get("Contents", [])]
    return keys


class DeliveredRecords:
    """The JSON-line records Firehose delivered into a bucket, read once per
    object (a delivered object never changes)."""

    def __init__(self, s3, bucket):
        self.s3 = s3
        self.bucket = bucket
        self.bodies = {}
        self._counted = {}  # key -> {value: count} in that object

    def refresh(self):
        for key in list_keys(self.s3, self.bucket):
            if key not in self.bodies:
                self.bodies[key] = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return self

    def counts(self, field="id"):
        """record[field] -> how many times it was delivered, across objects.
        Raises AssertionError on an object that is not whole JSON lines."""
        counts = {}
        for key, body in self.bodies.items():
            if (key, field) not in self._counted:
                self._counted[(key, field)] = self._count(key, body, field)
            for value, n in self._counted[(key, field)].items():
                counts[value] = counts.get(value, 0) + n
        return counts

    @staticmethod
    def _count(key, body, field):
        if not body.endswith(b"\n"):
            raise AssertionError("%s does not end at a record boundary: ...%r" % (key, body[-80:]))
        out = {}
        for line in body[:-1].split(b"\n"):
            try:
                value = json.loads(line)[field]
            except (ValueError, KeyError, TypeError):
                raise AssertionError("%s holds a line that is not a whole record: %r"
                                     % (key, line[:200]))
            out[value] = out.get(value, 0) + 1
        return out

    def wait_for(self, wanted, timeout, field="id"):
        """Polls until every value in `wanted` was delivered; returns counts.
        Raises AssertionError naming what is missing at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            counts = self.refresh().counts(field)
            missing = set(wanted) - set(counts)
            if not missing:
                return counts
            if time.monotonic() > deadline:
                raise AssertionError("%d acknowledged record(s) never delivered to %s in %.0f s "
                                     "(first: %r)" % (len(missing), self.bucket, timeout,
                                                      sorted(missing)[:5]))
            time.sleep(0.3)
