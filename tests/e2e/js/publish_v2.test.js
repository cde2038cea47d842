// The hands-on's publisher, with the AWS SDK for JavaScript v2, against a
// running offcloud whose URL is in OFFCLOUD_ENDPOINT (test_js_sdk.py sets it).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const AWS = require('aws-sdk');

const endpoint = process.env.OFFCLOUD_ENDPOINT;
const TOPIC = 'handson/analysisLogData';

const RECORDS = [
  { timestamp: '2021-01-10 15:41:43', face_id: 0, 'AgeRange-Low': 22, 'AgeRange-High': 34,
    Gender: 'Female', Smile: true, Calm: 72.5 },
  { timestamp: '2021-01-10 15:41:43', face_id: 1, 'AgeRange-Low': 22, 'AgeRange-High': 34,
    Gender: 'Male', Smile: false, Calm: 72.5 },
  { timestamp: '2021-01-10 15:41:43', face_id: 2, 'AgeRange-Low': 22, 'AgeRange-High': 34,
    Gender: 'Female', Smile: false, Calm: 72.5 },
];

function client(overrides = {}) {
  assert.ok(endpoint, 'OFFCLOUD_ENDPOINT is not set (run via test_js_sdk.py)');
  return new AWS.IotData({
    endpoint,
    region: 'ap-northeast-1',
    accessKeyId: 'test',
    secretAccessKey: 'test',
    // One attempt, bounded: a retry or a hang would hide the server's answer.
    maxRetries: 0,
    httpOptions: { connectTimeout: 5000, timeout: 30000 },
    ...overrides,
  });
}

test('hands-on records publish with qos 0', async () => {
  const iotdata = client();
  for (const record of RECORDS) {
    const params = { topic: TOPIC, payload: JSON.stringify(record), qos: 0 };
    const response = await iotdata.publish(params).promise();
    assert.equal(response.$response.httpResponse.statusCode, 200);
  }
});

test('retained publish round-trips the JSON payload', async () => {
  const iotdata = client();
  const topic = `e2e/js-${Date.now()}-${process.pid}/analysisLogData`;
  const payload = JSON.stringify(RECORDS[1]);
  await iotdata.publish({ topic, payload, qos: 1, retain: true }).promise();
  const got = await iotdata.getRetainedMessage({ topic }).promise();
  assert.equal(got.topic, topic);
  assert.equal(Buffer.from(got.payload).toString('utf8'), payload);
  assert.equal(got.qos, 1);
});

test('wrong secret is refused with InvalidSignatureException', async () => {
  const iotdata = client({ secretAccessKey: 'not-the-secret' });
  await assert.rejects(
    iotdata.publish({ topic: TOPIC, payload: JSON.stringify(RECORDS[0]), qos: 0 }).promise(),
    (err) => {
      assert.equal(err.code, 'InvalidSignatureException', `code=${err.code} message=${err.message}`);
      assert.equal(err.statusCode, 403);
      return true;
    },
  );
});
