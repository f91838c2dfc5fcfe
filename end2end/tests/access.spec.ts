import { test, expect, expectAccessible, open } from './fixtures';

test('the access administrator removes a role, and the therapist loses access at once', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som behörighetsadministratör' }).click();
  await expect(page).toHaveURL(/\/behorigheter$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Behörigheter på enheten');
  const tove = page.getByRole('region', { name: /Tove Terapeut/ });
  const roles = tove.getByRole('listitem');
  await expect(roles).toHaveCount(1);
  await expect(roles).toContainText('Behandlare');
  await expectAccessible(page, hydrated);

  await tove.getByRole('button', { name: 'Ta bort Tove Terapeut: Behandlare' }).click();
  // The form posts to the server function, which sends the browser back to the page.
  await expect(page).toHaveURL(/\/behorigheter\??$/);
  await expect(tove.getByText('Inga roller på enheten.')).toBeVisible();

  await page.getByLabel('Du provar som').selectOption('therapist');
  await page.getByRole('button', { name: 'Byt roll' }).click();
  await expect(page.getByRole('alert')).toHaveText('Du har inte behörighet till det här.');

  // And back: the role is given again, and the unit's patients are there again.
  await page.getByLabel('Du provar som').selectOption('access_admin');
  await page.getByRole('button', { name: 'Byt roll' }).click();
  await tove.getByLabel('Ge roll').selectOption('therapist');
  await tove.getByRole('button', { name: 'Ge rollen' }).click();
  await expect(roles).toHaveCount(1);
  await expect(roles).toContainText('Behandlare');
  await page.getByLabel('Du provar som').selectOption('therapist');
  await page.getByRole('button', { name: 'Byt roll' }).click();
  await expect(page.getByRole('link', { name: 'Petra Patient' })).toBeVisible();
});

test('an administrator who gives themselves a role is told why, and nothing changes', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som behörighetsadministratör' }).click();
  await expect(page).toHaveURL(/\/behorigheter$/);
  const me = (await page.locator('.user-name').innerText()).trim();
  const card = page.getByRole('region', { name: new RegExp(me) });
  const roles = card.getByRole('listitem');
  const before = await roles.count();
  await card.getByLabel('Ge roll').selectOption('producer');
  await card.getByRole('button', { name: 'Ge rollen' }).click();
  // Refused on the server; the browser comes back to the page, which says why.
  await expect(page.getByRole('alert')).toHaveText(
    'Du kan inte ge dig själv roller eller ta bort dina egna. Be en annan administratör. Inget har ändrats.',
  );
  await expect(roles).toHaveCount(before);
  await expectAccessible(page, hydrated);
  // The next page load without an error says nothing of it.
  await page.goto('/behorigheter');
  await expect(page.getByRole('alert')).toHaveCount(0);
});
