"""End-to-end tests of the AWS IoT rules engine against the real offcloud
binary: topic rules managed with the aws CLI and boto3 ("iot"), messages
published through IoT Data, and what the rules' actions wrote read back
from S3 with boto3.

Run: OFFCLOUD_BIN=build/bin/offcloud python3 tests/e2e/test_iot_rules.py -v
"""

import base64
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
import uuid

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from test_iotdata import HANDSON_RECORDS, HANDSON_TOPIC  # noqa: E402

ROLE_ARN = "arn:aws:iam::000000000000:role/iot-rules"

# The hands-on's rule: smiling visitors of 20 and over.
HANDSON_SQL = ("SELECT Gender, get(*, 'AgeRange-Low') AS age, topic() AS t FROM 'handson/+' "
               "WHERE Smile = true AND get(*, 'AgeRange-Low') >= 20")


def unique(name):
    return "%s%s" % (name, uuid.uuid4().hex[:8])


def s3_action(bucket, key):
    return {"s3": {"roleArn": ROLE_ARN, "bucketName": bucket, "key": key}}


def republish_action(topic):
    return {"republish": {"roleArn": ROLE_ARN, "topic": topic}}


class IotRulesCase(unittest.TestCase):
    data_dir = None

    @classmethod
    def setUpClass(cls):
        cls.server = harness.OffcloudServer(data_dir=cls.data_dir)
        cls.server.__enter__()
        cls.make_clients()

    @classmethod
    def make_clients(cls):
        cls.iot = cls.server.boto3_client("iot")
        cls.iotdata = cls.server.boto3_client("iot-data")
        cls.s3 = cls.server.boto3_client("s3")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.__exit__(None, None, None)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="offcloud-rules-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    # -- helpers -------------------------------------------------------------

    def cli(self, *args, ok=True):
        result = self.server.aws(*args)
        detail = "aws %s: rc=%d stdout=%r stderr=%r" % (
            " ".join(args), result.returncode, result.stdout, result.stderr)
        if ok:
            self.assertEqual(result.returncode, 0, detail)
            return json.loads(result.stdout) if result.stdout.strip() else {}
        self.assertNotEqual(result.returncode, 0, detail)
        return result.stderr

    def payload_file(self, payload):
        path = os.path.join(self.tmp, "rule-%s.json" % uuid.uuid4().hex[:6])
        with open(path, "w") as f:
            json.dump(payload, f)
        return "file://" + path

    def create_bucket(self, prefix="rules"):
        bucket = unique(prefix + "-")
        # offcloud, like AWS, wants a location constraint outside us-east-1.
        self.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={
            "LocationConstraint": harness.REGION})
        return bucket

    def objects(self, bucket):
        """key -> body of every object in `bucket`."""
        out = {}
        for item in self.s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            out[item["Key"]] = self.s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        return out

    def create_rule(self, name, sql, actions, error_action=None, disabled=False):
        payload = {"sql": sql, "actions": actions, "ruleDisabled": disabled,
                   "awsIotSqlVersion": "2016-03-23"}
        if error_action:
            payload["errorAction"] = error_action
        self.iot.create_topic_rule(ruleName=name, topicRulePayload=payload)

    def publish(self, topic, payload):
        if not isinstance(payload, (bytes, str)):
            payload = json.dumps(payload)
        self.iotdata.publish(topic=topic, qos=1, payload=payload)

    def assertClientError(self, ctx, code, status):
        err = ctx.exception.response.get("Error", {})
        meta = ctx.exception.response.get("ResponseMetadata", {})
        detail = "got code=%r status=%r message=%r" % (
            err.get("Code"), meta.get("HTTPStatusCode"), err.get("Message"))
        self.assertEqual(err.get("Code"), code, detail)
        self.assertEqual(meta.get("HTTPStatusCode"), status, detail)


