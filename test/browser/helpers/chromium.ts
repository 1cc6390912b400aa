/**
 * Debian's Chromium driven by playwright-core (a test tool's own browser
 * download is not available here). Playwright gives every launch a fresh,
 * temporary profile, which is the "new empty --user-data-dir" this machine needs.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const chromiumPath = process.env.EIP_CHROMIUM ?? '/usr/bin/chromium';

/** Without the background-networking flags Chromium keeps dialling hosts this closed network refuses. */
export const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} not found: run bash infra/chromium/install.sh (npm test does it for test/browser/)`);
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}

/**
 * The page's uncaught errors, and every refusal by the console's
 * Content-Security-Policy (Chromium reports each on the console), as they
 * happen: a test ends by asserting the list is empty.
 */
export function pageErrorsOf(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  return errors;
}
