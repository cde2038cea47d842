// The console's Overview and live Activity, in Debian's Chromium. The
// hands-on's resources are made with the AWS SDK for JavaScript v2 (as a
// script would); the browser only watches:
// - after sign-in the Overview is shown; once the bucket, the stream and the
//   rule exist it draws device -> handson/analysisLogData -> rule -> stream
//   -> bucket by itself (the live counters name the new rule), with the
//   counts of the three published records, and the counts change in place,
//   without a reload, when two more are published; a box opens its page
//   from the keyboard;
// - Activity shows a device's publish as it happens, through the live
//   feed's WebSocket (no request polls for it), and the same key's publish
//   outside handson/* refused with the reason: no statement allows
//   iot:Publish on that topic's ARN; then a Deny statement's refusal, named
//   (its Sid, its inline policy), and the device refused at CONNECT on the
//   MQTT port (MQTT.js with a wrong secret), with the reason;
// - every request the browser made went to offcloud.
//
// Run by tests/e2e/test_console.py: OFFCLOUD_ENDPOINT, OFFCLOUD_MQTT_PORT, OFFCLOUD_ARTIFACTS
// (screenshots), CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import AWS from 'aws-sdk';
import { launch, otherHosts } from './console_browser.mjs';

const require = createRequire(import.meta.url);
const mqtt = require('mqtt');

const endpoint = new URL(process.env.OFFCLOUD_ENDPOINT);
const artifacts = process.env.OFFCLOUD_ARTIFACTS || '.';
const REGION = 'ap-northeast-1';
const BUCKET = 'handson-analysis-log-data';
const STREAM = 'handson-analysis-log-stream';
const RULE = 'handsonPutAnalysisLogDataToS3';
const TOPIC = 'handson/analysisLogData';
const USER = 'handson_iot_publish_user';
const POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['iot:Publish'], Resource: [`arn:aws:iot:${REGION}:000000000000:topic/handson/*`] }],
};

fs.mkdirSync(artifacts, { recursive: true });
const step = (text) => console.log(`# ${text}`);

function sdk(Service, key = { accessKeyId: 'test', secretAccessKey: 'test' }, options = {}) {
  return new Service({
    endpoint: endpoint.origin, region: REGION, ...key, maxRetries: 0,
    s3ForcePathStyle: true, httpOptions: { connectTimeout: 5000, timeout: 30000 }, ...options,
  });
}

async function publish(iotdata, count, from = 0) {
  for (let i = from; i < from + count; i++) {
    await iotdata.publish({ topic: TOPIC, payload: JSON.stringify({ Datetime: `2019-01-01 00:00:${10 + i}`, face_id: i, Smile: i % 2 === 0 }), qos: 1 }).promise();
  }
}

const { browser, page, requests, consoleErrors } = await launch({ locale: 'en-US' });

async function shot(name) {
  await page.screenshot({ path: path.join(artifacts, `console-${name}.png`), fullPage: false });
}

// A box's counts, its lines joined with " · ".
function counts(key) {
  const box = document.querySelector(`[data-count="${key}"]`);
  return box ? [...box.querySelectorAll('text')].map((line) => line.textContent).filter(Boolean).join(' · ') : '';
}

async function countText(key) {
  return page.evaluate(counts, key);
}

