import type { Page } from '@playwright/test';
import { test, expect, expectAccessible, open } from './fixtures';

async function switchTo(page: Page, persona: string) {
  await page.getByLabel('Du provar som').selectOption(persona);
  await page.getByRole('button', { name: 'Byt roll' }).click();
}

async function createProgram(page: Page, hydrated: boolean, title: string) {
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som producent' }).click();
  await expect(page).toHaveURL(/\/program$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Program');
  await expectAccessible(page, hydrated);
  await page.getByLabel('Programmets namn').fill(title);
  await page.getByRole('button', { name: 'Skapa programmet' }).click();
  // The form posts to the server function, which sends the browser back to the list.
  await expect(page).toHaveURL(/\/program\??$/);
  await page.getByRole('link', { name: title }).click();
  await expect(page).toHaveURL(/\/program\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Redigera program');
}

test('a producer builds a program, previews and answers it; a publisher publishes 1.0', async ({
  page,
  hydrated,
}) => {
  test.skip(!hydrated, 'the editor needs JavaScript (without it, see the next test)');
  await createProgram(page, hydrated, 'Sov gott');
  // The editor's code arrives on its own (a lazily loaded WASM file) and then takes over.
  await expect(page.locator('[data-editor="ready"]')).toHaveCount(1);
  const status = page.locator('.save-status');
  const outline = page.getByRole('region', { name: 'Innehåll' });
  const editor = page.getByRole('region', { name: 'Sida', exact: true });
  const preview = page.getByRole('region', { name: 'Förhandsvisning' });

  // Structure: a module, a section, two pages.
  await page.getByRole('button', { name: 'Lägg till modul' }).click();
  await outline.getByLabel('Modulens rubrik').fill('Om sömn');
  await outline.getByRole('button', { name: 'Lägg till avsnitt' }).click();
  await outline.getByLabel('Avsnittets rubrik').fill('Början');
  await outline.getByRole('button', { name: 'Lägg till sida' }).click();
  await editor.getByLabel('Sidans rubrik').fill('Välkommen');
  await editor.getByLabel('Nytt block').selectOption('text');
  await editor.getByRole('button', { name: 'Lägg till block' }).click();
  await editor.getByLabel('Text', { exact: true }).fill('Sömn är **viktigt**.');
  // The preview is the patient's own renderer: Markdown made safe, as patients will see it.
  await expect(preview.getByRole('heading', { name: 'Välkommen' })).toBeVisible();
  await expect(preview.locator('strong')).toHaveText('viktigt');

  // A questionnaire from the scale library, on a second page, answered in the preview.
  await page.getByLabel('Skattningsskala').selectOption('gad7');
  await page.getByRole('button', { name: 'Lägg till skalan' }).click();
  await outline.getByRole('button', { name: 'Lägg till sida' }).click();
  await editor.getByLabel('Sidans rubrik').fill('Veckans skattning');
  await editor.getByLabel('Nytt block').selectOption('questionnaire');
  await editor.getByRole('button', { name: 'Lägg till block' }).click();
  const form = preview.getByRole('region', { name: 'GAD-7' });
  for (let item = 1; item <= 3; item++) {
    await form.getByRole('group', { name: `Fråga ${item}` }).getByLabel('2').check();
  }
  await expect(form.getByRole('status')).toHaveText('Besvarade: 3 / 7');
  for (let item = 4; item <= 7; item++) {
    await form.getByRole('group', { name: `Fråga ${item}` }).getByLabel('2').check();
  }
  await expect(form.getByRole('status')).toContainText('Summa: 14 (måttliga besvär)');

  // Reordering: by drag and drop, and back by keyboard.
  const pages = outline.locator('.select-page');
  await expect(pages).toHaveText(['Välkommen', 'Veckans skattning']);
  await outline
    .locator('.outline-page .drag-handle')
    .nth(1)
    .dragTo(outline.locator('.outline-page').nth(0));
  await expect(pages).toHaveText(['Veckans skattning', 'Välkommen']);
  await outline.getByRole('button', { name: 'Flytta upp Välkommen' }).focus();
  await page.keyboard.press('Enter');
  await expect(pages).toHaveText(['Välkommen', 'Veckans skattning']);

  // The report before publishing, as the content changes.
  const report = page.getByRole('region', { name: 'Kontroll före publicering' });
  await expect(report).toContainText('Inga problem hittades.');
  await expectAccessible(page, hydrated);

  // Input no draft may hold is refused with the reason, and nothing is saved.
  await page.getByLabel('Programmets namn').fill('x'.repeat(201));
  await expect(report).toContainText('För lång text. Högst antal tecken: 200');
  await page.getByRole('button', { name: 'Spara' }).click();
  await expect(status).toContainText('Ingenting sparades: title: För lång text');
  await page.getByLabel('Programmets namn').fill('Sov gott');
  await page.getByRole('button', { name: 'Spara' }).click();
  await expect(status).toHaveText('Sparat, version av utkastet: 1');

  // What was saved is what comes back.
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(outline.getByLabel('Modulens rubrik')).toHaveValue('Om sömn');
  await expect(pages).toHaveText(['Välkommen', 'Veckans skattning']);

  // The publisher reviews what is new and publishes it as 1.0.
  await switchTo(page, 'publisher');
  await expect(page).toHaveURL(/\/program$/);
  await page
    .getByRole('row', { name: /Sov gott/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Granska och publicera');
  await expect(page.getByText('Första versionen: allt är nytt.')).toBeVisible();
  await expect(page.locator('.changes')).toContainText('Modul Om sömn — tillagt');
  await expect(page.getByLabel('Mindre ändring', { exact: false })).toBeDisabled();
  await expectAccessible(page, hydrated);
  await page.getByLabel('Vad har ändrats?').fill('Första versionen.');
  await page.getByRole('button', { name: 'Publicera' }).click();
  await expect(page.getByText('Inga ändringar sedan senaste versionen.')).toBeVisible();
  await expect(page.getByText('Ändringar sedan version 1.0')).toBeVisible();
  await open(page, '/program', hydrated);
  await expect(page.getByRole('row', { name: /Sov gott/ })).toContainText('1.0');

  // The publisher shares it with the neighbouring region ...
  await page
    .getByRole('row', { name: /Sov gott/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await page.getByRole('button', { name: 'Dela med Region Grann' }).click();
  await expect(page.getByRole('button', { name: 'Sluta dela med Region Grann' })).toBeVisible();

  // ... whose care-provider administrator activates it on a unit of theirs.
  await activateThere(page, hydrated, 'Sov gott');
});

/** As Region Grann's care-provider administrator: activates 1.0 on Grannmottagningen. */
async function activateThere(page: Page, hydrated: boolean, title: string) {
  await switchTo(page, 'neighbour_admin');
  await expect(page).toHaveURL(/\/katalog$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Programkatalog');
  const card = page.getByRole('region', { name: title });
  await expect(card).toContainText('Ägs av: Region Demo');
  await expect(card).toContainText('Inte aktiverat på någon enhet.');
  await expectAccessible(page, hydrated);
  await card.getByLabel('Version').selectOption('1.0');
  await card.getByLabel('Enhet').selectOption({ label: 'Grannmottagningen' });
  await card.getByRole('button', { name: 'Aktivera', exact: true }).click();
  await open(page, '/katalog?visa=aktiva', hydrated);
  await expect(page.getByRole('link', { name: 'Aktiva' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('region', { name: title })).toContainText(
    'Aktivt på Grannmottagningen 1.0',
  );
}

test('a published program is shared, activated in another region, and unpublished', async ({
  page,
  hydrated,
}) => {
  const title = 'Hantera oro';
  await open(page, '/', hydrated);
  await page.getByRole('button', { name: 'Prova som publicerare' }).click();
  await page
    .getByRole('row', { name: /Hantera oro/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await expect(page.getByText('Inga ändringar sedan senaste versionen.')).toBeVisible();
  await page.getByRole('button', { name: 'Dela med Region Grann' }).click();
  await expect(page.getByRole('region', { name: 'Delning' })).toContainText('Region Grann (delas)');
  await expectAccessible(page, hydrated);

  await activateThere(page, hydrated, title);
  // Not available to activate again while active; listed under Active only.
  await open(page, '/katalog?visa=tillgangliga', hydrated);
  await expect(page.getByRole('region', { name: title })).toHaveCount(0);

  // The owner unpublishes 1.0: no new activations, but the running one continues.
  await switchTo(page, 'publisher');
  await page
    .getByRole('row', { name: /Hantera oro/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await page.getByRole('button', { name: 'Avpublicera 1.0' }).click();
  await expect(page.getByRole('region', { name: 'Versioner' })).toContainText('1.0 avpublicerad');
  await switchTo(page, 'neighbour_admin');
  await open(page, '/katalog?visa=avpublicerade', hydrated);
  const card = page.getByRole('region', { name: title });
  await expect(card).toContainText('Versioner: 1.0 (avpublicerad)');
  await expect(card).toContainText('Aktivt på Grannmottagningen 1.0');
  await expect(card.getByRole('button', { name: 'Aktivera', exact: true })).toHaveCount(0);

  // Deactivated there: no longer active.
  await card.getByRole('button', { name: `Avaktivera ${title} Grannmottagningen` }).click();
  await open(page, '/katalog?visa=aktiva', hydrated);
  await expect(page.getByText('Inga program här.')).toBeVisible();
});

test('without JavaScript, programs are listed and created, and an empty one cannot be published', async ({
  page,
  hydrated,
}) => {
  await createProgram(page, hydrated, 'Tomt program');
  if (!hydrated) {
    await expect(page.getByText('Redigeringen kräver JavaScript.')).toBeVisible();
  } else {
    await expect(page.locator('[data-editor="ready"]')).toHaveCount(1);
    await expect(page.getByText('Redigeringen kräver JavaScript.')).toHaveCount(0);
  }
  await switchTo(page, 'publisher');
  await page
    .getByRole('row', { name: /Tomt program/ })
    .getByRole('link', { name: 'Granska och publicera' })
    .click();
  await expect(page.getByRole('alert')).toContainText('Programmet har inga moduler.');
  await expect(page.getByRole('button', { name: 'Publicera' })).toHaveCount(0);
  await expectAccessible(page, hydrated);
});
