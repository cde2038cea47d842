// Real AWS API calls from the browser, signed with SigV4 (sigv4.js), to the
// server that served this page: the same router and IAM checks as any SDK.
// Errors come back as AwsError with AWS's code and message, as AWS words them.
import { sign, presign, sha256Hex, uriEncode, encodeQuery } from './sigv4.js';

export class AwsError extends Error {
  constructor(code, message, status, requestId) {
    super(message || code);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

const xmlParser = new DOMParser();

export function parseXml(text) {
  return xmlParser.parseFromString(text, 'application/xml');
}

// The text of the first element named `name` under `node` (any depth).
export function xmlText(node, name) {
  const found = node.getElementsByTagName(name)[0];
  return found ? found.textContent : '';
}

export function xmlAll(node, name) {
  return Array.from(node.getElementsByTagName(name));
}

// Direct children named `name`.
export function xmlChildren(node, name) {
  return Array.from(node.children).filter((child) => child.localName === name);
}

async function errorOf(response) {
  const requestId = response.headers.get('x-amz-request-id') || response.headers.get('x-amzn-RequestId') || '';
  const text = await response.text().catch(() => '');
  let code = response.headers.get('x-amzn-ErrorType') || '';
  let message = '';
  if (text.trim().startsWith('<')) {
    const doc = parseXml(text);
    code = xmlText(doc, 'Code') || code;
    message = xmlText(doc, 'Message');
  } else if (text.trim().startsWith('{')) {
    try {
      const body = JSON.parse(text);
      code = body.__type || body.code || code;
      message = body.message || body.Message || '';
    } catch { /* not JSON after all */ }
  }
  code = (code.split(':')[0] || '').split('#').pop();
  if (!code) code = `HTTP ${response.status}`;
  if (!message && response.status === 404 && response.headers.get('content-length') === '0') message = 'Not Found';
  return new AwsError(code, message, response.status, requestId);
}

export class Aws {
  // credentials: { accessKeyId, secretAccessKey, sessionToken }
  constructor(credentials, region) {
    this.credentials = credentials;
    this.region = region;
  }

  // One signed request. path is encoded already; query a list of pairs.
  // Returns the fetch Response (ok), or throws AwsError.
  async request({ service, method = 'GET', path = '/', query = [], headers = [], body, region, payloadHash }) {
    const host = location.host;
    const signed = await sign({ method, path, query, headers: [['host', host], ...headers], body },
      { credentials: this.credentials, region: region || this.region, service, payloadHash });
    const send = new Headers();
    for (const [name, value] of signed.headers) {
      if (name.toLowerCase() !== 'host') send.append(name, value);
    }
    const qs = encodeQuery(query);
    let response;
    try {
      response = await fetch(path + (qs ? '?' + qs : ''), { method, headers: send, body, cache: 'no-store' });
    } catch (e) {
      throw new AwsError('NetworkingError', `The request did not reach offcloud: ${e.message}`, 0, '');
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  // A presigned URL on this server (downloads, MQTT over WebSocket).
  async presignedUrl({ service, method = 'GET', path, query = [], region, expires = 300, scheme }) {
    const signed = await presign({ method, path, query, headers: [['host', location.host]] },
      { credentials: this.credentials, region: region || this.region, service, expires });
    const base = scheme ? `${scheme}//${location.host}` : location.origin;
    return `${base}${path}?${signed.queryString}`;
  }

  // --- protocols -----------------------------------------------------

  // JSON 1.1 with X-Amz-Target (Firehose).
  async json(service, target, input, region) {
    const body = JSON.stringify(input ?? {});
    const response = await this.request({
      service, method: 'POST', path: '/', body, region,
      headers: [['Content-Type', 'application/x-amz-json-1.1'], ['X-Amz-Target', target]],
    });
    const text = await response.text();
    return text ? JSON.parse(text) : {};
  }

  // REST JSON (IoT control plane).
  async restJson(service, method, path, input, query = []) {
    const body = input === undefined ? undefined : JSON.stringify(input);
    const headers = body === undefined ? [] : [['Content-Type', 'application/json']];
    const response = await this.request({ service, method, path, query, body, headers });
    const text = await response.text();
    return text ? JSON.parse(text) : {};
  }

  // The query protocol (IAM, STS): form-encoded POST, XML back.
  async query(service, action, params = {}, version) {
    const pairs = [['Action', action], ['Version', version], ...Object.entries(params)
      .filter(([, v]) => v !== undefined && v !== null)];
    const body = encodeQuery(pairs);
    const region = service === 'iam' ? 'us-east-1' : this.region;
    const response = await this.request({
      service, method: 'POST', path: '/', body, region,
      headers: [['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8']],
    });
    return parseXml(await response.text());
  }

  iam(action, params) { return this.query('iam', action, params, '2010-05-08'); }
  sts(action, params) { return this.query('sts', action, params, '2011-06-15'); }
  firehose(operation, input) { return this.json('firehose', `Firehose_20150804.${operation}`, input); }
  iot(method, path, input, query) { return this.restJson('iot', method, path, input, query); }

  // S3, path-style.
  async s3(method, bucket, key, { query = [], headers = [], body, region, payloadHash } = {}) {
    let path = '/';
    if (bucket) path += uriEncode(bucket);
    if (key !== undefined && key !== null) path += '/' + uriEncode(key, true);
    if (body !== undefined && payloadHash === undefined) payloadHash = await sha256Hex(body);
    return this.request({ service: 's3', method, path, query, headers, body, region, payloadHash });
  }
  async s3Xml(method, bucket, key, options) {
    const response = await this.s3(method, bucket, key, options);
    return parseXml(await response.text());
  }
}

// The credentials of this tab, kept only in its session storage.
const STORAGE_KEY = 'offcloud.console.session';

export function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    return saved && saved.accessKeyId && saved.secretAccessKey ? saved : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(STORAGE_KEY);
}