async function waitCount(key, pattern, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let text = '';
  while (!pattern.test(text = await countText(key))) {
    if (Date.now() > deadline) assert.fail(`the counts of ${key} are "${text}", not ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

try {
  step('sign in as test/test: the Overview is the first page, live');
  await page.goto(endpoint.origin + '/');
  await page.fill('#access-key-id', 'test');
  await page.fill('#secret-access-key', 'test');
  await page.selectOption('#sign-in-region', REGION);
  await page.click('#sign-in');
  await page.waitForSelector('#overview-flow [data-node="device:devices"]');
  assert.equal(new URL(page.url()).hash, '#/overview');
  await page.waitForSelector('#overview-live[data-state="open"]');

  step('the hands-on resources, made with the AWS SDK v2: the picture draws itself');
  await sdk(AWS.S3).createBucket({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }).promise();
  await sdk(AWS.Firehose).createDeliveryStream({
    DeliveryStreamName: STREAM, DeliveryStreamType: 'DirectPut',
    ExtendedS3DestinationConfiguration: {
      RoleARN: 'arn:aws:iam::000000000000:role/firehose_delivery_role', BucketARN: `arn:aws:s3:::${BUCKET}`,
      BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 60 },
    },
  }).promise();
  await sdk(AWS.Iot).createTopicRule({
    ruleName: RULE,
    topicRulePayload: {
      sql: `SELECT * FROM '${TOPIC}'`, ruleDisabled: false, awsIotSqlVersion: '2016-03-23',
      actions: [{ firehose: { roleArn: 'arn:aws:iam::000000000000:role/iot_firehose_role', deliveryStreamName: STREAM, separator: '\n' } }],
    },
  }).promise();
  const nodes = [`topic:${TOPIC}`, `rule:${RULE}`, `stream:${STREAM}`, `bucket:${BUCKET}`];
  for (const node of nodes) await page.waitForSelector(`#overview-flow [data-node="${node}"]`);
  for (const [from, to] of [['device:devices', nodes[0]], [nodes[0], nodes[1]], [nodes[1], nodes[2]], [nodes[2], nodes[3]]]) {
    assert.ok(await page.$(`#overview-flow path[data-edge="${from}>${to}"]`), `the edge ${from} -> ${to}`);
  }
  // Left to right: device, topic, rule, stream, bucket.
  const xs = await page.$$eval('#overview-flow [data-node]', (gs) => Object.fromEntries(gs.map((g) => [g.dataset.node, g.transform.baseVal[0].matrix.e])));
  assert.ok(xs['device:devices'] < xs[nodes[0]] && xs[nodes[0]] < xs[nodes[1]] && xs[nodes[1]] < xs[nodes[2]] && xs[nodes[2]] < xs[nodes[3]], JSON.stringify(xs));

  step('three records published: their counts along the flow, and the object delivered');
  const iotdata = sdk(AWS.IotData);
  await page.evaluate(() => { window.notReloaded = true; });
  await publish(iotdata, 3);
  await waitCount(`topic:${TOPIC}`, /^3 message\(s\)/);
  await waitCount(`rule:${RULE}`, /^3 matched/);
  await waitCount(`stream:${STREAM}`, /^3 in · \d+ buffered/);
  await waitCount(`stream:${STREAM}`, /^3 in · 0 buffered · 1 delivered/, 20000);
  await waitCount(`bucket:${BUCKET}`, /^1 object\(s\) received · \d+ B$/);
  assert.match(await countText('device:devices'), /^3 message\(s\)/);
  await shot('overview');

  step('two more: the counts change in place, with no reload');
  await publish(iotdata, 2, 3);
  await waitCount(`topic:${TOPIC}`, /^5 message\(s\)/);
  await waitCount(`rule:${RULE}`, /^5 matched/);
  await waitCount(`stream:${STREAM}`, /^5 in · 0 buffered · 2 delivered/, 20000);
  assert.equal(await page.evaluate(() => window.notReloaded), true);
  const label = await page.getAttribute(`[data-node="rule:${RULE}"]`, 'aria-label');
  assert.equal(label, `Rule ${RULE}: 5 matched`);

  step('a topic no rule reads is drawn as such');
  await iotdata.publish({ topic: 'handson/typo', payload: '{}' }).promise();
  await waitCount('topic:handson/typo', /^1 message\(s\) · no rule reads it$/);

  step('keyboard: Tab reaches the boxes, Enter opens the rule\'s page');
  await page.focus(`[data-node="topic:${TOPIC}"]`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.node), `topic:handson/typo`);
  await page.focus(`[data-node="rule:${RULE}"]`);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.hash === '#/rules');

  step('Japanese');
  await page.goto(`${endpoint.origin}/_offcloud/console/#/overview`);
  await page.selectOption('#language', 'ja');
  await page.waitForSelector(`[data-count="topic:${TOPIC}"]`);
  assert.equal(await page.textContent('main h1'), '概要: データの流れ');
  await waitCount(`topic:${TOPIC}`, /^5 件のメッセージ/);
  await page.selectOption('#language', 'en');

  step('IAM: the device\'s policy, user and key (SDK)');
  const iam = sdk(AWS.IAM, undefined, { region: 'us-east-1' });
  const { Policy: policy } = await iam.createPolicy({ PolicyName: 'handson_iot_publish_policy', PolicyDocument: JSON.stringify(POLICY) }).promise();
  await iam.createUser({ UserName: USER }).promise();
  await iam.attachUserPolicy({ UserName: USER, PolicyArn: policy.Arn }).promise();
  const { AccessKey: key } = await iam.createAccessKey({ UserName: USER }).promise();
  const device = sdk(AWS.IotData, { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey });

  step('Activity: the device\'s publish appears live, over the WebSocket');
  await page.goto(`${endpoint.origin}/_offcloud/console/#/activity`);
  await page.waitForSelector('#activity-live[data-state="open"]');
  const polls = () => requests.filter((url) => new URL(url).pathname === '/_offcloud/activity').length;
  const pollsBefore = polls();
  const userArn = `arn:aws:iam::000000000000:user/${USER}`;
  await device.publish({ topic: TOPIC, payload: '{"from":"device"}' }).promise();
  await page.waitForSelector(`#activity tr[data-caller="${userArn}"][data-service="iotdata"][data-status="200"]`);

  step('its publish outside handson/* is refused, with the reason');
  await assert.rejects(device.publish({ topic: 'other/analysisLogData', payload: '{}' }).promise(), (e) => e.statusCode === 403);
  const denied = `#activity tr[data-caller="${userArn}"][data-error-code="ForbiddenException"]`;
  await page.waitForSelector(denied);
  const seq = await page.getAttribute(denied, 'data-seq');
  assert.equal(await page.textContent(`#activity tr[data-reason-for="${seq}"] .reason`),
    `No statement in the caller's policies allows iot:Publish on arn:aws:iot:${REGION}:000000000000:topic/other/analysisLogData.`);
  assert.equal(polls(), pollsBefore, 'Activity fetched with HTTP after the page loaded');
  await shot('activity-live');

  step('a Deny statement that refuses is named: its Sid, its inline policy');
  await iam.putUserPolicy({ UserName: USER, PolicyName: 'no-secrets', PolicyDocument: JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'NoSecrets', Effect: 'Deny', Action: 'iot:Publish', Resource: `arn:aws:iot:*:*:topic/handson/secret` }],
  }) }).promise();
  await assert.rejects(device.publish({ topic: 'handson/secret', payload: '{}' }).promise(), (e) => e.statusCode === 403);
  const secret = `#activity tr[data-caller="${userArn}"][data-error-code="ForbiddenException"]:not([data-seq="${seq}"])`;
  await page.waitForSelector(secret);
  assert.equal(await page.textContent(`#activity tr[data-reason-for="${await page.getAttribute(secret, 'data-seq')}"] .reason`),
    `A Deny statement in the caller's policies refuses iot:Publish on arn:aws:iot:${REGION}:000000000000:topic/handson/secret. ` +
    'The statement "NoSecrets" of the inline policy no-secrets denied it.');

  step('the device on the MQTT port with a wrong secret: refused at CONNECT, shown with the reason');
  const refused = await new Promise((resolve) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${process.env.OFFCLOUD_MQTT_PORT}`, {
      protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10000, clientId: 'device-01',
      username: key.AccessKeyId, password: 'not-the-secret',
    });
    client.once('error', (error) => { client.end(true); resolve(error); });
    client.once('connect', () => { client.end(true); resolve(null); });
  });
  assert.ok(refused && /bad user ?name or password/i.test(refused.message), `CONNECT refused: ${refused}`);
  const mqttRow = `#activity tr[data-caller="${userArn}"][data-service="mqtt"][data-error-code="BadUserNameOrPassword"]`;
  await page.waitForSelector(mqttRow);
  assert.equal(await page.textContent(`#activity tr[data-reason-for="${await page.getAttribute(mqttRow, 'data-seq')}"] .reason`),
    `MQTT client device-01 was refused at CONNECT: the password is not the secret of access key ${key.AccessKeyId}.`);
  await shot('activity-mqtt');

  step('every request went to offcloud');
  assert.deepEqual(otherHosts(requests, endpoint), [], 'requests to other hosts');
  assert.ok(requests.some((url) => url.startsWith(`ws://${endpoint.host}/_offcloud/live?`)), 'the live WebSocket');
  assert.deepEqual(consoleErrors, [], 'uncaught errors in the page');
  console.log(`# ${requests.length} requests, all to ${endpoint.host}`);
  console.log('console overview: ok');
} catch (error) {
  await shot('overview-failure').catch(() => {});
  console.error(error);
  process.exitCode = 1;
} finally {
  await browser.close();
}
