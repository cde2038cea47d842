// S3's CORS and browser POST uploads as a web page uses them: the AWS SDK
// for JavaScript v3 (@aws-sdk/client-s3 and @aws-sdk/s3-presigned-post),
// bundled for the browser by esbuild (its "browser" builds: fetch, Web
// Crypto), runs in Debian's Chromium (headless, playwright-core) on a page
// served from another origin than offcloud (a Node server on 127.0.0.1,
// another port), so that the browser itself does CORS:
//   - a bucket whose rule allows the page's origin: PutObject and GetObject
//     work and the SDK reads the exposed ETag; a rule exposing nothing
//     hides it;
//   - a bucket with a rule for another origin, and one without CORS: the
//     preflight is answered 403, the SDK's fetch fails with a TypeError and
//     the object is not written;
//   - createPresignedPost: a FormData with a File gets 201 and S3's XML; a
//     file over content-length-range gets 400 EntityTooLarge, an expired
//     policy 403 AccessDenied, both readable by the page.
// Buckets and rules are set up from Node with the same SDK. Every request
// the browser makes must stay on 127.0.0.1 (the page's server or offcloud).
//
// Run by tests/e2e/test_js_sdk.py: OFFCLOUD_ENDPOINT, CHROMIUM (default
// /usr/bin/chromium).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import {
  S3Client, CreateBucketCommand, PutBucketCorsCommand, GetObjectCommand, HeadObjectCommand,
} from '@aws-sdk/client-s3';
import { launch, otherHosts } from './console_browser.mjs';

const endpoint = new URL(process.env.OFFCLOUD_ENDPOINT);
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
const step = (text) => console.log(`# ${text}`);

// The SDK for the page, built in memory.
const built = await esbuild.build({
  stdin: {
    contents: "export { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';\n" +
              "export { createPresignedPost } from '@aws-sdk/s3-presigned-post';\n",
    resolveDir: here, loader: 'js',
  },
  bundle: true, platform: 'browser', format: 'esm', target: 'es2022', keepNames: true, write: false,
  logLevel: 'warning',
});
const sdkBundle = built.outputFiles[0].contents;
step(`SDK bundled for the browser: ${sdkBundle.length} bytes`);

