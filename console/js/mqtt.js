// A minimal MQTT 3.1.1 client over the browser's WebSocket (subprotocol
// "mqtt"), enough for the test client: CONNECT, SUBSCRIBE, UNSUBSCRIBE,
// PUBLISH QoS 0 and 1 both ways, PINGREQ. Packets may span or share
// WebSocket messages; they are reassembled here.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function utf8(text) {
  const bytes = encoder.encode(text);
  return [bytes.length >> 8, bytes.length & 0xff, ...bytes];
}

function packet(type, flags, body) {
  const length = [];
  let n = body.length;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    length.push(digit);
  } while (n > 0);
  const out = new Uint8Array(1 + length.length + body.length);
  out[0] = (type << 4) | flags;
  out.set(length, 1);
  out.set(body, 1 + length.length);
  return out;
}

const CONNACK_REASONS = {
  1: 'unacceptable protocol version', 2: 'identifier rejected', 3: 'server unavailable',
  4: 'bad user name or password', 5: 'not authorized',
};

export class MqttClient {
  // onMessage({topic, payload (Uint8Array), qos, retain, dup}); onClose(reason)
  constructor({ onMessage, onClose } = {}) {
    this.onMessage = onMessage || (() => {});
    this.onClose = onClose || (() => {});
    this.nextId = 1;
    this.pending = new Map();  // packet id -> {resolve, reject}
    this.buffer = new Uint8Array(0);
    this.keepAlive = 60;
  }

  connect(url, clientId) {
    return new Promise((resolve, reject) => {
      let connected = false;
      const ws = new WebSocket(url, ['mqtt']);
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      this.connack = { resolve: () => { connected = true; resolve(); }, reject };
      ws.onopen = () => {
        const body = [...utf8('MQTT'), 4, 0x02, this.keepAlive >> 8, this.keepAlive & 0xff, ...utf8(clientId)];
        ws.send(packet(1, 0, body));
      };
      ws.onmessage = (event) => this.receive(new Uint8Array(event.data));
      ws.onerror = () => {};
      ws.onclose = (event) => {
        clearInterval(this.pinger);
        const reason = event.reason || (connected ? 'connection closed' : 'the WebSocket connection was refused');
        for (const { reject: fail } of this.pending.values()) fail(new Error(reason));
        this.pending.clear();
        if (!connected) reject(new Error(reason));
        else this.onClose(reason);
      };
    });
  }

  receive(bytes) {
    const merged = new Uint8Array(this.buffer.length + bytes.length);
    merged.set(this.buffer);
    merged.set(bytes, this.buffer.length);
    let at = 0;
    while (merged.length - at >= 2) {
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      for (; i < merged.length && i < at + 5; i++) {
        length += (merged[i] & 0x7f) * multiplier;
        multiplier *= 128;
        if ((merged[i] & 0x80) === 0) { complete = true; i++; break; }
      }
      if (!complete || merged.length - i < length) break;
      this.handle(merged[at], merged.subarray(i, i + length));
      at = i + length;
    }
    this.buffer = merged.slice(at);
  }

  handle(first, body) {
    const type = first >> 4;
    if (type === 2) {  // CONNACK
      if (body[1] === 0) {
        this.pinger = setInterval(() => this.send(packet(12, 0, [])), this.keepAlive * 500);
        this.connack.resolve();
      } else {
        this.connack.reject(new Error(`CONNACK ${body[1]}: ${CONNACK_REASONS[body[1]] || 'refused'}`));
        this.ws.close();
      }
    } else if (type === 3) {  // PUBLISH
      const qos = (first >> 1) & 3;
      const topicLength = (body[0] << 8) | body[1];
      const topic = decoder.decode(body.subarray(2, 2 + topicLength));
      let at = 2 + topicLength;
      if (qos > 0) {
        const id = (body[at] << 8) | body[at + 1];
        at += 2;
        this.send(packet(4, 0, [id >> 8, id & 0xff]));  // PUBACK
      }
      this.onMessage({ topic, payload: body.slice(at), qos, retain: !!(first & 1), dup: !!(first & 8) });
    } else if (type === 4 || type === 9 || type === 11) {  // PUBACK, SUBACK, UNSUBACK
      const id = (body[0] << 8) | body[1];
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (waiter) waiter.resolve(Array.from(body.subarray(2)));
    }
  }

  send(bytes) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  id() {
    const id = this.nextId;
    this.nextId = this.nextId === 0xffff ? 1 : this.nextId + 1;
    return id;
  }

  wait(id) {
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  // Resolves with the granted QoS (0x80: refused).
  async subscribe(filter, qos = 0) {
    const id = this.id();
    const done = this.wait(id);
    this.send(packet(8, 2, [id >> 8, id & 0xff, ...utf8(filter), qos]));
    const [granted] = await done;
    return granted;
  }

  async unsubscribe(filter) {
    const id = this.id();
    const done = this.wait(id);
    this.send(packet(10, 2, [id >> 8, id & 0xff, ...utf8(filter)]));
    await done;
  }

  // QoS 1 resolves on PUBACK.
  async publish(topic, payload, { qos = 0, retain = false } = {}) {
    const data = typeof payload === 'string' ? encoder.encode(payload) : payload;
    const flags = (qos << 1) | (retain ? 1 : 0);
    if (qos === 0) {
      this.send(packet(3, flags, [...utf8(topic), ...data]));
      return;
    }
    const id = this.id();
    const done = this.wait(id);
    this.send(packet(3, flags, [...utf8(topic), id >> 8, id & 0xff, ...data]));
    await done;
  }

  close() {
    clearInterval(this.pinger);
    this.send(packet(14, 0, []));
    if (this.ws) this.ws.close();
  }

  get open() {
    return this.ws && this.ws.readyState === WebSocket.OPEN;
  }
}
