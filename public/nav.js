// Links between the patient's pages without reloading the document (README, Architecture):
// fetch the page, swap the body, hydrate its islands; history, title, scroll, focus on the
// heading and an announcement as a page load would give. Forms are the browser's.

const SCOPE = ['/mina-sidor'];
const inScope = (path) => SCOPE.some((p) => path === p || path.startsWith(p + '/'));

const announcer = document.createElement('div');
announcer.id = 'lotsen-nav-announcer';
announcer.className = 'visually-hidden';
announcer.setAttribute('aria-live', 'polite');
announcer.setAttribute('aria-atomic', 'true');
let announcing = 0;

// The latest navigation (an older one arriving later is dropped); the path and query shown.
let current = 0;
let shown = location.pathname + location.search;

function start() {
  document.body.append(announcer);
  // Entries carry their scroll position: the browser would restore it before the page is back.
  history.scrollRestoration = 'manual';
  const saved = history.state && history.state.scroll;
  history.replaceState({ ...(history.state || {}), lotsen: true }, '');
  if (saved && !location.hash) window.scrollTo(0, saved);
  document.addEventListener('click', onClick);
  window.addEventListener('popstate', onPopState);
  window.addEventListener('scroll', onScroll, { passive: true });
}

let scrollTimer = 0;
function onScroll() {
  if (scrollTimer) return;
  scrollTimer = setTimeout(() => {
    scrollTimer = 0;
    rememberScroll();
  }, 200);
}

function rememberScroll() {
  history.replaceState({ ...(history.state || {}), lotsen: true, scroll: window.scrollY }, '');
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
  if (!link || link.hasAttribute('download') || link.hasAttribute('data-reload')) return;
  if (link.target && link.target !== '_self') return;
  if ((link.getAttribute('rel') || '').split(/\s+/).includes('external')) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin) return;
  if (!inScope(location.pathname) || !inScope(url.pathname)) return;
  // A jump within the page (the skip link) is the browser's, and cancels a page on its way.
  if (url.pathname + url.search === shown && url.hash) {
    current++;
    rememberScroll();
    return;
  }
  event.preventDefault();
  rememberScroll();
  navigate(url, true, 0);
}

// Back or forward to an entry whose page is not the one shown brings that page back.
function onPopState(event) {
  current++;
  const scroll = (event.state && event.state.scroll) || 0;
  const url = new URL(location.href);
  if (url.pathname + url.search === shown) {
    const target = url.hash ? fragmentTarget(url) : null;
    if (target) target.scrollIntoView();
    else window.scrollTo(0, scroll);
    return;
  }
  navigate(url, false, scroll);
}

async function navigate(url, push, scroll) {
  const mine = ++current;
  let response;
  let page;
  try {
    response = await fetch(url.href, {
      credentials: 'same-origin',
      headers: { Accept: 'text/html' },
    });
    const type = response.headers.get('content-type') || '';
    if (!type.startsWith('text/html')) throw new Error('not a page');
    page = new DOMParser().parseFromString(await response.text(), 'text/html');
  } catch {
    if (mine === current) location.assign(url.href);
    return;
  }
  if (mine !== current) return;
  // Where a redirect (to sign-in, say) ended, with the link's hash.
  const landed = new URL(response.url || url.href);
  if (!landed.hash) landed.hash = url.hash;
  if (landed.origin !== location.origin || !swappable(page)) {
    location.assign(landed.href);
    return;
  }
  swap(page);
  shown = landed.pathname + landed.search;
  if (push) history.pushState({ lotsen: true, scroll: 0 }, '', landed.href);
  else if (landed.href !== location.href) history.replaceState(history.state, '', landed.href);
  place(landed, scroll);
  announce(page.title);
  document.dispatchEvent(new Event('lotsen:page'));
}

// Moved scripts never run: a page that needs its own (rendered in parts, or with data for an
// island) loads whole. The scripts every page ends with only set Leptos's globals to [].
function swappable(page) {
  if (page.body.querySelector('template')) return false;
  for (const script of page.body.querySelectorAll('script')) {
    if (script.textContent.replace(/__\w+=\[\];/g, '').trim() !== '') return false;
    script.remove();
  }
  return true;
}

// A new body element: a first hydration pass still walking the old one never reaches the new
// page's islands twice.
function swap(page) {
  const old = document.body;
  const body = document.adoptNode(page.body);
  for (const name of old.getAttributeNames()) {
    if (!body.hasAttribute(name)) body.setAttribute(name, old.getAttribute(name));
  }
  body.append(announcer);
  document.documentElement.replaceChild(body, old);
  document.title = page.title;
  const lang = page.documentElement.getAttribute('lang');
  if (lang) document.documentElement.setAttribute('lang', lang);
  hydrate(body);
}

// Until the WASM module has started (it marks the body), its first pass hydrates the body.
function hydrate(root) {
  const hook = window.__hydrateIsland;
  if (typeof hook !== 'function' || root.dataset.hydrated !== 'true') return;
  for (const island of root.querySelectorAll('leptos-island')) {
    try {
      Promise.resolve(hook(island, island.dataset.component || null)).catch(console.error);
    } catch (error) {
      console.error(error);
    }
  }
}

function fragmentTarget(url) {
  try {
    return document.getElementById(decodeURIComponent(url.hash.slice(1)));
  } catch {
    return null;
  }
}

// The fragment's target, or the top (where the person was, going back) with the focus on the
// heading, so that the next Tab goes on from there.
function place(url, scroll) {
  const target = url.hash ? fragmentTarget(url) : null;
  const focus = target || document.querySelector('main h1') || document.getElementById('main');
  if (focus) {
    if (!focus.hasAttribute('tabindex') && !focus.matches('a[href], button, input, select, textarea')) {
      focus.setAttribute('tabindex', '-1');
    }
    focus.focus({ preventScroll: true });
  }
  if (target) target.scrollIntoView();
  else window.scrollTo(0, scroll);
}

// Emptied first and filled a moment later, so that screen readers hear a change.
function announce(title) {
  announcer.textContent = '';
  clearTimeout(announcing);
  announcing = setTimeout(() => {
    announcer.textContent = title;
  }, 100);
}

if (inScope(location.pathname)) start();
