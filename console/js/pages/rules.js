// IoT rules: list; create and edit with the SQL and the firehose (with
// separator), s3 and republish actions as forms; enable, disable, delete.
// The SQL is checked as you type by offcloud's own parser (POST
// /_offcloud/iot/sql-check, the same compile as CreateTopicRule): its
// SqlParseException is shown with the line, and a caret at the column.
import { t } from '../i18n.js';
import { h, clear, attempt, errorBox, formatTime, field, table, pageHeader, submitOnCtrlEnter } from '../ui.js';

const SEPARATORS = [['', 'none'], ['\n', '\\n'], ['\r\n', '\\r\\n'], ['\t', '\\t'], [',', ',']];

export async function render(ctx) {
  const { aws, main } = ctx;
  const status = h('div', { class: 'status' });
  const list = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  const editor = h('div', { id: 'rule-editor' });

  async function load() {
    let rules;
    try {
      rules = (await aws.iot('GET', '/rules')).rules || [];
    } catch (error) {
      clear(list).append(errorBox(error));
      return;
    }
    const rows = rules.map((rule) => h('tr', { 'data-rule': rule.ruleName },
      h('td', {}, h('button', { class: 'link', onclick: () => edit(rule.ruleName) }, rule.ruleName)),
      h('td', {}, h('code', {}, rule.topicPattern || '')),
      h('td', {}, rule.ruleDisabled ? h('span', { class: 'badge off' }, t('rules.disabled')) : h('span', { class: 'badge on' }, t('rules.enabled'))),
      h('td', {}, formatTime(rule.createdAt)),
      h('td', { class: 'actions' },
        h('button', {
          class: 'small', 'data-action': rule.ruleDisabled ? 'enable' : 'disable',
          onclick: async () => {
            const action = rule.ruleDisabled ? 'enable' : 'disable';
            if (await attempt(status, () => aws.iot('POST', `/rules/${encodeURIComponent(rule.ruleName)}/${action}`),
              t(`rules.${action}Done`, rule.ruleName))) load();
          },
        }, rule.ruleDisabled ? t('rules.enable') : t('rules.disable')),
        h('button', {
          class: 'danger small', 'data-action': 'delete-rule',
          onclick: async () => {
            if (!confirm(t('rules.confirmDelete', rule.ruleName))) return;
            if (await attempt(status, () => aws.iot('DELETE', `/rules/${encodeURIComponent(rule.ruleName)}`),
              t('rules.deleted', rule.ruleName))) { clear(editor); load(); }
          },
        }, t('delete')))));
    clear(list).append(table([t('name'), t('rules.topic'), t('status'), t('created'), ''], rows, t('rules.none')));
  }

  async function edit(ruleName) {
    clear(editor).append(h('p', { class: 'muted' }, t('loading')));
    try {
      const { rule } = await aws.iot('GET', `/rules/${encodeURIComponent(ruleName)}`);
      showEditor(rule);
    } catch (error) {
      clear(editor).append(errorBox(error));
    }
  }

  function actionForm(action = { firehose: { deliveryStreamName: '', separator: '\n' } }) {
    const kind = Object.keys(action)[0];
    const body = action[kind] || {};
    const type = h('select', { class: 'action-type' },
      ['firehose', 's3', 'republish'].map((k) => h('option', { value: k, selected: k === kind || null }, t(`rules.action.${k}`))));
    const fields = h('div', { class: 'action-fields' });
    const inputs = {};
    const build = () => {
      clear(fields);
      for (const key of Object.keys(inputs)) delete inputs[key];
      const same = type.value === kind;
      const value = (k, d = '') => (same && body[k] !== undefined ? body[k] : d);
      if (type.value === 'firehose') {
        inputs.deliveryStreamName = h('input', { class: 'stream', list: 'stream-names', required: true, value: value('deliveryStreamName') });
        inputs.separator = h('select', { class: 'separator' }, SEPARATORS.map(([v, label]) =>
          h('option', { value: v, selected: v === value('separator', '\n') || null }, label === 'none' ? t('rules.noSeparator') : label)));
        fields.append(field(t('rules.stream'), inputs.deliveryStreamName), field(t('rules.separator'), inputs.separator));
      } else if (type.value === 's3') {
        inputs.bucketName = h('input', { class: 'bucket', required: true, value: value('bucketName') });
        inputs.key = h('input', { class: 'key', required: true, value: value('key', '${topic()}/${timestamp()}') });
        fields.append(field(t('rules.bucket'), inputs.bucketName), field(t('rules.key'), inputs.key));
      } else {
        inputs.topic = h('input', { class: 'topic', required: true, value: value('topic') });
        inputs.qos = h('select', { class: 'qos' }, [0, 1].map((q) => h('option', { value: q, selected: q === value('qos', 0) || null }, `QoS ${q}`)));
        fields.append(field(t('rules.republishTopic'), inputs.topic), field('QoS', inputs.qos));
      }
    };
    type.addEventListener('change', build);
    build();
    const box = h('fieldset', { class: 'action' }, h('legend', {}, t('rules.action')), field(t('rules.actionType'), type), fields);
    box.read = () => {
      const account = ctx.session.account || '000000000000';
      const roleArn = body.roleArn || `arn:aws:iam::${account}:role/iot_rule_role`;
      if (type.value === 'firehose') {
        const out = { deliveryStreamName: inputs.deliveryStreamName.value.trim(), roleArn };
        if (inputs.separator.value) out.separator = inputs.separator.value;
        return { firehose: out };
      }
      if (type.value === 's3') return { s3: { bucketName: inputs.bucketName.value.trim(), key: inputs.key.value, roleArn } };
      return { republish: { topic: inputs.topic.value.trim(), qos: Number(inputs.qos.value), roleArn } };
    };
    return box;
  }

  function showEditor(rule) {
    const creating = !rule;
    const name = h('input', { id: 'rule-name', required: true, spellcheck: 'false', value: rule?.ruleName || '', disabled: !creating || null, placeholder: 'yamadaPutAnalysisLogDataToS3' });
    const description = h('input', { id: 'rule-description', value: rule?.description || '' });
    const sql = submitOnCtrlEnter(h('textarea', { id: 'rule-sql', rows: 3, spellcheck: 'false', required: true }, rule?.sql || "SELECT * FROM 'handson/analysisLogData'"));
    const version = h('select', { id: 'rule-sql-version' }, ['2016-03-23', '2015-10-08'].map((v) =>
      h('option', { value: v, selected: v === (rule?.awsIotSqlVersion || '2016-03-23') || null }, v)));
    const sqlCheck = h('div', { id: 'sql-check', class: 'sql-check', 'aria-live': 'polite' });
    watchSql(aws, sql, version, sqlCheck);
    const actions = h('div', { class: 'actions-list' });
    for (const action of rule?.actions?.length ? rule.actions : [undefined]) actions.append(actionForm(action));
    const errorAction = h('div', { class: 'error-action' });
    if (rule?.errorAction) errorAction.append(actionForm(rule.errorAction));
    const formStatus = h('div', { class: 'status', id: 'rule-status' });
    const streams = h('datalist', { id: 'stream-names' });
    aws.firehose('ListDeliveryStreams', { Limit: 100 }).then((r) =>
      streams.append(...(r.DeliveryStreamNames || []).map((n) => h('option', { value: n })))).catch(() => {});
    const form = h('form', {
      class: 'card', id: 'rule-form',
      onsubmit: async (event) => {
        event.preventDefault();
        const payload = {
          sql: sql.value, description: description.value, awsIotSqlVersion: version.value,
          ruleDisabled: rule?.ruleDisabled ?? false,
          actions: Array.from(actions.children).map((box) => box.read()),
        };
        const errorBoxes = Array.from(errorAction.children);
        if (errorBoxes.length) payload.errorAction = errorBoxes[0].read();
        const ruleName = name.value.trim();
        const path = `/rules/${encodeURIComponent(ruleName)}`;
        const ok = await attempt(formStatus, () => aws.iot(creating ? 'POST' : 'PATCH', path, payload),
          t(creating ? 'rules.created' : 'rules.saved', ruleName));
        if (ok) load();
      },
    },
    h('h2', {}, creating ? t('rules.create') : t('rules.edit', rule.ruleName)),
    field(t('name'), name), field(t('rules.description'), description),
    field(t('rules.sql'), sql, t('rules.sqlHint')), sqlCheck, field(t('rules.sqlVersion'), version),
    actions, streams,
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => actions.append(actionForm()) }, t('rules.addAction')),
      h('button', { type: 'button', onclick: () => { if (!errorAction.children.length) errorAction.append(actionForm()); } }, t('rules.addErrorAction'))),
    errorAction,
    h('button', { type: 'submit', class: 'primary', id: 'save-rule' }, creating ? t('rules.create') : t('save')),
    formStatus);
    clear(editor).append(form);
    name.focus();
  }

  main.append(pageHeader(t('rules.title'),
    h('button', { onclick: load }, t('refresh')),
    h('button', { class: 'primary', id: 'new-rule', onclick: () => showEditor(null) }, t('rules.create'))),
  status, list, editor);
  await load();
}

