// Serves the single-page app: its static files, the config.json it reads at start, and the
// security headers. It plays the part an nginx config would, and holds no secret: the app is a
// public OAuth client.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, sep } from 'node:path';
import { readConfig } from './config.mjs';

let config;
try {
  config = readConfig(process.env);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
const PUBLIC_DIR = join(import.meta.dirname, 'public');
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Every file is read once at start-up: a request can only name one of these, never a path on disk. */
const routes = new Map(
  readdirSync(PUBLIC_DIR, { recursive: true })
    .filter((name) => TYPES[extname(name)])
    .map((name) => [
      `/${name.split(sep).join('/')}`,
      { type: TYPES[extname(name)], body: readFileSync(join(PUBLIC_DIR, name)), cache: 'no-cache' },
    ]),
);
const indexHtml = routes.get('/index.html').body;
// The import map is the page's only inline script; CSP admits exactly it, by hash.
const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(indexHtml.toString())[1];
const origins = [
  ...new Set([new URL(config.gatewayUrl).origin, new URL(config.issuer).origin]),
].join(' ');
const CSP = [
  "default-src 'none'",
  `script-src 'self' 'sha256-${createHash('sha256').update(importMap).digest('base64')}'`,
  "style-src 'self'",
  "img-src 'self'",
  // The page talks to its own origin (config.json), the gateway and the issuer (discovery, token, revocation).
  `connect-src 'self' ${origins}`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  // The code only ever sets textContent: any HTML sink (innerHTML ...) throws.
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');
const HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  // The callback URL carries the authorization code: it is never sent on as a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), geolocation=(), microphone=(), payment=()',
};
// The page and the settings it reads are never stored, so the back button after signing out
// loads a fresh, signed-out page rather than a copy from the cache.
for (const path of ['/', '/index.html', '/callback']) {
  routes.set(path, { type: TYPES['.html'], body: indexHtml, cache: 'no-store' });
}
routes.set('/config.json', {
  type: 'application/json',
  body: JSON.stringify({
    issuer: config.issuer,
    clientId: config.clientId,
    gatewayUrl: config.gatewayUrl,
  }),
  cache: 'no-store',
});
const NOT_FOUND = { type: 'text/plain', body: 'Not Found', cache: 'no-store' };

const server = createServer((request, response) => {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { ...HEADERS, Allow: 'GET, HEAD' }).end();
    return;
  }
  const route = routes.get((request.url ?? '/').split('?')[0]) ?? NOT_FOUND;
  response.writeHead(route === NOT_FOUND ? 404 : 200, {
    ...HEADERS,
    'Content-Type': route.type,
    'Cache-Control': route.cache,
  });
  response.end(route.body);
});

server.listen(config.port, config.host, () => {
  console.log(
    `listening on http://${config.host}:${config.port} (API ${config.gatewayUrl}, issuer ${config.issuer})`,
  );
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
