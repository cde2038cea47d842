// Overview: the hands-on's data flow drawn from the resources that exist in
// this account and region (device -> topic -> rule -> stream -> bucket):
// each rule's FROM topic, its firehose, s3 and republish actions, each
// stream's bucket. Inline SVG, no library. The counts on it come from the
// live feed (live.js, counters) and change in place as messages flow:
// messages per topic, each rule's matches and errors, each stream's
// records in, buffered and delivered, the objects in each bucket from its
// streams. Topics that receive messages but feed no rule are drawn too:
// the first thing to look at when "nothing arrives".
//
// Keyboard: every box is a link in the tab order (Enter or Space opens its
// page), with its counts in its accessible name; the arrow keys move between
// boxes as the picture reads (Left and Right along the flow, Up and Down
// within a column, Home and End to a column's ends).
import { t } from '../i18n.js';
import { h, clear, errorBox, pageHeader, formatBytes } from '../ui.js';
import { xmlAll, xmlText } from '../aws.js';
import { Live } from '../live.js';

const SVG = 'http://www.w3.org/2000/svg';
const BOX_W = 210;
const BOX_H = 82;
const GAP_X = 56;
const GAP_Y = 18;
const PAD = 16;
const COLUMNS = ['device', 'topic', 'rule', 'stream', 'bucket'];
const MAX_UNROUTED = 5;  // topics with messages and no rule, drawn at most

let live = null;
let visits = 0;

export function leave() {
  visits++;
  if (live) live.stop();
  live = null;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null && value !== false) el.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) el.append(child);
  }
  return el;
}

function shorten(text, max = 25) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// MQTT topic filter matching (+ one level, # the rest), as the rules engine does.
function matches(filter, topic) {
  const f = filter.split('/');
  const n = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= n.length) return false;
    if (f[i] !== '+' && f[i] !== n[i]) return false;
  }
  return f.length === n.length;
}

// The resources, read with the same API calls any SDK makes.
async function loadGraph(aws) {
  const [ruleList, streamList, bucketDoc] = await Promise.all([
    aws.iot('GET', '/rules').then((r) => r.rules || []),
    aws.firehose('ListDeliveryStreams', { Limit: 100 }).then((r) => r.DeliveryStreamNames || []),
    aws.s3Xml('GET').then((doc) => new Set(xmlAll(doc, 'Bucket').map((b) => xmlText(b, 'Name')))).catch(() => null),
  ]);
  const rules = await Promise.all(ruleList.map(async (item) => {
    const { rule } = await aws.iot('GET', `/rules/${encodeURIComponent(item.ruleName)}`);
    return { name: item.ruleName, topic: item.topicPattern || '', disabled: !!item.ruleDisabled, actions: rule.actions || [] };
  }));
  const streams = await Promise.all(streamList.map(async (name) => {
    const { DeliveryStreamDescription: d } = await aws.firehose('DescribeDeliveryStream', { DeliveryStreamName: name });
    const destination = (d.Destinations || [])[0] || {};
    const s3 = destination.ExtendedS3DestinationDescription || destination.S3DestinationDescription || {};
    return { name, bucket: (s3.BucketARN || '').replace(/^arn:aws:s3:::/, '') };
  }));
  return { rules, streams, buckets: bucketDoc };
}

// Nodes (by column) and edges from the resources and the topics counted.
function layout(graph, counters) {
  const nodes = new Map();
  const edges = [];
  const add = (kind, name, extra = {}) => {
    const key = `${kind}:${name}`;
    if (!nodes.has(key)) nodes.set(key, { key, kind, name, ...extra });
    return key;
  };
  const edge = (from, to) => {
    if (!edges.some((e) => e.from === from && e.to === to)) edges.push({ from, to });
  };
  const device = add('device', 'devices');
  for (const rule of graph.rules) {
    const topic = add('topic', rule.topic);
    const r = add('rule', rule.name, { disabled: rule.disabled });
    edge(device, topic);
    edge(topic, r);
    for (const action of rule.actions) {
      if (action.firehose) edge(r, add('stream', action.firehose.deliveryStreamName));
      if (action.s3) edge(r, add('bucket', action.s3.bucketName));
      if (action.republish) {
        const target = add('topic', action.republish.topic);
        edge(r, target);
      }
    }
  }
  for (const stream of graph.streams) {
    const s = add('stream', stream.name);
    if (stream.bucket) edge(s, add('bucket', stream.bucket));
  }
  // Topics with messages that no rule reads.
  const filters = graph.rules.map((rule) => rule.topic);
  const unrouted = (counters?.topics || []).filter((c) => !filters.some((f) => matches(f, c.topic)));
  for (const c of unrouted.slice(0, MAX_UNROUTED)) {
    edge(device, add('topic', c.topic, { unrouted: true }));
  }
  const columns = COLUMNS.map((kind) => [...nodes.values()].filter((n) => n.kind === kind));
  const rows = Math.max(1, ...columns.map((c) => c.length));
  const height = PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y;
  columns.forEach((column, i) => {
    const top = (height - (column.length * BOX_H + (column.length - 1) * GAP_Y)) / 2;
    column.forEach((node, j) => {
      node.x = PAD + i * (BOX_W + GAP_X);
      node.y = top + j * (BOX_H + GAP_Y);
    });
  });
  return { nodes, columns, edges, width: PAD * 2 + COLUMNS.length * BOX_W + (COLUMNS.length - 1) * GAP_X, height };
}

