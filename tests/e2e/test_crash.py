"""Crash consistency: offcloud SIGKILLed at random moments under a mixed
load, restarted on the same data dir, must still hold every write it
acknowledged, intact, and nothing torn; and on a full disk it must refuse
writes with a 5xx AWS error, lose nothing it acknowledged, and take writes
again once space returns, without a restart.

What an acknowledgement promises here:
- S3 PutObject / CompleteMultipartUpload 200: the object is stored whole; an
  overwrite whose answer never came may or may not have replaced it.
- Firehose PutRecordBatch: each entry with a RecordId is durable and is
  delivered to S3 exactly once (a delivery a crash interrupts is redone
  under the same key, so never twice).
- IoT Data Publish 200 through a firehose rule: offcloud answers only once
  the rule's records are durable in the stream's buffer, so each
  acknowledged publish is delivered too. (AWS promises less: rule actions
  run after the broker's PUBACK, and a failed one goes to the error action.)

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_crash.py -v
     OFFCLOUD_E2E_SEED=N repeats a run's rounds; OFFCLOUD_E2E_CRASH_ROUNDS
     sets their number (default 20).
"""

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from types import SimpleNamespace

from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import workload  # noqa: E402

MIB = workload.MIB
PATH_STYLE = workload.PATH_STYLE
SIZES = (0, 1, 100, 4096, 65537, 300 * 1024, MIB + 7)
PART = 5 * MIB  # S3's smallest part but the last
# Clients give up fast once the server is gone.
QUICK = Config(connect_timeout=2, read_timeout=10)


def md5(data):
    return hashlib.md5(data).hexdigest()


