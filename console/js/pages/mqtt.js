// The MQTT test client, as AWS IoT's console has it: one MQTT connection
// over WebSocket at /mqtt (a SigV4 presigned URL, service iotdevicegateway);
// subscribe to filters such as '#', messages arriving live (topic, time,
// QoS, retain flag, JSON pretty-printed), pause, clear; publish a payload to
// a topic with QoS and retain; the retained messages (list, view, remove).
// The list keeps the latest MAX_MESSAGES (and shows the newest LIVE_SHOWN
// while messages flow).
import { MqttClient } from '../mqtt.js';
import { t } from '../i18n.js';
import { h, clear, errorBox, successBox, field, pageHeader, attempt, table, formatBytes, formatTime, submitOnCtrlEnter, rowKeys } from '../ui.js';
import { uriEncode } from '../sigv4.js';

const MAX_MESSAGES = 500;
const LIVE_SHOWN = 50;
const FLUSH_MS = 100;
const SAMPLE = JSON.stringify({
  Datetime: '2019-01-01 00:00:00', 'AgeRange-Low': 15, 'AgeRange-High': 20, Gender: 'Female', Smile: true,
  Eyeglasses: false, Sunglasses: false, Beard: false, Mustache: false, EyesOpen: false, MouthOpen: true,
}, null, 2);

let client = null;
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function leave() {
  if (client) client.close();
  client = null;
}

