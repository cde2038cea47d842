// The AWS IoT Device SDK v2 for JavaScript (aws-iot-device-sdk-v2, on the
// native aws-crt) against a running offcloud, connecting as devices connect to
// AWS IoT Core:
//   - MQTT over mutual TLS with a certificate from CreateKeysAndCertificate,
//     attached to a thing and to an IoT policy, trusting offcloud's CA
//     (GET /_offcloud/ca.pem) as devices trust AmazonRootCA1.pem;
//   - MQTT over WebSocket (/mqtt) signed with SigV4 for iotdevicegateway, over
//     https and over plain http;
// each with the SDK's MQTT 3.1.1 client (mqtt.MqttClient) and MQTT 5 client
// (mqtt5.Mqtt5Client).
//
// Environment: OFFCLOUD_ENDPOINT (http://127.0.0.1:PORT); the server's
// mqtts port in OFFCLOUD_MQTTS_PORT and https port in OFFCLOUD_HTTPS_PORT,
// which test_iot_device_sdk.py sets. Without them (test_js_sdk.py runs every
// *.test.js with OFFCLOUD_ENDPOINT only) the tests that need them are skipped
// and the plain-http WebSocket ones still run.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const { iot, mqtt, mqtt5, auth } = require('aws-iot-device-sdk-v2');
const AWS = require('aws-sdk');

const endpoint = new URL(process.env.OFFCLOUD_ENDPOINT);
const MQTTS_PORT = Number(process.env.OFFCLOUD_MQTTS_PORT || 0);
const HTTPS_PORT = Number(process.env.OFFCLOUD_HTTPS_PORT || 0);
const REGION = process.env.OFFCLOUD_REGION || 'ap-northeast-1';
const ACCOUNT = '000000000000';
// The name the server's certificate is issued for (besides 127.0.0.1).
const HOST = 'localhost';
// Bound for every single step (connect, SUBACK, PUBACK, a message).
const STEP_MS = 10000;
const TEST_MS = 90000;

const needMqtts = MQTTS_PORT ? false : 'needs OFFCLOUD_MQTTS_PORT (test_iot_device_sdk.py sets it)';
const needHttps = HTTPS_PORT ? false : 'needs OFFCLOUD_HTTPS_PORT (test_iot_device_sdk.py sets it)';

// --- small helpers ---------------------------------------------------------

function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A closed Mqtt5Client keeps the process alive until it is garbage collected
// (aws-crt-nodejs issue #600: the native client's threadsafe callbacks are
// released by its finalizer). So collect after closing one and once all tests
// are done; the timers are unref'd: they fire only while something else keeps
// the process up. The results are all in by then.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
v8.setFlagsFromString('--no-expose-gc');

function collectSoon() {
  for (const ms of [50, 500]) setTimeout(gc, ms).unref();
}

after(() => {
  collectSoon();
  setTimeout(() => {
    process.stderr.write('iot_device_sdk.test.js: aws-crt still holds the process 5 s after ' +
                         'the last test (aws-crt-nodejs #600); exiting\n');
    process.exit();
  }, 5000).unref();
});

function text(payload) {
  return Buffer.from(payload).toString('utf8');
}

// Messages as they arrive; next() waits (bounded) for the next one.
class Inbox {
  constructor(name) {
    this.name = name;
    this.items = [];
    this.waiters = [];
  }
  push(item) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }
  next(ms = STEP_MS) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    let waiter;
    const arrived = new Promise((resolve) => { waiter = resolve; this.waiters.push(waiter); });
    return within(arrived, ms, `a message for ${this.name}`).catch((error) => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      throw error;
    });
  }
}

