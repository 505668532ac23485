// The container health check of every service image: exits 0 when the service
// answers, 1 otherwise. Node built-ins only, so it runs in the slim image.
//
// - HEALTHCHECK_HTTP_PATH set (HTTP services): GET http://127.0.0.1:$PORT<path> must answer 2xx.
// - Otherwise (TCP microservices): a HEALTH_PATTERN message over mutual TLS,
//   presenting the service's own certificate (TLS_CERT_FILE, TLS_KEY_FILE) and
//   accepting only a server that presents that same certificate. The service
//   lets only itself send this message. With TRANSPORT_SECURITY=mesh the mesh
//   does TLS and the message goes in plaintext.
'use strict';
const { X509Certificate } = require('node:crypto');
const { readFileSync } = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const tls = require('node:tls');

const HEALTH_PATTERN = 'health.ping'; // HEALTH_PATTERN of @acme/contracts
const HOST = '127.0.0.1';
const env = process.env;
const port = Number(env.PORT);
const timeoutMs = Number(env.HEALTHCHECK_TIMEOUT_MS || 3000);

function httpCheck(path) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: HOST, port, path, timeout: timeoutMs }, (response) => {
      response.resume();
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      if (ok) resolve();
      else reject(new Error(`GET ${path} answered ${response.statusCode}`));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

function connectToSelf() {
  if (env.TRANSPORT_SECURITY === 'mesh') return net.connect({ host: HOST, port });
  const cert = readFileSync(env.TLS_CERT_FILE);
  const own = new X509Certificate(cert).fingerprint256;
  return tls.connect({
    host: HOST,
    port,
    ca: readFileSync(env.TLS_CA_FILE),
    cert,
    key: readFileSync(env.TLS_KEY_FILE),
    // The server we reach on 127.0.0.1 must be this service, whatever names its certificate carries.
    checkServerIdentity: (_host, peer) =>
      peer.fingerprint256 === own ? undefined : new Error('the server is not this service'),
  });
}

/** One request in Nest's TCP framing (`<length>#<json>`), carrying our message envelope. */
function messageCheck() {
  return new Promise((resolve, reject) => {
    const socket = connectToSelf();
    const id = `healthcheck-${process.pid}`;
    const message = JSON.stringify({ pattern: HEALTH_PATTERN, data: { meta: {}, data: {} }, id });
    let buffer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('connection closed without an answer')));
    socket.on(env.TRANSPORT_SECURITY === 'mesh' ? 'connect' : 'secureConnect', () =>
      socket.write(`${message.length}#${message}`),
    );
    socket.on('data', (chunk) => {
      buffer += chunk;
      const hash = buffer.indexOf('#');
      const length = Number(buffer.slice(0, hash));
      if (hash < 0 || buffer.length < hash + 1 + length) return;
      const reply = JSON.parse(buffer.slice(hash + 1, hash + 1 + length));
      socket.destroy();
      if (
        reply.id === id &&
        reply.err === undefined &&
        reply.response &&
        reply.response.status === 'ok'
      )
        resolve();
      else
        reject(
          new Error(`unexpected answer: ${JSON.stringify(reply.err ?? reply.response ?? null)}`),
        );
    });
  });
}

const check = env.HEALTHCHECK_HTTP_PATH ? httpCheck(env.HEALTHCHECK_HTTP_PATH) : messageCheck();
check.then(
  () => process.exit(0),
  (error) => {
    console.error(`unhealthy: ${error.message}`);
    process.exit(1);
  },
);
