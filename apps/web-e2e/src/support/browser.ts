import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sparticuzChromium from '@sparticuz/chromium';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WORKSPACE } from '@acme/bootstrap/testing';

/** The system's Chromium: `CHROMIUM_PATH`, else Debian's `chromium` package when installed. */
const SYSTEM_CHROMIUM =
  process.env['CHROMIUM_PATH'] ??
  (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
/**
 * Nothing but the pages under test: no background traffic, which a closed network turns into retry
 * storms. Not the npm build's own recommended flags: its `--single-process` makes closing a browser
 * context crash the browser, and others switch off the same-origin policy these tests rely on.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOTS_DIR = join(WORKSPACE, 'dist/web-e2e/screenshots');

/**
 * Headless Chromium with a fresh profile (Playwright makes a temporary user-data dir per launch):
 * the system's when there is one, otherwise the build that ships inside the npm package
 * `@sparticuz/chromium` (a devDependency), unpacked into the temp folder on first use, so that
 * `npm ci && npm test` needs no browser installed.
 */
export async function launchChromium(): Promise<Browser> {
  rmSync(SCREENSHOTS_DIR, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  return chromium.launch({
    executablePath: SYSTEM_CHROMIUM ?? (await sparticuzChromium.executablePath()),
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: 30_000,
  });
}

/** What one browser context did that a test may look at: token requests, API calls, page errors. */
export interface Recorder {
  page: Page;
  context: BrowserContext;
  /** Bodies of the POSTs to the issuer's token endpoint. */
  tokenRequests: string[];
  /** Authorization headers sent to the gateway. */
  apiAuthorizations: string[];
  /** How many of the gateway's answers asked for a DPoP nonce (`use_dpop_nonce`). */
  apiNonceRefusals: number;
  /** Uncaught exceptions and CSP / Trusted Types violations. */
  pageErrors: string[];
}

/** A new, isolated browser context (its own cookies and storage), as a different person would have. */
export async function openBrowserContext(
  browser: Browser,
  urls: { issuer: string; gateway: string },
): Promise<Recorder> {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const recorder: Recorder = {
    page,
    context,
    tokenRequests: [],
    apiAuthorizations: [],
    apiNonceRefusals: 0,
    pageErrors: [],
  };
  context.on('response', (response) => {
    const challenge = response.headers()['www-authenticate'] ?? '';
    if (response.url().startsWith(urls.gateway) && challenge.includes('use_dpop_nonce')) {
      recorder.apiNonceRefusals += 1;
    }
  });
  context.on('request', (request) => {
    if (request.method() === 'POST' && request.url() === `${urls.issuer}/token`) {
      recorder.tokenRequests.push(request.postData() ?? '');
    }
    const authorization = request.headers()['authorization'];
    if (request.url().startsWith(urls.gateway) && authorization) {
      recorder.apiAuthorizations.push(authorization);
    }
  });
  page.on('pageerror', (error) => recorder.pageErrors.push(error.message));
  page.on('console', (message) => {
    if (/Content Security Policy|Trusted ?(Type|HTML|Script)/i.test(message.text())) {
      recorder.pageErrors.push(message.text());
    }
  });
  return recorder;
}

let shots = 0;

/** Saves a numbered full-page screenshot, so a failure can be seen step by step. */
export async function screenshot(page: Page, step: string): Promise<void> {
  shots += 1;
  await page.screenshot({
    path: join(SCREENSHOTS_DIR, `${String(shots).padStart(2, '0')}-${step}.png`),
    fullPage: true,
  });
}