// A promise for the first of `events` on `emitter`, with its name; cancel()
// stops waiting (no listener or timer left behind) and resolves it with
// { name: 'cancelled' }.
function firstEvent(emitter, events, ms, what) {
  const handlers = [];
  let cancel;
  const p = new Promise((resolve) => {
    cancel = () => resolve({ name: 'cancelled' });
    for (const name of events) {
      const handler = (arg) => resolve({ name, arg });
      handlers.push([name, handler]);
      emitter.on(name, handler);
    }
  });
  const waiting = within(p, ms, what).finally(() => {
    for (const [name, handler] of handlers) emitter.removeListener(name, handler);
  });
  waiting.cancel = cancel;
  return waiting;
}

let caPem;
async function ca() {
  if (caPem === undefined) {
    const response = await within(fetch(`${endpoint.origin}/_offcloud/ca.pem`), STEP_MS, 'ca.pem');
    assert.equal(response.status, 200);
    caPem = await response.text();
    assert.match(caPem, /-----BEGIN CERTIFICATE-----/);
  }
  return caPem;
}

const files = fs.mkdtempSync(path.join(os.tmpdir(), 'offcloud-iot-sdk-'));
process.on('exit', () => fs.rmSync(files, { recursive: true, force: true }));

async function caPath() {
  const p = path.join(files, 'ca.pem');
  if (!fs.existsSync(p)) fs.writeFileSync(p, await ca());
  return p;
}

// --- the IoT control plane, as a device's provisioning script calls it -----

const control = new AWS.Iot({
  endpoint: endpoint.origin, region: REGION, accessKeyId: 'test', secretAccessKey: 'test',
  maxRetries: 0, httpOptions: { timeout: STEP_MS },
});