export async function render(ctx) {
  const { aws, main } = ctx;
  const connection = h('span', { class: 'badge', id: 'mqtt-state' }, t('mqtt.connecting'));
  const status = h('div', { class: 'status', id: 'mqtt-status' });
  const decoder = new TextDecoder();

  // --- messages ------------------------------------------------------
  // The latest MAX_MESSAGES are kept (`kept`, oldest first). While live, the
  // list shows the newest LIVE_SHOWN of them, drawn at most every FLUSH_MS:
  // at thousands a second nobody reads more, and drawing every message would
  // freeze the page. Paused, it shows every message kept, to scroll through.
  // Up, Down, Home and End move from message to message (ui.js, rowKeys).
  // In the tab order in every browser (Chromium alone stops on a scrolling list by itself).
  const list = h('ol', { class: 'messages', id: 'messages', 'aria-live': 'off', tabindex: 0, onkeydown: rowKeys });
  const counter = h('span', { class: 'muted small', id: 'message-count' }, t('mqtt.count', 0, 0));
  let total = 0;
  let paused = false;
  let kept = [];
  let queue = [];  // arrived since the last flush
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (paused) return;
    const fresh = queue.length > MAX_MESSAGES ? queue.slice(-MAX_MESSAGES) : queue;
    queue = [];
    kept = kept.concat(fresh);
    if (kept.length > MAX_MESSAGES) kept = kept.slice(-MAX_MESSAGES);
    const drawn = fresh.slice(-LIVE_SHOWN);
    const fragment = document.createDocumentFragment();
    for (let i = drawn.length - 1; i >= 0; i--) fragment.append(messageItem(drawn[i], decoder));
    list.prepend(fragment);
    while (list.childElementCount > LIVE_SHOWN) list.lastElementChild.remove();
    counter.textContent = t('mqtt.count', kept.length, total);
  };
  const onMessage = (message) => {
    total++;
    message.time = new Date();
    queue.push(message);
    if (!scheduled && !paused) { scheduled = true; setTimeout(() => requestAnimationFrame(flush), FLUSH_MS); }
  };
  const pause = h('button', {
    id: 'pause', 'aria-pressed': 'false',
    onclick: () => {
      paused = !paused;
      pause.setAttribute('aria-pressed', String(paused));
      pause.textContent = paused ? t('mqtt.resume') : t('mqtt.pause');
      if (!paused) {
        flush();
        return;
      }
      const fragment = document.createDocumentFragment();
      for (let i = kept.length - 1; i >= 0; i--) fragment.append(messageItem(kept[i], decoder));
      clear(list).append(fragment);
    },
  }, t('mqtt.pause'));
  const clearButton = h('button', { id: 'clear-messages', onclick: () => { clear(list); kept = []; queue = []; total = 0; counter.textContent = t('mqtt.count', 0, 0); } }, t('mqtt.clear'));

  // --- connection ----------------------------------------------------
  const subscriptions = new Map();  // filter -> qos
  const subList = h('ul', { class: 'subscriptions', id: 'subscriptions' });
  const renderSubs = () => {
    clear(subList);
    for (const [filter, qos] of subscriptions) {
      subList.append(h('li', { 'data-filter': filter }, h('code', {}, filter), h('span', { class: 'muted small' }, ` QoS ${qos} `),
        h('button', { class: 'link small', onclick: async () => {
          subscriptions.delete(filter);
          renderSubs();
          if (client?.open) await client.unsubscribe(filter).catch(() => {});
        } }, t('mqtt.unsubscribe'))));
    }
  };
  const reconnect = h('button', { class: 'small', hidden: true, onclick: () => connect() }, t('mqtt.reconnect'));

  async function connect() {
    reconnect.hidden = true;
    connection.className = 'badge';
    connection.textContent = t('mqtt.connecting');
    const mine = new MqttClient({
      onMessage,
      onClose: (reason) => {
        if (client !== mine) return;
        connection.className = 'badge off';
        connection.textContent = t('mqtt.disconnected');
        status.append(errorBox({ code: t('mqtt.closed'), message: reason === 'connection closed' ? t('mqtt.closedHint') : reason }));
        reconnect.hidden = false;
      },
    });
    if (client) client.close();
    client = mine;
    try {
      const url = await aws.presignedUrl({ service: 'iotdevicegateway', path: '/mqtt', scheme: location.protocol === 'https:' ? 'wss:' : 'ws:' });
      const clientId = `offcloud-console-${crypto.getRandomValues(new Uint32Array(2)).join('')}`.slice(0, 40);
      await mine.connect(url, clientId);
      connection.className = 'badge on';
      connection.textContent = t('mqtt.connected');
      connection.title = clientId;
      for (const [filter, qos] of subscriptions) await mine.subscribe(filter, qos);
    } catch (error) {
      if (client !== mine) return;
      connection.className = 'badge off';
      connection.textContent = t('mqtt.disconnected');
      status.append(errorBox({ code: t('mqtt.connectFailed'), message: error.message }));
      reconnect.hidden = false;
    }
  }

  // --- subscribe -----------------------------------------------------
  const filterInput = h('input', { id: 'subscribe-filter', value: '#', spellcheck: 'false', required: true });
  const subQos = h('select', { id: 'subscribe-qos' }, h('option', { value: 0 }, 'QoS 0'), h('option', { value: 1 }, 'QoS 1'));
  const subscribeForm = h('form', {
    class: 'card', id: 'subscribe-form',
    onsubmit: async (event) => {
      event.preventDefault();
      clear(status);
      const filter = filterInput.value.trim();
      if (!client?.open) { status.append(errorBox({ code: t('mqtt.disconnected'), message: '' })); return; }
      try {
        const granted = await client.subscribe(filter, Number(subQos.value));
        if (granted === 0x80) {
          status.append(errorBox({ code: 'SUBACK 0x80', message: t('mqtt.subscribeRefused', filter) }));
          return;
        }
        subscriptions.set(filter, granted);
        renderSubs();
      } catch (error) {
        status.append(errorBox({ code: t('mqtt.closed'), message: error.message }));
      }
    },
  }, h('h2', {}, t('mqtt.subscribe')), h('div', { class: 'row' }, field(t('mqtt.filter'), filterInput, t('mqtt.filterHint')), field('QoS', subQos)),
  h('button', { type: 'submit', class: 'primary', id: 'subscribe' }, t('mqtt.subscribe')), subList);

  // --- publish -------------------------------------------------------
  const topic = h('input', { id: 'publish-topic', value: 'handson/analysisLogData', spellcheck: 'false', required: true });
  const pubQos = h('select', { id: 'publish-qos' }, h('option', { value: 0 }, 'QoS 0'), h('option', { value: 1 }, 'QoS 1'));
  const retain = h('input', { type: 'checkbox', id: 'publish-retain' });
  const payload = submitOnCtrlEnter(h('textarea', { id: 'publish-payload', rows: 10, spellcheck: 'false' }, SAMPLE));
  const publishStatus = h('div', { class: 'status', id: 'publish-status' });
  const publishForm = h('form', {
    class: 'card', id: 'publish-form',
    onsubmit: async (event) => {
      event.preventDefault();
      clear(publishStatus);
      if (!client?.open) { publishStatus.append(errorBox({ code: t('mqtt.disconnected'), message: '' })); return; }
      try {
        await client.publish(topic.value.trim(), payload.value, { qos: Number(pubQos.value), retain: retain.checked });
        publishStatus.append(successBox(t('mqtt.published', topic.value.trim())));
        if (retain.checked) retained.load();
      } catch (error) {
        publishStatus.append(errorBox({ code: t('mqtt.closed'), message: error.message }));
      }
    },
  }, h('h2', {}, t('mqtt.publish')),
  h('div', { class: 'row' }, field(t('mqtt.topic'), topic), field('QoS', pubQos),
    h('label', { class: 'check' }, retain, ' ', t('mqtt.retain'))),
  field(t('mqtt.payload'), payload),
  h('button', { type: 'submit', class: 'primary', id: 'publish' }, t('mqtt.publish')), publishStatus);

  const retained = retainedCard(aws, () => client);

  main.append(
    pageHeader(t('mqtt.title'), connection, reconnect),
    h('p', { class: 'muted small' }, t('mqtt.intro', ctx.region)),
    status,
    h('div', { class: 'columns' },
      h('div', {}, subscribeForm, publishForm),
      h('section', { class: 'card messages-card' },
        h('div', { class: 'page-header' }, h('h2', {}, t('mqtt.messages')), h('div', { class: 'actions' }, counter, pause, clearButton)),
        list)),
    retained);
  await Promise.all([connect(), retained.load()]);
}