// Checks the SQL after each pause in typing (SQL_CHECK_DELAY_MS), showing
// CreateTopicRule's SqlParseException under the editor with the line it
// names and a caret at its column. Only the latest check's answer is shown.
const SQL_CHECK_DELAY_MS = 300;

function watchSql(aws, sql, version, out) {
  let timer = null;
  let latest = 0;
  const check = async () => {
    const mine = ++latest;
    let result;
    try {
      result = await aws.iot('POST', '/_offcloud/iot/sql-check', { sql: sql.value, awsIotSqlVersion: version.value });
    } catch (error) {
      if (mine === latest) clear(out).append(errorBox(error));
      return;
    }
    if (mine !== latest) return;
    sql.setAttribute('aria-invalid', String(!result.ok));
    out.dataset.state = result.ok ? 'ok' : 'error';
    if (result.ok) {
      clear(out).append(h('span', { class: 'ok' }, t('rules.sqlOk', result.topic_filter)));
      return;
    }
    // AWS counts the column in bytes; the caret keeps the line's tabs.
    const line = sql.value.split('\n')[result.line - 1] ?? '';
    const before = new TextDecoder().decode(new TextEncoder().encode(line).slice(0, result.column));
    clear(out).append(
      h('div', { class: 'alert error', 'data-error-code': result.code, 'data-line': result.line, 'data-column': result.column },
        h('strong', {}, result.code), ' ', result.message,
        h('pre', { class: 'caret' }, line, '\n', before.replace(/[^\t]/g, ' ') + '^')));
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(check, SQL_CHECK_DELAY_MS);
  };
  sql.addEventListener('input', schedule);
  version.addEventListener('change', schedule);
  check();
}