// AWS's getting-started policy: a thing may connect only under its own name
// and use only its own topics.
const thingPolicy = (() => {
  const arn = `arn:aws:iot:${REGION}:${ACCOUNT}:`;
  const thing = '${iot:Connection.Thing.ThingName}';
  return JSON.stringify({
    Version: '2012-10-17', Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}client/${thing}`,
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } } },
      { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'],
        Resource: `${arn}topic/things/${thing}/*` },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${arn}topicfilter/things/${thing}/*` },
    ],
  });
})();

let policyMade;
async function device(thingName) {
  if (!policyMade) {
    policyMade = control.createPolicy({ policyName: 'sdk-thing-policy', policyDocument: thingPolicy })
      .promise();
  }
  await policyMade;
  const made = await control.createKeysAndCertificate({ setAsActive: true }).promise();
  assert.match(made.certificateArn, /^arn:aws:iot:[^:]+:\d{12}:cert\/[0-9a-f]{64}$/);
  assert.match(made.certificatePem, /-----BEGIN CERTIFICATE-----/);
  assert.match(made.keyPair.PrivateKey, /-----BEGIN (RSA |EC )?PRIVATE KEY-----/);
  await control.createThing({ thingName }).promise();
  await control.attachThingPrincipal({ thingName, principal: made.certificateArn }).promise();
  await control.attachPolicy({ policyName: 'sdk-thing-policy', target: made.certificateArn }).promise();
  const certPath = path.join(files, `${thingName}.cert.pem`);
  const keyPath = path.join(files, `${thingName}.private.key`);
  fs.writeFileSync(certPath, made.certificatePem);
  fs.writeFileSync(keyPath, made.keyPair.PrivateKey, { mode: 0o600 });
  return { cert: made.certificatePem, key: made.keyPair.PrivateKey, certPath, keyPath };
}

// --- MQTT 3.1.1: mqtt.MqttClient ---------------------------------------------

// A connection with every event recorded; nothing left to throw unhandled.
class Conn311 {
  constructor(config, name) {
    this.name = name;
    this.client = new mqtt.MqttClient();
    this.connection = this.client.new_connection(config);
    this.inbox = new Inbox(name);
    this.interrupts = [];
    this.errors = [];
    this.connection.on('interrupt', (error) => this.interrupts.push(error));
    this.connection.on('error', (error) => this.errors.push(error));
    this.connection.on('message', (topic, payload, dup, qos, retain) =>
      this.inbox.push({ topic, payload: text(payload), qos, retain }));
  }
  connect() {
    return within(this.connection.connect(), STEP_MS, `${this.name} connect`);
  }
  async subscribe(filter, qos = mqtt.QoS.AtLeastOnce) {
    return within(this.connection.subscribe(filter, qos), STEP_MS, `${this.name} SUBACK ${filter}`);
  }
  publish(topic, payload, qos = mqtt.QoS.AtLeastOnce) {
    return within(this.connection.publish(topic, payload, qos), STEP_MS, `${this.name} PUBACK`);
  }
  async end() {
    try {
      await within(this.connection.disconnect(), 5000, `${this.name} disconnect`);
    } catch (e) {
      // Already closed by the server, or never connected.
    }
  }
}

function mtls311(dev, clientId) {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(dev.cert, dev.key)
    .with_certificate_authority(caPem)
    .with_endpoint(HOST)
    .with_port(MQTTS_PORT)
    .with_client_id(clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(30)
    .with_reconnect_min_sec(1)
    .with_reconnect_max_sec(2)
    .build();
  return new Conn311(config, `mqtt311 mtls ${clientId}`);
}

function ws311({ port, tls, clientId, secret = 'test' }) {
  const builder = iot.AwsIotMqttConnectionConfigBuilder.new_with_websockets({
    region: REGION,
    credentials_provider: auth.AwsCredentialsProvider.newStatic('test', secret),
  })
    .with_endpoint(HOST)
    .with_port(port)
    .with_client_id(clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(30);
  if (tls) builder.with_certificate_authority(caPem);
  const config = builder.build();
  // ws:// rather than wss://: the same SigV4-signed upgrade without TLS.
  if (!tls) config.tls_ctx = undefined;
  return new Conn311(config, `mqtt311 ${tls ? 'wss' : 'ws'} ${clientId}`);
}

// --- MQTT 5: mqtt5.Mqtt5Client -------------------------------------------------

class Client5 {
  constructor(config, name) {
    this.name = name;
    this.client = new mqtt5.Mqtt5Client(config);
    this.inbox = new Inbox(name);
    this.disconnections = [];
    this.failures = [];
    this.client.on('error', () => {});
    this.client.on('connectionFailure', (event) => this.failures.push(event));
    this.client.on('disconnection', (event) => this.disconnections.push(event));
    this.client.on('messageReceived', (event) => {
      const m = event.message;
      this.inbox.push({
        topic: m.topicName, payload: m.payload === undefined ? '' : text(m.payload), qos: m.qos,
        userProperties: m.userProperties, contentType: m.contentType,
      });
    });
    this.started = false;
  }
  // Resolves with the CONNACK, rejects with the first connection failure.
  async connect() {
    const outcome = firstEvent(this.client, ['connectionSuccess', 'connectionFailure'], STEP_MS,
                               `${this.name} connect`);
    this.client.start();
    this.started = true;
    const { name, arg } = await outcome;
    if (name === 'connectionFailure') {
      const reason = arg.connack ? ` CONNACK reason ${arg.connack.reasonCode}` : '';
      const error = new Error(`${this.name}: connection failed: ${arg.error}${reason}`);
      error.connack = arg.connack;
      throw error;
    }
    return arg.connack;
  }
  subscribe(filter, qos = mqtt5.QoS.AtLeastOnce) {
    return within(this.client.subscribe({ subscriptions: [{ topicFilter: filter, qos }] }),
                  STEP_MS, `${this.name} SUBACK ${filter}`);
  }
  publish(packet) {
    return within(this.client.publish({ qos: mqtt5.QoS.AtLeastOnce, ...packet }), STEP_MS,
                  `${this.name} PUBACK`);
  }
  async end() {
    if (this.started) {
      const stopped = firstEvent(this.client, ['stopped'], 5000, `${this.name} stopped`)
        .catch(() => {});
      this.client.stop();
      this.started = false;
      await stopped;
    }
    if (!this.closed) {
      this.closed = true;
      this.client.close();
      collectSoon();
    }
  }
}

function mtls5(dev, clientId, certificateAuthorityPath) {
  const config = iot.AwsIotMqtt5ClientConfigBuilder
    .newDirectMqttBuilderWithMtlsFromPath(HOST, dev.certPath, dev.keyPath)
    .withCertificateAuthorityFromPath(undefined, certificateAuthorityPath)
    .withPort(MQTTS_PORT)
    .withConnectProperties({ clientId, keepAliveIntervalSeconds: 30 })
    .withSessionBehavior(mqtt5.ClientSessionBehavior.Clean)
    .withConnackTimeoutMs(STEP_MS)
    .withMinReconnectDelayMs(1000)
    .withMaxReconnectDelayMs(2000)
    .build();
  return new Client5(config, `mqtt5 mtls ${clientId}`);
}

function ws5({ port, tls, clientId, secret = 'test' }) {
  const builder = iot.AwsIotMqtt5ClientConfigBuilder.newWebsocketMqttBuilderWithSigv4Auth(HOST, {
    region: REGION,
    credentialsProvider: auth.AwsCredentialsProvider.newStatic('test', secret),
  })
    .withPort(port)
    .withConnectProperties({ clientId, keepAliveIntervalSeconds: 30 })
    .withSessionBehavior(mqtt5.ClientSessionBehavior.Clean)
    .withConnackTimeoutMs(STEP_MS)
    .withMinReconnectDelayMs(1000)
    .withMaxReconnectDelayMs(2000);
  if (tls) builder.withCertificateAuthority(caPem);
  const config = builder.build();
  if (!tls) config.tlsCtx = undefined;
  return new Client5(config, `mqtt5 ${tls ? 'wss' : 'ws'} ${clientId}`);
}

// The root key's view of a thing's topics, to see what was (not) delivered:
// over wss when the https port is known, else over plain ws.
async function watcher311(clientId) {
  const w = HTTPS_PORT ? ws311({ port: HTTPS_PORT, tls: true, clientId })
    : ws311({ port: Number(endpoint.port), tls: false, clientId });
  await w.connect();
  const suback = await w.subscribe('things/#');
  assert.equal(suback.qos, 1);
  return w;
}

// After `denied` was refused, a marker published by the watcher itself is the
// next thing the watcher receives: the refused message was never routed.
async function assertNotDelivered(watcher, deniedTopic) {
  await sleep(300);
  await watcher.publish('things/marker/after-denied', 'marker');
  const next = await watcher.inbox.next();
  assert.deepEqual([next.topic, next.payload], ['things/marker/after-denied', 'marker'],
                   `the publish to ${deniedTopic} was delivered`);
}

// --- MQTT over mutual TLS ------------------------------------------------------

test('MQTT 3.1.1 over mutual TLS: a thing with its certificate publishes and receives; its policy decides',
     { skip: needMqtts, timeout: TEST_MS }, async () => {
  await ca();
  const dev = await device('sdk-v3-thing');
  const watcher = await watcher311('sdk-v3-watcher');
  const conn = mtls311(dev, 'sdk-v3-thing');
  try {
    const sessionPresent = await conn.connect();
    assert.equal(sessionPresent, false);
    const suback = await conn.subscribe('things/sdk-v3-thing/#');
    assert.equal(suback.qos, mqtt.QoS.AtLeastOnce);
    // SUBACK 0x80 for a filter the policy does not grant; the connection stays.
    const refused = await conn.subscribe('things/someone-else/#');
    assert.equal(refused.qos, 128);
    const puback = await conn.publish('things/sdk-v3-thing/telemetry', '{"temperature":21.5}');
    assert.equal(typeof puback.packet_id, 'number');
    const own = await conn.inbox.next();
    assert.deepEqual([own.topic, own.payload, own.qos],
                     ['things/sdk-v3-thing/telemetry', '{"temperature":21.5}', 1]);
    const seen = await watcher.inbox.next();
    assert.deepEqual([seen.topic, seen.payload], ['things/sdk-v3-thing/telemetry', '{"temperature":21.5}']);

    // Another thing's topic is not the policy's: AWS IoT closes the connection.
    const denied = conn.connection.publish('things/someone-else/telemetry', 'not allowed',
                                           mqtt.QoS.AtLeastOnce);
    denied.catch(() => {});
    const interrupted = await firstEvent(conn.connection, ['interrupt'], STEP_MS,
                                         'interrupt after a publish the policy denies')
      .catch((e) => ({ name: 'none', arg: e }));
    const interruptedBefore = conn.interrupts.length > 0;
    assert.ok(interrupted.name === 'interrupt' || interruptedBefore,
              `the connection stayed up after a denied publish: ${interrupted.arg}`);
    await conn.end();
    await assertNotDelivered(watcher, 'things/someone-else/telemetry');
  } finally {
    await conn.end();
    await watcher.end();
  }
});

test('MQTT 3.1.1 over mutual TLS: a client id other than the thing is refused',
     { skip: needMqtts, timeout: TEST_MS }, async () => {
  await ca();
  const dev = await device('sdk-v3-named');
  const conn = mtls311(dev, 'not-the-thing');
  try {
    await assert.rejects(conn.connect(), /rejected|refused|NOT_AUTHORIZED|Failed to connect/i);
  } finally {
    await conn.end();
  }
});

test('MQTT 5 over mutual TLS: a thing with its certificate publishes and receives; its policy decides',
     { skip: needMqtts, timeout: TEST_MS }, async () => {
  const dev = await device('sdk-v5-thing');
  const certificateAuthority = await caPath();
  const watcher = await watcher311('sdk-v5-watcher');
  const client = mtls5(dev, 'sdk-v5-thing', certificateAuthority);
  try {
    const connack = await client.connect();
    assert.equal(connack.reasonCode, mqtt5.ConnectReasonCode.Success);
    const suback = await client.subscribe('things/sdk-v5-thing/#');
    assert.deepEqual(suback.reasonCodes, [mqtt5.SubackReasonCode.GrantedQoS1]);
    const refused = await client.subscribe('things/someone-else/#');
    assert.deepEqual(refused.reasonCodes, [mqtt5.SubackReasonCode.NotAuthorized]);

    const result = await client.publish({
      topicName: 'things/sdk-v5-thing/telemetry', payload: '{"humidity":40}',
      contentType: 'application/json', userProperties: [{ name: 'site', value: 'lab-1' }],
    });
    assert.equal(result.reasonCode, mqtt5.PubackReasonCode.Success);
    const own = await client.inbox.next();
    assert.deepEqual([own.topic, own.payload, own.qos],
                     ['things/sdk-v5-thing/telemetry', '{"humidity":40}', 1]);
    assert.equal(own.contentType, 'application/json');
    assert.deepEqual(own.userProperties, [{ name: 'site', value: 'lab-1' }]);
    const seen = await watcher.inbox.next();
    assert.deepEqual([seen.topic, seen.payload], ['things/sdk-v5-thing/telemetry', '{"humidity":40}']);

    // Another thing's topic: AWS IoT disconnects (or, at the least, a PUBACK
    // 135 Not authorized), and nobody receives it.
    const disconnection = firstEvent(client.client, ['disconnection'], STEP_MS,
                                     'disconnection after a publish the policy denies');
    const disconnected = disconnection.catch((e) => ({ name: 'none', arg: e }));
    const denied = client.client.publish({ topicName: 'things/someone-else/telemetry',
                                           payload: 'not allowed', qos: mqtt5.QoS.AtLeastOnce })
      .then((puback) => ({ puback: puback && puback.reasonCode }), (error) => ({ error }));
    const first = await Promise.race([disconnected, within(denied, STEP_MS, 'denied PUBACK')
      .then((d) => ({ name: 'puback', arg: d }))]);
    disconnection.cancel();
    if (first.name === 'puback' && first.arg.puback !== undefined) {
      assert.equal(first.arg.puback, mqtt5.PubackReasonCode.NotAuthorized);
    } else {
      assert.ok(first.name === 'disconnection' || client.disconnections.length > 0,
                `the connection stayed up after a denied publish: ${JSON.stringify(first)}`);
    }
    await client.end();
    await assertNotDelivered(watcher, 'things/someone-else/telemetry');
  } finally {
    await client.end().catch(() => {});
    await watcher.end();
  }
});

test('MQTT 5 over mutual TLS: a client id other than the thing is refused',
     { skip: needMqtts, timeout: TEST_MS }, async () => {
  const dev = await device('sdk-v5-named');
  const client = mtls5(dev, 'not-the-thing-5', await caPath());
  try {
    const failure = await client.connect().then(() => null, (e) => e);
    assert.ok(failure, 'connected under a client id the certificate is not attached to');
    if (failure.connack) {
      assert.equal(failure.connack.reasonCode, mqtt5.ConnectReasonCode.NotAuthorized);
    }
  } finally {
    await client.end();
  }
});

// --- MQTT over WebSocket, SigV4 ----------------------------------------------------

async function roundTrip311(port, tls, id) {
  const conn = ws311({ port, tls, clientId: id });
  try {
    await conn.connect();
    const suback = await conn.subscribe(`handson/${id}/#`);
    assert.equal(suback.qos, mqtt.QoS.AtLeastOnce);
    await conn.publish(`handson/${id}/analysisLogData`, '{"face_id":0,"Smile":true}');
    const own = await conn.inbox.next();
    assert.deepEqual([own.topic, own.payload, own.qos],
                     [`handson/${id}/analysisLogData`, '{"face_id":0,"Smile":true}', 1]);
  } finally {
    await conn.end();
  }
  const bad = ws311({ port, tls, clientId: `${id}-bad`, secret: 'wrong' });
  try {
    await assert.rejects(bad.connect());
  } finally {
    await bad.end();
  }
}

async function roundTrip5(port, tls, id) {
  const client = ws5({ port, tls, clientId: id });
  try {
    const connack = await client.connect();
    assert.equal(connack.reasonCode, mqtt5.ConnectReasonCode.Success);
    const suback = await client.subscribe(`handson/${id}/#`);
    assert.deepEqual(suback.reasonCodes, [mqtt5.SubackReasonCode.GrantedQoS1]);
    const result = await client.publish({
      topicName: `handson/${id}/analysisLogData`, payload: '{"face_id":1}',
      userProperties: [{ name: 'via', value: id }],
    });
    assert.equal(result.reasonCode, mqtt5.PubackReasonCode.Success);
    const own = await client.inbox.next();
    assert.deepEqual([own.topic, own.payload, own.qos],
                     [`handson/${id}/analysisLogData`, '{"face_id":1}', 1]);
    assert.deepEqual(own.userProperties, [{ name: 'via', value: id }]);
  } finally {
    await client.end();
  }
  const bad = ws5({ port, tls, clientId: `${id}-bad`, secret: 'wrong' });
  try {
    await assert.rejects(bad.connect());
  } finally {
    await bad.end();
  }
}

test('MQTT 3.1.1 over WebSocket with SigV4 on the https port (wss)',
     { skip: needHttps, timeout: TEST_MS }, async () => {
  await ca();
  await roundTrip311(HTTPS_PORT, true, 'sdk-v3-wss');
});

test('MQTT 5 over WebSocket with SigV4 on the https port (wss)',
     { skip: needHttps, timeout: TEST_MS }, async () => {
  await ca();
  await roundTrip5(HTTPS_PORT, true, 'sdk-v5-wss');
});

test('MQTT 3.1.1 over WebSocket with SigV4 on the plain http port (ws)',
     { timeout: TEST_MS }, async () => {
  await roundTrip311(Number(endpoint.port), false, 'sdk-v3-ws');
});

test('MQTT 5 over WebSocket with SigV4 on the plain http port (ws)',
     { timeout: TEST_MS }, async () => {
  await roundTrip5(Number(endpoint.port), false, 'sdk-v5-ws');
});