// The retained messages, as AWS IoT's console lists them: ListRetainedMessages
// a page at a time, GetRetainedMessage to show one's payload, and removal by
// publishing an empty retained message to its topic (what AWS's console
// does; MQTT gives no other way).
const RETAINED_PAGE = 25;

function retainedCard(aws, currentClient) {
  const status = h('div', { class: 'status', id: 'retained-status' });
  const list = h('div', { id: 'retained-list' });
  const shown = h('div', { id: 'retained-payload' });
  const tokens = [undefined];  // the token of each page seen: [0] the first
  let page = 0;
  const previous = h('button', { class: 'small', id: 'retained-previous', disabled: true, onclick: () => { page--; card.load(); } }, t('mqtt.previousPage'));
  const next = h('button', { class: 'small', id: 'retained-next', disabled: true, onclick: () => { page++; card.load(); } }, t('mqtt.nextPage'));

  async function view(topic) {
    clear(shown);
    const message = await attempt(status, () => aws.restJson('iotdata', 'GET', `/retainedMessage/${uriEncode(topic)}`));
    if (!message) return;
    const bytes = Uint8Array.from(atob(message.payload || ''), (c) => c.charCodeAt(0));
    const text = new TextDecoder().decode(bytes);
    let pretty = text;
    try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as it is */ }
    shown.append(h('div', { class: 'retained-message', 'data-topic': message.topic },
      h('h3', {}, h('code', {}, message.topic)),
      h('p', { class: 'muted small' }, `QoS ${message.qos} · ${formatTime(message.lastModifiedTime)}`),
      h('pre', { class: 'json' }, pretty)));
  }

  async function remove(topic) {
    const client = currentClient();
    if (!client?.open) { clear(status).append(errorBox({ code: t('mqtt.disconnected'), message: '' })); return; }
    // QoS 1: the broker has dropped the message once PUBACK is back.
    const ok = await attempt(status, () => client.publish(topic, new Uint8Array(0), { qos: 1, retain: true }).then(() => true),
      t('mqtt.retainedRemoved', topic));
    if (ok) { clear(shown); card.load(status); }
  }

  const card = h('section', { class: 'card', id: 'retained' },
    h('div', { class: 'page-header' }, h('h2', {}, t('mqtt.retainedTitle')),
      h('div', { class: 'actions' }, h('button', { class: 'small', id: 'refresh-retained', onclick: () => card.load() }, t('refresh')))),
    status, list, h('div', { class: 'actions pager' }, previous, next), shown);

  // Loads the current page; `keep` is a status box not to clear.
  card.load = async (keep) => {
    if (keep !== status) clear(status);
    const query = [['maxResults', String(RETAINED_PAGE)]];
    if (tokens[page]) query.push(['nextToken', tokens[page]]);
    let result;
    try {
      result = await aws.restJson('iotdata', 'GET', '/retainedMessage', undefined, query);
    } catch (error) {
      clear(list).append(errorBox(error));
      return;
    }
    if (!result.retainedTopics?.length && page > 0) {  // its last message was removed
      page--;
      card.load(keep);
      return;
    }
    tokens.length = page + 1;
    if (result.nextToken) tokens.push(result.nextToken);
    previous.disabled = page === 0;
    next.disabled = !result.nextToken;
    const rows = (result.retainedTopics || []).map((r) => h('tr', { 'data-retained': r.topic },
      h('td', {}, h('button', { class: 'link', 'data-action': 'view-retained', onclick: () => view(r.topic) }, r.topic)),
      h('td', {}, formatBytes(r.payloadSize)), h('td', {}, `QoS ${r.qos}`), h('td', {}, formatTime(r.lastModifiedTime)),
      h('td', {}, h('button', { class: 'danger small', 'data-action': 'remove-retained', onclick: () => remove(r.topic) }, t('mqtt.removeRetained')))));
    clear(list).append(table([t('mqtt.topic'), t('size'), 'QoS', t('lastModified'), ''], rows, t('mqtt.noRetained')));
  };
  return card;
}

function messageItem(message, decoder) {
  const text = decoder.decode(message.payload);
  let body;
  try {
    body = h('pre', { class: 'json' }, JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    body = h('pre', {}, text);
  }
  return h('li', { class: 'message', 'data-topic': message.topic },
    h('div', { class: 'meta' },
      h('code', { class: 'topic' }, message.topic),
      h('time', {}, timeFormat.format(message.time)),
      h('span', { class: 'badge' }, `QoS ${message.qos}`),
      message.retain ? h('span', { class: 'badge retained' }, t('mqtt.retained')) : null),
    body);
}