class HandsonRuleTests(IotRulesCase):
    """The hands-on's rule through the aws CLI, from creation to deletion."""

    def publish_cli(self, record):
        self.cli("iot-data", "publish", "--topic", HANDSON_TOPIC, "--payload", json.dumps(record))

    def test_handson_rule_lifecycle(self):
        bucket = self.create_bucket("handson")
        rule_file = self.payload_file({
            "sql": HANDSON_SQL, "ruleDisabled": False, "awsIotSqlVersion": "2016-03-23",
            "actions": [s3_action(bucket, "${topic()}/${timestamp()}.json")]})
        self.cli("iot", "create-topic-rule", "--rule-name", "handsonToS3",
                 "--topic-rule-payload", rule_file)

        got = self.cli("iot", "get-topic-rule", "--rule-name", "handsonToS3")
        self.assertEqual(got["ruleArn"],
                         "arn:aws:iot:%s:000000000000:rule/handsonToS3" % harness.REGION)
        rule = got["rule"]
        self.assertEqual(rule["ruleName"], "handsonToS3")
        self.assertEqual(rule["sql"], HANDSON_SQL)
        self.assertFalse(rule["ruleDisabled"])
        self.assertEqual(rule["awsIotSqlVersion"], "2016-03-23")
        self.assertEqual(rule["actions"][0]["s3"]["bucketName"], bucket)
        self.assertLess(abs(float(rule["createdAt"]) - time.time()), 300)

        listed = self.cli("iot", "list-topic-rules")["rules"]
        mine = [r for r in listed if r["ruleName"] == "handsonToS3"]
        self.assertEqual(len(mine), 1, listed)
        self.assertEqual(mine[0]["topicPattern"], "handson/+")
        self.assertEqual(mine[0]["ruleArn"], got["ruleArn"])

        # The three sample records, and a smiling visitor under 20.
        young = dict(HANDSON_RECORDS[0], face_id=3, **{"AgeRange-Low": 15})
        for record in HANDSON_RECORDS + [young]:
            self.publish_cli(record)
        objects = self.objects(bucket)
        self.assertEqual(len(objects), 1, objects)
        key, body = next(iter(objects.items()))
        self.assertTrue(key.startswith(HANDSON_TOPIC + "/") and key.endswith(".json"), key)
        self.assertEqual(json.loads(body),
                         {"Gender": "Female", "age": 22, "t": HANDSON_TOPIC})

        # Disabled, the rule lets messages pass by.
        self.cli("iot", "disable-topic-rule", "--rule-name", "handsonToS3")
        self.assertTrue(self.cli("iot", "get-topic-rule",
                                 "--rule-name", "handsonToS3")["rule"]["ruleDisabled"])
        disabled = self.cli("iot", "list-topic-rules", "--rule-disabled")["rules"]
        self.assertIn("handsonToS3", [r["ruleName"] for r in disabled])
        self.publish_cli(HANDSON_RECORDS[0])
        self.assertEqual(len(self.objects(bucket)), 1)

        self.cli("iot", "enable-topic-rule", "--rule-name", "handsonToS3")
        self.publish_cli(HANDSON_RECORDS[0])
        self.assertEqual(len(self.objects(bucket)), 2)

        # Replaced: now the ones not smiling, under another key.
        self.cli("iot", "replace-topic-rule", "--rule-name", "handsonToS3",
                 "--topic-rule-payload", self.payload_file({
                     "sql": "SELECT face_id FROM 'handson/+' WHERE Smile = false",
                     "actions": [s3_action(bucket, "frowns/${face_id}.json")]}))
        self.assertIn("Smile = false", self.cli(
            "iot", "get-topic-rule", "--rule-name", "handsonToS3")["rule"]["sql"])
        for record in HANDSON_RECORDS:
            self.publish_cli(record)
        objects = self.objects(bucket)
        self.assertEqual(len(objects), 4, sorted(objects))
        self.assertEqual(json.loads(objects["frowns/1.json"]), {"face_id": 1})
        self.assertEqual(json.loads(objects["frowns/2.json"]), {"face_id": 2})

        self.cli("iot", "delete-topic-rule", "--rule-name", "handsonToS3")
        err = self.cli("iot", "get-topic-rule", "--rule-name", "handsonToS3", ok=False)
        self.assertIn("UnauthorizedException", err)
        self.publish_cli(HANDSON_RECORDS[1])
        self.assertEqual(len(self.objects(bucket)), 4)
        err = self.cli("iot", "delete-topic-rule", "--rule-name", "handsonToS3", ok=False)
        self.assertIn("UnauthorizedException", err)

    def test_parse_error_is_refused_and_not_stored(self):
        name = unique("badSql_")
        err = self.cli("iot", "create-topic-rule", "--rule-name", name, "--topic-rule-payload",
                       self.payload_file({"sql": "SELECT * FORM 'a/b'", "actions": []}), ok=False)
        self.assertIn("SqlParseException", err)
        self.assertIn("Line 1:", err)
        err = self.cli("iot", "get-topic-rule", "--rule-name", name, ok=False)
        self.assertIn("UnauthorizedException", err)
        names = [r["ruleName"] for r in self.cli("iot", "list-topic-rules")["rules"]]
        self.assertNotIn(name, names)

    def test_describe_endpoint(self):
        got = self.cli("iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS")
        self.assertEqual(got["endpointAddress"], "127.0.0.1:%d" % self.server.port)


