import type { Browser, Page } from 'playwright-core';
import { launchChromium, openBrowserContext, screenshot } from './support/browser';
import type { Recorder } from './support/browser';
import { WebSystem } from './support/web-system';

/** Short enough that the page must refresh it during the run (it does so at half its life here). */
const ACCESS_TOKEN_TTL_SECONDS = 16;

/**
 * The web app in headless Chromium against the real system: people sign in on the auth server's
 * login page and use the API from the page. Screenshots: dist/web-e2e/screenshots/.
 */
describe('web app in the browser', () => {
  const system = new WebSystem({ accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS });
  let browser: Browser;
  let alice: Recorder;
  let bob: Recorder;
  let aliceOrderId: string;
  const recorders: Recorder[] = [];

  /** A new browser context, as a different person would have; its page errors fail the test. */
  async function open(): Promise<Recorder> {
    const recorder = await openBrowserContext(browser, {
      issuer: system.issuerUrl,
      gateway: system.gatewayUrl,
    });
    recorders.push(recorder);
    return recorder;
  }

  const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
  const orderRow = (page: Page, id: string) => page.locator(`tr[data-order-id="${id}"]`);

  /** Signs in through the auth server's login page, as a person would. */
  async function signIn({ page }: Recorder, username: string, password = username): Promise<void> {
    await page.goto(system.webUrl);
    await button(page, 'Sign in').click();
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password').fill(password);
    await screenshot(page, `${username}-login-page`);
    await button(page, 'Sign in').click();
  }

  async function signedInAs({ page }: Recorder, username: string): Promise<void> {
    await page.locator('#profile-subject').getByText(username, { exact: true }).waitFor();
    await screenshot(page, `${username}-signed-in`);
  }

  beforeAll(async () => {
    try {
      await system.start();
    } catch (error) {
      throw new Error(`${String(error)}\n${system.logs()}`);
    }
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await system.stop();
  });

  afterEach(() => {
    for (const recorder of recorders) expect(recorder.pageErrors).toEqual([]);
  });

  it('serves the page with a CSP that lets it talk to itself, the gateway and the issuer only', async () => {
    const response = await fetch(system.webUrl);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`connect-src 'self' ${system.gatewayUrl} ${system.issuerUrl};`);
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+';/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('lets alice sign in on the login page, create an order, pay it and see it PAID', async () => {
    alice = await open();
    const { page } = alice;
    await page.goto(system.webUrl);
    await screenshot(page, 'signed-out');
    await signIn(alice, 'alice');
    await signedInAs(alice, 'alice');
    expect(await page.locator('#profile-scopes').textContent()).toMatch(
      /orders:read.*orders:write/,
    );
    expect(await page.locator('#profile-scopes').textContent()).not.toContain('admin:read');

    await page.getByLabel('Product').selectOption('mug-1');
    await page.getByLabel('Quantity').fill('2');
    await button(page, 'Create order').click();
    await page
      .getByRole('status')
      .getByText(/created/)
      .waitFor();
    aliceOrderId =
      (await page.locator('#orders-rows tr[data-order-id]').getAttribute('data-order-id')) ?? '';
    const row = orderRow(page, aliceOrderId);
    // The price comes from the order service's catalog: 2 x 12.50.
    expect(await row.textContent()).toMatch(/2 × mug-1.*€25\.00.*PENDING/);
    await screenshot(page, 'alice-order-created');

    await row.getByRole('button', { name: /^Pay order/ }).click();
    await row.getByText('PAID', { exact: true }).waitFor();
    await screenshot(page, 'alice-order-paid');
  });

  it('keeps the tokens in memory only: nothing in storage or cookies that scripts can read', async () => {
    const readable = await alice.page.evaluate(() => [
      localStorage.length,
      sessionStorage.length,
      document.cookie,
    ]);
    expect(readable).toEqual([0, 0, '']);
  });

  it("binds alice's tokens to the page's key: each call carries a DPoP proof, the token alone is refused", async () => {
    expect(alice.apiAuthorizations.length).toBeGreaterThan(0);
    for (const authorization of alice.apiAuthorizations) expect(authorization).toMatch(/^DPoP /);
    const token = alice.apiAuthorizations.at(-1)?.slice('DPoP '.length) ?? '';
    const orders = `${system.gatewayUrl}/api/orders`;

    const asBearer = await fetch(orders, { headers: { authorization: `Bearer ${token}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toContain(
      'a DPoP-bound token must come with the DPoP scheme',
    );
    const withoutProof = await fetch(orders, { headers: { authorization: `DPoP ${token}` } });
    expect(withoutProof.status).toBe(401);
    expect(withoutProof.headers.get('www-authenticate')).toContain('invalid_dpop_proof');
    // The page got its answers although the gateway demands server nonces: it retried with one.
    expect(alice.apiNonceRefusals).toBeGreaterThan(0);
  });

  it('refreshes the access token before it expires, and keeps working with the new one', async () => {
    const { page } = alice;
    const refreshed = () =>
      alice.tokenRequests.some((body) => body.includes('grant_type=refresh_token'));
    const deadline = Date.now() + ACCESS_TOKEN_TTL_SECONDS * 1000;
    while (!refreshed() && Date.now() < deadline) await page.waitForTimeout(250);
    expect(refreshed()).toBe(true);

    const before = alice.apiAuthorizations.at(-1);
    await page.getByLabel('Product').selectOption('sticker-1');
    await button(page, 'Create order').click();
    await page
      .getByRole('status')
      .getByText(/created/)
      .waitFor();
    expect(alice.apiAuthorizations.at(-1)).not.toBe(before);
    await screenshot(page, 'alice-after-refresh');
  });

  it('lets alice delete an order', async () => {
    const { page } = alice;
    const sticker = page.locator('#orders-rows tr', { hasText: 'sticker-1' });
    await sticker.getByRole('button', { name: /^Delete order/ }).click();
    await page
      .getByRole('status')
      .getByText(/deleted/)
      .waitFor();
    expect(await sticker.count()).toBe(0);
    await screenshot(page, 'alice-order-deleted');
  });

  it('does not offer alice the admin view, and the API refuses it anyway (403)', async () => {
    const { page } = alice;
    expect(await page.locator('#admin-link').isHidden()).toBe(true);
    // Typing the address of the view by hand: the page asks the API, which says no.
    await page.evaluate(() => (location.hash = '#admin'));
    await page
      .getByRole('alert')
      .getByText(/not allowed.*403/)
      .waitFor();
    await screenshot(page, 'alice-admin-refused');
  });

  it("does not show alice's order to carol", async () => {
    const carol = await open();
    await signIn(carol, 'carol');
    await signedInAs(carol, 'carol');
    await carol.page.locator('#orders-rows').getByText('No orders yet.').waitFor();
    expect(await orderRow(carol.page, aliceOrderId).count()).toBe(0);
    await screenshot(carol.page, 'carol-orders');
    await carol.context.close();
  });

  it("shows bob, an admin, the admin view with alice's paid order", async () => {
    bob = await open();
    const { page } = bob;
    await signIn(bob, 'bob');
    await signedInAs(bob, 'bob');
    expect(await page.locator('#profile-scopes').textContent()).toContain('admin:read');
    expect(await page.locator('#profile-roles').textContent()).toBe('user, admin');
    await page.getByRole('link', { name: 'All orders (admin)' }).click();
    const row = orderRow(page, aliceOrderId);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/alice.*PAID/);
    await screenshot(page, 'bob-admin-view');
  });

  it('shows an error for a wrong password, and the page gets no token', async () => {
    const mallory = await open();
    await signIn(mallory, 'alice', 'not-her-password');
    await mallory.page.getByRole('alert').getByText('Wrong user name or password.').waitFor();
    await screenshot(mallory.page, 'wrong-password');
    expect(mallory.tokenRequests).toEqual([]);

    await mallory.page.goto(system.webUrl);
    await button(mallory.page, 'Sign in').waitFor();
    expect(await mallory.page.locator('#profile').isHidden()).toBe(true);
    await mallory.context.close();
  });

  it('signs alice out at the issuer; the back button does not bring her data back', async () => {
    const { page } = alice;
    await button(page, 'Sign out').click();
    await button(page, 'Yes, sign me out').waitFor();
    await screenshot(page, 'alice-logout-prompt');
    await button(page, 'Yes, sign me out').click();
    await page.waitForURL(`${system.webUrl}/`);
    await button(page, 'Sign in').waitFor();
    await screenshot(page, 'alice-signed-out');

    // Back through the issuer's logout page to where her orders were shown.
    for (let steps = 0; steps < 3; steps += 1) {
      await page.goBack();
      if (page.url().startsWith(system.webUrl)) break;
    }
    expect(page.url().startsWith(system.webUrl)).toBe(true);
    await button(page, 'Sign in').waitFor();
    expect(await page.locator('tr[data-order-id]').count()).toBe(0);
    expect(await page.locator('#profile').isHidden()).toBe(true);
    await screenshot(page, 'alice-after-back-button');

    // The issuer's session is over too: signing in asks for the password again.
    await button(page, 'Sign in').click();
    await page.getByLabel('Password').waitFor();
    await screenshot(page, 'alice-asked-to-sign-in-again');
  });

  it('says so when a service behind the gateway is down, and when the gateway is', async () => {
    const { page } = bob;
    await system.stopApp('order');
    await page.getByRole('link', { name: 'My orders' }).click();
    await page
      .getByRole('alert')
      .getByText(/service behind the API is down \(503\)/)
      .waitFor();
    await screenshot(page, 'order-service-down');

    await system.stopApp('gateway');
    await page.getByRole('link', { name: 'All orders (admin)' }).click();
    await page
      .getByRole('alert')
      .getByText(/Cannot reach the API/)
      .waitFor();
    await screenshot(page, 'gateway-down');
  });
});
