// S3: buckets (create in a region, delete); a bucket's objects by prefix as
// folders, with size and time; preview of text and JSON Lines; download;
// upload with progress; delete one or many.
import { xmlText, xmlAll, xmlChildren, parseXml } from '../aws.js';
import { sign, sha256Hex, uriEncode } from '../sigv4.js';
import { t } from '../i18n.js';
import { h, clear, attempt, errorBox, formatBytes, formatTime, field, table, pageHeader, REGIONS } from '../ui.js';

export function render(ctx) {
  const [bucket] = ctx.rest;
  return bucket ? renderBucket(ctx, bucket) : renderBuckets(ctx);
}

async function bucketRegion(aws, bucket) {
  try {
    const doc = await aws.s3Xml('GET', bucket, undefined, { query: [['location', '']] });
    return xmlText(doc, 'LocationConstraint') || 'us-east-1';
  } catch {
    return aws.region;
  }
}

async function renderBuckets(ctx) {
  const { aws, main } = ctx;
  const status = h('div', { class: 'status' });
  const list = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const name = h('input', { id: 'bucket-name', placeholder: 'yamada-analysis-log-data', spellcheck: 'false', required: true });
  const region = h('select', { id: 'bucket-region' },
    REGIONS.map((r) => h('option', { value: r, selected: r === ctx.region || null }, r)));
  const form = h('form', {
    class: 'card inline-form', id: 'create-bucket',
    onsubmit: async (event) => {
      event.preventDefault();
      const body = region.value === 'us-east-1' ? undefined
        : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${region.value}</LocationConstraint></CreateBucketConfiguration>`;
      const ok = await attempt(status, () => aws.s3('PUT', name.value.trim(), undefined, {
        body, region: region.value, headers: body ? [['Content-Type', 'application/xml']] : [],
      }), t('s3.created', name.value.trim()));
      if (ok) { name.value = ''; load(); }
    },
  }, h('h2', {}, t('s3.createBucket')), field(t('s3.bucketName'), name, t('s3.bucketNameHint')),
  field(t('region'), region), h('button', { class: 'primary', type: 'submit' }, t('s3.createBucket')));

  async function load() {
    let doc;
    try {
      doc = await aws.s3Xml('GET');
    } catch (error) {
      clear(list).append(errorBox(error));
      return;
    }
    clear(list);
    const buckets = xmlAll(doc, 'Bucket');
    const rows = [];
    for (const b of buckets) {
      const bucketName = xmlText(b, 'Name');
      const regionCell = h('td', { class: 'muted' }, xmlText(b, 'BucketRegion') || '…');
      rows.push(h('tr', { 'data-bucket': bucketName },
        h('td', {}, h('a', { href: `#/s3/${encodeURIComponent(bucketName)}` }, bucketName)),
        regionCell,
        h('td', {}, formatTime(xmlText(b, 'CreationDate'))),
        h('td', {}, h('button', {
          class: 'danger small', 'data-action': 'delete-bucket',
          onclick: async () => {
            if (!confirm(t('s3.confirmDeleteBucket', bucketName))) return;
            const where = await bucketRegion(aws, bucketName);
            if (await attempt(status, () => aws.s3('DELETE', bucketName, undefined, { region: where }), t('s3.deleted', bucketName))) load();
          },
        }, t('delete')))));
      if (!xmlText(b, 'BucketRegion')) bucketRegion(aws, bucketName).then((r) => { regionCell.textContent = r; });
    }
    list.append(table([t('s3.bucketName'), t('region'), t('created'), ''], rows, t('s3.noBuckets')));
  }

  main.append(pageHeader(t('s3.buckets'), h('button', { onclick: load }, t('refresh'))), status, list, form);
  await load();
}

function parentPrefix(prefix) {
  const trimmed = prefix.replace(/\/$/, '');
  const at = trimmed.lastIndexOf('/');
  return at < 0 ? '' : trimmed.slice(0, at + 1);
}