// The counts of one node from a counters frame: [line1, line2, state].
function countsOf(node, graph, counters) {
  const c = counters || { topics: [], rules: [], streams: [], messages: 0 };
  if (node.kind === 'device') return [t('overview.messages', c.messages || 0), '', ''];
  if (node.kind === 'topic') {
    const sum = c.topics.filter((x) => matches(node.name, x.topic)).reduce((n, x) => n + x.messages, 0);
    return [t('overview.messages', sum), node.unrouted ? t('overview.noRule') : '', node.unrouted ? 'warn' : ''];
  }
  if (node.kind === 'rule') {
    const r = c.rules.find((x) => x.name === node.name) || { matches: 0, errors: 0 };
    return [t('overview.matches', r.matches), r.errors ? t('overview.errors', r.errors) : (node.disabled ? t('rules.disabled') : ''),
      r.errors ? 'bad' : (node.disabled ? 'off' : '')];
  }
  if (node.kind === 'stream') {
    const s = c.streams.find((x) => x.name === node.name);
    const exists = graph.streams.some((x) => x.name === node.name);
    if (!exists) return [t('overview.missingStream'), '', 'bad'];
    if (!s) return [t('overview.records', 0, 0), t('overview.objects', 0), ''];
    return [t('overview.records', s.records_in, s.records_buffered),
      t('overview.objects', s.objects) + (s.last_delivery_ms ? ` · ${new Date(s.last_delivery_ms).toLocaleTimeString()}` : ''), ''];
  }
  const into = graph.streams.filter((s) => s.bucket === node.name).map((s) => s.name);
  const objects = c.streams.filter((s) => into.includes(s.name)).reduce((n, s) => n + s.objects, 0);
  const missing = graph.buckets && !graph.buckets.has(node.name);
  return [missing ? t('overview.missingBucket') : t('overview.delivered', objects),
    missing ? '' : formatBytes(c.streams.filter((s) => into.includes(s.name)).reduce((n, s) => n + s.object_bytes, 0)),
    missing ? 'bad' : ''];
}

const LINKS = {
  device: () => '#/mqtt',
  topic: () => '#/mqtt',
  rule: () => '#/rules',
  stream: () => '#/firehose',
  bucket: (name) => `#/s3/${encodeURIComponent(name)}`,
};

function draw(picture, graph, counters, previous) {
  const { nodes, columns, edges, width, height } = layout(graph, counters);
  const focused = document.activeElement?.dataset?.node;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, width, height, class: 'flow', role: 'group',
    'aria-label': t('overview.pictureLabel'), id: 'overview-flow',
  });
  root.append(svg('defs', {}, svg('marker', {
    id: 'flow-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse',
  }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }))));
  for (const e of edges) {
    const a = nodes.get(e.from);
    const b = nodes.get(e.to);
    const back = b.x <= a.x;  // a republish, back to a topic
    const x1 = back ? a.x + BOX_W / 2 : a.x + BOX_W;
    const y1 = back ? a.y + BOX_H : a.y + BOX_H / 2;
    const x2 = back ? b.x + BOX_W / 2 : b.x;
    const y2 = back ? b.y + BOX_H : b.y + BOX_H / 2;
    const d = back
      ? `M${x1},${y1} C${x1},${y1 + 40} ${x2},${y2 + 40} ${x2},${y2 + 2}`
      : `M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2 - 2},${y2}`;
    root.append(svg('path', { d, class: 'edge', 'data-edge': `${e.from}>${e.to}`, 'marker-end': 'url(#flow-arrow)' }));
  }
  const counts = new Map();
  // Column by column, top to bottom: the tab order reads the flow.
  for (const node of columns.flat()) {
    const [line1, line2, state] = countsOf(node, graph, counters);
    const title = node.kind === 'device' ? t('overview.devices') : node.name;
    const label = `${t(`overview.kind.${node.kind}`)} ${title}: ${line1}${line2 ? `, ${line2}` : ''}`;
    const g = svg('g', {
      class: `node ${node.kind} ${state}`, tabindex: 0, role: 'link', 'aria-label': label,
      'data-node': node.key, transform: `translate(${node.x},${node.y})`,
    },
    svg('title', {}, label),
    svg('rect', { width: BOX_W, height: BOX_H, rx: 8 }),
    svg('text', { x: 12, y: 18, class: 'kind' }, t(`overview.kind.${node.kind}`)),
    svg('text', { x: 12, y: 36, class: 'name' }, shorten(title)),
    svg('g', { class: 'count', 'data-count': node.key },
      svg('text', { x: 12, y: 55 }, line1), svg('text', { x: 12, y: 72 }, line2)));
    const go = () => { location.hash = LINKS[node.kind](node.name); };
    g.addEventListener('click', go);
    g.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); go(); }
    });
    // A count that rose since the last frame flashes once.
    if (previous && previous.get(node.key) !== undefined && previous.get(node.key) !== line1 + line2) g.classList.add('pulse');
    counts.set(node.key, line1 + line2);
    root.append(g);
  }
  root.addEventListener('keydown', (event) => arrows(event, root, nodes, columns, edges));
  clear(picture).append(root);
  if (focused) root.querySelector(`[data-node="${CSS.escape(focused)}"]`)?.focus();
  return counts;
}