class RuleApiTests(IotRulesCase):
    def test_errors_as_the_model_names_them(self):
        name = unique("dup_")
        self.create_rule(name, "SELECT * FROM 'x/y'", [])
        with self.assertRaises(ClientError) as ctx:
            self.create_rule(name, "SELECT * FROM 'x/y'", [])
        self.assertClientError(ctx, "ResourceAlreadyExistsException", 409)

        with self.assertRaises(ClientError) as ctx:
            self.create_rule(unique("svc_"), "SELECT aws_lambda('arn:fn', *) AS r FROM 'x'", [])
        self.assertClientError(ctx, "SqlParseException", 400)
        self.assertIn("not supported offline", ctx.exception.response["Error"]["Message"])

        with self.assertRaises(ClientError) as ctx:
            self.create_rule(unique("lambda_"), "SELECT * FROM 'x'",
                             [{"lambda": {"functionArn": "arn:aws:lambda:fn"}}])
        self.assertClientError(ctx, "InvalidRequestException", 400)
        self.assertIn("lambda", ctx.exception.response["Error"]["Message"])

        with self.assertRaises(ClientError) as ctx:
            self.create_rule("not-a-valid-name", "SELECT * FROM 'x'", [])
        self.assertClientError(ctx, "InvalidRequestException", 400)

        with self.assertRaises(ClientError) as ctx:
            self.create_rule(unique("tpl_"), "SELECT * FROM 'x'", [s3_action("b", "${topic(}")])
        self.assertClientError(ctx, "InvalidRequestException", 400)

        for call in (self.iot.get_topic_rule, self.iot.delete_topic_rule,
                     self.iot.enable_topic_rule, self.iot.disable_topic_rule):
            with self.subTest(call=call.__name__):
                with self.assertRaises(ClientError) as ctx:
                    call(ruleName=unique("missing_"))
                self.assertClientError(ctx, "UnauthorizedException", 401)
        with self.assertRaises(ClientError) as ctx:
            self.iot.replace_topic_rule(ruleName=unique("missing_"), topicRulePayload={
                "sql": "SELECT * FROM 'x'", "actions": []})
        self.assertClientError(ctx, "UnauthorizedException", 401)

    def test_list_filters_and_pages(self):
        topic = "list/%s" % uuid.uuid4().hex[:8]
        names = sorted(unique("list_%d_" % i) for i in range(3))
        for i, name in enumerate(names):
            self.create_rule(name, "SELECT * FROM '%s'" % topic, [], disabled=(i == 1))
        listed = self.iot.list_topic_rules(topic=topic)["rules"]
        self.assertEqual([r["ruleName"] for r in listed], names)
        self.assertEqual(
            [r["ruleName"] for r in self.iot.list_topic_rules(topic=topic, ruleDisabled=True)["rules"]],
            [names[1]])
        seen, token = [], None
        while True:
            kwargs = {"topic": topic, "maxResults": 2}
            if token:
                kwargs["nextToken"] = token
            page = self.iot.list_topic_rules(**kwargs)
            self.assertLessEqual(len(page["rules"]), 2)
            seen += [r["ruleName"] for r in page["rules"]]
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual(seen, names)


