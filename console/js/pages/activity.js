// Activity: the requests offcloud served, live (time, caller, source,
// service, operation, resource, status, error), each refusal with its
// reason in plain words: what differed in a refused signature, which
// action on which ARN IAM refused, what failed in a rule. Whose requests a
// key sees is the server's rule (the built-in root every account's, an
// account's root its account's, a user its own).
//
// The page reads the history with GET /_offcloud/activity (signed like
// any call), then follows the live feed over WebSocket (live.js) from the
// last entry it read, so nothing is lost or shown twice in between. The
// table keeps the latest MAX_ROWS.
import { t } from '../i18n.js';
import { h, clear, errorBox, pageHeader, rowKeys } from '../ui.js';
import { Live } from '../live.js';

const MAX_ROWS = 500;
const SERVICES = ['s3', 'iot', 'iotdata', 'iotdevicegateway', 'mqtt', 'firehose', 'iam', 'sts'];

let live = null;
let visits = 0;  // rises each time the page is left, to drop a load for a page since left

export function leave() {
  visits++;
  if (live) live.stop();
  live = null;
}

// "arn:aws:iam::111122223333:user/student" -> "111122223333 user/student".
function callerLabel(arn) {
  if (!arn) return '—';
  const parts = arn.split(':');
  return parts.length >= 6 ? `${parts[4]} ${parts.slice(5).join(':')}` : arn;
}

function seconds(value) {
  const n = Math.abs(Number(value) || 0);
  return n >= 120 ? t('activity.minutes', Math.round(n / 60)) : t('activity.seconds', n);
}

// The reason's facts (emulator/activity/activity_reasons.h) in words.
export function explain(entry) {
  const r = entry.reason;
  if (!r) return '';
  if (r.kind === 'unsigned') return t('activity.why.unsigned');
  if (r.kind === 'denied') {
    const why = t(r.explicit_deny ? 'activity.why.explicitDeny' : 'activity.why.implicitDeny', r.action, r.resource);
    if (!r.policy) return why;
    // The statement that denied: its Sid, else its place in the policy.
    const statement = r.sid ? `"${r.sid}"` : `#${r.statement}`;
    return `${why} ${t(r.policy_inline ? 'activity.why.deniedByInline' : 'activity.why.deniedBy', statement, r.policy)}`;
  }
  if (r.kind === 'mqtt') {
    if (r.certificate_id) return t('activity.why.mqttCertificate', r.client_id, r.certificate_id);
    if (!entry.access_key_id) return t('activity.why.mqttNoKey', r.client_id);
    const which = !r.key_known ? 'activity.why.mqttUnknownKey' : !r.key_active ? 'activity.why.mqttInactiveKey' : 'activity.why.mqttWrongSecret';
    return t(which, r.client_id, entry.access_key_id);
  }
  if (r.kind === 'rule') {
    if (r.stage === 'sql') return t('activity.why.ruleSql', r.rule, r.topic, r.message);
    if (r.stage === 'error_action') return t('activity.why.ruleErrorAction', r.rule, r.action, r.message);
    return t('activity.why.ruleAction', r.rule, r.action, r.resource, r.topic, r.message);
  }
  if (r.kind !== 'signature') return '';
  const key = entry.access_key_id;
  switch (r.failure) {
    case 'unknown_key':
      return t(r.key_known ? 'activity.why.inactiveKey' : 'activity.why.unknownKey', key);
    case 'invalid_token': return t('activity.why.invalidToken', key);
    case 'bad_scope': return t('activity.why.badScope', r.message);
    case 'skewed':
      return t(r.skew_seconds < 0 ? 'activity.why.clockBehind' : 'activity.why.clockAhead', seconds(r.skew_seconds));
    case 'expired': return t('activity.why.expired', r.expires_seconds ?? '', r.server_time || '');
    case 'missing_content_sha256': return t('activity.why.missingSha256');
    case 'mismatch':
      if (r.secret_is_test) return t('activity.why.secretIsTest', key);
      return t('activity.why.mismatch', key, r.scope || '', seconds(r.skew_seconds));
    default: return t('activity.why.malformed', r.message || '');
  }
}

