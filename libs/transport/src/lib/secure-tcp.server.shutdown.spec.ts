import type { AddressInfo } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { Controller } from '@nestjs/common';
import type { INestMicroservice } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom, timeout } from 'rxjs';
import { createMtlsClient } from './mtls-client';
import { SecureTcpServer } from './secure-tcp.server';
import { createCertificateAuthority } from './testing/dev-pki';
import { issueTlsMaterial } from './testing/tls';
import type { TlsMaterial } from './tls-material';

@Controller()
class SlowController {
  @MessagePattern('slow')
  async slow(@Payload() ms: number): Promise<string> {
    // Unref'd: a handler the drain timeout gave up on must not keep jest from exiting.
    await new Promise((resolve) => setTimeout(resolve, ms).unref());
    return 'done';
  }
}

describe(`${SecureTcpServer.name} shutdown`, () => {
  let tls: TlsMaterial;

  beforeAll(async () => {
    const ca = await createCertificateAuthority('test CA');
    tls = await issueTlsMaterial(ca, 'payment', 'acme.internal');
  });

  async function start(drainTimeoutMs: number): Promise<{ app: INestMicroservice; port: number }> {
    const server = new SecureTcpServer({
      host: '127.0.0.1',
      port: 0,
      security: { mode: 'mtls', tls, minVersion: 'TLSv1.3' },
      maxFrameSize: 1 << 20,
      incompleteFrameTimeoutMs: 2_000,
      handshakeTimeoutMs: 1_000,
      idleTimeoutMs: 10_000,
      maxConnections: 16,
      drainTimeoutMs,
    });
    const moduleRef = await Test.createTestingModule({ controllers: [SlowController] }).compile();
    const app = moduleRef.createNestMicroservice({ strategy: server, logger: false });
    await app.listen();
    return { app, port: (server.unwrap<TlsServer>().address() as AddressInfo).port };
  }

  const call = (port: number, ms: number) => {
    const client = createMtlsClient({
      host: '127.0.0.1',
      port,
      service: 'payment',
      security: { mode: 'mtls', tls, minVersion: 'TLSv1.3' },
      maxFrameSize: 1 << 20,
    });
    return firstValueFrom(client.send('slow', { meta: {}, data: ms }).pipe(timeout(5_000))).finally(
      () => client.close(),
    );
  };

  it('finishes a message already being handled before it closes', async () => {
    const { app, port } = await start(2_000);
    const answer = call(port, 300);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await app.close();
    await expect(answer).resolves.toBe('done');
  });

  it('refuses new connections once closing has begun', async () => {
    const { app, port } = await start(2_000);
    const inFlight = call(port, 300);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = app.close();
    await expect(call(port, 1)).rejects.toThrow();
    await closing;
    await inFlight;
  });

  it('gives up on a handler slower than the drain timeout', async () => {
    const { app, port } = await start(200);
    const slow = call(port, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(slow).rejects.toThrow();
  });
});