// Left and Right go to the next column along the flow that has boxes: to a
// box linked to this one if any (a rule's stream, not its neighbour's), the
// one nearest in height else. Tab still visits every box in column order.
function arrows(event, root, nodes, columns, edges) {
  const from = nodes.get(event.target.dataset?.node);
  if (!from || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const i = COLUMNS.indexOf(from.kind);
  const column = columns[i];
  const j = column.indexOf(from);
  const nearest = (list) => list.sort((a, b) => Math.abs(a.y - from.y) - Math.abs(b.y - from.y))[0];
  const linked = (n) => edges.some((e) => (e.from === from.key && e.to === n.key) || (e.to === from.key && e.from === n.key));
  let to;
  if (event.key === 'ArrowUp') to = column[j - 1];
  else if (event.key === 'ArrowDown') to = column[j + 1];
  else if (event.key === 'Home') to = column[0];
  else if (event.key === 'End') to = column[column.length - 1];
  else if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
    const step = event.key === 'ArrowLeft' ? -1 : 1;
    let k = i + step;
    while (columns[k] && !columns[k].length) k += step;
    if (columns[k]) to = nearest(columns[k].filter(linked)) || nearest([...columns[k]]);
  } else return;
  event.preventDefault();  // no scrolling, even at an end of the picture
  if (to) root.querySelector(`[data-node="${CSS.escape(to.key)}"]`).focus();
}

export async function render(ctx) {
  const { aws, main } = ctx;
  leave();
  const mine = visits;
  const status = h('div', { id: 'overview-status' });
  const picture = h('div', { class: 'flow-picture', id: 'overview-picture' }, h('p', { class: 'muted' }, t('loading')));
  const liveState = h('span', { class: 'live-state muted small', id: 'overview-live', 'data-state': 'connecting', role: 'status' }, t('live.connecting'));
  const updated = h('span', { class: 'muted small', id: 'overview-updated' });
  let graph = null;
  let counters = null;
  let drawn = null;
  let known = '';

  async function reload() {
    try {
      graph = await loadGraph(aws);
    } catch (error) {
      clear(status).append(errorBox(error));
      clear(picture);
      return;
    }
    if (mine !== visits) return;
    clear(status);
    known = names(counters);
    drawn = draw(picture, graph, counters, null);
  }

  // The rules and streams the counters name: a new one means the resources changed.
  function names(frame) {
    return frame ? [...frame.rules.map((r) => r.name), '|', ...frame.streams.map((s) => s.name)].join(',') : '';
  }

  main.append(
    pageHeader(t('overview.title'), h('button', { id: 'overview-refresh', onclick: reload }, t('refresh'))),
    h('p', { class: 'muted' }, t('overview.intro'), ' ', liveState, ' ', updated),
    status,
    picture);
  await reload();
  if (mine !== visits) return;
  live = new Live(aws, {
    feeds: ['counters'],
    onCounters: (frame) => {
      if (!counters) known = names(frame);
      counters = frame;
      updated.textContent = t('overview.updated', new Date(frame.server_time_ms).toLocaleTimeString());
      if (!graph) return;
      if (names(frame) !== known) {
        reload();
        return;
      }
      drawn = draw(picture, graph, counters, drawn);
    },
    onState: (state, detail) => {
      liveState.dataset.state = state;
      liveState.textContent = t(`live.${state}`, detail === undefined ? '' : Math.round(detail / 1000));
      if (state === 'error') clear(status).append(errorBox({ code: t('error'), message: detail }));
    },
  });
  live.start();
}
