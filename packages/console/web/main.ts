import { api, storedToken, storeToken, whenUnauthorized } from './api.js';
import { fill, h } from './dom.js';
import { deadLettersPage } from './pages/dead-letters.js';
import { devicesPage } from './pages/devices.js';
import { editorPage } from './pages/editor.js';
import { eventsPage } from './pages/events.js';
import { integrationsPage } from './pages/integrations.js';
import './style.css';

/** A page draws itself into `root` from the route's parameters and returns how to stop (timers, streams). */
export type Page = (root: HTMLElement, params: string[]) => (() => void) | undefined;

const PAGES: Array<{ path: string; title: string; page: Page }> = [
  { path: 'integrations', title: 'Integrations', page: integrationsPage },
  { path: 'events', title: 'Live events', page: eventsPage },
  { path: 'editor', title: 'Converter editor', page: editorPage },
  { path: 'dead-letters', title: 'Dead letters', page: deadLettersPage },
  { path: 'devices', title: 'Devices', page: devicesPage },
];

const app = document.getElementById('app')!;
let stopPage: (() => void) | undefined;

function signIn(message?: string): void {
  stopPage?.();
  stopPage = undefined;
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, autofocus: true });
  const error = h('p', { class: 'notice bad', role: 'alert', hidden: message === undefined }, message ?? '');
  const form = h(
    'form',
    { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'tbi console'),
    h('p', { class: 'muted' }, 'Sign in with the control token of this host (auth.token or TBI_TOKEN). It is kept in this tab only.'),
    h('label', { for: 'token' }, 'Control token'),
    input,
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    api('/api/integrations', 'GET', undefined, input.value)
      .then(() => {
        storeToken(input.value);
        if (location.hash === '' || location.hash === '#/') location.hash = '#/integrations';
        route();
      })
      .catch((e: Error) => {
        error.hidden = false;
        error.textContent = e.message;
        input.select();
      });
  });
  fill(app, h('main', { class: 'center' }, form));
  input.focus();
}

function signOutNow(): void {
  storeToken(null);
  signIn();
}

function focusMain(event: Event, main: HTMLElement): void {
  event.preventDefault();
  main.focus();
}

function route(): void {
  if (storedToken() === null) {
    signIn();
    return;
  }
  const [path = 'integrations', ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const current = PAGES.find((p) => p.path === path) ?? PAGES[0]!;
  stopPage?.();
  const nav = h(
    'nav',
    { 'aria-label': 'pages' },
    ...PAGES.map((p) => h('a', { href: `#/${p.path}`, ...(p === current ? { 'aria-current': 'page' } : {}) }, p.title)),
  );
  const signOut = h('button', { type: 'button', class: 'ghost', onclick: signOutNow }, 'Sign out');
  const main = h('main', { id: 'main', tabindex: '-1' });
  fill(
    app,
    h('a', { class: 'skip', href: '#main', onclick: (e: Event) => focusMain(e, main) }, 'Skip to content'),
    h('header', { class: 'top' }, h('a', { class: 'brand', href: '#/integrations' }, 'tbi'), nav, signOut),
    main,
  );
  document.title = `${current.title} · tbi console`;
  stopPage = current.page(main, params);
}

whenUnauthorized(() => {
  storeToken(null);
  signIn('The host refused the token (401). Sign in again.');
});
window.addEventListener('hashchange', route);
route();
