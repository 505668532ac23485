import { once } from 'node:events';
import { connect, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { Controller } from '@nestjs/common';
import type { INestMicroservice } from '@nestjs/common';
import { ClientTCP, Ctx, MessagePattern, Payload, ServerTCP } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { defer, firstValueFrom, of, timeout } from 'rxjs';
import type { Observable } from 'rxjs';
import { currentCallMeta } from './call-context';
import type { MessageMeta } from './message-envelope';
import { createCertificateAuthority } from './testing/dev-pki';
import type { CertificateAuthority } from './testing/dev-pki';
import { closedWithin, expiringShortly, issueTlsMaterial } from './testing/tls';
import { metricValue } from './testing/metrics';
import type { MessageEnvelope } from './message-envelope';
import { MessageContext } from './message.context';
import { createMtlsClient } from './mtls-client';
import { mtlsClientOptions, mtlsServerOptions } from './mtls.options';
import { REPLY_TOO_LARGE } from './reply-limited.socket';
import { SecureTcpServer } from './secure-tcp.server';
import type { TlsMaterial } from './tls-material';
import type { TransportSecurity } from './transport-security';

const TRUST_DOMAIN = 'acme.internal';
const MAX_FRAME_SIZE = 16 * 1024;
const HANDSHAKE_TIMEOUT_MS = 300;
const IDLE_TIMEOUT_MS = 500;

@Controller()
class EchoController {
  readonly received: unknown[] = [];

  @MessagePattern('echo')
  echo(@Payload() data: unknown, @Ctx() context: MessageContext): unknown {
    this.received.push(data);
    return { data, meta: context.getMeta(), peer: context.getPeerSpiffeId() };
  }

  @MessagePattern('repeat')
  repeat(@Payload() length: number): string {
    return 'x'.repeat(length);
  }

  @MessagePattern('context')
  async context(): Promise<{ now?: MessageMeta; afterAwait?: MessageMeta }> {
    const now = currentCallMeta();
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { now, afterAwait: currentCallMeta() };
  }

  /** Work that runs only when Nest subscribes to the answer, after the handler returned. */
  @MessagePattern('context.deferred')
  deferred(): Observable<MessageMeta | null> {
    return defer(() => of(currentCallMeta() ?? null));
  }

  @MessagePattern('fail')
  fail(): never {
    throw new Error('broken');
  }
}

const tlsMaterial = (ca: CertificateAuthority, service: string, validity = {}) =>
  issueTlsMaterial(ca, service, TRUST_DOMAIN, validity);

/** The echo controller on a SecureTcpServer with this security, on a free port of 127.0.0.1. */
async function startEchoServer(
  security: TransportSecurity,
  idleTimeoutMs = IDLE_TIMEOUT_MS,
): Promise<{ app: INestMicroservice; port: number }> {
  const server = new SecureTcpServer({
    host: '127.0.0.1',
    port: 0,
    security,
    maxFrameSize: MAX_FRAME_SIZE,
    incompleteFrameTimeoutMs: 2_000,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    idleTimeoutMs,
    maxConnections: 16,
    drainTimeoutMs: 1_000,
  });
  const moduleRef = await Test.createTestingModule({ controllers: [EchoController] }).compile();
  const app = moduleRef.createNestMicroservice({ strategy: server, logger: false });
  await app.listen();
  return { app, port: (server.unwrap<TlsServer>().address() as AddressInfo).port };
}

/** Sends one message and waits for its answer; a silent server fails the call after 3 s instead of hanging the test. */
function ask(client: ClientTCP, payload: unknown, pattern = 'echo'): Promise<unknown> {
  return firstValueFrom(client.send(pattern, payload).pipe(timeout(3_000)));
}

/** Awaits a call that must fail, and returns why. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    (answer: unknown) => {
      throw new Error(`expected no answer, got ${JSON.stringify(answer)}`);
    },
    (reason: unknown) => reason,
  );
}

const handshakeFailures = (reason: string) =>
  metricValue('acme_tls_handshake_failures_total', { reason });

/**
 * Which ends of the connections to `port` had Nagle's algorithm turned off while `call` ran:
 * the client's (whose peer is `port`) and the server's (listening on it).
 */
async function noDelayEnds(port: number, call: () => Promise<unknown>) {
  const setNoDelay = jest.spyOn(Socket.prototype, 'setNoDelay');
  try {
    await call();
    const ends = setNoDelay.mock.calls
      .map((args, index) => ({ on: args[0] !== false, socket: setNoDelay.mock.contexts[index] }))
      .filter(({ on }) => on)
      .map(({ socket }) => socket as Socket);
    return {
      client: ends.some((socket) => socket.remotePort === port),
      server: ends.some((socket) => socket.localPort === port),
    };
  } finally {
    setNoDelay.mockRestore();
  }
}

describe(SecureTcpServer.name, () => {
  let app: INestMicroservice;
  let echo: EchoController;
  let port: number;
  let paymentTls: TlsMaterial;
  let orderTls: TlsMaterial;
  let foreignTls: TlsMaterial;
  const clients: ClientTCP[] = [];

  /** A client of the payment service presenting `tls`; closed after each test. */
  function clientWith(tls: TlsMaterial): ClientTCP {
    const client = createMtlsClient({
      host: '127.0.0.1',
      port,
      service: 'payment',
      security: { mode: 'mtls', tls, minVersion: 'TLSv1.3' },
      maxFrameSize: MAX_FRAME_SIZE,
    });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    const [ca, foreignCa] = await Promise.all([
      createCertificateAuthority(`${TRUST_DOMAIN} test CA`),
      createCertificateAuthority('another CA'),
    ]);
    [paymentTls, orderTls, foreignTls] = await Promise.all([
      tlsMaterial(ca, 'payment'),
      tlsMaterial(ca, 'order'),
      tlsMaterial(foreignCa, 'order'),
    ]);
    ({ app, port } = await startEchoServer({
      mode: 'mtls',
      tls: paymentTls,
      minVersion: 'TLSv1.3',
    }));
    echo = app.get(EchoController);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    echo.received.length = 0;
  });

  afterAll(() => app.close());

  it('hands the handler only the data of an envelope, and the metadata and peer identity through the context', async () => {
    const envelope: MessageEnvelope = {
      meta: { authorization: 'Bearer a.b.c', requestId: 'req-1' },
      data: { amount: 5 },
    };

    await expect(ask(clientWith(orderTls), envelope)).resolves.toEqual({
      data: { amount: 5 },
      meta: { authorization: 'Bearer a.b.c', requestId: 'req-1' },
      peer: `spiffe://${TRUST_DOMAIN}/order`,
    });
    expect(echo.received).toEqual([{ amount: 5 }]);
  });

  it("runs the handler, and the work Nest subscribes to after it returns, in the message's call context", async () => {
    const meta: MessageMeta = { authorization: 'Bearer a.b.c', requestId: 'req-context' };
    const client = clientWith(orderTls);

    await expect(ask(client, { meta, data: {} }, 'context')).resolves.toEqual({
      now: meta,
      afterAwait: meta,
    });
    await expect(ask(client, { meta, data: {} }, 'context.deferred')).resolves.toEqual(meta);
    expect(currentCallMeta()).toBeUndefined();
  });

  it('times each message under its pattern and outcome', async () => {
    const count = (pattern: string, outcome: string) =>
      metricValue('acme_rpc_message_duration_seconds_count', { pattern, outcome });
    const before = [await count('echo', 'ok'), await count('fail', '500')];
    const client = clientWith(orderTls);

    await ask(client, { meta: {}, data: 1 });
    await failure(ask(client, { meta: {}, data: 1 }, 'fail'));

    expect([await count('echo', 'ok'), await count('fail', '500')]).toEqual([
      before[0] + 1,
      before[1] + 1,
    ]);
  });

  it('answers a payload that is not an envelope with 400 "malformed message envelope", without calling the handler', async () => {
    await expect(failure(ask(clientWith(orderTls), { amount: 5 }))).resolves.toEqual({
      status: 400,
      error: 'bad_request',
      message: 'malformed message envelope',
    });
    expect(echo.received).toEqual([]);
  });

  it('turns Nagle off at both ends: no call waits for the ACK of another on its connection', async () => {
    const envelope: MessageEnvelope = { meta: { requestId: 'r-nodelay' }, data: 1 };
    await expect(noDelayEnds(port, () => ask(clientWith(orderTls), envelope))).resolves.toEqual({
      client: true,
      server: true,
    });
  });

  it('gives no answer to a client without a certificate', async () => {
    const anonymous = new ClientTCP({
      host: '127.0.0.1',
      port,
      tlsOptions: { ca: orderTls.ca, servername: 'payment', minVersion: 'TLSv1.3' },
    });
    clients.push(anonymous);

    const before = await handshakeFailures('no_certificate');

    await expect(failure(ask(anonymous, { meta: {}, data: 'hello' }))).resolves.toThrow(
      'Connection closed',
    );
    expect(echo.received).toEqual([]);
    expect(await handshakeFailures('no_certificate')).toBe(before + 1);
  });

  it('gives no answer to a client whose certificate another CA issued', async () => {
    await expect(
      failure(ask(clientWith(foreignTls), { meta: {}, data: 'hello' })),
    ).resolves.toThrow('Connection closed');
    expect(echo.received).toEqual([]);
  });

  it('drops a connection that sends a frame above maxFrameSize, and still serves new connections', async () => {
    const oversized = { meta: {}, data: 'x'.repeat(MAX_FRAME_SIZE) };

    await expect(failure(ask(clientWith(orderTls), oversized))).resolves.toThrow(
      'Connection closed',
    );
    expect(echo.received).toEqual([]);

    await expect(ask(clientWith(orderTls), { meta: {}, data: 'small' })).resolves.toMatchObject({
      data: 'small',
    });
  });

  it('answers a reply above maxFrameSize with reply_too_large, and the calls sharing its connection still get theirs', async () => {
    const client = clientWith(orderTls);
    const repeat = (length: number) => ask(client, { meta: {}, data: length }, 'repeat');

    const [oversized, ...others] = await Promise.allSettled([
      repeat(MAX_FRAME_SIZE * 4),
      repeat(10),
      repeat(MAX_FRAME_SIZE - 100),
      ask(client, { meta: {}, data: 'small' }),
    ]);

    expect(oversized).toEqual({ status: 'rejected', reason: REPLY_TOO_LARGE });
    expect(others.map((settled) => settled.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
  });

  it('disconnects a peer that connects but never starts the TLS handshake, after handshakeTimeoutMs', async () => {
    const before = await handshakeFailures('timeout');
    const socket = connect(port, '127.0.0.1');
    try {
      await once(socket, 'connect');
      const connectedAt = Date.now();

      // Rejects with an AbortError if the server leaves the socket open.
      await once(socket, 'close', { signal: AbortSignal.timeout(HANDSHAKE_TIMEOUT_MS + 1_000) });

      expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
      expect(await handshakeFailures('timeout')).toBe(before + 1);
    } finally {
      socket.destroy();
    }
  });

  it('closes an authenticated connection that stays silent for idleTimeoutMs', async () => {
    const socket = connectTls({
      host: '127.0.0.1',
      port,
      servername: 'payment',
      ...orderTls,
      minVersion: 'TLSv1.3',
    });
    try {
      await once(socket, 'secureConnect');
      const connectedAt = Date.now();

      await once(socket, 'close', { signal: AbortSignal.timeout(IDLE_TIMEOUT_MS + 1_000) });

      expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
    } finally {
      socket.destroy();
    }
  });
});

describe(`${SecureTcpServer.name}: a certificate that expires during a connection`, () => {
  let ca: CertificateAuthority;

  beforeAll(async () => {
    ca = await createCertificateAuthority(`${TRUST_DOMAIN} test CA`);
  });

  it("ends the connection when the client's certificate expires, before any idle timeout", async () => {
    const server = await startEchoServer(
      { mode: 'mtls', tls: await tlsMaterial(ca, 'payment'), minVersion: 'TLSv1.3' },
      60_000,
    );
    const client = connectTls({
      ...mtlsClientOptions(await tlsMaterial(ca, 'order', expiringShortly()), 'payment', 'TLSv1.3'),
      host: '127.0.0.1',
      port: server.port,
    });
    try {
      await once(client, 'secureConnect');
      await closedWithin(client, 8_000);
    } finally {
      client.destroy();
      await server.app.close();
    }
  }, 15_000);

  it("ends the connection when the server's certificate expires", async () => {
    const server = createTlsServer(
      mtlsServerOptions(await tlsMaterial(ca, 'payment', expiringShortly()), 'TLSv1.3'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'secureConnection') as Promise<[TLSSocket]>;
    const client = createMtlsClient({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      service: 'payment',
      security: { mode: 'mtls', tls: await tlsMaterial(ca, 'order'), minVersion: 'TLSv1.3' },
      maxFrameSize: MAX_FRAME_SIZE,
    });
    try {
      await client.connect();
      const [serverEnd] = await accepted;
      await closedWithin(serverEnd, 8_000);
    } finally {
      client.close();
      server.close();
    }
  }, 15_000);
});

describe(`${SecureTcpServer.name} behind a service mesh`, () => {
  let app: INestMicroservice;
  let port: number;

  beforeAll(async () => {
    ({ app, port } = await startEchoServer({ mode: 'mesh' }));
  });

  afterAll(() => app.close());

  /** A plaintext client, as the sidecar's; closed after each test. */
  let client: ClientTCP;
  beforeEach(() => {
    client = createMtlsClient({
      host: '127.0.0.1',
      port,
      service: 'payment',
      security: { mode: 'mesh' },
      maxFrameSize: MAX_FRAME_SIZE,
    });
  });
  afterEach(() => client.close());

  it('takes plaintext from the sidecar, still unwraps the envelope, and claims no peer identity', async () => {
    const envelope: MessageEnvelope = { meta: { requestId: 'r-mesh' }, data: { n: 1 } };
    await expect(ask(client, envelope)).resolves.toEqual({
      data: { n: 1 },
      meta: { requestId: 'r-mesh' },
      peer: undefined,
    });
  });

  it('turns Nagle off at both ends of a plaintext connection too', async () => {
    const envelope: MessageEnvelope = { meta: { requestId: 'r-nodelay' }, data: 1 };
    await expect(noDelayEnds(port, () => ask(client, envelope))).resolves.toEqual({
      client: true,
      server: true,
    });
  });

  it('does not speak TLS itself', async () => {
    const socket = connectTls({
      host: '127.0.0.1',
      port,
      servername: 'payment',
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
    });
    try {
      const [error] = (await once(socket, 'error')) as [Error];
      expect(error.message).toMatch(
        /wrong version number|socket disconnected|ECONNRESET|packet length/i,
      );
    } finally {
      socket.destroy();
    }
  });
});

describe(`${SecureTcpServer.name} in a benchmark without security`, () => {
  it('sets no call context: that baseline forwards nothing', async () => {
    const security: TransportSecurity = { mode: 'benchmark-insecure' };
    const { app, port } = await startEchoServer(security);
    const client = createMtlsClient({
      host: '127.0.0.1',
      port,
      service: 'payment',
      security,
      maxFrameSize: MAX_FRAME_SIZE,
    });
    try {
      const meta: MessageMeta = { authorization: 'Bearer a.b.c' };
      await expect(ask(client, { meta, data: {} }, 'context')).resolves.toEqual({});
    } finally {
      client.close();
      await app.close();
    }
  });
});

describe(`${SecureTcpServer.name}: the route of a pattern`, () => {
  const server = new SecureTcpServer({
    host: '127.0.0.1',
    port: 0,
    security: { mode: 'mesh' },
    maxFrameSize: MAX_FRAME_SIZE,
    incompleteFrameTimeoutMs: 1_000,
    handshakeTimeoutMs: 1_000,
    idleTimeoutMs: 1_000,
    maxConnections: 1,
    drainTimeoutMs: 1_000,
  });
  // The method is protected: the spec reads it as Nest's own code, the caller, does.
  type Routes = { getRouteFromPattern(pattern: string): string };
  const ours = (pattern: string) => (server as unknown as Routes).getRouteFromPattern(pattern);
  const nests = (pattern: string) =>
    (ServerTCP.prototype as unknown as Routes).getRouteFromPattern.call(server, pattern);

  it.each([
    'order.get',
    'payment.charge',
    'events.payment.completed',
    'a:b-c_d',
    'true',
    'null',
    '123',
    '"quoted"',
    '{"cmd":"get","v":1}',
    ' {"v":1,"cmd":"get"}',
    '[1,2]',
    'not json {',
  ])('is the route Nest gives %j', (pattern) => {
    expect(ours(pattern)).toEqual(nests(pattern));
  });

  it('parses no plain pattern as JSON, which would throw for each message', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      expect(ours('order.get')).toBe('order.get');
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});
