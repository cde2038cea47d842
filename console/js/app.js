// The console's shell: sign-in, navigation (#/page/...), the region and
// language switches. Each page is a module in pages/ with render(ctx, params).
import { Aws, loadSession, saveSession, clearSession, xmlText } from './aws.js';
import { t, language, setLanguage } from './i18n.js';
import { h, clear, errorBox, field, REGIONS } from './ui.js';

// The first is the page shown after sign-in. Each is loaded when first
// shown (the browser keeps it): the sign-in page waits for none of them.
const PAGES = {
  overview: () => import('./pages/overview.js'),
  s3: () => import('./pages/s3.js'),
  firehose: () => import('./pages/firehose.js'),
  rules: () => import('./pages/rules.js'),
  mqtt: () => import('./pages/mqtt.js'),
  iam: () => import('./pages/iam.js'),
  activity: () => import('./pages/activity.js'),
};
const main = document.getElementById('main');
let current = null;  // the page shown, to let it stop (MQTT) when left
let routed = 0;  // which route() is the latest: an earlier one still loading gives way

function regionSelect(value, onchange, id) {
  return h('select', { id, onchange: (e) => onchange(e.target.value) },
    REGIONS.map((r) => h('option', { value: r, selected: r === value || null }, r)));
}

function renderNav(session) {
  const nav = clear(document.getElementById('nav'));
  const sessionBox = clear(document.getElementById('session'));
  if (!session) return;
  const page = (location.hash.split('/')[1] || 'overview');
  for (const name of Object.keys(PAGES)) {
    nav.append(h('a', { href: `#/${name}`, 'aria-current': name === page ? 'page' : null }, t(`nav.${name}`)));
  }
  sessionBox.append(
    h('span', { class: 'who', title: session.arn || '' }, session.arn ? session.arn.split(':').slice(4).join(':') : session.accessKeyId),
    h('label', {}, h('span', { class: 'sr-only' }, t('region')),
      regionSelect(session.region, (region) => {
        session.region = region;
        saveSession(session);
        route();
      }, 'region')),
    h('button', { class: 'link', id: 'sign-out', onclick: () => { clearSession(); location.hash = ''; route(); } }, t('signOut')));
}

function renderSignIn(message) {
  renderNav(null);
  const keyId = h('input', { id: 'access-key-id', autocomplete: 'username', required: true, spellcheck: 'false' });
  const secret = h('input', { id: 'secret-access-key', type: 'password', autocomplete: 'current-password', required: true });
  const region = regionSelect('ap-northeast-1', () => {}, 'sign-in-region');
  const status = h('div', {}, message ? errorBox(message) : null);
  const form = h('form', {
    class: 'card sign-in',
    onsubmit: async (event) => {
      event.preventDefault();
      const session = { accessKeyId: keyId.value.trim(), secretAccessKey: secret.value, region: region.value };
      clear(status);
      try {
        // The key is checked as any SDK's would be: by a signed call.
        const doc = await new Aws(session, session.region).sts('GetCallerIdentity');
        session.arn = xmlText(doc, 'Arn');
        session.account = xmlText(doc, 'Account');
        saveSession(session);
        if (!location.hash || location.hash === '#/') location.hash = '#/overview';
        route();
      } catch (error) {
        status.append(errorBox(error));
      }
    },
  },
  h('h1', {}, t('signIn.title')),
  h('p', { class: 'muted' }, t('signIn.intro')),
  field(t('signIn.keyId'), keyId),
  field(t('signIn.secret'), secret),
  field(t('region'), region),
  h('button', { type: 'submit', class: 'primary', id: 'sign-in' }, t('signIn.submit')),
  status,
  h('p', { class: 'muted small' }, t('signIn.storage')));
  clear(main).append(form);
  keyId.focus();
  // The first page's mark, measured by the browser tests (README, Console).
  if (!performance.getEntriesByName('offcloud:sign-in').length) performance.mark('offcloud:sign-in');
}

export async function route() {
  if (current && current.leave) current.leave();
  current = null;
  const session = loadSession();
  const mine = ++routed;
  if (!session) return renderSignIn();
  renderNav(session);
  const [, name = 'overview', ...rest] = location.hash.replace(/^#/, '').split('/');
  let page;
  try {
    page = await (PAGES[name] || PAGES.overview)();
  } catch (error) {
    if (mine === routed) clear(main).append(errorBox(error));
    return;
  }
  if (mine !== routed) return;
  const aws = new Aws(session, session.region);
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const ctx = { aws, session, region: session.region, main: clear(main), rest: rest.map((p) => decodeURIComponent(p.split('?')[0])), params };
  current = page;
  document.title = `${t(`nav.${name}`)} · offcloud console`;
  Promise.resolve(page.render(ctx)).catch((error) => main.append(errorBox(error)));
}

// Left and Right move along the navigation (wrapping), Home and End to its
// ends, as in WAI-ARIA's menubar; Tab still stops at every link.
document.getElementById('nav').addEventListener('keydown', (event) => {
  const links = [...event.currentTarget.querySelectorAll('a')];
  const at = links.indexOf(event.target);
  const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: links.length - 1 }[event.key];
  if (at < 0 || to === undefined || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  links[(to + links.length) % links.length].focus();
});

const languageSelect = document.getElementById('language');
languageSelect.value = language();
document.documentElement.lang = language();
languageSelect.addEventListener('change', () => {
  setLanguage(languageSelect.value);
  document.documentElement.lang = language();
  route();
});
window.addEventListener('hashchange', () => {
  route();
  // A keyboard user's next Tab goes into the page just opened, not the rest of the nav.
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
});
route();
