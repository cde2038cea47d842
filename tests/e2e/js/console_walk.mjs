// Walks the hands-on through the web console only, in Debian's Chromium
// (headless, driven by playwright-core, which downloads no browser):
// sign in as test/test, create the bucket and the delivery stream, write the
// rule (SqlParseException first), subscribe to '#' in the MQTT test client,
// publish the three sample records and see them arrive, see the object
// appear in the bucket, preview its three lines, download it, delete it;
// create the hands-on's policy from JSON (MalformedPolicyDocument first),
// the user and its key (CSV); ask whether the user may publish to
// handson/x (yes, by which statement) and other/x (no); sign in with that
// key and see AccessDenied. Activity: the student sees only its own
// requests (AccessDenied with the action and ARN no statement allowed); the
// teacher (test/test) sees the student's wrong secret and AccessDenied with
// their reasons. Firehose's buffer view: the delivery of the three records,
// and (with the bucket deleted) three records waiting in the buffer with
// the failure named, delivered once the bucket is back.
// Every request the browser makes must go to offcloud.
//
// Run by tests/e2e/test_console.py: OFFCLOUD_ENDPOINT, OFFCLOUD_ARTIFACTS
// (screenshots), CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, otherHosts } from './console_browser.mjs';

const endpoint = new URL(process.env.OFFCLOUD_ENDPOINT);
const artifacts = process.env.OFFCLOUD_ARTIFACTS || '.';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const BUCKET = 'handson-analysis-log-data';
const STREAM = 'handson-analysis-log-stream';
const RULE = 'handsonPutAnalysisLogDataToS3';
const POLICY = 'handson_iot_publish_policy';
const USER = 'handson_iot_publish_user';
const RECORDS = [
  { Datetime: '2019-01-01 00:00:00', 'AgeRange-Low': 15, 'AgeRange-High': 20, Gender: 'Female', Smile: true, Eyeglasses: false, Sunglasses: false, Beard: false, Mustache: false, EyesOpen: false, MouthOpen: true },
  { Datetime: '2019-01-01 00:00:10', 'AgeRange-Low': 20, 'AgeRange-High': 24, Gender: 'Male', Smile: false, Eyeglasses: false, Sunglasses: true, Beard: false, Mustache: true, EyesOpen: false, MouthOpen: false },
  { Datetime: '2019-01-01 00:00:20', 'AgeRange-Low': 40, 'AgeRange-High': 45, Gender: 'Male', Smile: true, Eyeglasses: false, Sunglasses: true, Beard: true, Mustache: true, EyesOpen: true, MouthOpen: false },
];

fs.mkdirSync(artifacts, { recursive: true });
const step = (text) => console.log(`# ${text}`);

const { browser, page, requests, consoleErrors } = await launch({ locale: 'ja-JP', executablePath });

async function shot(name) {
  await page.screenshot({ path: path.join(artifacts, `console-${name}.png`), fullPage: false });
}

async function signIn(keyId, secret) {
  await page.fill('#access-key-id', keyId);
  await page.fill('#secret-access-key', secret);
  await page.selectOption('#sign-in-region', 'ap-northeast-1');
  await page.click('#sign-in');
  await page.waitForSelector('#sign-out');
}

async function success(scope = 'main') {
  await page.waitForSelector(`${scope} .alert.success`);
}

