// The MQTT test client, as AWS IoT's console has it: one MQTT connection
// over WebSocket at /mqtt (a SigV4 presigned URL, service iotdevicegateway);
// subscribe to filters such as '#', messages arriving live (topic, time,
// QoS, retain flag, JSON pretty-printed), pause, clear; publish a payload to
// a topic with QoS and retain. The list keeps the latest MAX_MESSAGES.
import { MqttClient } from '../mqtt.js';
import { t } from '../i18n.js';
import { h, clear, errorBox, successBox, field, pageHeader } from '../ui.js';

const MAX_MESSAGES = 500;
const SAMPLE = JSON.stringify({
  Datetime: '2019-01-01 00:00:00', 'AgeRange-Low': 15, 'AgeRange-High': 20, Gender: 'Female', Smile: true,
  Eyeglasses: false, Sunglasses: false, Beard: false, Mustache: false, EyesOpen: false, MouthOpen: true,
}, null, 2);

let client = null;

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
  const list = h('ol', { class: 'messages', id: 'messages', 'aria-live': 'off' });
  const counter = h('span', { class: 'muted small', id: 'message-count' }, t('mqtt.count', 0, 0));
  let total = 0;
  let paused = false;
  let queue = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (paused) return;
    const batch = queue.slice(-MAX_MESSAGES);
    queue = [];
    const fragment = document.createDocumentFragment();
    for (let i = batch.length - 1; i >= 0; i--) fragment.append(messageItem(batch[i], decoder));
    list.prepend(fragment);
    while (list.childElementCount > MAX_MESSAGES) list.lastElementChild.remove();
    counter.textContent = t('mqtt.count', list.childElementCount, total);
  };
  const onMessage = (message) => {
    total++;
    message.time = new Date();
    queue.push(message);
    if (queue.length > MAX_MESSAGES) queue.splice(0, queue.length - MAX_MESSAGES);
    if (!scheduled && !paused) { scheduled = true; requestAnimationFrame(flush); }
  };
  const pause = h('button', {
    id: 'pause', 'aria-pressed': 'false',
    onclick: () => {
      paused = !paused;
      pause.setAttribute('aria-pressed', String(paused));
      pause.textContent = paused ? t('mqtt.resume') : t('mqtt.pause');
      if (!paused) flush();
    },
  }, t('mqtt.pause'));
  const clearButton = h('button', { id: 'clear-messages', onclick: () => { clear(list); queue = []; total = 0; counter.textContent = t('mqtt.count', 0, 0); } }, t('mqtt.clear'));

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
  const payload = h('textarea', { id: 'publish-payload', rows: 10, spellcheck: 'false' }, SAMPLE);
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
      } catch (error) {
        publishStatus.append(errorBox({ code: t('mqtt.closed'), message: error.message }));
      }
    },
  }, h('h2', {}, t('mqtt.publish')),
  h('div', { class: 'row' }, field(t('mqtt.topic'), topic), field('QoS', pubQos),
    h('label', { class: 'check' }, retain, ' ', t('mqtt.retain'))),
  field(t('mqtt.payload'), payload),
  h('button', { type: 'submit', class: 'primary', id: 'publish' }, t('mqtt.publish')), publishStatus);

  main.append(
    pageHeader(t('mqtt.title'), connection, reconnect),
    h('p', { class: 'muted small' }, t('mqtt.intro', ctx.region)),
    status,
    h('div', { class: 'columns' },
      h('div', {}, subscribeForm, publishForm),
      h('section', { class: 'card messages-card' },
        h('div', { class: 'page-header' }, h('h2', {}, t('mqtt.messages')), h('div', { class: 'actions' }, counter, pause, clearButton)),
        list)));
  await connect();
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
      h('time', { datetime: message.time.toISOString() }, message.time.toLocaleTimeString()),
      h('span', { class: 'badge' }, `QoS ${message.qos}`),
      message.retain ? h('span', { class: 'badge retained' }, t('mqtt.retained')) : null),
    body);
}