class SqlCheckTests(IotRulesCase):
    """POST /_offcloud/iot/sql-check: the console's SQL checked as you type,
    by the parser CreateTopicRule uses (same message, same line and column)."""

    PATH = "/_offcloud/iot/sql-check"

    def check(self, body, service="iot", method="POST", key=(harness.ACCESS_KEY, harness.SECRET_KEY)):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if service:
            headers = self.server.signed_headers(method, self.PATH, data, service=service,
                                                 headers=headers, access_key=key[0],
                                                 secret_key=key[1])
        conn = self.server.http()
        try:
            conn.request(method, self.PATH, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    def test_same_answer_as_create_topic_rule(self):
        cases = [
            "SELECT * FROM 'handson/analysisLogData' WHERE",
            "SELECT *\nFROM 'a'\nWHERE temperature >",
            "SELECT aws_lambda('arn:fn', *) AS r FROM 'x'",
            "SELECT * FROM 'a/#/b'",
            "SELECT 'unterminated FROM 'a'",
            "SELECT " + "(" * 5000 + "1" + ")" * 5000 + " FROM 'a'",
        ]
        for sql in cases:
            with self.subTest(sql=sql[:40]):
                with self.assertRaises(ClientError) as ctx:
                    self.create_rule(unique("chk_"), sql, [])
                self.assertClientError(ctx, "SqlParseException", 400)
                expected = ctx.exception.response["Error"]["Message"]
                status, answer = self.check({"sql": sql, "awsIotSqlVersion": "2016-03-23"})
                self.assertEqual(status, 200, answer)
                self.assertEqual(answer["ok"], False)
                self.assertEqual(answer["code"], "SqlParseException")
                self.assertEqual(answer["message"], expected)
                line, column = expected.split(" ", 2)[1].split(":")
                self.assertEqual((answer["line"], answer["column"]), (int(line), int(column)))
        self.assertTrue(self.server.running())
        # <EOF> after the third line's 19 characters: line 3, column 19
        # (0-based, as AWS counts), byte 9 + 9 + 19.
        _, answer = self.check({"sql": "SELECT *\nFROM 'a'\nWHERE temperature >"})
        self.assertEqual((answer["line"], answer["column"], answer["offset"]), (3, 19, 37))

    def test_valid_sql_and_versions(self):
        status, answer = self.check({"sql": HANDSON_SQL})
        self.assertEqual((status, answer), (200, {"ok": True, "topic_filter": "handson/+"}))
        # encode() needs 2016-03-23, as CreateTopicRule says.
        sql = "SELECT encode(*, 'base64') AS b FROM 'a'"
        self.assertTrue(self.check({"sql": sql, "awsIotSqlVersion": "2016-03-23"})[1]["ok"])
        _, answer = self.check({"sql": sql, "awsIotSqlVersion": "2015-10-08"})
        self.assertFalse(answer["ok"])
        _, answer = self.check({"sql": "SELECT * FROM 'a'", "awsIotSqlVersion": "beta"})
        self.assertFalse(answer["ok"])
        self.assertIn("Unsupported awsIotSqlVersion beta", answer["message"])
        # Nothing was stored.
        self.assertEqual(self.iot.list_topic_rules(topic="handson/+")["rules"], [])
        # Checks, one a pause in typing, stay out of the console's Activity;
        # the rule calls around them are in it.
        headers = self.server.signed_headers("GET", "/_offcloud/activity", service="offcloud")
        conn = self.server.http()
        try:
            conn.request("GET", "/_offcloud/activity", headers=headers)
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            operations = {e["operation"] for e in json.loads(response.read())["entries"]}
        finally:
            conn.close()
        self.assertIn("ListTopicRules", operations)
        self.assertNotIn("CheckRuleSql", operations)

    def test_refusals(self):
        for body in (b"not json", {"sql": 5}, {"nosql": "x"}, [1],
                     {"sql": "SELECT * FROM 'a'", "awsIotSqlVersion": 2016}):
            with self.subTest(body=body):
                status, answer = self.check(body)
                self.assertEqual(status, 400, answer)
        status, _ = self.check({"sql": "SELECT * FROM 'a'"}, method="GET")
        self.assertEqual(status, 400)
        # Unsigned: refused as any IoT call would be.
        status, answer = self.check({"sql": "SELECT * FROM 'a'"}, service=None)
        self.assertEqual(status, 403, answer)
        status, answer = self.check({"sql": "SELECT * FROM 'a'"}, key=("test", "wrong"))
        self.assertEqual(status, 403, answer)
        # Any valid key may check SQL: a user whose policies allow nothing too.
        iam = self.server.boto3_client("iam")
        user = unique("nothing_")
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="publish-only", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iot:Publish", "Resource": "*"}]}))
        created = iam.create_access_key(UserName=user)["AccessKey"]
        key = (created["AccessKeyId"], created["SecretAccessKey"])
        status, answer = self.check({"sql": "SELECT * FROM 'a'"}, key=key)
        self.assertEqual((status, answer["ok"]), (200, True))


class ActionTests(IotRulesCase):
    def test_republish_feeds_a_second_rule(self):
        bucket = self.create_bucket("chain")
        base = "chain/%s" % uuid.uuid4().hex[:8]
        self.create_rule(unique("first_"), "SELECT temp * 2 AS doubled FROM '%s/in'" % base,
                         [republish_action(base + "/stage/${topic(2)}")])
        self.create_rule(unique("second_"),
                         "SELECT doubled, topic() AS t FROM '%s/stage/+'" % base,
                         [s3_action(bucket, "out.json")])
        self.publish(base + "/in", {"temp": 21})
        self.assertEqual(json.loads(self.objects(bucket)["out.json"]),
                         {"doubled": 42, "t": "%s/stage/%s" % (base, base.split("/")[1])})

    def test_self_republish_is_bounded(self):
        bucket = self.create_bucket("loop")
        topic = "loop/%s" % uuid.uuid4().hex[:8]
        self.create_rule(unique("loop_"), "SELECT * FROM '%s'" % topic, [republish_action(topic)],
                         error_action=s3_action(bucket, "stopped.json"))
        self.publish(topic, {"n": 1})  # answers at all: the loop ended
        error = json.loads(self.objects(bucket)["stopped.json"])
        self.assertEqual(error["failures"][0]["failedAction"], "RepublishAction")
        self.assertIn("loop", error["failures"][0]["errorMessage"])

    def test_s3_key_template_writes_one_object_per_message(self):
        bucket = self.create_bucket("perkey")
        topic = "perkey/%s" % uuid.uuid4().hex[:8]
        self.create_rule(unique("perkey_"), "SELECT * FROM '%s'" % topic,
                         [s3_action(bucket, "${topic()}/${timestamp()}.json")])
        for i in range(5):
            self.publish(topic, {"i": i})
            time.sleep(0.01)  # timestamp() has millisecond resolution
        objects = self.objects(bucket)
        self.assertEqual(len(objects), 5, sorted(objects))
        for key in objects:
            self.assertRegex(key, r"^%s/\d{13}\.json$" % topic)
        self.assertEqual(sorted(json.loads(b)["i"] for b in objects.values()), list(range(5)))

    def test_firehose_without_stream_goes_to_the_error_action(self):
        bucket = self.create_bucket("errors")
        base = uuid.uuid4().hex[:8]
        errors_topic = "errors/topic%s" % base
        rule = unique("toFirehose_")
        self.create_rule(rule, "SELECT * FROM 'fh/%s'" % base,
                         [{"firehose": {"roleArn": ROLE_ARN, "deliveryStreamName": "handson",
                                        "separator": "\n"}}],
                         error_action=republish_action(errors_topic))
        self.create_rule(unique("errorsToS3_"), "SELECT * FROM '%s'" % errors_topic,
                         [s3_action(bucket, "${cloudwatchTraceId}.json")])
        original = json.dumps(HANDSON_RECORDS[0])
        self.publish("fh/%s" % base, original)
        objects = self.objects(bucket)
        self.assertEqual(len(objects), 1, objects)
        error = json.loads(next(iter(objects.values())))
        self.assertEqual(error["ruleName"], rule)
        self.assertEqual(error["topic"], "fh/%s" % base)
        self.assertEqual(base64.b64decode(error["base64OriginalPayload"]).decode(), original)
        self.assertEqual(next(iter(objects)), error["cloudwatchTraceId"] + ".json")
        self.assertEqual(len(error["failures"]), 1)
        failure = error["failures"][0]
        self.assertEqual(failure["failedAction"], "FirehoseAction")
        self.assertEqual(failure["failedResource"], "handson")
        self.assertIn("not found", failure["errorMessage"])

    def test_basic_ingest_reaches_only_its_rule(self):
        bucket = self.create_bucket("ingest")
        base = uuid.uuid4().hex[:8]
        ingest = unique("ingest_")
        self.create_rule(ingest, "SELECT topic() AS t FROM 'ingest/%s/#'" % base,
                         [s3_action(bucket, "ingest.json")])
        self.create_rule(unique("broker_"), "SELECT * FROM 'ingest/%s/#'" % base,
                         [s3_action(bucket, "broker.json")])
        self.publish("$aws/rules/%s/ingest/%s/room1" % (ingest, base), {"v": 1})
        objects = self.objects(bucket)
        self.assertEqual(sorted(objects), ["ingest.json"])
        self.assertEqual(json.loads(objects["ingest.json"]), {"t": "ingest/%s/room1" % base})


class RestartTests(IotRulesCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="offcloud-rules-restart-")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.data_dir, ignore_errors=True)

    def test_rules_survive_a_restart(self):
        bucket = self.create_bucket("restart")
        self.create_rule("kept", "SELECT * FROM 'restart/on'", [s3_action(bucket, "on.json")])
        self.create_rule("kept_off", "SELECT * FROM 'restart/off'",
                         [s3_action(bucket, "off.json")])
        self.iot.disable_topic_rule(ruleName="kept_off")
        before = self.iot.get_topic_rule(ruleName="kept")
        self.server.stop()
        self.server.restart()
        type(self).make_clients()

        after = self.iot.get_topic_rule(ruleName="kept")
        self.assertEqual(after["rule"], before["rule"])
        self.assertTrue(self.iot.get_topic_rule(ruleName="kept_off")["rule"]["ruleDisabled"])
        self.publish("restart/on", b"1")
        self.publish("restart/off", b"2")
        self.assertEqual(self.objects(bucket), {"on.json": b"1"})


if __name__ == "__main__":
    unittest.main()