class Ledger:
    """What the clients sent and what the server acknowledged, across
    rounds. Each S3 key is written by one thread at a time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.objects = {}  # key -> {"acked": md5 or None, "pending": set of md5}
        self.records_sent = set()
        self.records_acked = set()
        self.errors = []  # failures before the kill: every one is a test failure

    def sending(self, key, digest):
        with self.lock:
            self.objects.setdefault(key, {"acked": None, "pending": set()})["pending"].add(digest)

    def acked(self, key, digest, response):
        with self.lock:
            entry = self.objects[key]
            entry["acked"] = digest
            # Which answer acknowledged it, should it go missing.
            entry["answer"] = (time.time(), response.get("ResponseMetadata"))
            entry["pending"].clear()

    def allowed(self, key):
        """The contents `key` may hold: its acknowledged one (None: may be
        missing) and any sent since whose answer never came."""
        with self.lock:
            entry = self.objects[key]
            return entry["acked"], set(entry["pending"])


class CrashRoundsTests(unittest.TestCase):
    ROUNDS = int(os.environ.get("OFFCLOUD_E2E_CRASH_ROUNDS", 20))

    def test_sigkill_at_random_moments_loses_no_acknowledged_write(self):
        base_seed = int(os.environ.get("OFFCLOUD_E2E_SEED", random.randrange(1 << 30)))
        print("\nCrashRoundsTests: base seed %d (OFFCLOUD_E2E_SEED=%d repeats), %d rounds"
              % (base_seed, base_seed, self.ROUNDS), file=sys.stderr)
        self.server = harness.OffcloudServer(args=("--firehose-max-interval", "1"))
        self.server.__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)
        s3 = self.server.boto3_client("s3", config=PATH_STYLE)
        firehose = self.server.boto3_client("firehose")
        self.bucket = workload.make_bucket(s3, "crash")
        self.fh_bucket = workload.make_bucket(s3, "crashfh")
        self.stream = workload.make_stream(firehose, self.fh_bucket)
        iot_stream = workload.make_stream(firehose, self.fh_bucket)
        workload.make_firehose_rule(self.server.boto3_client("iot"), "crash/+", iot_stream)
        self.ledger = Ledger()
        self.delivered = None
        checked_objects = 0
        started = time.monotonic()
        for round_no in range(self.ROUNDS):
            seed = base_seed + round_no
            t0 = time.monotonic()
            tag, note = self.run_round(seed)
            t1 = time.monotonic()
            self.keep_index_as_killed()
            self.server.restart()
            checked_objects += self.check_objects(tag, note)
            t2 = time.monotonic()
            self.check_records(note)
            print("  round %d: %s; load %.1f s, restart and objects %.1f s, records %.1f s"
                  % (round_no, note, t1 - t0, t2 - t1, time.monotonic() - t2), file=sys.stderr)
        # At the end, all of it once more: later crashes lost nothing earlier.
        self.server.stop()
        self.server.restart()
        checked_objects += self.check_objects(None, "final")
        self.check_records("final", settle=2.0)
        acked_objects = sum(1 for e in self.ledger.objects.values() if e["acked"] is not None)
        print("CrashRoundsTests: %d rounds in %.0f s; acknowledged writes checked: %d S3 objects "
              "(%d object reads), %d Firehose and IoT records"
              % (self.ROUNDS, time.monotonic() - started, acked_objects, checked_objects,
                 len(self.ledger.records_acked)), file=sys.stderr)
        self.server.stop()

    # -- one round -----------------------------------------------------------

    def run_round(self, seed):
        rng = random.Random(seed)
        kill_after = rng.uniform(1.5, 4.0)
        ledger = self.ledger
        stop = threading.Event()
        killed = threading.Event()
        tag = "s%d" % seed
        counts = {"put": 0, "multipart": 0, "batch": 0, "publish": 0}

        def guarded(body):
            def run(worker, worker_rng):
                try:
                    body(worker, worker_rng)
                except Exception as e:
                    if not killed.is_set():
                        with ledger.lock:
                            ledger.errors.append("seed %d: %r" % (seed, e))
            return run

        @guarded
        def put_objects(worker, wrng):
            s3 = self.server.boto3_client("s3", config=PATH_STYLE.merge(QUICK))
            mine = []
            n = 0
            while not stop.is_set():
                if mine and wrng.random() < 0.2:
                    key = wrng.choice(mine)  # an overwrite
                else:
                    n += 1
                    key = "%s/%d-%d" % (tag, worker, n)
                    mine.append(key)
                body = os.urandom(wrng.choice(SIZES))
                digest = md5(body)
                ledger.sending(key, digest)
                response = s3.put_object(Bucket=self.bucket, Key=key, Body=body)
                ledger.acked(key, digest, response)
                counts["put"] += 1

        @guarded
        def multipart(worker, wrng):
            s3 = self.server.boto3_client("s3", config=PATH_STYLE.merge(QUICK))
            n = 0
            while not stop.is_set():
                n += 1
                key = "%s/mp-%d" % (tag, n)
                parts = [os.urandom(PART), os.urandom(wrng.randint(1, 200000))]
                digest = md5(b"".join(parts))
                ledger.sending(key, digest)
                upload = s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
                etags = [s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload,
                                        PartNumber=i + 1, Body=part)["ETag"]
                         for i, part in enumerate(parts)]
                response = s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload,
                    MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e}
                                               for i, e in enumerate(etags)]})
                ledger.acked(key, digest, response)
                counts["multipart"] += 1

        @guarded
        def put_batches(worker, wrng):
            firehose = self.server.boto3_client("firehose", config=QUICK)
            n = 0
            while not stop.is_set():
                ids = ["%s-fh-%d-%d" % (tag, n, i) for i in range(wrng.randint(1, 200))]
                n += 1
                with ledger.lock:
                    ledger.records_sent.update(ids)
                resp = firehose.put_record_batch(
                    DeliveryStreamName=self.stream,
                    Records=[{"Data": json.dumps({"id": i, "pad": "p" * wrng.randint(0, 300)})
                              + "\n"} for i in ids])
                with ledger.lock:
                    for i, entry in zip(ids, resp["RequestResponses"]):
                        if entry.get("RecordId") and not entry.get("ErrorCode"):
                            ledger.records_acked.add(i)
                if resp["FailedPutCount"]:
                    raise AssertionError("PutRecordBatch failed %d records: %r"
                                         % (resp["FailedPutCount"], resp["RequestResponses"][:3]))
                counts["batch"] += 1

        @guarded
        def publish(worker, wrng):
            iotdata = self.server.boto3_client("iot-data", config=QUICK)
            n = 0
            while not stop.is_set():
                record_id = "%s-iot-%d-%d" % (tag, worker, n)
                n += 1
                with ledger.lock:
                    ledger.records_sent.add(record_id)
                iotdata.publish(topic="crash/%d" % (n % 7), qos=1,
                                payload=json.dumps({"id": record_id}))
                with ledger.lock:
                    ledger.records_acked.add(record_id)
                counts["publish"] += 1

        workers = [put_objects, put_objects, multipart, put_batches, publish, publish]
        threads = [threading.Thread(target=w, args=(i, random.Random(rng.random())), daemon=True)
                   for i, w in enumerate(workers)]
        for t in threads:
            t.start()
        time.sleep(kill_after)
        # A slow build (ASan under load) may not have finished one request
        # yet: the kill waits for the first acknowledgment, at most 20 s.
        deadline = time.monotonic() + 20
        while not any(counts.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        killed.set()
        killed_at = time.time()
        self.server.kill()
        stop.set()
        for t in threads:
            t.join(30)
        self.assertFalse(any(t.is_alive() for t in threads), "a client hung after the kill")
        self.assertEqual(ledger.errors[:5], [], "requests failed before the kill")
        note = "seed %d, killed after %.2f s at %.3f (%s)" % (
            seed, kill_after, killed_at, ", ".join("%d %s" % (v, k) for k, v in counts.items()))
        self.assertGreater(counts["put"] + counts["batch"] + counts["publish"], 0,
                           "nothing was acknowledged: %s" % note)
        return tag, note

    # -- checks after the restart ----------------------------------------------

    def keep_index_as_killed(self):
        """Copies the object index (database and WAL) as the kill left it,
        before the restart recovers it: if a check fails, the copy shows
        whether the lost write ever reached the WAL."""
        if not hasattr(self, "killed_index"):
            self.killed_index = tempfile.mkdtemp(prefix="offcloud-crash-index-")
            self.addCleanup(shutil.rmtree, self.killed_index, True)
        source = os.path.join(self.server.data_dir, "s3")
        for name in os.listdir(source):
            if name.startswith("s3.db"):
                shutil.copy2(os.path.join(source, name), self.killed_index)

    def fail_keeping_index(self, message):
        kept = tempfile.mkdtemp(prefix="offcloud-crash-failed-")
        shutil.copytree(self.killed_index, kept, dirs_exist_ok=True)
        shutil.copy2(self.server.stderr_path, kept)
        self.fail("%s\n(the index as killed, and the server logs, are kept in %s)"
                  % (message, kept))

    def check_objects(self, tag, note):
        """Every listed object of round `tag` (None: of every round) reads
        back whole; every acknowledged one is there with its acknowledged
        content (or an unanswered overwrite's). Returns how many objects
        were read."""
        s3 = self.server.boto3_client("s3", config=PATH_STYLE)
        listing = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for entry in page.get("Contents", []):
                listing[entry["Key"]] = entry["Size"]
        prefix = "" if tag is None else tag + "/"
        reads = 0
        for key, size in listing.items():
            self.assertIn(key, self.ledger.objects, "%s: listed object never written: %r"
                          % (note, key))
            if not key.startswith(prefix):
                continue
            body = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            reads += 1
            self.assertEqual(len(body), size, "%s: %r reads %d bytes, listed as %d"
                             % (note, key, len(body), size))
            acked, pending = self.ledger.allowed(key)
            if md5(body) not in pending | {acked}:
                self.fail_keeping_index("%s: %r holds neither its acknowledged content nor an "
                                        "unanswered write's (torn or lost)" % (note, key))
        for key, entry in self.ledger.objects.items():
            if entry["acked"] is not None and key.startswith(prefix) and key not in listing:
                self.fail_keeping_index("%s: acknowledged object %r is gone; acknowledged at %r"
                                        % (note, key, entry.get("answer")))
        self.assertEqual(self.list_uploads_of_missing(s3, listing), [],
                         "%s: completed uploads still listed as in progress" % note)
        return reads

    def list_uploads_of_missing(self, s3, listing):
        # An upload the kill interrupted may stay in progress; one whose
        # object was acknowledged must not.
        uploads = s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])
        out = []
        for upload in uploads:
            acked, _ = self.ledger.allowed(upload["Key"])
            if acked is not None and upload["Key"] not in listing:
                out.append(upload["Key"])
        return out

    def check_records(self, note, settle=0.0):
        """Every acknowledged record delivered exactly once; nothing that was
        never sent."""
        s3 = self.server.boto3_client("s3", config=PATH_STYLE)
        if self.delivered is None:
            self.delivered = workload.DeliveredRecords(s3, self.fh_bucket)
        self.delivered.s3 = s3  # the port changed with the restart
        try:
            self.delivered.wait_for(self.ledger.records_acked, timeout=30)
        except AssertionError as e:
            self.fail("%s: %s\nstderr tail:\n%s" % (note, e, self.server.stderr_tail(2000)))
        if settle:
            time.sleep(settle)
        counts = self.delivered.refresh().counts()
        twice = sorted(i for i, c in counts.items() if c > 1)
        self.assertEqual(twice[:10], [], "%s: records delivered more than once" % note)
        never = sorted(set(counts) - self.ledger.records_sent)
        self.assertEqual(never[:10], [], "%s: records delivered that were never sent" % note)


# ---------------------------------------------------------------------------
# Disk full
# ---------------------------------------------------------------------------


TMPFS_SIZE = "8m"


def tmpfs_launcher(directory):
    """A launcher that runs the server with a fresh TMPFS_SIZE tmpfs on
    `directory`: in a private mount namespace when unprivileged user
    namespaces allow it (the mount dies with the server), else a plain
    mount when root. Returns (launcher, resize(pid, size), cleanup), or None
    if neither works."""
    script = 'mount -t tmpfs -o size=%s tmpfs "$0" && exec "$@"' % TMPFS_SIZE
    unshare, nsenter = shutil.which("unshare"), shutil.which("nsenter")
    remount = ["mount", "-o", "remount,size=%s", directory]

    def run(cmd):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise AssertionError("%s failed: %s" % (cmd, done.stderr))

    if unshare and nsenter:
        probe = subprocess.run([unshare, "-rm", "sh", "-c", script, directory, "true"],
                               capture_output=True)
        if probe.returncode == 0:
            def resize(pid, size):
                run([nsenter, "-t", str(pid), "-U", "-m", "--preserve-credentials"] +
                    [a.replace("%s", size) for a in remount])
            return [unshare, "-rm", "sh", "-c", script, directory], resize, lambda: None
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + TMPFS_SIZE, "tmpfs",
                           directory], capture_output=True).returncode == 0:
            def resize(pid, size):
                run([a.replace("%s", size) for a in remount])
            return [], resize, lambda: subprocess.run(["umount", "-l", directory],
                                                      capture_output=True)
    return None


class DiskFullTests(unittest.TestCase):
    OBJECT = 256 * 1024

    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="offcloud-e2e-enospc-")
        self.addCleanup(shutil.rmtree, self.data_dir, True)
        launch = tmpfs_launcher(self.data_dir)
        if launch is None:
            self.skipTest("cannot mount a tmpfs here (no user namespaces, not root)")
        launcher, self.resize, unmount = launch
        self.addCleanup(unmount)
        self.server = harness.OffcloudServer(data_dir=self.data_dir, launcher=launcher,
                                             args=("--firehose-max-interval", "1"))
        self.server.__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)

    def assert5xx(self, error, shape, what):
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        code = error.response.get("Error", {}).get("Code")
        self.assertTrue(500 <= status < 600, "%s: want a 5xx on a full disk, got %d %s"
                        % (what, status, error.response.get("Error")))
        self.assertTrue(code and not code.isdigit(), "%s: no AWS error code in %s body: %r"
                        % (what, shape, error.response))
        return code

    def fill(self):
        """Fills the disk until S3, Firehose and IoT writes are all refused
        with a 5xx, checks the server alive and what it acknowledged intact,
        and returns the state for the checks after space returns."""
        server = self.server
        s3 = server.boto3_client("s3", config=PATH_STYLE)
        firehose = server.boto3_client("firehose")
        iotdata = server.boto3_client("iot-data")
        bucket = workload.make_bucket(s3, "full")
        fh_bucket = workload.make_bucket(s3, "fullfh")
        stream = workload.make_stream(firehose, fh_bucket)
        workload.make_firehose_rule(server.boto3_client("iot"), "full/+", stream)

        acked_objects = {}
        records_sent, records_acked = set(), set()
        refusals = {}  # what -> AWS error code on the full disk

        def put_object(key, size):
            body = os.urandom(size)
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body)
            except ClientError as e:
                refusals.setdefault("PutObject", self.assert5xx(e, "XML", "PutObject"))
                return False
            acked_objects[key] = md5(body)
            return True

        def put_batch(n, size):
            ids = ["fh-%s-%d" % (uuid.uuid4().hex[:8], i) for i in range(n)]
            records_sent.update(ids)
            try:
                resp = firehose.put_record_batch(DeliveryStreamName=stream, Records=[
                    {"Data": json.dumps({"id": i, "pad": "p" * size}) + "\n"} for i in ids])
            except ClientError as e:
                refusals.setdefault("PutRecordBatch", self.assert5xx(e, "JSON", "PutRecordBatch"))
                return False
            for i, entry in zip(ids, resp["RequestResponses"]):
                if entry.get("RecordId") and not entry.get("ErrorCode"):
                    records_acked.add(i)
                else:
                    refusals.setdefault("PutRecordBatch entry", entry.get("ErrorCode"))
            return resp["FailedPutCount"] == 0

        def publish():
            record_id = "iot-%s" % uuid.uuid4().hex
            records_sent.add(record_id)
            try:
                iotdata.publish(topic="full/1", qos=1, payload=json.dumps({"id": record_id}))
            except ClientError as e:
                refusals.setdefault("Publish", self.assert5xx(e, "JSON", "Publish"))
                return False
            records_acked.add(record_id)
            return True

        # Fill the disk with objects until S3 refuses.
        n = 0
        while put_object("fill-%d" % n, self.OBJECT):
            n += 1
            self.assertLess(n, 200, "an 8 MiB file system took %d objects of 256 KiB" % n)
        self.assertGreater(n, 3, "the disk was full from the start")
        # Then fill what is left with records, publishes and small objects,
        # until every kind of write is refused.
        for attempt in range(400):
            wrote = [put_batch(50, 1000), publish(), put_object("small-%d" % attempt, 1000)]
            if not any(wrote):
                break
        else:
            self.fail("writes still succeed on a full disk: %r" % refusals)
        self.assertIn("PutObject", refusals)
        print("\nDiskFullTests: full after %d objects of %d KiB, %d records and publishes; "
              "refusals: %s" % (n, self.OBJECT // 1024, len(records_acked), refusals),
              file=sys.stderr)

        # Alive, and everything acknowledged reads back intact, while full.
        health = server.http()
        health.request("GET", "/_offcloud/health")
        self.assertEqual(health.getresponse().status, 200)
        health.close()
        for key, digest in acked_objects.items():
            self.assertEqual(md5(s3.get_object(Bucket=bucket, Key=key)["Body"].read()), digest,
                             key)

        return SimpleNamespace(s3=s3, bucket=bucket, fh_bucket=fh_bucket, n=n,
                               acked_objects=acked_objects, records_sent=records_sent,
                               records_acked=records_acked, put_object=put_object,
                               put_batch=put_batch, publish=publish)

    def check_recovered(self, state):
        """Writes are taken again, without a restart, and nothing
        acknowledged was lost."""
        s3 = state.s3
        self.assertTrue(state.put_object("after-1", self.OBJECT), "no write after space returned")
        self.assertTrue(state.put_batch(20, 100), "PutRecordBatch refused after space returned")
        self.assertTrue(state.publish(), "Publish refused after space returned")
        for key, digest in state.acked_objects.items():
            self.assertEqual(md5(s3.get_object(Bucket=state.bucket, Key=key)["Body"].read()),
                             digest, key)
        self.assertEqual(sorted(workload.list_keys(s3, state.bucket)), sorted(state.acked_objects))
        delivered = workload.DeliveredRecords(s3, state.fh_bucket)
        counts = delivered.wait_for(state.records_acked, timeout=60)
        self.assertEqual(sorted(i for i, c in counts.items() if c > 1)[:10], [],
                         "records delivered twice")
        self.assertEqual(sorted(set(counts) - state.records_sent)[:10], [])
        self.server.stop()

    def test_full_disk_refuses_with_5xx_keeps_what_it_acknowledged_and_recovers(self):
        state = self.fill()
        # Space returns from outside (the file system grows), as when another
        # program's files are removed.
        self.resize(self.server.proc.pid, "32m")
        self.check_recovered(state)

    # Deleting needs a little space itself (SQLite's WAL); the object store's
    # reserve (storage/space_reserve.h) gives it that on a full disk.
    def test_deleting_objects_on_a_full_disk_frees_space(self):
        state = self.fill()
        for key in ["fill-%d" % i for i in range(0, state.n, 2)]:
            state.s3.delete_object(Bucket=state.bucket, Key=key)
            del state.acked_objects[key]
        self.check_recovered(state)

if __name__ == "__main__":
    unittest.main(verbosity=2)
