import type { Browser, Page } from '@playwright/test';
import { test, expect, expectAccessible, open, atProvider } from './fixtures';
import { servers } from '../servers';

// Lotsen in real mode, signing in through real OpenID Connect providers (end2end/idp).
test.use({ baseURL: servers.real });

const SESSION = '__Host-lotsen_session';
const LOGIN = '__Host-lotsen_login';


/** Starts signing in from Lotsen's login page. */
async function startLogin(page: Page, hydrated: boolean, as: 'patient' | 'staff', origin = '') {
  await open(page, `${origin}/logga-in`, hydrated);
  const name = as === 'patient' ? 'Logga in med e-legitimation' : 'Logga in med SITHS-kort';
  await page.getByRole('button', { name }).click();
}

/**
 * Starts a login the way the login button does (same cookies, same headers), but hands back
 * the address at the identity provider instead of going there.
 */
async function beginLogin(page: Page, as: 'patient' | 'staff', origin = servers.real) {
  const response = await page.context().request.post(`${origin}/login/${as}`, {
    headers: { origin },
    maxRedirects: 0,
  });
  expect(response.status()).toBe(303);
  return new URL(response.headers()['location']);
}

/**
 * Signs in at the provider's form, but stops the provider's answer before it reaches Lotsen
 * and hands back its address (what an attacker in the middle would hold).
 */
async function stopAnswer(page: Page, login: string): Promise<URL> {
  let seen: (url: URL) => void = () => {};
  const answer = new Promise<URL>((resolve) => (seen = resolve));
  const request = page.context().request;
  let stopped = false;
  await page.route(
    (url) => url.pathname.startsWith('/interaction/'),
    async (route) => {
      // The login form posts to the interaction's own address.
      if (stopped || route.request().method() !== 'POST') {
        await route.continue();
        return;
      }
      stopped = true;
      let response = await request.post(route.request().url(), {
        data: route.request().postData() ?? '',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        maxRedirects: 0,
      });
      let next = new URL(response.headers()['location'], route.request().url());
      // The provider's own redirects, up to the answer addressed to Lotsen.
      while (![servers.real, servers.slowClock, servers.strict].includes(next.origin)) {
        response = await request.get(next.toString(), { maxRedirects: 0 });
        next = new URL(response.headers()['location'], next);
      }
      seen(next);
      await route.fulfill({
        contentType: 'text/html',
        body: '<!doctype html><html lang="sv"><title>Stoppat</title><p>Svaret stoppades.</p></html>',
      });
    },
  );
  await atProvider(page, login);
  const url = await answer;
  await expect(page.getByText('Svaret stoppades.')).toBeVisible();
  return url;
}

async function cookieNames(page: Page) {
  return (await page.context().cookies()).map((c) => c.name);
}

