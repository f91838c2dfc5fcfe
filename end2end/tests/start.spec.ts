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
