// Small DOM helpers shared by the pages.
import { t } from './i18n.js';

// The regions offered (offcloud takes any).
export const REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ap-northeast-1', 'ap-northeast-2',
  'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2', 'ap-south-1', 'ca-central-1',
  'eu-central-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-north-1', 'sa-east-1',
];

// h('div', {class: 'x', onclick: f}, child, 'text', [more])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'value') el.value = value;
    else if (name === 'checked') el.checked = !!value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// An AWS error as AWS words it: its code, then its message.
export function errorBox(error) {
  const box = h('div', { class: 'alert error', role: 'alert', 'data-error-code': error.code || '' },
    h('strong', {}, error.code || t('error')), ' ', error.message && error.message !== error.code ? error.message : '');
  if (error.requestId) box.append(h('div', { class: 'muted small' }, `Request ID: ${error.requestId}`));
  return box;
}

export function successBox(text) {
  return h('div', { class: 'alert success', role: 'status' }, text);
}

// Runs `action`; shows its error (or `done` text) in `where`. Returns the
// action's result, or undefined when it failed.
export async function attempt(where, action, done) {
  if (where) clear(where);
  try {
    const result = await action();
    if (where && done) where.append(successBox(typeof done === 'function' ? done(result) : done));
    return result;
  } catch (error) {
    if (where) where.append(errorBox(error));
    else console.error(error);
    return undefined;
  }
}

export function formatBytes(n) {
  if (n === undefined || n === null || n === '') return '';
  n = Number(n);
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatTime(value) {
  if (!value) return '';
  const date = value instanceof Date ? value : new Date(typeof value === 'number' && value < 1e12 ? value * 1000 : value);
  return isNaN(date) ? String(value) : date.toLocaleString();
}

export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), input,
    hint ? h('span', { class: 'hint' }, hint) : null);
}

export function table(headers, rows, empty) {
  return h('table', { class: 'table', onkeydown: rowKeys },
    h('thead', {}, h('tr', {}, headers.map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, empty || t('none')))));
}

// Arrow keys in a list of rows (a table, the MQTT messages), as WAI-ARIA's
// grid pattern has them but without taking Tab over: every control stays in
// the tab order. Up and Down move to the same column's control in the row
// above or below, Home and End to the first and last row; a row with no
// control there gives its first one, or is focused itself (tabindex -1: Tab
// still skips it). One handler on the table or list, whatever its rows hold.
export const FOCUSABLE = 'a[href], button:not(:disabled), input:not(:disabled), select:not(:disabled), textarea:not(:disabled), summary, [tabindex]';
const TYPING = 'input:not([type=checkbox]):not([type=radio]), select, textarea';  // their arrows move the caret or the choice
const ROW_KEYS = { ArrowUp: -1, ArrowDown: 1, Home: 'first', End: 'last' };

export function rowKeys(event) {
  const step = ROW_KEYS[event.key];
  const list = event.currentTarget;
  if (!step || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey
    || event.target.matches(TYPING)) return;
  // From the list itself (a scrolling list Tab stops on): Down or Home the first row, End the last.
  const row = event.target === list ? null : event.target.closest('tr, li');
  const rows = [...(row ? row.parentElement : (list.tBodies?.[0] || list)).children];
  const at = rows.indexOf(row);
  const next = rows[step === 'first' ? 0 : step === 'last' ? rows.length - 1 : at < 0 && step > 0 ? 0 : at + step];
  if (!next || next === row) return;
  const cell = event.target.closest('td, th');
  const controls = (el) => (el ? [...el.querySelectorAll(FOCUSABLE)] : []);
  // Which column, and which control in it (the Delete of Enable and Delete).
  const [column, nth] = event.target === row ? (list.rowColumn || [-1, 0])
    : cell && row && row.contains(cell) ? [[...row.children].indexOf(cell), Math.max(0, controls(cell).indexOf(event.target))] : [-1, 0];
  const same = controls(next.children[column]);
  const target = same[Math.min(nth, same.length - 1)] || controls(next)[0] || next;
  if (target === next) {
    list.rowColumn = [column, nth];  // the column a row focused itself was reached from
    if (!next.hasAttribute('tabindex')) next.tabIndex = -1;
  }
  event.preventDefault();
  target.focus();
}

export function download(filename, blob) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Ctrl+Enter (or Cmd+Enter) in a textarea submits its form, as Enter does
// in a one-line field: keyboard users need not leave the text to send it.
export function submitOnCtrlEnter(textarea) {
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && textarea.form) {
      event.preventDefault();
      textarea.form.requestSubmit();
    }
  });
  return textarea;
}

export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' }, h('h1', {}, title), h('div', { class: 'actions' }, actions));
}