/** The error page says why, and the visitor is not signed in: no session, no login left. */
async function expectFailed(page: Page, hydrated: boolean, why: string, origin = servers.real) {
  await expect(page).toHaveURL(/\/logga-in\/fel\?orsak=[a-z-]+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Inloggningen misslyckades');
  await expect(page.getByRole('alert')).toContainText(why);
  await expect(page.getByText('Du är inte inloggad')).toBeVisible();
  expect(await cookieNames(page)).not.toContain(SESSION);
  expect(await cookieNames(page)).not.toContain(LOGIN);
  await expectAccessible(page, hydrated);
  await open(page, `${origin}/konto`, hydrated);
  await expect(page.getByRole('alert')).toHaveText('Du behöver logga in för att se den här sidan.');
}

test('a patient logs in with e-ID, sees her own pages and not the clinic, and logs out', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await expect(page.getByText('Allt här är påhittat')).toHaveCount(0);
  await page.getByRole('navigation').getByRole('link', { name: 'Logga in' }).click();
  await expect(page).toHaveURL(/\/logga-in$/);
  await expectAccessible(page, hydrated);
  await page.getByRole('button', { name: 'Logga in med e-legitimation' }).click();

  await expect(page).toHaveURL(new RegExp(`^${servers.bankid}/interaction/`));
  await atProvider(page, 'tolvan');

  await expect(page).toHaveURL(/\/mina-sidor$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mina sidor');
  await expect(page.locator('.user-name')).toHaveText('Tolvan Tolvansson');
  expect(await cookieNames(page)).toContain(SESSION);
  expect(await cookieNames(page)).not.toContain(LOGIN);
  await expectAccessible(page, hydrated);

  await open(page, '/mottagning', hydrated);
  await expect(page.getByRole('alert')).toHaveText('Du har inte behörighet till det här.');

  await page.getByRole('button', { name: 'Logga ut' }).first().click();
  await open(page, '/mina-sidor', hydrated);
  await expect(page.getByRole('alert')).toHaveText('Du behöver logga in för att se den här sidan.');
});

test('a therapist logs in with SITHS, picks her care assignment, and reaches her unit only', async ({
  page,
  hydrated,
}) => {
  await startLogin(page, hydrated, 'staff');
  await expect(page).toHaveURL(new RegExp(`^${servers.siths}/interaction/`));
  await atProvider(page, 'tove');

  await expect(page).toHaveURL(/\/logga-in\/uppdrag$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Välj uppdrag');
  await expect(page.getByText('Tove Terapeut')).toBeVisible();
  // Her third assignment is at a unit that does not use Lotsen: not offered.
  await expect(page.getByRole('radio')).toHaveCount(2);
  await expectAccessible(page, hydrated);
  // No session until an assignment is chosen.
  expect(await cookieNames(page)).not.toContain(SESSION);

  await page.getByLabel(/^Psykiatrimottagning Test, Region Test/).check();
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await expect(page).toHaveURL(/\/mottagning$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mottagningen');
  await expect(page.locator('.user-name')).toHaveText('Tove Terapeut');
  expect(await cookieNames(page)).not.toContain(LOGIN);
  await expectAccessible(page, hydrated);

  // Roles are Lotsen's own: she is a therapist, not an access administrator.
  await open(page, '/behorigheter', hydrated);
  await expect(page.getByRole('alert')).toHaveText('Du har inte behörighet till det här.');
});

/**
 * Tove signs in once, in a browser of her own: from then on her assignment at the unit is
 * known. Tests run in parallel, so no test may count on another having signed her in.
 */
async function toveHasSignedIn(browser: Browser) {
  const context = await browser.newContext({ baseURL: servers.real });
  const page = await context.newPage();
  // Plain forms: whether this browser runs scripts does not matter here.
  await startLogin(page, false, 'staff');
  await atProvider(page, 'tove');
  await page.getByLabel(/^Psykiatrimottagning Test, Region Test/).check();
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await expect(page).toHaveURL(/\/mottagning$/);
  await context.close();
}

test('an access administrator works in an administrative assignment, without patient data', async ({
  page,
  hydrated,
  browser,
}) => {
  await toveHasSignedIn(browser);
  await startLogin(page, hydrated, 'staff');
  await atProvider(page, 'alva');
  await expect(page.getByText('Ger inte tillgång till patientuppgifter.')).toBeVisible();
  await page.getByRole('button', { name: 'Fortsätt' }).click();

  await expect(page).toHaveURL(/\/behorigheter$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Behörigheter på enheten');
  await expect(page.getByRole('region', { name: /Tove Terapeut/ })).toBeVisible();
  await expectAccessible(page, hydrated);

  await open(page, '/mottagning', hydrated);
  await expect(page.getByRole('alert')).toHaveText('Du har inte behörighet till det här.');
});

test('an assignment without the care purpose, and no role, opens no session', async ({
  page,
  hydrated,
}) => {
  await startLogin(page, hydrated, 'staff');
  await atProvider(page, 'nils');
  await expect(page.getByRole('radio')).toHaveCount(1);
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await expectFailed(page, hydrated, 'har inte syftet vård och behandling');
});

test('an invalid personal identity number opens no session', async ({ page, hydrated }) => {
  await startLogin(page, hydrated, 'patient');
  await atProvider(page, 'felaktig');
  await expectFailed(page, hydrated, 'inget giltigt personnummer');
});

test('an answer with a forged state opens no session', async ({ page, hydrated }) => {
  await startLogin(page, hydrated, 'patient');
  const forged = await stopAnswer(page, 'tolvan');
  expect(forged.pathname).toBe('/login/patient/callback');
  forged.searchParams.set('state', `x${forged.searchParams.get('state')}`);
  await page.goto(forged.toString());
  await expectFailed(page, hydrated, 'hörde inte till en inloggning som startades i den här');
});

test('a replayed authorization code opens no session', async ({ page, hydrated }) => {
  // A complete login; its answer (with the code) is kept.
  await startLogin(page, hydrated, 'patient');
  const used = await stopAnswer(page, 'tolvan');
  await page.goto(used.toString());
  await expect(page).toHaveURL(/\/mina-sidor$/);
  await page.getByRole('button', { name: 'Logga ut' }).first().click();
  await expect(page).toHaveURL(/\/$/);

  // A new login in the same browser, answered with the old code.
  const request = await beginLogin(page, 'patient');
  used.searchParams.set('state', request.searchParams.get('state') ?? '');
  await page.goto(used.toString());
  await expectFailed(page, hydrated, 'godtog inte inloggningskoden');
});

test('an ID token for another nonce opens no session', async ({ page, hydrated }) => {
  const request = await beginLogin(page, 'patient');
  expect(request.origin).toBe(servers.bankid);
  request.searchParams.set('nonce', 'någon-annans-nonce');
  await page.goto(request.toString());
  await atProvider(page, 'tolvan');
  await expectFailed(page, hydrated, 'hörde inte till den här inloggningen');
});

test('an answer from an identity provider Lotsen does not trust opens no session', async ({
  page,
  hydrated,
}) => {
  // The login is sent to another provider (a mix-up): same request, other issuer.
  const request = await beginLogin(page, 'patient');
  await page.goto(`${servers.other}${request.pathname}${request.search}`);
  await atProvider(page, 'tolvan');
  await expectFailed(page, hydrated, 'inloggningstjänst som Lotsen inte litar på');
});

test('an expired ID token opens no session', async ({ page, hydrated }) => {
  // This server's patient provider issues tokens with a clock two hours slow.
  await startLogin(page, hydrated, 'patient', servers.slowClock);
  await atProvider(page, 'tolvan');
  await expectFailed(page, hydrated, 'hade gått ut', servers.slowClock);
});

test('a staff member signs in where the provider puts the claims in the ID token', async ({
  page,
  hydrated,
}) => {
  // The main providers hand names and assignments out from UserInfo; this one in the token.
  await startLogin(page, hydrated, 'staff', servers.slowClock);
  await expect(page).toHaveURL(new RegExp(`^${servers.sithsInToken}/interaction/`));
  await atProvider(page, 'tove');
  await expect(page).toHaveURL(/\/logga-in\/uppdrag$/);
  await expect(page.getByText('Tove Terapeut')).toBeVisible();
  await expect(page.getByRole('radio')).toHaveCount(2);
  await page.getByLabel(/^Psykiatrimottagning Test, Region Test/).check();
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await expect(page).toHaveURL(`${servers.slowClock}/mottagning`);
  await expect(page.locator('.user-name')).toHaveText('Tove Terapeut');
});

test('a sign-in without the required level of assurance opens no session', async ({
  page,
  hydrated,
}) => {
  // This server requires loa4 (sent as acr_values); the test broker states no acr at all.
  const at = await beginLogin(page, 'patient', servers.strict);
  expect(at.searchParams.get('acr_values')).toBe('http://id.elegnamnden.se/loa/1.0/loa4');
  await startLogin(page, hydrated, 'patient', servers.strict);
  await atProvider(page, 'tolvan');
  await expectFailed(page, hydrated, 'säkerhetsnivå som krävs', servers.strict);
});

test('a staff sign-in that must be recent passes when it is', async ({ page, hydrated }) => {
  // This server sends max_age=600 and checks auth_time; the sign-in has just happened.
  const at = await beginLogin(page, 'staff', servers.strict);
  expect(at.searchParams.get('max_age')).toBe('600');
  await startLogin(page, hydrated, 'staff', servers.strict);
  await atProvider(page, 'tove');
  await expect(page).toHaveURL(/\/logga-in\/uppdrag$/);
  await page.getByLabel(/^Psykiatrimottagning Test, Region Test/).check();
  await page.getByRole('button', { name: 'Fortsätt' }).click();
  await expect(page).toHaveURL(`${servers.strict}/mottagning`);
  await expect(page.locator('.user-name')).toHaveText('Tove Terapeut');
});
