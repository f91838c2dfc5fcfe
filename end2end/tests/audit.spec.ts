import { test, expect, expectAccessible, open } from './fixtures';

test('emergency access needs a reason, and the auditor sees it flagged for follow-up', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som behandlare' }).click();
  await expect(page).toHaveURL(/\/mottagning$/);
  await page.getByRole('link', { name: 'Petra Patient' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Petra Patient');

  // Maja Mönster is cared for at the region's other unit. The demo template creates Petra,
  // Olle and Maja in that order, so her record is two ids after Petra's.
  const petra = Number(new URL(page.url()).pathname.split('/').pop());
  const response = await page.goto(`/mottagning/patient/${petra + 2}`);
  expect(response?.status()).toBe(403);
  await expect(page.getByRole('alert')).toHaveText('Du har inte behörighet till det här.');
  await expectAccessible(page, hydrated);

  await page
    .getByLabel('Skäl till nödåtkomst')
    .fill('Patienten söker akut, den behandlande enheten är stängd.');
  await page.getByRole('button', { name: 'Öppna med nödåtkomst' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Maja Mönster');

  // The auditor of the same region sees both reads, the emergency one marked with its reason.
  await page.getByLabel('Du provar som').selectOption('auditor');
  await page.getByRole('button', { name: 'Byt roll' }).click();
  await expect(page).toHaveURL(/\/granskning$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Granskning av åtkomst');
  const log = page.getByRole('table', { name: 'Åtkomst till patientuppgifter, senaste först' });
  await expect(log.locator('tr.follow-up').first()).toContainText('den behandlande enheten är stängd');
  await expect(log).toContainText('Petra Patient');
  await expectAccessible(page, hydrated);

  await page.getByLabel('Bara sådant som ska följas upp').check();
  await page.getByRole('button', { name: 'Sök' }).click();
  await expect(log.locator('tbody tr')).toHaveCount(2);
  await expect(log).not.toContainText('Petra Patient');

  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Hämta som CSV' }).click();
  const file = await download;
  const text = await (await file.createReadStream()).toArray();
  const csv = Buffer.concat(text).toString('utf8');
  expect(csv.split('\r\n').filter((l) => l).length).toBe(3);
  expect(csv).toContain('Maja Mönster');
});
