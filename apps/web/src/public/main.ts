import { Api } from './api.js';
import type { Order } from './api.js';
import { ApiError } from './problems.js';
import { explainSignInError, Session } from './session.js';
import type { WebConfig } from './session.js';

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from index.html`);
  return found as T;
}

const ui = {
  loading: element('loading'),
  error: element('error'),
  notice: element('notice'),
  signIn: element<HTMLButtonElement>('sign-in'),
  signOut: element<HTMLButtonElement>('sign-out'),
  nav: element('nav'),
  adminLink: element('admin-link'),
  signedOut: element('signed-out'),
  profile: element('profile'),
  orders: element('orders'),
  ordersRows: element('orders-rows'),
  ordersMore: element<HTMLButtonElement>('orders-more'),
  createOrder: element<HTMLFormElement>('create-order'),
  admin: element('admin'),
  adminRows: element('admin-rows'),
  adminMore: element<HTMLButtonElement>('admin-more'),
};

let config: WebConfig;
let api: Api;
let session: Session | undefined;
let discovering: Promise<Session> | undefined;

/** The session, after reading the issuer's discovery document once (again after a failure). */
function getSession(): Promise<Session> {
  discovering ??= Session.discover(config, {
    refreshed: renderProfile,
    ended: (reason) => {
      render();
      say(reason);
    },
  }).then(
    (discovered) => (session = discovered),
    (error: unknown) => {
      discovering = undefined;
      throw error;
    },
  );
  return discovering;
}

function say(message: string | undefined, kind: 'error' | 'notice' = 'error'): void {
  ui.error.hidden = ui.notice.hidden = true;
  if (!message) return;
  const target = kind === 'error' ? ui.error : ui.notice;
  target.textContent = message;
  target.hidden = false;
}

/** Runs a user action, showing what went wrong instead of failing silently. */
async function attempt(action: () => Promise<void>): Promise<void> {
  say(undefined);
  try {
    await action();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && session?.user) {
      return session.end(error.message);
    }
    say(error instanceof ApiError ? error.message : `Something went wrong: ${String(error)}`);
  }
}

function render(): void {
  ui.loading.hidden = true;
  const user = session?.user;
  ui.signIn.hidden = ui.signedOut.hidden = Boolean(user);
  ui.signOut.hidden = ui.nav.hidden = ui.profile.hidden = !user;
  const route = user && (location.hash === '#admin' ? 'admin' : 'orders');
  ui.orders.hidden = route !== 'orders';
  ui.admin.hidden = route !== 'admin';
  // Nothing from before stays on screen: not after signing out, and not if the next load fails.
  ui.ordersRows.replaceChildren();
  ui.adminRows.replaceChildren();
  ui.ordersMore.hidden = ui.adminMore.hidden = true;
  if (!user) return;
  renderProfile();
  // Only admins are offered the view; the API refuses everyone else anyway (403).
  ui.adminLink.hidden = !user.scopes.includes('admin:read');
  void attempt(() => (route === 'admin' ? showAllOrders() : showMyOrders()));
}

function renderProfile(): void {
  const user = session?.user;
  if (!user) return;
  element('profile-name').textContent = user.name;
  element('profile-subject').textContent = user.subject;
  element('profile-roles').textContent = user.roles
    ? user.roles.join(', ')
    : 'not stated in the ID token';
  element('profile-scopes').textContent = user.scopes.join(' ');
  element('profile-expiry').textContent =
    `valid until ${user.accessTokenExpiresAt.toLocaleTimeString()}, renewed automatically`;
}

const shortId = (order: Order): string => order.id.slice(0, 8);

function cell(text: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function orderRow(
  order: Order,
  options: { owner?: boolean; actions?: HTMLButtonElement[] } = {},
): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.dataset['orderId'] = order.id;
  const money = new Intl.NumberFormat('en', { style: 'currency', currency: order.currency });
  row.append(
    cell(shortId(order)),
    ...(options.owner ? [cell(order.ownerId)] : []),
    cell(order.items.map((item) => `${item.quantity} × ${item.sku}`).join(', ')),
    cell(money.format(order.total / 100)),
    cell(order.status),
  );
  if (options.actions) {
    const actions = cell('');
    actions.append(...options.actions);
    row.append(actions);
  }
  return row;
}

function emptyRow(columns: number): HTMLTableRowElement {
  const row = document.createElement('tr');
  const only = cell('No orders yet.');
  only.colSpan = columns;
  row.append(only);
  return row;
}

function actionButton(label: string, order: Order, action: () => Promise<void>): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = label;
  button.setAttribute('aria-label', `${label} order ${shortId(order)}`);
  button.addEventListener('click', () => void attempt(action));
  return button;
}

/** The first page of orders, or the next one (after `cursor`) below those shown. */
async function showMyOrders(cursor?: string): Promise<void> {
  const page = await api.myOrders(cursor);
  const rows = page.items.map((order) =>
    orderRow(order, {
      actions: [
        ...(order.status === 'PENDING' ? [actionButton('Pay', order, () => payOrder(order))] : []),
        actionButton('Delete', order, () => deleteOrder(order)),
      ],
    }),
  );
  showPage(ui.ordersRows, ui.ordersMore, rows, page.nextCursor, cursor);
}

async function showAllOrders(cursor?: string): Promise<void> {
  const page = await api.allOrders(cursor);
  const rows = page.items.map((order) => orderRow(order, { owner: true }));
  showPage(ui.adminRows, ui.adminMore, rows, page.nextCursor, cursor);
}

function showPage(
  body: HTMLElement,
  more: HTMLButtonElement,
  rows: HTMLTableRowElement[],
  nextCursor: string | null,
  cursor: string | undefined,
): void {
  if (cursor) body.append(...rows);
  else body.replaceChildren(...rows);
  if (!cursor && !rows.length) body.append(emptyRow(5));
  more.dataset['cursor'] = nextCursor ?? '';
  more.hidden = !nextCursor;
}

async function payOrder(order: Order): Promise<void> {
  await api.payOrder(order.id);
  await showMyOrders();
  say(`Order ${shortId(order)} paid.`, 'notice');
}

async function deleteOrder(order: Order): Promise<void> {
  await api.deleteOrder(order.id);
  await showMyOrders();
  say(`Order ${shortId(order)} deleted.`, 'notice');
}

ui.createOrder.addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(ui.createOrder);
  void attempt(async () => {
    const order = await api.createOrder(String(form.get('sku')), Number(form.get('quantity')));
    await showMyOrders();
    say(`Order ${shortId(order)} created.`, 'notice');
  });
});

ui.signIn.addEventListener('click', () => {
  say(undefined);
  getSession()
    .then((current) => current.signIn())
    .catch((error: unknown) => say(explainSignInError(error, config.issuer)));
});

ui.signOut.addEventListener('click', () => {
  const signingOut = session?.signOut();
  // The tokens are already forgotten; the data leaves the page before the browser does, so the
  // back button (or the back/forward cache) cannot show it again.
  render();
  signingOut?.catch((error: unknown) => say(explainSignInError(error, config.issuer)));
});

ui.ordersMore.addEventListener('click', () => {
  void attempt(() => showMyOrders(ui.ordersMore.dataset['cursor']));
});
ui.adminMore.addEventListener('click', () => {
  void attempt(() => showAllOrders(ui.adminMore.dataset['cursor']));
});

window.addEventListener('hashchange', render);

async function start(): Promise<void> {
  const response = await fetch('/config.json');
  if (!response.ok) throw new Error(`/config.json answered ${response.status}`);
  config = (await response.json()) as WebConfig;
  api = new Api(config.gatewayUrl, async (method, url, headers, body) =>
    (await getSession()).fetch(method, url, headers, body),
  );
  if (location.pathname === '/callback') {
    const callbackUrl = new URL(location.href);
    // The code and state leave the address bar and the history at once.
    history.replaceState(null, '', '/');
    try {
      await (await getSession()).completeSignIn(callbackUrl);
    } catch (error) {
      say(explainSignInError(error, config.issuer));
    }
  }
  render();
}

start().catch((error: unknown) => {
  ui.loading.hidden = true;
  say(`This page could not start: ${String(error)}`);
});