async function renderBucket(ctx, bucket) {
  const { aws, main } = ctx;
  const prefix = ctx.params.get('prefix') || '';
  const region = await bucketRegion(aws, bucket);
  const opts = (extra = {}) => ({ region, ...extra });
  const status = h('div', { class: 'status' });
  const list = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const detail = h('div', { id: 'object-detail' });
  const progress = h('div', { id: 'upload-progress' });
  const link = (p) => `#/s3/${encodeURIComponent(bucket)}${p ? `?prefix=${encodeURIComponent(p)}` : ''}`;

  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: '#/s3' }, t('s3.buckets')), ' / ', h('a', { href: link('') }, bucket));
  let acc = '';
  for (const part of prefix.split('/').filter(Boolean)) {
    acc += part + '/';
    crumbs.append(' / ', h('a', { href: link(acc) }, part));
  }

  const selected = new Set();
  const deleteButton = h('button', {
    class: 'danger', id: 'delete-selected', disabled: true,
    onclick: async () => {
      const keys = [...selected];
      if (!keys.length || !confirm(t('s3.confirmDeleteObjects', keys.length))) return;
      await attempt(status, () => deleteObjects(aws, bucket, keys, region), t('s3.objectsDeleted', keys.length));
      clear(detail);
      load();
    },
  }, t('s3.deleteSelected'));
  const updateSelection = () => {
    deleteButton.disabled = selected.size === 0;
    deleteButton.textContent = selected.size ? `${t('s3.deleteSelected')} (${selected.size})` : t('s3.deleteSelected');
  };

  const fileInput = h('input', {
    type: 'file', multiple: true, id: 'upload-files', class: 'sr-only',
    onchange: async () => {
      for (const file of fileInput.files) await upload(ctx, bucket, region, prefix + file.name, file, progress, status);
      fileInput.value = '';
      load();
    },
  });

  async function load() {
    selected.clear();
    updateSelection();
    let doc;
    try {
      doc = await aws.s3Xml('GET', bucket, undefined,
        opts({ query: [['list-type', '2'], ['delimiter', '/'], ['prefix', prefix]] }));
    } catch (error) {
      clear(list).append(errorBox(error));
      return;
    }
    const rows = [];
    if (prefix) {
      rows.push(h('tr', {}, h('td', {}), h('td', {}, h('a', { href: link(parentPrefix(prefix)) }, '..')), h('td', {}), h('td', {}), h('td', {})));
    }
    for (const p of xmlAll(doc, 'CommonPrefixes')) {
      const folder = xmlText(p, 'Prefix');
      rows.push(h('tr', { 'data-folder': folder },
        h('td', {}),
        h('td', {}, h('a', { href: link(folder), class: 'folder' }, '📁 ' + folder.slice(prefix.length))),
        h('td', { class: 'muted' }, t('s3.folder')), h('td', {}), h('td', {})));
    }
    for (const c of xmlChildren(doc.documentElement, 'Contents')) {
      const key = xmlText(c, 'Key');
      const box = h('input', {
        type: 'checkbox', 'aria-label': key,
        onchange: () => { if (box.checked) selected.add(key); else selected.delete(key); updateSelection(); },
      });
      rows.push(h('tr', { 'data-key': key },
        h('td', {}, box),
        h('td', {}, h('button', { class: 'link object', onclick: () => showObject(ctx, bucket, region, key, detail, status, load) }, key.slice(prefix.length))),
        h('td', {}, formatBytes(xmlText(c, 'Size'))),
        h('td', {}, formatTime(xmlText(c, 'LastModified'))),
        h('td', { class: 'muted small' }, xmlText(c, 'StorageClass'))));
    }
    const count = xmlChildren(doc.documentElement, 'Contents').length;
    clear(list).append(
      h('p', { class: 'muted small' }, t('s3.objectCount', count, region)),
      table(['', t('name'), t('size'), t('lastModified'), t('s3.storageClass')], rows, t('s3.noObjects')));
  }

  main.append(
    crumbs,
    pageHeader(prefix ? `${bucket}/${prefix}` : bucket,
      h('button', { onclick: load, id: 'refresh-objects' }, t('refresh')),
      h('label', { class: 'button primary', for: 'upload-files', tabindex: 0,
        onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileInput.click(); } } }, t('s3.upload')),
      fileInput, deleteButton),
    status, progress, list, detail);
  await load();
}

async function deleteObjects(aws, bucket, keys, region) {
  if (keys.length === 1) return aws.s3('DELETE', bucket, keys[0], { region });
  const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const body = `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${keys.map((k) => `<Object><Key>${escape(k)}</Key></Object>`).join('')}</Delete>`;
  // DeleteObjects needs an integrity check: a SHA-256 (WebCrypto has no MD5).
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body)));
  const checksum = btoa(String.fromCharCode(...digest));
  const response = await aws.s3('POST', bucket, undefined, {
    region, body, query: [['delete', '']],
    headers: [['Content-Type', 'application/xml'], ['x-amz-checksum-sha256', checksum], ['x-amz-sdk-checksum-algorithm', 'SHA256']],
  });
  const doc = parseXml(await response.text());
  const errors = xmlAll(doc, 'Error');
  if (errors.length) {
    const e = new Error(errors.map((x) => `${xmlText(x, 'Key')}: ${xmlText(x, 'Message')}`).join('; '));
    e.code = xmlText(errors[0], 'Code');
    throw e;
  }
  return doc;
}

