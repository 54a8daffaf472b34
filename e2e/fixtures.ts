/**
 * Fixtures: every request that leaves the app's origin is blocked and counted (the app must work offline),
 * and a page object for the studio.
 */
import { test as base, expect, type Page, type Locator } from '@playwright/test';

export class StudioPage {
  readonly status: Locator;
  constructor(public readonly page: Page) {
    this.status = page.getByRole('status').first();
  }
  async open(query = '') {
    await this.page.goto(`/${query}`);
    await expect(this.status).toHaveText('Ready', { timeout: 120_000 });
  }
  generateButton() {
    return this.page.getByRole('button', { name: 'Generate', exact: true });
  }
  async backend() {
    return (await this.page.getByTestId('backend').textContent())?.trim();
  }
}

interface Fixtures {
  offsite: string[];
  studio: StudioPage;
}

export const test = base.extend<Fixtures>({
  offsite: async ({ context, baseURL }, use) => {
    const blocked: string[] = [];
    const origin = new URL(baseURL as string).origin;
    await context.route(
      (url) => url.origin !== origin && !url.protocol.startsWith('blob') && !url.protocol.startsWith('data'),
      (route) => {
        blocked.push(route.request().url());
        return route.abort('blockedbyclient');
      },
    );
    await use(blocked);
  },
  studio: async ({ page, offsite }, use) => {
    void offsite;
    await use(new StudioPage(page));
  },
});
export { expect };
