// MQTT.js (npm mqtt) against a running offcloud whose URL is in
// OFFCLOUD_ENDPOINT (test_js_sdk.py sets it): MQTT over WebSocket at /mqtt,
// the URL presigned with SigV4 for the service iotdevicegateway by the AWS
// SDK's own signer, as browser and Node.js apps connect to AWS IoT Core.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const mqtt = require('mqtt');
const AWS = require('aws-sdk');
const { SignatureV4 } = require('@smithy/signature-v4');

const endpoint = new URL(process.env.OFFCLOUD_ENDPOINT);
const REGION = 'ap-northeast-1';

// The SHA-256 (and HMAC) the signer asks for, from Node's crypto.
class Sha256 {
  constructor(secret) {
    this.hash = secret ? crypto.createHmac('sha256', secret) : crypto.createHash('sha256');
  }
  update(data) { this.hash.update(data); }
  async digest() { return new Uint8Array(this.hash.digest()); }
}

async function presignedUrl(accessKeyId = 'test', secretAccessKey = 'test') {
  const signer = new SignatureV4({
    service: 'iotdevicegateway', region: REGION, sha256: Sha256,
    credentials: { accessKeyId, secretAccessKey },
  });
  const signed = await signer.presign({
    method: 'GET', protocol: 'http:', hostname: endpoint.hostname, port: Number(endpoint.port),
    path: '/mqtt', query: {}, headers: { host: endpoint.host },
  }, { expiresIn: 300 });
  const query = new URLSearchParams(signed.query).toString();
  return `ws://${endpoint.host}/mqtt?${query}`;
}

function connect(url, options = {}) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    client.once('connect', () => resolve(client));
    // A refused upgrade closes the socket, with or without an 'error'.
    const fail = (error) => {
      client.end(true);
      reject(error || new Error('closed before CONNACK'));
    };
    client.once('error', fail);
    client.once('close', () => fail());
  });
}

function nextMessage(client, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message')), timeoutMs);
    client.once('message', (topic, payload, packet) => {
      clearTimeout(timer);
      resolve({ topic, payload: payload.toString(), packet });
    });
  });
}

test('MQTT.js over a presigned WebSocket publishes and subscribes', async () => {
  const subscriber = await connect(await presignedUrl(), { clientId: 'js-sub' });
  const publisher = await connect(await presignedUrl(), { clientId: 'js-pub' });
  try {
    await subscriber.subscribeAsync('handson/#', { qos: 1 });
    const received = nextMessage(subscriber);
    await publisher.publishAsync('handson/analysisLogData', '{"face_id":0}', { qos: 1 });
    const message = await received;
    assert.equal(message.topic, 'handson/analysisLogData');
    assert.equal(message.payload, '{"face_id":0}');
  } finally {
    await subscriber.endAsync();
    await publisher.endAsync();
  }
});

test('an HTTP publish with the AWS SDK v2 reaches an MQTT 5 WebSocket subscriber', async () => {
  const subscriber = await connect(await presignedUrl(), { clientId: 'js-v5', protocolVersion: 5 });
  try {
    await subscriber.subscribeAsync('devices/+/state', { qos: 1 });
    const received = nextMessage(subscriber);
    const iotdata = new AWS.IotData({
      endpoint: endpoint.origin, region: REGION, accessKeyId: 'test', secretAccessKey: 'test',
      maxRetries: 0,
    });
    await iotdata.publish({ topic: 'devices/lamp/state', payload: 'on', qos: 1 }).promise();
    const message = await received;
    assert.equal(message.topic, 'devices/lamp/state');
    assert.equal(message.payload, 'on');
  } finally {
    await subscriber.endAsync();
  }
});

test('a URL signed with the wrong secret is refused', async () => {
  await assert.rejects(connect(await presignedUrl('test', 'wrong'), { clientId: 'js-bad' }));
});
