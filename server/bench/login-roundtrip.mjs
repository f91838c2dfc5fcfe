// Drives complete logins over HTTP and reports how long they take, and how much of that is
// Lotsen's own work (starting the login, and taking the provider's answer: code exchange, ID
// token checks, finding the person, the session) against the identity provider's pages.
//
//   node login-roundtrip.mjs <lotsen base URL> <logins per kind>

const [base, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 50);
const lotsen = new URL(base);

/** Cookies by host, as a browser keeps them (ports share a host's cookies). */
class Jar {
  constructor() {
    this.cookies = new Map();
  }
  store(url, response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      const key = `${url.hostname} ${name}`;
      if (gone) this.cookies.delete(key);
      else this.cookies.set(key, { host: url.hostname, name, value });
    }
  }
  header(url) {
    return [...this.cookies.values()]
      .filter((c) => c.host === url.hostname)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

async function step(jar, url, init = {}) {
  const target = new URL(url);
  const headers = { ...(init.headers ?? {}), cookie: jar.header(target) };
  const started = performance.now();
  const response = await fetch(target, { ...init, headers, redirect: 'manual' });
  const body = await response.text();
  const ms = performance.now() - started;
  jar.store(target, response);
  const location = response.headers.get('location');
  return { response, body, ms, next: location ? new URL(location, target) : null };
}

/** One login; returns [Lotsen's milliseconds, the provider's milliseconds]. */
async function login(kind, account) {
  const jar = new Jar();
  let own = 0;
  let provider = 0;
  const post = (body, origin) => ({
    method: 'POST',
    body,
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
  });
  // Lotsen: start.
  let r = await step(jar, new URL(`/login/${kind}`, lotsen), post('', lotsen.origin));
  own += r.ms;
  // The provider: authorization request, its login page, the login form, back to /auth.
  r = await step(jar, r.next);
  provider += r.ms;
  const page = await step(jar, r.next);
  provider += page.ms;
  const action = /action="([^"]+)"/.exec(page.body)?.[1];
  if (!action) throw new Error(`no login form at the provider: ${page.response.status}`);
  const form = new URL(action.replaceAll('&amp;', '&'), page.response.url || r.next);
  r = await step(jar, form, post(`prompt=login&login=${account}&password=x`, form.origin));
  provider += r.ms;
  while (r.next && r.next.origin !== lotsen.origin) {
    r = await step(jar, r.next);
    provider += r.ms;
  }
  // Lotsen: the answer (and, for staff, the assignment choice).
  r = await step(jar, r.next);
  own += r.ms;
  if (kind === 'staff') {
    const picker = await step(jar, r.next);
    own += picker.ms;
    const id = /name="assignment"[^>]*value="(\d+)"/.exec(picker.body)?.[1];
    if (!id) throw new Error('no assignment offered');
    r = await step(jar, new URL('/logga-in/uppdrag', lotsen), post(`assignment=${id}`, lotsen.origin));
    own += r.ms;
  }
  const home = r.next?.pathname;
  const signedIn = jar.header(lotsen).includes('__Host-lotsen_session=');
  if (!signedIn || !home || home.startsWith('/logga-in')) {
    throw new Error(`${kind} login failed: ended at ${r.next}`);
  }
  return [own, provider];
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

// Warm up: discovery, keys, connections.
await login('patient', 'tolvan');
await login('staff', 'tove');
console.log(`login round trip over loopback, ${count} logins of each kind, one at a time, same run`);
for (const [kind, account] of [
  ['patient', 'tolvan'],
  ['staff', 'tove'],
]) {
  const own = [];
  const provider = [];
  const total = [];
  for (let i = 0; i < count; i += 1) {
    const [o, p] = await login(kind, account);
    own.push(o);
    provider.push(p);
    total.push(o + p);
  }
  const share = (100 * median(own)) / median(total);
  console.log(
    `${kind}: median ${median(total).toFixed(1)} ms in all; Lotsen ${median(own).toFixed(1)} ms ` +
      `(${share.toFixed(0)} %), identity provider ${median(provider).toFixed(1)} ms`,
  );
}