try {
  step('GET / with no credentials redirects to the console; the sign-in page is in Japanese');
  await page.goto(endpoint.origin + '/');
  assert.equal(new URL(page.url()).pathname, '/_offcloud/console/');
  await page.waitForSelector('#sign-in');
  assert.equal(await page.textContent('form.sign-in h1'), 'offcloud にサインイン');
  await shot('sign-in-ja');
  await page.selectOption('#language', 'en');
  assert.equal(await page.textContent('form.sign-in h1'), 'Sign in to offcloud');

  step('a wrong secret is refused as AWS words it');
  await page.fill('#access-key-id', 'test');
  await page.fill('#secret-access-key', 'wrong');
  await page.click('#sign-in');
  await page.waitForSelector('.alert.error[data-error-code="SignatureDoesNotMatch"]');

  step('sign in as test/test');
  await signIn('test', 'test');
  assert.equal(await page.evaluate(() => Object.keys(sessionStorage).length), 1);
  assert.equal(await page.evaluate(() => localStorage.getItem('offcloud.console.session')), null);

  step('S3: create the bucket in ap-northeast-1');
  await page.waitForSelector('#overview-picture');  // the page after sign-in
  await page.goto(`${endpoint.origin}/_offcloud/console/#/s3`);
  await page.waitForSelector('#create-bucket');
  await page.fill('#bucket-name', BUCKET);
  await page.selectOption('#bucket-region', 'ap-northeast-1');
  await page.click('#create-bucket button[type=submit]');
  await page.waitForSelector(`tr[data-bucket="${BUCKET}"]`);
  await page.waitForFunction((b) => document.querySelector(`tr[data-bucket="${b}"] td:nth-child(2)`).textContent === 'ap-northeast-1', BUCKET);
  await page.fill('#bucket-name', BUCKET);
  await page.click('#create-bucket button[type=submit]');
  await page.waitForSelector('.alert.error[data-error-code="BucketAlreadyOwnedByYou"]');

  step('Firehose: a DirectPut stream to the bucket, 5 MiB / 60 s, uncompressed');
  await page.goto(`${endpoint.origin}/_offcloud/console/#/firehose`);
  await page.waitForSelector(`#stream-bucket option[value="${BUCKET}"]`, { state: 'attached' });
  await page.fill('#stream-name', STREAM);
  await page.selectOption('#stream-bucket', BUCKET);
  await page.fill('#buffer-size', '5');
  await page.fill('#buffer-interval', '60');
  await page.click('#create-stream button[type=submit]');
  await page.waitForSelector(`tr[data-stream="${STREAM}"]`);
  await page.click(`tr[data-stream="${STREAM}"] button.link`);
  await page.waitForSelector('#stream-detail dl');
  assert.match(await page.textContent('#stream-detail'), /arn:aws:s3:::handson-analysis-log-data/);
  await shot('firehose');

  step('IoT rules: a bad SQL shows SqlParseException; the hands-on rule with a firehose action and "\\n"');
  await page.goto(`${endpoint.origin}/_offcloud/console/#/rules`);
  await page.click('#new-rule');
  await page.fill('#rule-name', RULE);
  await page.fill('#rule-sql', "SELECT * FROM 'handson/analysisLogData' WHERE");
  await page.fill('#rule-form .action input.stream', STREAM);
  assert.equal(await page.inputValue('#rule-form .action select.separator'), '\n');
  await page.click('#save-rule');
  await page.waitForSelector('#rule-status .alert.error[data-error-code="SqlParseException"]');
  const sqlError = await page.textContent('#rule-status .alert.error');
  await page.fill('#rule-sql', "SELECT * FROM 'handson/analysisLogData'");
  await page.click('#save-rule');
  await success('#rule-status');
  await page.waitForSelector(`tr[data-rule="${RULE}"]`);
  await page.click(`tr[data-rule="${RULE}"] button.link`);
  await page.waitForFunction(() => document.querySelector('#rule-name')?.disabled);
  assert.equal(await page.inputValue('#rule-form .action input.stream'), STREAM);
  await shot('rules');
  console.log(`#   ${sqlError.trim()}`);

  step("MQTT test client: subscribe to '#', publish the three records, see them arrive");
  await page.goto(`${endpoint.origin}/_offcloud/console/#/mqtt`);
  await page.waitForSelector('#mqtt-state.on');
  await page.fill('#subscribe-filter', '#');
  await page.click('#subscribe');
  await page.waitForSelector('#subscriptions li[data-filter="#"]');
  await page.fill('#publish-topic', 'handson/analysisLogData');
  for (const record of RECORDS) {
    await page.fill('#publish-payload', JSON.stringify(record, null, 2));
    await page.click('#publish');
    await page.waitForSelector('#publish-status .alert.success');
  }
  await page.waitForFunction(() => document.querySelectorAll('#messages li[data-topic="handson/analysisLogData"]').length === 3);
  const newest = await page.textContent('#messages li:first-child pre');
  assert.deepEqual(JSON.parse(newest), RECORDS[2]);
  await shot('mqtt');

  step("Firehose: the buffer view shows the rule's three records delivered as one object");
  await page.goto(`${endpoint.origin}/_offcloud/console/#/firehose`);
  const delivered = `[data-buffer="${STREAM}"] tr[data-delivery-key][data-records="3"]`;
  await page.waitForSelector(delivered, { timeout: 30000 });
  const deliveredKey = await page.getAttribute(delivered, 'data-delivery-key');
  await page.waitForFunction((s) => document.querySelector(`[data-buffer="${s}"] dd[data-field="records"]`)?.textContent === '0', STREAM);
  await shot('firehose-buffer');

  step('S3: the delivered object appears; preview its three lines; download; delete');
  await page.goto(`${endpoint.origin}/_offcloud/console/#/s3/${BUCKET}`);
  const deadline = Date.now() + 30000;
  for (;;) {
    await page.waitForSelector('#refresh-objects');
    await page.waitForFunction(() => !document.querySelector('main')?.textContent.includes('Loading…'));
    if (await page.$('tr[data-key]')) break;
    const folder = await page.$('tr[data-folder] a.folder');
    if (folder) {
      await folder.click();
      continue;
    }
    assert.ok(Date.now() < deadline, 'no object was delivered within 30 s');
    await page.waitForTimeout(500);
    await page.click('#refresh-objects');
  }
  const key = await page.getAttribute('tr[data-key]', 'data-key');
  assert.match(key, /^\d{4}\/\d{2}\/\d{2}\/\d{2}\/handson-analysis-log-stream-1-/);
  assert.equal(key, deliveredKey);
  await page.click('tr[data-key] button.object');
  await page.waitForFunction(() => document.querySelectorAll('#object-preview .json-lines li').length === 3);
  const previewed = await page.$$eval('#object-preview .json-lines pre', (pres) => pres.map((p) => JSON.parse(p.textContent)));
  assert.deepEqual(previewed, RECORDS);
  await shot('s3');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-object')]);
  const downloaded = fs.readFileSync(await download.path(), 'utf8');
  assert.deepEqual(downloaded.trim().split('\n').map((line) => JSON.parse(line)), RECORDS);
  await page.check(`tr[data-key="${key}"] input[type=checkbox]`);
  await page.click('#delete-selected');
  await page.waitForSelector('main .alert.success');
  await page.waitForFunction((k) => !document.querySelector(`tr[data-key="${k}"]`), key);

  step('IAM: MalformedPolicyDocument shown; the hands-on policy, the user, its key');
  await page.goto(`${endpoint.origin}/_offcloud/console/#/iam`);
  await page.waitForSelector('#create-policy');
  const handsOnPolicy = await page.inputValue('#policy-document');
  await page.fill('#policy-name', POLICY);
  await page.fill('#policy-document', '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Publish"}]}');
  await page.click('#create-policy-submit');
  await page.waitForSelector('#policy-status .alert.error[data-error-code="MalformedPolicyDocument"]');
  await page.fill('#policy-document', handsOnPolicy);
  await page.click('#create-policy-submit');
  await success('#policy-status');
  await page.waitForSelector(`tr[data-policy="${POLICY}"]`);
  await page.waitForSelector(`#user-policy option:text("${POLICY}")`, { state: 'attached' });
  await page.fill('#user-name', USER);
  await page.selectOption('#user-policy', { label: POLICY });
  await page.click('#create-user-submit');
  await page.waitForSelector(`[data-user-detail="${USER}"] tr[data-attached="${POLICY}"]`);
  await page.click('#create-access-key');
  await page.waitForSelector('#new-secret-access-key');
  const keyId = (await page.textContent('#new-access-key-id')).trim();
  const secret = (await page.textContent('#new-secret-access-key')).trim();
  assert.match(keyId, /^AKIA[A-Z0-9]{16}$/);
  assert.equal(secret.length, 40);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  assert.equal(csv.suggestedFilename(), `${USER}_accessKeys.csv`);
  assert.equal(fs.readFileSync(await csv.path(), 'utf8'), `Access key ID,Secret access key\n${keyId},${secret}\n`);
  await shot('iam');

  step('IAM: "can this user do this?" iot:Publish to handson/x yes, naming the statement; to other/x no');
  await page.waitForSelector(`#simulate-user option:text("${USER}")`, { state: 'attached' });
  await page.selectOption('#simulate-user', { label: USER });
  const account = (await page.inputValue('#simulate-user')).split(':')[4];
  assert.match(account, /^\d{12}$/);
  await page.fill('#simulate-action', 'iot:Publish');
  await page.fill('#simulate-resource', `arn:aws:iot:ap-northeast-1:${account}:topic/handson/x`);
  await page.click('#simulate-submit');
  await page.waitForSelector('#simulate-result [data-decision="allowed"]');
  assert.equal(await page.getAttribute(`#simulate-result li[data-policy="${POLICY}"]`, 'data-sid'), 'VisualEditor0');
  const allowedText = await page.textContent('#simulate-result');
  assert.match(allowedText, /^Allowed\./);
  assert.ok(allowedText.includes(`Allowed by ${POLICY} (customer managed), statement VisualEditor0, line 4, column 9 to line 15, column 10`), allowedText);
  await shot('iam-simulate');
  await page.fill('#simulate-resource', `arn:aws:iot:ap-northeast-1:${account}:topic/other/x`);
  await page.click('#simulate-submit');
  await page.waitForSelector('#simulate-result [data-decision="implicitDeny"]');
  assert.equal(await page.$('#simulate-result li[data-policy]'), null);
  assert.match(await page.textContent('#simulate-result'), /^Denied: no statement allows it \(implicit deny\)\./);

  step("the new key may publish to handson/* only: S3 shows AccessDenied as AWS words it");
  await page.click('#sign-out');
  await signIn(keyId, secret);
  await page.goto(`${endpoint.origin}/_offcloud/console/#/s3`);
  await page.waitForSelector('.alert.error[data-error-code="AccessDenied"]');
  assert.match(await page.textContent('.alert.error'), new RegExp(`${USER}.*s3:ListAllMyBuckets`));
  await shot('access-denied');

  step('Activity: the student sees its own requests only, AccessDenied with the action and ARN');
  const studentArn = `arn:aws:iam::${account}:user/${USER}`;
  await page.goto(`${endpoint.origin}/_offcloud/console/#/activity`);
  const denied = '#activity tr[data-error-code="AccessDenied"][data-service="s3"]';
  await page.waitForSelector(denied);
  const deniedSeq = await page.getAttribute(denied, 'data-seq');
  assert.equal(await page.textContent(`#activity tr[data-reason-for="${deniedSeq}"] .reason`),
    "No statement in the caller's policies allows s3:ListAllMyBuckets on arn:aws:s3:::*.");
  const callers = await page.$$eval('#activity tr[data-seq]', (rows) => [...new Set(rows.map((r) => r.dataset.caller))]);
  assert.deepEqual(callers, [studentArn]);
  assert.equal(await page.textContent('#activity-scope'), 'Your own requests.');

  step('Activity: the teacher sees the student\'s wrong secret and AccessDenied, with the reasons');
  await page.click('#sign-out');
  await page.fill('#access-key-id', keyId);
  await page.fill('#secret-access-key', 'not-the-secret');
  await page.click('#sign-in');
  await page.waitForSelector('.alert.error[data-error-code="SignatureDoesNotMatch"]');
  await signIn('test', 'test');
  await page.goto(`${endpoint.origin}/_offcloud/console/#/activity`);
  const wrongSecret = `#activity tr[data-error-code="SignatureDoesNotMatch"][data-caller="${studentArn}"]`;
  await page.waitForSelector(wrongSecret);
  const wrongSeq = await page.getAttribute(wrongSecret, 'data-seq');
  const why = await page.textContent(`#activity tr[data-reason-for="${wrongSeq}"] .reason`);
  assert.ok(why.startsWith(`Access key ${keyId} exists, the scope `) && why.includes('the secret access key is wrong'), why);
  await page.waitForSelector(`#activity tr[data-error-code="AccessDenied"][data-caller="${studentArn}"]`);
  // The teacher's own wrong secret at the start, by the built-in key.
  await page.waitForSelector('#activity tr[data-error-code="SignatureDoesNotMatch"][data-caller="arn:aws:iam::000000000000:root"]');
  assert.equal(await page.textContent('#activity-scope'), "The built-in root key: every account's requests.");
  await page.selectOption('#activity-outcome', 'errors');
  const statuses = await page.$$eval('#activity tr[data-seq]', (rows) => rows.map((r) => Number(r.dataset.status)));
  assert.ok(statuses.length >= 3 && statuses.every((code) => code >= 400), String(statuses));
  await shot('activity');

  step('Firehose: with the bucket gone the three records wait in the buffer; delivered once it is back');
  await page.goto(`${endpoint.origin}/_offcloud/console/#/s3`);
  await page.click(`tr[data-bucket="${BUCKET}"] button[data-action="delete-bucket"]`);
  await page.waitForFunction((b) => !document.querySelector(`tr[data-bucket="${b}"]`), BUCKET);
  await page.goto(`${endpoint.origin}/_offcloud/console/#/mqtt`);
  await page.waitForSelector('#mqtt-state.on');
  await page.fill('#publish-topic', 'handson/analysisLogData');
  for (const record of RECORDS) {
    await page.fill('#publish-payload', JSON.stringify(record));
    await page.click('#publish');
    await page.waitForSelector('#publish-status .alert.success');
  }
  await page.goto(`${endpoint.origin}/_offcloud/console/#/firehose`);
  const buffer = `[data-buffer="${STREAM}"]`;
  await page.waitForFunction((b) => document.querySelector(`${b} dd[data-field="records"]`)?.textContent === '3', buffer);
  await page.waitForSelector(`${buffer} [data-field="last-error"]`);
  assert.match(await page.textContent(`${buffer} [data-field="last-error"]`), /NoSuchBucket/);
  assert.match(await page.textContent(`${buffer} dd[data-field="age"]`), /^\d+ s old$/);
  await shot('firehose-buffer-waiting');
  await page.goto(`${endpoint.origin}/_offcloud/console/#/s3`);
  await page.fill('#bucket-name', BUCKET);
  await page.click('#create-bucket button[type=submit]');
  await page.waitForSelector(`tr[data-bucket="${BUCKET}"]`);
  await page.goto(`${endpoint.origin}/_offcloud/console/#/firehose`);
  await page.waitForFunction((b) => document.querySelectorAll(`${b} tr[data-delivery-key][data-records="3"]`).length === 2, buffer, { timeout: 45000 });
  await page.waitForFunction((b) => document.querySelector(`${b} dd[data-field="records"]`)?.textContent === '0', buffer);

  step('every request went to offcloud');
  assert.deepEqual(otherHosts(requests, endpoint), [], 'requests to other hosts');
  assert.ok(requests.some((url) => url.startsWith(`ws://${endpoint.host}/mqtt?`)), 'the MQTT WebSocket');
  assert.deepEqual(consoleErrors, [], 'uncaught errors in the page');
  console.log(`# ${requests.length} requests, all to ${endpoint.host}`);
  console.log('console walk: ok');
} catch (error) {
  await shot('failure').catch(() => {});
  console.error(error);
  process.exitCode = 1;
} finally {
  await browser.close();
}
