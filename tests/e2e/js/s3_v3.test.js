// Amazon S3 with the AWS SDK for JavaScript v3 (@aws-sdk/client-s3) against
// a running offcloud whose URL is in OFFCLOUD_ENDPOINT (test_js_sdk.py sets it).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Readable } = require('node:stream');
const {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  DeleteObjectCommand,
} = require('@aws-sdk/client-s3');

const endpoint = process.env.OFFCLOUD_ENDPOINT;

function client(overrides = {}) {
  assert.ok(endpoint, 'OFFCLOUD_ENDPOINT is not set (run via test_js_sdk.py)');
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // One attempt, bounded: a retry or a hang would hide the server's answer.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5000, requestTimeout: 30000 },
    ...overrides,
  });
}

function md5Hex(buf) {
  return crypto.createHash('md5').update(buf).digest('hex');
}

async function newBucket(s3) {
  const Bucket = `e2e-js-${crypto.randomBytes(6).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket }));
  return Bucket;
}

test('PutObject with a stream body, GetObject, ListObjectsV2', async () => {
  const s3 = client();
  const Bucket = await newBucket(s3);
  const text = 'hello from the JS SDK v3\n'.repeat(100);
  const put = await s3.send(new PutObjectCommand({
    Bucket,
    Key: 'stream/hello.txt',
    Body: Readable.from(Buffer.from(text)),
    ContentLength: Buffer.byteLength(text),
    ContentType: 'text/plain',
    Metadata: { source: 'node' },
  }));
  assert.equal(put.$metadata.httpStatusCode, 200);
  assert.equal(put.ETag, `"${md5Hex(Buffer.from(text))}"`);

  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'stream/hello.txt' }));
  assert.equal(await got.Body.transformToString(), text);
  assert.equal(got.ContentType, 'text/plain');
  assert.deepEqual(got.Metadata, { source: 'node' });
  assert.equal(got.ContentLength, Buffer.byteLength(text));

  await s3.send(new PutObjectCommand({ Bucket, Key: 'stream/other.txt', Body: 'other' }));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'stream/' }));
  assert.deepEqual(listed.Contents.map((o) => o.Key), ['stream/hello.txt', 'stream/other.txt']);
  assert.equal(listed.KeyCount, 2);
  assert.equal(listed.Contents[0].Size, Buffer.byteLength(text));
});

test('binary stream body of 3 MiB round-trips', async () => {
  const s3 = client();
  const Bucket = await newBucket(s3);
  const data = crypto.randomBytes(3 * 1024 * 1024);
  const put = await s3.send(new PutObjectCommand({
    Bucket, Key: 'bin/random', Body: Readable.from(data), ContentLength: data.length,
  }));
  assert.equal(put.ETag, `"${md5Hex(data)}"`);
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'bin/random' }));
  assert.equal(head.ContentLength, data.length);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'bin/random' }));
  const back = Buffer.from(await got.Body.transformToByteArray());
  assert.equal(md5Hex(back), md5Hex(data));
});

test('GetObject of a missing key is NoSuchKey', async () => {
  const s3 = client();
  const Bucket = await newBucket(s3);
  await assert.rejects(
    s3.send(new GetObjectCommand({ Bucket, Key: 'missing' })),
    (err) => {
      assert.equal(err.name, 'NoSuchKey', `name=${err.name} message=${err.message}`);
      assert.equal(err.$metadata.httpStatusCode, 404);
      return true;
    },
  );
  const del = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'missing' }));
  assert.equal(del.$metadata.httpStatusCode, 204);
});

test('wrong secret is refused with SignatureDoesNotMatch', async () => {
  const s3 = client();
  const Bucket = await newBucket(s3);
  const bad = client({ credentials: { accessKeyId: 'test', secretAccessKey: 'not-the-secret' } });
  await assert.rejects(
    bad.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' })),
    (err) => {
      assert.equal(err.name, 'SignatureDoesNotMatch', `name=${err.name} message=${err.message}`);
      assert.equal(err.$metadata.httpStatusCode, 403);
      return true;
    },
  );
});
