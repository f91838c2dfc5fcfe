import { test, expect, expectAccessible, open } from './fixtures';

test('the care provider administrator closes a unit, and its therapist loses access', async ({
  page,
  hydrated,
}) => {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som vårdgivaradministratör', exact: true }).click();
  await expect(page).toHaveURL(/\/vardgivare$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Vårdgivarens enheter');
  const unit = page.getByRole('region', { name: /Psykiatrimottagning Demo/ });
  await expect(unit).toContainText('Öppen för vård.');
  await expect(unit.getByRole('listitem')).toContainText('Alva Åtkomst');
  await expectAccessible(page, hydrated);

  await unit.getByRole('button', { name: 'Stäng enheten' }).click();
  await expect(unit).toContainText('Stängd: uppdrag här öppnar inga patientuppgifter.');

  await page.getByLabel('Du provar som').selectOption('therapist');
  await page.getByRole('button', { name: 'Byt roll' }).click();
  await expect(page.getByRole('alert')).toHaveText('Du har inte behörighet till det här.');

  await page.getByLabel('Du provar som').selectOption('provider_admin');
  await page.getByRole('button', { name: 'Byt roll' }).click();
  await unit.getByRole('button', { name: 'Öppna enheten' }).click();
  await expect(unit).toContainText('Öppen för vård.');
});
