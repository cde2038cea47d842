// The console's live data: one WebSocket to /_offcloud/live, presigned
// with SigV4 for the service "offcloud" as /mqtt is for iotdevicegateway
// (emulator/activity/live_feed.h is the protocol). Frames are JSON; each
// is acknowledged once handled, so the server never queues more than its
// window for a slow tab: what a lagging tab missed comes back as the newest
// entries with `missed` set, and counters as the latest snapshot.
// Reconnects by itself (the presigned URL is made again each time) and
// resumes after the last activity entry it saw, so nothing is shown twice.

const decoder = new TextDecoder();
const RETRY_MS = [500, 1000, 2000, 5000, 10000];

export class Live {
  // feeds: of 'activity', 'counters', 'buffers'; after: the activity
  // sequence number to continue from (undefined: from now on).
  // onActivity(entries, missed), onCounters(frame), onBuffers(frame),
  // onState(state, detail): 'open', 'retrying', 'error'.
  constructor(aws, { feeds, after, onActivity, onCounters, onBuffers, onState }) {
    this.aws = aws;
    this.feeds = feeds;
    this.after = after;
    this.onActivity = onActivity || (() => {});
    this.onCounters = onCounters || (() => {});
    this.onBuffers = onBuffers || (() => {});
    this.onState = onState || (() => {});
    this.stopped = false;
    this.failures = 0;
    this.ws = null;
  }

  async start() {
    if (this.stopped) return;
    const query = [['feeds', this.feeds.join(',')]];
    if (this.after !== undefined) query.push(['after', String(this.after)]);
    let url;
    try {
      url = await this.aws.presignedUrl({
        service: 'offcloud', path: '/_offcloud/live', query, expires: 60,
        scheme: location.protocol === 'https:' ? 'wss:' : 'ws:',
      });
    } catch (error) {
      this.onState('error', error.message);
      return;
    }
    if (this.stopped) return;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onmessage = (event) => this.receive(event.data);
    ws.onerror = () => {};
    ws.onclose = () => {
      clearInterval(this.pinger);
      if (this.ws !== ws || this.stopped) return;
      this.ws = null;
      // A refused upgrade closes before any frame: say so, and keep trying.
      const delay = RETRY_MS[Math.min(this.failures++, RETRY_MS.length - 1)];
      this.onState('retrying', delay);
      this.timer = setTimeout(() => this.start(), delay);
    };
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
    } catch {
      return;
    }
    if (frame.type === 'hello') {
      this.failures = 0;
      if (this.after === undefined) this.after = frame.last_seq;
      clearInterval(this.pinger);
      const every = Math.max(5, (frame.heartbeat_s || 30) / 2) * 1000;
      this.pinger = setInterval(() => this.send({ ping: true }), every);
      this.onState('open');
    } else if (frame.type === 'activity') {
      // A smaller number than ours: offcloud restarted; its log is new.
      this.after = frame.last_seq;
      this.onActivity(frame.entries, frame.missed);
    } else if (frame.type === 'counters') {
      this.onCounters(frame);
    } else if (frame.type === 'buffers') {
      this.onBuffers(frame);
    } else if (frame.type === 'error') {
      this.onState('error', frame.message);
    }
    if (frame.frame) this.send({ ack: frame.frame });
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.ws) this.ws.close();
    this.ws = null;
  }
}
