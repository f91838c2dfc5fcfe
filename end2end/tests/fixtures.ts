import { test as base, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

/** Zero WCAG 2.1 A/AA violations on the page as it is now. */
export async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  const summary = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(summary, 'axe-core WCAG 2.1 AA violations').toEqual([]);
}

export const test = base.extend<{ hydrated: boolean }>({
  hydrated: async ({ javaScriptEnabled }, use) => {
    await use(javaScriptEnabled !== false);
  },
});

/** Opens a page and, when JavaScript runs, waits until the app has hydrated. */
export async function open(page: Page, url: string, hydrated: boolean) {
  const response = await page.goto(url);
  if (hydrated) {
    await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  }
  return response;
}

export { expect };
