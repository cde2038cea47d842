// AWS Signature Version 4, with WebCrypto (HMAC-SHA256, SHA-256): the
// Authorization header and presigned URLs, as the AWS SDKs sign. Tested
// against AWS's SigV4 suite (tests/e2e/js/console_sigv4.test.js).
//
// A request here is { method, path, query, headers, body }: `path` as it goes
// on the wire (percent-encoded), `query` a list of [name, value] pairs not yet
// encoded, `headers` a list of [name, value] pairs.

const encoder = new TextEncoder();
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

function bytesOf(data) {
  if (data === undefined || data === null) return new Uint8Array(0);
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('sigv4: a body is a string, an ArrayBuffer or a typed array');
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(data) {
  const bytes = bytesOf(data);
  if (bytes.length === 0) return EMPTY_SHA256;
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

async function hmac(key, data) {
  const cryptoKey = await crypto.subtle.importKey('raw', bytesOf(key), { name: 'HMAC', hash: 'SHA-256' },
    false, ['sign']);
  return crypto.subtle.sign('HMAC', cryptoKey, bytesOf(data));
}

// RFC 3986 encoding of each UTF-8 byte but the unreserved characters (and
// '/' when `keepSlash`), upper-case hex, as SigV4 asks.
function encodeBytes(bytes, keepSlash) {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function uriEncode(text, keepSlash = false) {
  return encodeBytes(encoder.encode(text), keepSlash);
}

// The bytes a percent-encoded string stands for (raw characters kept).
function percentDecode(text) {
  const raw = encoder.encode(text);
  const out = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x25 && i + 2 < raw.length && /^[0-9A-Fa-f]{2}$/.test(String.fromCharCode(raw[i + 1], raw[i + 2]))) {
      out.push(parseInt(String.fromCharCode(raw[i + 1], raw[i + 2]), 16));
      i += 2;
    } else {
      out.push(raw[i]);
    }
  }
  return new Uint8Array(out);
}

// Dot segments removed and empty segments dropped, as the SDKs normalize
// every service's path but S3's.
function normalizePath(path) {
  const out = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const trailing = out.length > 0 && /\/(\.\.?)?$/.test(path);
  return '/' + out.join('/') + (trailing ? '/' : '');
}

// S3 signs the path encoded once; the other services encode the wire path
// again (so %2F becomes %252F) after normalizing it.
export function canonicalUri(path, { normalize = true, doubleEncode = true } = {}) {
  let p = path || '/';
  if (normalize) p = normalizePath(p);
  return doubleEncode ? encodeBytes(encoder.encode(p), true) : encodeBytes(percentDecode(p), true);
}

export function canonicalQuery(query) {
  return query
    .map(([name, value]) => [uriEncode(name), uriEncode(value ?? '')])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

// Lower-case names sorted; values trimmed with inner runs of spaces made
// one; a header given twice has its values joined with commas, in order.
export function canonicalHeaders(headers) {
  const byName = new Map();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const clean = String(value).replace(/\s+/g, ' ').trim();
    byName.set(key, byName.has(key) ? `${byName.get(key)},${clean}` : clean);
  }
  const names = [...byName.keys()].sort();
  return {
    text: names.map((name) => `${name}:${byName.get(name)}\n`).join(''),
    signed: names.join(';'),
  };
}

export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

async function signingKey(secret, day, region, service) {
  const kDate = await hmac('AWS4' + secret, day);
  const kRegion = await hmac(kDate, region);
  const kService = await hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

async function finish(options, method, path, query, headers, payloadHash, stamp) {
  const { credentials, region, service } = options;
  const scope = `${stamp.slice(0, 8)}/${region}/${service}/aws4_request`;
  const doubleEncode = options.doubleEncode ?? service !== 's3';
  const normalize = options.normalize ?? service !== 's3';
  const { text, signed } = canonicalHeaders(headers);
  const canonicalRequest = [method.toUpperCase(), canonicalUri(path, { normalize, doubleEncode }),
    canonicalQuery(query), text, signed, payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, await sha256Hex(canonicalRequest)].join('\n');
  const key = await signingKey(credentials.secretAccessKey, stamp.slice(0, 8), region, service);
  const signature = hex(await hmac(key, stringToSign));
  return { canonicalRequest, stringToSign, signature, scope, signedHeaders: signed };
}

// Signs with an Authorization header. Options: credentials { accessKeyId,
// secretAccessKey, sessionToken }, region, service, date (a Date), and
// optionally payloadHash (else the body's SHA-256), signBody (adds
// x-amz-content-sha256, as S3 wants: the default for s3), normalize and
// doubleEncode (default: true but for s3). Returns the headers to send
// (the given ones plus X-Amz-Date, the token, Authorization) and the steps.
export async function sign(request, options) {
  const { credentials } = options;
  const stamp = amzDate(options.date ?? new Date());
  const headers = [...(request.headers ?? [])];
  const has = (name) => headers.some(([n]) => n.toLowerCase() === name);
  const payloadHash = options.payloadHash ?? await sha256Hex(request.body);
  if (!has('x-amz-date')) headers.push(['X-Amz-Date', stamp]);
  if ((options.signBody ?? options.service === 's3') && !has('x-amz-content-sha256')) {
    headers.push(['x-amz-content-sha256', payloadHash]);
  }
  if (credentials.sessionToken && !has('x-amz-security-token')) {
    headers.push(['X-Amz-Security-Token', credentials.sessionToken]);
  }
  const steps = await finish(options, request.method, request.path, request.query ?? [], headers,
    payloadHash, stamp);
  headers.push(['Authorization', `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${steps.scope}, ` +
    `SignedHeaders=${steps.signedHeaders}, Signature=${steps.signature}`]);
  return { headers, ...steps };
}

// A presigned URL's query: the request's own parameters plus the X-Amz-*
// ones and the signature. Options as sign(), plus expires (seconds, default
// 900). S3's payload is UNSIGNED-PAYLOAD unless payloadHash says otherwise.
export async function presign(request, options) {
  const { credentials } = options;
  const stamp = amzDate(options.date ?? new Date());
  const headers = [...(request.headers ?? [])];
  const scope = `${stamp.slice(0, 8)}/${options.region}/${options.service}/aws4_request`;
  const query = [...(request.query ?? [])];
  query.push(['X-Amz-Algorithm', 'AWS4-HMAC-SHA256']);
  query.push(['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`]);
  query.push(['X-Amz-Date', stamp]);
  query.push(['X-Amz-Expires', String(options.expires ?? 900)]);
  if (credentials.sessionToken) query.push(['X-Amz-Security-Token', credentials.sessionToken]);
  query.push(['X-Amz-SignedHeaders', canonicalHeaders(headers).signed]);
  const payloadHash = options.payloadHash ??
    (options.service === 's3' ? UNSIGNED_PAYLOAD : await sha256Hex(request.body));
  const steps = await finish(options, request.method, request.path, query, headers, payloadHash, stamp);
  query.push(['X-Amz-Signature', steps.signature]);
  return { query, queryString: encodeQuery(query), ...steps };
}

// A query string as it goes on the wire.
export function encodeQuery(query) {
  return query.map(([name, value]) => `${uriEncode(name)}=${uriEncode(value ?? '')}`).join('&');
}
