// The console's browser signer (console/js/sigv4.js, WebCrypto) against the
// AWS SigV4 test suite in tests/data/sigv4: for every case, header signing
// and presigning must give AWS's canonical request, string to sign and
// signature. Runs under node:test (Node's WebCrypto is the browser's API).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const VECTORS = path.join(__dirname, '..', '..', 'data', 'sigv4');
const SIGNER = path.join(__dirname, '..', '..', '..', 'console', 'js', 'sigv4.js');

function cases() {
  const found = [];
  for (const group of ['v4', 'extra/s3-doc-examples', 'extra/botocore-generated']) {
    const dir = path.join(VECTORS, group);
    for (const name of fs.readdirSync(dir).sort()) {
      if (fs.existsSync(path.join(dir, name, 'context.json'))) found.push(path.join(group, name));
    }
  }
  return found;
}

function read(dir, file) {
  const p = path.join(VECTORS, dir, file);
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
}

function decode(text) {
  const bytes = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25 && i + 2 < raw.length) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 3).toString(), 16));
      i += 2;
    } else {
      bytes.push(raw[i]);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// request.txt: request line, header lines (a line starting with white space
// continues the previous value), a blank line, the body.
function parseRequest(text) {
  const blank = text.indexOf('\n\n');
  const head = blank >= 0 ? text.slice(0, blank) : text.replace(/\n$/, '');
  const body = blank >= 0 ? text.slice(blank + 2) : '';
  const lines = head.split('\n');
  const first = lines[0];
  const method = first.slice(0, first.indexOf(' '));
  const target = first.slice(first.indexOf(' ') + 1, first.lastIndexOf(' HTTP/'));
  const headers = [];
  for (const line of lines.slice(1)) {
    if (/^\s/.test(line) && headers.length) headers[headers.length - 1][1] += '\n' + line;
    else headers.push([line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]);
  }
  const q = target.indexOf('?');
  const pathPart = q >= 0 ? target.slice(0, q) : target;
  const query = q >= 0 && target.length > q + 1
    ? target.slice(q + 1).split('&').map((pair) => {
      const eq = pair.indexOf('=');
      return eq >= 0 ? [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))] : [decode(pair), ''];
    })
    : [];
  return { method, path: pathPart, query, headers, body };
}

const all = cases();

test('the suite is there', () => {
  assert.ok(all.length >= 40, `only ${all.length} cases in ${VECTORS}`);
});

for (const name of all) {
  test(`SigV4 vector ${name}`, async () => {
    const { sign, presign } = await import(SIGNER);
    const context = JSON.parse(read(name, 'context.json'));
    const request = parseRequest(read(name, 'request.txt'));
    const credentials = {
      accessKeyId: context.credentials.access_key_id,
      secretAccessKey: context.credentials.secret_access_key,
      sessionToken: context.omit_session_token ? undefined : context.credentials.token,
    };
    const options = {
      credentials, region: context.region, service: context.service,
      date: new Date(context.timestamp), normalize: context.normalize,
      doubleEncode: context.double_uri_encode ?? true, signBody: context.sign_body,
      expires: context.expiration_in_seconds,
    };
    const headerSignature = read(name, 'header-signature.txt');
    if (headerSignature !== null) {
      const signed = await sign(request, options);
      assert.equal(signed.canonicalRequest, read(name, 'header-canonical-request.txt'));
      assert.equal(signed.stringToSign, read(name, 'header-string-to-sign.txt'));
      assert.equal(signed.signature, headerSignature);
      // The Authorization line (AWS's S3 examples leave out the spaces
      // after the commas).
      const authorization = signed.headers.find(([n]) => n === 'Authorization')[1];
      const expected = read(name, 'header-signed-request.txt').match(/^Authorization:(.*)$/m)[1];
      assert.equal(authorization.replace(/, /g, ','), expected.replace(/, /g, ','));
    }
    const querySignature = read(name, 'query-signature.txt');
    if (querySignature !== null) {
      const signed = await presign(request, options);
      assert.equal(signed.canonicalRequest, read(name, 'query-canonical-request.txt'));
      assert.equal(signed.stringToSign, read(name, 'query-string-to-sign.txt'));
      assert.equal(signed.signature, querySignature);
    }
  });
}
