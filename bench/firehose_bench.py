#!/usr/bin/env python3
"""Firehose with durability on: records/s for PutRecordBatch of 500 records,
and IoT publishes/s through the hands-on rule into a Firehose buffer, with
the same publish and no rule as the baseline measured in the same run.

    bench/firehose_bench.py [--seconds 8] [--connections 32]
"""
import argparse
import base64
import json
import os
import shutil
import sys
import tempfile

from benchlib import Server, free_port, peak_rss_mib, run_wrk

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RECORD = json.dumps({"timestamp": "2021-01-10 15:41:43", "face_id": 0, "AgeRange-Low": 22,
                     "AgeRange-High": 34, "Gender": "Female", "Smile": True, "Calm": 72.5,
                     "padding": "x" * 150}).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--offcloud", default=os.path.join(ROOT, "build", "bin", "offcloud"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is missing (scripts/setup --bench installs it)")
    workdir = tempfile.mkdtemp(prefix="offcloud-bench-")
    port = free_port()
    server = Server("offcloud", [args.offcloud, "--port", str(port), "--data-dir",
                                 os.path.join(workdir, "data"), "--log-level", "warn"],
                    port, "test", "test")
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="bench")
        firehose = server.client("firehose")
        firehose.create_delivery_stream(
            DeliveryStreamName="bench", DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                "BucketARN": "arn:aws:s3:::bench",
                "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60}})
        rows = []

        topic_path = "/topics/bench%2Fplain?qos=1"
        headers = server.signed("POST", topic_path, RECORD, service="iotdata")
        baseline, base_p99 = run_wrk(server, "POST", topic_path, headers, RECORD, args.seconds,
                                     args.connections, workdir)
        rows.append(("IoT publish, no rule (baseline)", baseline, base_p99, baseline))

        server.client("iot").create_topic_rule(ruleName="handsonToFirehose", topicRulePayload={
            "sql": "SELECT * FROM 'handson/analysisLogData'",
            "actions": [{"firehose": {"deliveryStreamName": "bench", "separator": "\n",
                                      "roleArn": "arn:aws:iam::000000000000:role/x"}}]})
        topic_path = "/topics/handson%2FanalysisLogData?qos=1"
        headers = server.signed("POST", topic_path, RECORD, service="iotdata")
        rate, p99 = run_wrk(server, "POST", topic_path, headers, RECORD, args.seconds,
                            args.connections, workdir)
        rows.append(("IoT publish through the hands-on rule into Firehose", rate, p99, rate))

        body = json.dumps({"DeliveryStreamName": "bench", "Records": [
            {"Data": base64.b64encode(RECORD + b"\n").decode()} for _ in range(500)]}).encode()
        headers = server.signed("POST", "/", body, service="firehose", headers={
            "X-Amz-Target": "Firehose_20150804.PutRecordBatch",
            "Content-Type": "application/x-amz-json-1.1"})
        rate, p99 = run_wrk(server, "POST", "/", headers, body, args.seconds, args.connections,
                            workdir)
        rows.append(("Firehose PutRecordBatch, 500 records", rate, p99, rate * 500))

        print("Firehose and IoT, durable (group commit), %d connections, %d s per workload,"
              " wrk on loopback (%d cores)\n" % (args.connections, args.seconds, os.cpu_count()))
        print("| workload | requests/s | p99 ms | records/s | ratio to baseline publish |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, rps, p99, records in rows:
            print("| %s | %.0f | %.2f | %.0f | %.2f |" % (name, rps, p99, records, rps / baseline))
        print("| peak RSS (MiB) | %.1f | | | |" % peak_rss_mib(server.proc.pid))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