function row(entry) {
  const failed = entry.status >= 400 || entry.status === 0;
  const time = new Date(entry.time_ms);
  const tr = h('tr', {
    'data-seq': entry.seq, 'data-service': entry.service, 'data-status': entry.status,
    'data-error-code': entry.error_code || null, 'data-caller': entry.caller_arn || '',
    class: failed && entry.error_code ? 'failed' : null,
  },
  h('td', {}, h('time', { datetime: time.toISOString(), title: time.toISOString() }, time.toLocaleTimeString())),
  h('td', { title: entry.caller_arn || '' }, callerLabel(entry.caller_arn),
    entry.access_key_id ? h('div', { class: 'muted small' }, entry.access_key_id) : null),
  h('td', { class: 'small' }, entry.source),
  h('td', {}, entry.service),
  h('td', {}, entry.operation || '—'),
  h('td', { class: 'small' }, entry.resource),
  h('td', {}, entry.status ? String(entry.status) : '—'),
  h('td', {}, entry.error_code ? h('strong', {}, entry.error_code) : ''));
  const reason = explain(entry);
  if (!reason) return [tr];
  const detail = entry.reason.canonical_request
    ? h('details', {}, h('summary', {}, t('activity.canonical')),
      h('pre', {}, entry.reason.canonical_request), h('pre', {}, entry.reason.string_to_sign || ''))
    : null;
  return [tr, h('tr', { class: 'reason-row', 'data-reason-for': entry.seq },
    h('td', { colspan: 8 }, h('div', { class: 'reason', 'data-reason-kind': entry.reason.kind }, reason), detail))];
}

export async function render(ctx) {
  const { aws, main } = ctx;
  let lastSeq = 0;
  let entries = [];
  let paused = false;

  const service = h('select', { id: 'activity-service', onchange: () => draw() },
    h('option', { value: '' }, t('activity.allServices')),
    SERVICES.map((name) => h('option', { value: name }, name)));
  const outcome = h('select', { id: 'activity-outcome', onchange: () => draw() },
    h('option', { value: '' }, t('activity.allStatuses')),
    h('option', { value: 'errors' }, t('activity.errors')),
    h('option', { value: 'ok' }, t('activity.successes')));
  const pause = h('button', {
    id: 'activity-pause',
    onclick: () => { paused = !paused; pause.textContent = t(paused ? 'mqtt.resume' : 'mqtt.pause'); if (!paused) draw(); },
  }, t('mqtt.pause'));
  const status = h('div', { id: 'activity-status' });
  const body = h('tbody', {});
  const count = h('span', { class: 'muted small', id: 'activity-count' });
  const liveState = h('span', { class: 'live-state muted small', id: 'activity-live', 'data-state': 'connecting', role: 'status' }, t('live.connecting'));
  const scope = ctx.session.arn && ctx.session.arn.endsWith(':root')
    ? (ctx.session.account === '000000000000' ? t('activity.scope.all') : t('activity.scope.account', ctx.session.account))
    : t('activity.scope.own');

  function shown(entry) {
    if (service.value && entry.service !== service.value) return false;
    const failed = entry.status >= 400 || entry.status === 0;
    if (outcome.value === 'errors') return failed;
    if (outcome.value === 'ok') return !failed;
    return true;
  }

  function draw() {
    if (paused) return;
    const rows = entries.filter(shown).reverse().flatMap(row);
    clear(body).append(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 8, class: 'muted' }, t('activity.none')))]));
    count.textContent = t('activity.count', entries.filter(shown).length, entries.length);
  }

  function add(more) {
    if (!more.length) return;
    entries = entries.concat(more).slice(-MAX_ROWS);
    draw();
  }

  function follow() {
    live = new Live(aws, {
      feeds: ['activity'],
      after: lastSeq,
      onActivity: (more, missed) => {
        // A smaller number than the last one: offcloud restarted.
        if (more.length && entries.length && more[0].seq <= entries[entries.length - 1].seq) entries = [];
        if (missed) clear(status).append(h('div', { class: 'alert', role: 'status', id: 'activity-missed' }, t('activity.missed')));
        add(more);
      },
      onState: (state, detail) => {
        liveState.dataset.state = state;
        liveState.textContent = t(`live.${state}`, detail === undefined ? '' : Math.round(detail / 1000));
        if (state === 'error') clear(status).append(errorBox({ code: t('error'), message: detail }));
      },
    });
    live.start();
  }

  main.append(
    pageHeader(t('activity.title'), h('label', {}, h('span', { class: 'sr-only' }, t('activity.service')), service),
      h('label', {}, h('span', { class: 'sr-only' }, t('status')), outcome), pause),
    h('p', { class: 'muted' }, t('activity.intro'), ' ', h('strong', { id: 'activity-scope' }, scope), ' ', liveState),
    status,
    h('table', { class: 'table activity', id: 'activity', onkeydown: rowKeys },
      h('thead', {}, h('tr', {}, [t('activity.time'), t('activity.caller'), t('activity.source'), t('activity.service'),
        t('activity.operation'), t('activity.resource'), t('status'), t('activity.error')].map((name) => h('th', { scope: 'col' }, name)))),
      body),
    h('p', {}, count));
  draw();
  leave();
  const mine = visits;
  try {
    const response = await aws.request({ service: 'offcloud', path: '/_offcloud/activity', query: [['after', '0']] });
    const page = await response.json();
    lastSeq = page.last_seq;
    add(page.entries);
  } catch (error) {
    status.append(errorBox(error));
  }
  if (mine === visits) follow();
}
