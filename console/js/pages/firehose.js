// Firehose: delivery streams; create (DirectPut to an S3 bucket, buffer
// size and interval, prefix, compression), describe, update (the same
// settings, by UpdateDestination), delete; and each
// stream's buffer, live: records, bytes, the oldest record's age, a
// countdown to the delivery by interval, the last failure, the latest
// deliveries. The buffers come pushed over the live feed (live.js,
// "buffers" frames: sent when a buffer changed); between frames the age and
// the countdown tick here, on the server's clock.
import { xmlAll, xmlText } from '../aws.js';
import { t } from '../i18n.js';
import { h, clear, attempt, errorBox, successBox, formatBytes, formatTime, field, table, pageHeader, FOCUSABLE } from '../ui.js';
import { Live } from '../live.js';

let live = null;
let ticker = null;

export function leave() {
  if (live) live.stop();
  live = null;
  clearInterval(ticker);
  ticker = null;
}

function compressionSelect(id, value) {
  return h('select', { id },
    [['UNCOMPRESSED', t('firehose.disabled')], ['GZIP', 'GZIP']].map(([v, label]) =>
      h('option', { value: v, selected: v === value || null }, label)));
}

// The two values that move with the clock alone.
function age(view, now) {
  return view.oldest_arrival_ms ? t('firehose.age', Math.max(0, Math.floor((now - view.oldest_arrival_ms) / 1000))) : '—';
}

function countdown(view, now) {
  const due = view.next_delivery_ms;
  return !view.records ? t('firehose.nothingDue')
    : due > now ? t('firehose.countdown', Math.ceil((due - now) / 1000)) : t('firehose.now');
}

function bufferCard(view, now) {
  const prop = (label, name, value) => [h('dt', {}, label), h('dd', { 'data-field': name }, value)];
  const card = h('section', { class: 'card buffer', 'data-buffer': view.stream },
    h('h2', {}, t('firehose.buffer', view.stream)),
    h('dl', { class: 'props' },
      prop(t('firehose.buffered'), 'records', String(view.records)),
      prop(t('firehose.bufferedBytes'), 'bytes', `${formatBytes(view.bytes)} / ${formatBytes(view.size_bytes)}`),
      prop(t('firehose.oldest'), 'age', age(view, now)),
      prop(t('firehose.nextDelivery'), 'countdown', countdown(view, now))),
    view.last_error ? h('div', { class: 'alert error', role: 'alert', 'data-field': 'last-error' },
      t('firehose.deliveryFailed', view.failures, view.last_error)) : null,
    h('h3', {}, t('firehose.deliveries')),
    table([t('firehose.objectKey'), t('firehose.records'), t('firehose.bytes'), t('firehose.deliveredAt')],
      view.deliveries.map((d) => h('tr', { 'data-delivery-key': d.key, 'data-records': d.records },
        h('td', {}, d.key), h('td', {}, String(d.records)), h('td', {}, formatBytes(d.bytes)), h('td', {}, formatTime(d.time_ms)))),
      t('firehose.noDeliveries')));
  card.view = view;
  return card;
}