const PAGE = `<!doctype html><meta charset="utf-8"><title>s3 browser</title>
<script type="module">import * as sdk from '/sdk.js'; window.sdk = sdk; document.title = 'ready';</script>`;
const pageServer = http.createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
  } else if (req.url === '/sdk.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(sdkBundle);
  } else {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${pageServer.address().port}`;
assert.notEqual(origin, endpoint.origin);

// Buckets and their rules, from Node.
const s3 = new S3Client({
  endpoint: endpoint.origin, forcePathStyle: true, region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const BUCKETS = {
  allowed: 'browser-allowed', unexposed: 'browser-unexposed',
  otherOrigin: 'browser-other-origin', noCors: 'browser-no-cors',
};
for (const bucket of Object.values(BUCKETS)) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
const rule = { AllowedOrigins: [origin], AllowedMethods: ['GET', 'PUT', 'POST'], AllowedHeaders: ['*'] };
const cors = async (Bucket, CORSRules) => s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules } }));
await cors(BUCKETS.allowed, [{ ...rule, ExposeHeaders: ['ETag'] }]);
await cors(BUCKETS.unexposed, [rule]);
await cors(BUCKETS.otherOrigin, [{ ...rule, AllowedOrigins: ['http://127.0.0.1:1'], ExposeHeaders: ['ETag'] }]);

const { browser, context, page, requests, consoleErrors } = await launch({ executablePath });
// Preflights are not Playwright requests: Chromium's DevTools protocol shows them.
const preflights = new Map();
const cdp = await context.newCDPSession(page);
await cdp.send('Network.enable');
cdp.on('Network.requestWillBeSent', (e) => {
  if (e.initiator?.type === 'preflight') preflights.set(e.requestId, { url: e.request.url, method: e.request.method });
});
cdp.on('Network.responseReceived', (e) => {
  const preflight = preflights.get(e.requestId);
  if (preflight) preflight.status = e.response.status;
});
const methods = [];
page.on('request', (request) => methods.push(`${request.method()} ${request.url()}`));

const md5 = (text) => `"${crypto.createHash('md5').update(text).digest('hex')}"`;

try {
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.title === 'ready');

  // In the page: the SDK's client, and one call that reports what it got.
  const inPage = (fn, args) => page.evaluate(async ({ source, endpoint, args }) => {
    const client = new window.sdk.S3Client({
      endpoint, forcePathStyle: true, region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    // eslint-disable-next-line no-new-func
    const body = new Function('sdk', 'client', 'args', `return (${source})(sdk, client, args);`);
    try {
      return { ok: await body(window.sdk, client, args) };
    } catch (error) {
      return { error: { name: error.name, message: String(error.message) } };
    }
  }, { source: fn.toString(), endpoint: endpoint.origin, args });

  const putGet = async (sdk, client, { Bucket, Key, Body }) => {
    const put = await client.send(new sdk.PutObjectCommand({ Bucket, Key, Body, ContentType: 'text/plain' }));
    const got = await client.send(new sdk.GetObjectCommand({ Bucket, Key }));
    return { putETag: put.ETag ?? null, getETag: got.ETag ?? null, text: await got.Body.transformToString(),
             handler: client.config.requestHandler.constructor.name };
  };

  step('a rule for the page: PutObject, GetObject, the exposed ETag');
  const text = 'hello from the browser';
  let result = await inPage(putGet, { Bucket: BUCKETS.allowed, Key: 'hello.txt', Body: text });
  assert.deepEqual(result, { ok: { putETag: md5(text), getETag: md5(text), text, handler: 'FetchHttpHandler' } });
  assert.ok(methods.includes(`PUT ${endpoint.origin}/${BUCKETS.allowed}/hello.txt?x-id=PutObject`), methods.join('\n'));
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKETS.allowed, Key: 'hello.txt' }));
  assert.equal(head.ETag, md5(text));

  step('a rule exposing no header: the same calls work, the ETag stays hidden from the page');
  result = await inPage(putGet, { Bucket: BUCKETS.unexposed, Key: 'hidden.txt', Body: text });
  assert.deepEqual(result, { ok: { putETag: null, getETag: null, text, handler: 'FetchHttpHandler' } });

  for (const [what, bucket] of [['a rule for another origin', BUCKETS.otherOrigin], ['no CORS', BUCKETS.noCors]]) {
    step(`${what}: the preflight is refused (403), the SDK's fetch fails, nothing is written`);
    preflights.clear();
    result = await inPage(putGet, { Bucket: bucket, Key: 'refused.txt', Body: text });
    assert.equal(result.error?.name, 'TypeError', JSON.stringify(result));
    assert.match(result.error.message, /Failed to fetch/);
    const answered = [...preflights.values()].filter((p) => p.url.startsWith(`${endpoint.origin}/${bucket}/refused.txt`));
    assert.ok(answered.length >= 1, JSON.stringify([...preflights.values()]));
    // DevTools events arrive on their own channel: the page may see the failure before
    // the protocol reports the status of the last preflight.
    for (let waited = 0; answered.some((p) => p.status === undefined) && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const p of answered) assert.deepEqual([p.method, p.status], ['OPTIONS', 403]);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'refused.txt' })),
      (error) => error.$metadata?.httpStatusCode === 404);
  }

  // createPresignedPost in the page, then a fetch of the form with a File.
  const post = async (sdk, client, { Bucket, size, Expires, wait }) => {
    const { url, fields } = await sdk.createPresignedPost(client, {
      Bucket, Key: 'uploads/${filename}', Expires,
      Conditions: [['starts-with', '$key', 'uploads/'], ['content-length-range', 1, 64]],
      Fields: { success_action_status: '201' },
    });
    if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new File(['x'.repeat(size)], 'photo.txt', { type: 'text/plain' }));
    const response = await fetch(url, { method: 'POST', body: form });
    return { url, status: response.status, body: await response.text() };
  };
  const xml = (body, name) => body.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];

  step('createPresignedPost: a FormData with a File gets 201 and the XML');
  result = await inPage(post, { Bucket: BUCKETS.allowed, size: 40, Expires: 60 });
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.ok.url, `${endpoint.origin}/${BUCKETS.allowed}`);
  assert.equal(result.ok.status, 201, result.ok.body);
  assert.match(result.ok.body, /<PostResponse>/);
  assert.equal(xml(result.ok.body, 'Bucket'), BUCKETS.allowed);
  assert.equal(xml(result.ok.body, 'Key'), 'uploads/photo.txt');
  assert.equal(xml(result.ok.body, 'ETag'), md5('x'.repeat(40)).replaceAll('"', '&quot;'));
  const uploaded = await s3.send(new GetObjectCommand({ Bucket: BUCKETS.allowed, Key: 'uploads/photo.txt' }));
  assert.equal(await uploaded.Body.transformToString(), 'x'.repeat(40));

  step('a file over content-length-range: 400 EntityTooLarge, read by the page');
  result = await inPage(post, { Bucket: BUCKETS.allowed, size: 65, Expires: 60 });
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.ok.status, 400, result.ok.body);
  assert.equal(xml(result.ok.body, 'Code'), 'EntityTooLarge');

  step('an expired policy (Expires: 1, then 2.5 s): 403 AccessDenied, read by the page');
  result = await inPage(post, { Bucket: BUCKETS.allowed, size: 10, Expires: 1, wait: 2500 });
  assert.ok(result.ok, JSON.stringify(result));
  assert.equal(result.ok.status, 403, result.ok.body);
  assert.equal(xml(result.ok.body, 'Code'), 'AccessDenied');
  assert.match(xml(result.ok.body, 'Message'), /Policy expired/);

  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(otherHosts(requests, endpoint, new URL(origin)), []);
  assert.ok(requests.some((url) => new URL(url).host === endpoint.host));
  console.log('s3 browser: ok');
} finally {
  await browser.close();
  pageServer.close();
  s3.destroy();
}
