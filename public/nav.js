// Moving between the patient's pages without reloading the document.
//
// Every page is whole HTML from the server and works without this script. With it, a click on a
// link from one of the patient's pages to another fetches that page, puts its body in place of
// the current one, hydrates the islands it brings, and then does what a full page load would
// have done for a person: the address and the history entry, the title, the scroll position,
// and the keyboard focus (on the new page's heading), with the new title announced to screen
// readers. Forms are left to the browser (they post, often with files, and the server answers
// with a redirect). Anything this script cannot show as a page (not HTML, a failed fetch, a
// page that needs scripts of its own) is loaded the ordinary way.
//
// The session cookie rides along as on any same-origin request; the server sees an ordinary
// GET of the page (it keeps its own access control and access log).

const SCOPE = ['/mina-sidor'];
const inScope = (path) => SCOPE.some((p) => path === p || path.startsWith(p + '/'));

const announcer = document.createElement('div');
announcer.id = 'lotsen-nav-announcer';
announcer.className = 'visually-hidden';
announcer.setAttribute('aria-live', 'polite');
announcer.setAttribute('aria-atomic', 'true');
let announcing = 0;

// The latest navigation (an earlier one still on its way is dropped when it arrives), and the
// path and query of the page whose body is shown now.
let current = 0;
let shown = location.pathname + location.search;

function start() {
  document.body.append(announcer);
  // The history entries of this document carry their scroll position; restoring it is this
  // script's job (the browser would restore it before the page it belongs to is back).
  history.scrollRestoration = 'manual';
  const saved = history.state && history.state.scroll;
  history.replaceState({ ...(history.state || {}), lotsen: true }, '');
  if (saved && !location.hash) window.scrollTo(0, saved);
  document.addEventListener('click', onClick);
  window.addEventListener('popstate', onPopState);
  window.addEventListener('scroll', onScroll, { passive: true });
}

// Where the person is on this page, kept in its history entry (at most five times a second).
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
  // A jump within this page (the skip link, an anchor) is the browser's; a page on its way
  // would take the person away from where they just went.
  if (url.pathname + url.search === shown && url.hash) {
    current++;
    rememberScroll();
    return;
  }
  event.preventDefault();
  rememberScroll();
  navigate(url, true, 0);
}

// Back and forward between entries of this document: any entry whose page is not the one shown
// (an entry this script made, or a jump to an anchor on an earlier page) gets its page back.
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
  // Where the server sent the request in the end (a redirect to sign-in, say), with the hash
  // the link asked for.
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
}

// A page whose body is whole as it came. Scripts in it would not run once moved into this
// document, so a page that needs its scripts (one rendered in parts, filled in by scripts, or
// with data for an island) is loaded whole. Every page ends with scripts that only set Leptos's
// globals to empty lists; they are left out.
function swappable(page) {
  if (page.body.querySelector('template')) return false;
  for (const script of page.body.querySelectorAll('script')) {
    if (script.textContent.replace(/__\w+=\[\];/g, '').trim() !== '') return false;
    script.remove();
  }
  return true;
}

// The new page's body takes the place of the old one: a new element, so that the first
// hydration pass, if it is still walking the old body, never reaches the new page's islands
// twice.
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

// New islands come alive as on a full load. Until the WASM module has started (the hydration
// script marks the body then), that script's first pass will hydrate the whole body itself.
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

// Scroll and focus as a new page would have them: the fragment's target, or the top (or where
// the person was, going back) with the focus on the page's heading, so that the next Tab goes
// on from there.
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

function announce(title) {
  announcer.textContent = '';
  clearTimeout(announcing);
  // A moment later, so that screen readers hear a change rather than the same text again.
  announcing = setTimeout(() => {
    announcer.textContent = title;
  }, 100);
}

if (inScope(location.pathname)) start();
