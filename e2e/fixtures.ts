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
  /** Shows one of the left column's panels (Generate, Mask, Dataset, Quality); the review area stays as it is. */
  async openTab(name: 'Generate' | 'Mask' | 'Dataset' | 'Quality') {
    await this.page.getByRole('tablist', { name: 'Panels' }).getByRole('tab', { name, exact: true }).click();
  }
  /** Two 4-step Crack windows generated and accepted by keyboard, then the Quality tab: where the downstream check starts. */
  async twoAcceptedCracksThenQuality() {
    await this.open('?backend=wasm');
    await this.page.getByLabel('Defect class').selectOption('Crack');
    await this.page.getByLabel('Steps').fill('4');
    await this.page.getByLabel('Batch size').fill('2');
    await this.generateButton().click();
    await expect(this.page.getByRole('tab', { name: /^Pending \(2\)$/ })).toBeVisible({ timeout: 120_000 });
    await this.page.getByRole('list', { name: 'Generated images' }).getByRole('listitem').first().click();
    await this.page.keyboard.press('a');
    await this.page.keyboard.press('a');
    await this.openTab('Quality');
  }
  async backend() {
    return (await this.page.getByTestId('backend').textContent())?.trim();
  }
}

interface Fixtures {
  offsite: string[];
  studio: StudioPage;
  /** Content-Security-Policy violations so far: 'securitypolicyviolation' events of the page and CSP console reports (workers included). */
  cspViolations: () => Promise<string[]>;
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
  cspViolations: async ({ page }, use) => {
    const reported: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) reported.push(`console: ${m.text()}`);
    });
    await page.addInitScript(() => {
      const seen: string[] = [];
      (globalThis as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective}: ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
    });
    await use(async () => [...((await page.evaluate('globalThis.__cspViolations ?? []')) as string[]), ...reported]);
  },
  studio: async ({ page, offsite }, use) => {
    void offsite;
    await use(new StudioPage(page));
  },
});
export { expect };