export async function render(ctx) {
  const { aws, main } = ctx;
  const status = h('div', { class: 'status' });
  const list = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const detail = h('div', { id: 'stream-detail' });
  const buffers = h('div', { id: 'buffers' });
  const liveState = h('span', { class: 'live-state', 'data-state': 'connecting' }, t('live.connecting'));
  let skew = 0;  // the server's clock minus this browser's, as of the last frame
  leave();

  let listed = [];  // the streams ListDeliveryStreams gave
  let lastFrame = null;

  // Each stream's card from the last frame, in its order. A card whose view
  // is unchanged stays as it is, so a focus inside it stays too; one that
  // changed is replaced, its focus moved to the same place in the new one.
  // A listed stream the frame leaves out is one the key may not describe.
  function showBuffers() {
    if (!lastFrame) return;
    const old = new Map([...buffers.children].map((card) => [card.dataset.buffer, card]));
    const views = new Map(lastFrame.streams.map((view) => [view.stream, view]));
    const names = [...new Set([...lastFrame.streams.map((view) => view.stream), ...listed])];
    names.forEach((streamName, i) => {
      const view = views.get(streamName);
      const text = view ? JSON.stringify(view) : 'hidden';
      let card = old.get(streamName);
      old.delete(streamName);
      if (!card || card.viewText !== text) {
        const fresh = view ? bufferCard(view, lastFrame.server_time_ms)
          : h('section', { class: 'card buffer', 'data-buffer': streamName, 'data-hidden': '' },
            h('h2', {}, t('firehose.buffer', streamName)), h('p', { class: 'muted' }, t('firehose.bufferHidden')));
        fresh.viewText = text;
        if (card) {
          const at = [...card.querySelectorAll(FOCUSABLE)].indexOf(document.activeElement);
          card.replaceWith(fresh);
          if (at >= 0) [...fresh.querySelectorAll(FOCUSABLE)][at]?.focus();
        }
        card = fresh;
      }
      if (buffers.children[i] !== card) buffers.insertBefore(card, buffers.children[i] || null);
    });
    for (const gone of old.values()) gone.remove();
  }

  function tick() {
    const now = Date.now() + skew;
    const set = (dd, text) => { if (dd.textContent !== text) dd.textContent = text; };
    for (const card of buffers.querySelectorAll('[data-buffer]:not([data-hidden])')) {
      set(card.querySelector('dd[data-field="age"]'), age(card.view, now));
      set(card.querySelector('dd[data-field="countdown"]'), countdown(card.view, now));
    }
  }

  const name = h('input', { id: 'stream-name', required: true, spellcheck: 'false', placeholder: 'yamada-analysis-log-stream' });
  const bucket = h('select', { id: 'stream-bucket', required: true });
  const size = h('input', { id: 'buffer-size', type: 'number', min: 1, max: 128, value: 5 });
  const interval = h('input', { id: 'buffer-interval', type: 'number', min: 0, max: 900, value: 60 });
  const prefix = h('input', { id: 'stream-prefix', spellcheck: 'false', placeholder: 'logs/' });
  const errorPrefix = h('input', { id: 'stream-error-prefix', spellcheck: 'false', placeholder: 'errors/!{firehose:error-output-type}/' });
  const compression = compressionSelect('stream-compression', 'UNCOMPRESSED');

  const form = h('form', {
    class: 'card', id: 'create-stream',
    onsubmit: async (event) => {
      event.preventDefault();
      const account = ctx.session.account || '000000000000';
      const destination = {
        RoleARN: `arn:aws:iam::${account}:role/firehose_delivery_role`,
        BucketARN: `arn:aws:s3:::${bucket.value}`,
        BufferingHints: { SizeInMBs: Number(size.value), IntervalInSeconds: Number(interval.value) },
        CompressionFormat: compression.value,
      };
      if (prefix.value) destination.Prefix = prefix.value;
      if (errorPrefix.value) destination.ErrorOutputPrefix = errorPrefix.value;
      const ok = await attempt(status, () => aws.firehose('CreateDeliveryStream', {
        DeliveryStreamName: name.value.trim(), DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: destination,
      }), t('firehose.created', name.value.trim()));
      if (ok) { name.value = ''; load(); }
    },
  },
  h('h2', {}, t('firehose.create')),
  field(t('firehose.name'), name),
  field(t('firehose.source'), h('input', { value: 'Direct PUT', disabled: true })),
  field(t('firehose.destination'), bucket, t('firehose.destinationHint')),
  h('div', { class: 'row' }, field(t('firehose.bufferSize'), size, '1–128 MiB'), field(t('firehose.bufferInterval'), interval, t('firehose.intervalHint'))),
  h('div', { class: 'row' }, field(t('firehose.prefix'), prefix), field(t('firehose.errorPrefix'), errorPrefix)),
  field(t('firehose.compression'), compression),
  h('button', { type: 'submit', class: 'primary' }, t('firehose.create')));

  async function loadBuckets() {
    try {
      const doc = await aws.s3Xml('GET');
      clear(bucket).append(...xmlAll(doc, 'Bucket').map((b) => h('option', { value: xmlText(b, 'Name') }, xmlText(b, 'Name'))));
    } catch { /* the form says so when it is sent */ }
  }

  async function load() {
    let names;
    try {
      names = (await aws.firehose('ListDeliveryStreams', { Limit: 100 })).DeliveryStreamNames || [];
    } catch (error) {
      clear(list).append(errorBox(error));
      return;
    }
    const rows = [];
    for (const streamName of names) {
      const statusCell = h('td', {});
      const destCell = h('td', {});
      const createdCell = h('td', {});
      rows.push(h('tr', { 'data-stream': streamName },
        h('td', {}, h('button', { class: 'link', onclick: () => describe(streamName) }, streamName)),
        statusCell, destCell, createdCell,
        h('td', {}, h('button', {
          class: 'danger small', 'data-action': 'delete-stream',
          onclick: async () => {
            if (!confirm(t('firehose.confirmDelete', streamName))) return;
            if (await attempt(status, () => aws.firehose('DeleteDeliveryStream', { DeliveryStreamName: streamName }),
              t('firehose.deleted', streamName))) { clear(detail); load(); }
          },
        }, t('delete')))));
      aws.firehose('DescribeDeliveryStream', { DeliveryStreamName: streamName }).then(({ DeliveryStreamDescription: d }) => {
        statusCell.textContent = d.DeliveryStreamStatus;
        const s3 = (d.Destinations || [])[0]?.ExtendedS3DestinationDescription || (d.Destinations || [])[0]?.S3DestinationDescription;
        destCell.textContent = s3 ? s3.BucketARN.replace('arn:aws:s3:::', 's3://') : '';
        createdCell.textContent = formatTime(d.CreateTimestamp);
      }).catch(() => {});
    }
    clear(list).append(table([t('name'), t('status'), t('firehose.destination'), t('created'), ''], rows, t('firehose.none')));
    listed = names;
    showBuffers();
  }

  async function describe(streamName, done) {
    clear(detail).append(h('p', { class: 'muted' }, t('loading')));
    try {
      const { DeliveryStreamDescription: d } = await aws.firehose('DescribeDeliveryStream', { DeliveryStreamName: streamName });
      const s3 = (d.Destinations || [])[0]?.ExtendedS3DestinationDescription || (d.Destinations || [])[0]?.S3DestinationDescription || {};
      const hints = s3.BufferingHints || {};
      clear(detail).append(h('section', { class: 'card', 'data-version': d.VersionId },
        h('h2', {}, streamName),
        h('dl', { class: 'props' },
          h('dt', {}, 'ARN'), h('dd', {}, d.DeliveryStreamARN),
          h('dt', {}, t('status')), h('dd', {}, d.DeliveryStreamStatus),
          h('dt', {}, t('firehose.source')), h('dd', {}, d.DeliveryStreamType),
          h('dt', {}, t('firehose.destination')), h('dd', {}, s3.BucketARN || ''),
          h('dt', {}, t('firehose.bufferSize')), h('dd', {}, `${hints.SizeInMBs} MiB`),
          h('dt', {}, t('firehose.bufferInterval')), h('dd', {}, `${hints.IntervalInSeconds} s`),
          h('dt', {}, t('firehose.prefix')), h('dd', {}, s3.Prefix || ''),
          h('dt', {}, t('firehose.errorPrefix')), h('dd', {}, s3.ErrorOutputPrefix || ''),
          h('dt', {}, t('firehose.compression')), h('dd', {}, s3.CompressionFormat || ''),
          h('dt', {}, t('created')), h('dd', {}, formatTime(d.CreateTimestamp)),
          h('dt', {}, t('firehose.version')), h('dd', { 'data-field': 'version' }, d.VersionId)),
        done ? successBox(done) : null,
        updateForm(d, s3),
        h('details', {}, h('summary', {}, 'JSON'), h('pre', {}, JSON.stringify(d, null, 2)))));
    } catch (error) {
      clear(detail).append(errorBox(error));
    }
  }

  // Edit the destination as AWS's console does: UpdateDestination with the
  // VersionId and DestinationId this form was filled from, so a change made
  // meanwhile elsewhere is refused (ConcurrentModificationException).
  function updateForm(d, s3) {
    const destination = d.Destinations[0];
    const hints = s3.BufferingHints || {};
    const formStatus = h('div', { class: 'status', id: 'update-status' });
    const upSize = h('input', { id: 'update-buffer-size', type: 'number', min: 1, max: 128, required: true, value: hints.SizeInMBs });
    const upInterval = h('input', { id: 'update-buffer-interval', type: 'number', min: 0, max: 900, required: true, value: hints.IntervalInSeconds });
    const upCompression = compressionSelect('update-compression', s3.CompressionFormat);
    const upPrefix = h('input', { id: 'update-prefix', spellcheck: 'false', value: s3.Prefix || '' });
    const upErrorPrefix = h('input', { id: 'update-error-prefix', spellcheck: 'false', value: s3.ErrorOutputPrefix || '' });
    return h('form', {
      class: 'edit', id: 'update-stream',
      onsubmit: async (event) => {
        event.preventDefault();
        const update = {
          BufferingHints: { SizeInMBs: Number(upSize.value), IntervalInSeconds: Number(upInterval.value) },
          CompressionFormat: upCompression.value, Prefix: upPrefix.value, ErrorOutputPrefix: upErrorPrefix.value,
        };
        const member = destination.ExtendedS3DestinationDescription ? 'ExtendedS3DestinationUpdate' : 'S3DestinationUpdate';
        const ok = await attempt(formStatus, () => aws.firehose('UpdateDestination', {
          DeliveryStreamName: d.DeliveryStreamName, CurrentDeliveryStreamVersionId: d.VersionId,
          DestinationId: destination.DestinationId, [member]: update,
        }));
        if (ok) describe(d.DeliveryStreamName, t('firehose.updated', d.DeliveryStreamName));
      },
    },
    h('h3', {}, t('firehose.edit')),
    h('div', { class: 'row' }, field(t('firehose.bufferSize'), upSize, '1–128 MiB'), field(t('firehose.bufferInterval'), upInterval, '0–900')),
    h('div', { class: 'row' }, field(t('firehose.prefix'), upPrefix), field(t('firehose.errorPrefix'), upErrorPrefix)),
    field(t('firehose.compression'), upCompression),
    h('button', { type: 'submit', class: 'primary', id: 'update-stream-submit' }, t('save')),
    formStatus);
  }

  main.append(pageHeader(t('firehose.title'), h('button', { onclick: load }, t('refresh'))), status, list, detail,
    h('p', { class: 'muted' }, liveState), buffers, form);
  // The buffers of every stream the key may describe, a new stream's too.
  live = new Live(aws, {
    feeds: ['buffers'],
    onBuffers: (frame) => {
      skew = frame.server_time_ms - Date.now();
      lastFrame = frame;
      showBuffers();
    },
    onState: (state, detail) => {
      liveState.dataset.state = state;
      liveState.textContent = t(`live.${state}`, detail === undefined ? '' : Math.round(detail / 1000));
      if (state === 'error') {
        lastFrame = null;
        clear(buffers).append(errorBox({ code: t('error'), message: detail }));
      }
    },
  });
  live.start();
  ticker = setInterval(tick, 250);
  await Promise.all([load(), loadBuckets()]);
}