// PUT with XMLHttpRequest, for its upload progress.
async function upload(ctx, bucket, region, key, file, progress, status) {
  const bar = h('progress', { max: 100, value: 0 });
  const row = h('div', { class: 'upload' }, h('span', {}, key), bar, h('span', { class: 'pct' }, '0%'));
  progress.append(row);
  const body = await file.arrayBuffer();
  const path = `/${uriEncode(bucket)}/${uriEncode(key, true)}`;
  const contentType = file.type || 'application/octet-stream';
  const signed = await sign({ method: 'PUT', path, headers: [['host', location.host], ['Content-Type', contentType]], body },
    { credentials: ctx.aws.credentials, region, service: 's3', payloadHash: await sha256Hex(body) });
  await new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', path);
    for (const [name, value] of signed.headers) if (name.toLowerCase() !== 'host') xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        row.querySelector('.pct').textContent = `${bar.value}%`;
      }
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        row.querySelector('.pct').textContent = t('s3.uploaded');
      } else {
        const doc = parseXml(xhr.responseText || '<x/>');
        status.append(errorBox({ code: xmlText(doc, 'Code') || `HTTP ${xhr.status}`, message: `${key}: ${xmlText(doc, 'Message')}` }));
        row.remove();
      }
      resolve();
    };
    xhr.onerror = () => { status.append(errorBox({ code: 'NetworkingError', message: key })); row.remove(); resolve(); };
    xhr.send(body);
  });
}

const PREVIEW_BYTES = 256 * 1024;

async function showObject(ctx, bucket, region, key, detail, status, reload) {
  const { aws } = ctx;
  clear(detail).append(h('p', { class: 'muted' }, t('loading')));
  let head;
  try {
    head = await aws.s3('HEAD', bucket, key, { region });
  } catch (error) {
    clear(detail).append(errorBox(error));
    return;
  }
  const size = Number(head.headers.get('content-length') || 0);
  const preview = h('div', { class: 'preview', id: 'object-preview' }, h('p', { class: 'muted' }, t('loading')));
  const name = key.split('/').pop();
  clear(detail).append(h('section', { class: 'card' },
    h('h2', {}, key),
    h('dl', { class: 'props' },
      h('dt', {}, t('size')), h('dd', {}, `${formatBytes(size)} (${size})`),
      h('dt', {}, t('lastModified')), h('dd', {}, formatTime(head.headers.get('last-modified'))),
      h('dt', {}, 'ETag'), h('dd', {}, head.headers.get('etag') || ''),
      h('dt', {}, 'Content-Type'), h('dd', {}, head.headers.get('content-type') || ''),
      h('dt', {}, 'S3 URI'), h('dd', {}, `s3://${bucket}/${key}`)),
    h('div', { class: 'actions' },
      h('button', {
        id: 'download-object',
        onclick: async () => {
          const url = await aws.presignedUrl({
            service: 's3', path: `/${uriEncode(bucket)}/${uriEncode(key, true)}`, region,
            query: [['response-content-disposition', `attachment; filename="${name.replace(/"/g, '')}"`]],
          });
          const a = h('a', { href: url, download: name });
          document.body.append(a);
          a.click();
          a.remove();
        },
      }, t('s3.download')),
      h('button', {
        class: 'danger', id: 'delete-object',
        onclick: async () => {
          if (!confirm(t('s3.confirmDeleteObjects', 1))) return;
          if (await attempt(status, () => aws.s3('DELETE', bucket, key, { region }), t('s3.objectsDeleted', 1))) {
            clear(detail);
            reload();
          }
        },
      }, t('delete'))),
    h('h3', {}, t('s3.preview')), preview));

  try {
    const response = await aws.s3('GET', bucket, key, { region, headers: [['Range', `bytes=0-${PREVIEW_BYTES - 1}`]] });
    let bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes[0] === 0x1f && bytes[1] === 0x8b && size <= PREVIEW_BYTES && typeof DecompressionStream === 'function') {
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    }
    clear(preview).append(previewOf(bytes, size > PREVIEW_BYTES));
  } catch (error) {
    clear(preview).append(errorBox(error));
  }
}

function previewOf(bytes, truncated) {
  if (bytes.includes(0)) return h('p', { class: 'muted' }, t('s3.binary'));
  const text = new TextDecoder().decode(bytes);
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const note = truncated ? h('p', { class: 'muted small' }, t('s3.truncated')) : null;
  const parsed = [];
  for (const line of lines) {
    try { parsed.push(JSON.parse(line)); } catch { parsed.length = 0; break; }
  }
  if (lines.length > 0 && parsed.length === lines.length && (lines.length > 1 || typeof parsed[0] === 'object')) {
    return h('div', {},
      h('p', { class: 'muted small' }, t('s3.jsonLines', lines.length)), note,
      h('ol', { class: 'json-lines' }, parsed.map((value) => h('li', {}, h('pre', {}, JSON.stringify(value, null, 2))))));
  }
  return h('div', {}, note, h('pre', { class: 'text' }, text));
}
