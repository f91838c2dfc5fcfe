import { test, expect, expectAccessible, open } from './fixtures';

test('the start page tells what Lotsen is, in Swedish', async ({ page, hydrated }) => {
  const response = await open(page, '/', hydrated);
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle('Lotsen – stöd och behandling på nätet');
  await expect(page.locator('html')).toHaveAttribute('lang', 'sv');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    'Hjälp att må bättre, i din egen takt',
  );
  for (const heading of ['För dig som patient', 'För dig som arbetar i vården', 'För vårdgivare']) {
    await expect(page.getByRole('heading', { level: 2, name: heading })).toBeVisible();
  }
  // Read from the database by a server function; on a fresh database all figures are zero.
  const figures = page.getByTestId('figures');
  await expect(figures).toContainText('vårdenheter');
  await expect(figures.locator('.figure')).toHaveText(['0', '0', '0']);
  await expect(page.getByText('Inga kända driftstörningar.')).toBeVisible();
  await expectAccessible(page, hydrated);
});

test('the language switch turns the page into English and back', async ({ page, hydrated }) => {
  const posts: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') posts.push(new URL(r.url()).pathname);
  });
  await open(page, '/', hydrated);

  await page.getByRole('button', { name: 'In English' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    'Help to feel better, at your own pace',
  );
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.getByText('No known disruptions.')).toBeVisible();
  await expectAccessible(page, hydrated);

  // The choice is remembered on the next visit.
  await open(page, '/', hydrated);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    'Help to feel better, at your own pace',
  );

  await page.getByRole('button', { name: 'På svenska' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    'Hjälp att må bättre, i din egen takt',
  );
  await expect(page.locator('html')).toHaveAttribute('lang', 'sv');

  // The switch is a form the server answers, with and without JavaScript alike.
  expect(posts.filter((p) => p === '/sprak')).toEqual(['/sprak', '/sprak']);
});

test('an unknown address shows a helpful page with status 404', async ({ page, hydrated }) => {
  const response = await page.goto('/finns-inte');
  expect(response?.status()).toBe(404);
  if (hydrated) {
    await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  }
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sidan finns inte');
  await page.getByRole('link', { name: 'Till startsidan' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    'Hjälp att må bättre, i din egen takt',
  );
  await expectAccessible(page, hydrated);
});

test('the skip link leads to the main content', async ({ page, hydrated }) => {
  await open(page, '/', hydrated);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Hoppa till innehållet' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);
});

test('scripts run only with the page’s own nonce, and an injected one does not', async ({
  page,
  hydrated,
}) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) violations.push(m.text());
  });
  const response = await open(page, '/', hydrated);
  const policy = response?.headers()['content-security-policy'] ?? '';
  const nonce = /script-src 'nonce-([0-9a-f]{32})' 'strict-dynamic'/.exec(policy)?.[1];
  expect(nonce, policy).toBeTruthy();
  expect(policy).toContain("frame-ancestors 'none'");
  // Every script the server wrote carries this response's nonce; hydration ran with it.
  const nonces = await page.locator('script[nonce]').evaluateAll((s) =>
    s.map((e) => (e as HTMLScriptElement).nonce || e.getAttribute('nonce')),
  );
  if (hydrated) {
    expect(nonces.length).toBeGreaterThan(0);
    expect(new Set(nonces)).toEqual(new Set([nonce]));
    // Markup injected into the page (as stored XSS would be) cannot run its handler.
    type Flags = { __injected?: boolean; __failed?: boolean };
    await page.evaluate(() => {
      const div = document.createElement('div');
      div.innerHTML = '<img src="/finns-inte.png" alt="" onerror="window.__injected = true">';
      div.querySelector('img')?.addEventListener('error', () => {
        (window as unknown as Flags).__failed = true;
      });
      document.body.appendChild(div);
    });
    // The image has failed (so its handler would have run by now), and the handler did not.
    await expect
      .poll(() => page.evaluate(() => (window as unknown as Flags).__failed === true))
      .toBe(true);
    expect(await page.evaluate(() => (window as unknown as Flags).__injected === true)).toBe(false);
    expect(violations.join('\n')).toContain('inline event handler');
  }
  // A new response, a new nonce.
  const again = await page.request.get('/');
  expect(again.headers()['content-security-policy']).not.toContain(nonce);
});
