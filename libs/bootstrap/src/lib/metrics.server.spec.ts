import { freePort, isListening } from '@acme/transport/testing';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Counter } from 'prom-client';
import { serveMetricsOf, startMetricsServer } from './metrics.server';

const probe = new Counter({ name: 'acme_spec_probe_total', help: 'A counter of this spec.' });

describe(startMetricsServer.name, () => {
  it('serves the default registry, with process metrics, as GET /metrics and nothing else', async () => {
    const port = await freePort();
    const metrics = await startMetricsServer({ host: '127.0.0.1', port });
    try {
      probe.inc(3);
      const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);

      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await scrape.text();
      expect(text).toMatch(/^acme_spec_probe_total 3$/m);
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(
        404,
      );
    } finally {
      await metrics.close();
    }
    expect(await isListening(port)).toBe(false);
  });
});

describe(serveMetricsOf.name, () => {
  @Module({})
  class EmptyModule {}

  // A real Nest app, behind the proxy NestFactory wraps every app in.
  const nestApp = () => NestFactory.create(EmptyModule, { logger: false });

  it('closes the endpoint when the app closes', async () => {
    const port = await freePort();
    const app = await nestApp();
    await serveMetricsOf(app, { METRICS_HOST: '127.0.0.1', METRICS_PORT: port });
    expect(await isListening(port)).toBe(true);

    await app.close();

    expect(await isListening(port)).toBe(false);
  });

  it('serves nothing with METRICS_PORT=0', async () => {
    const app = await nestApp();
    const close = Object.getOwnPropertyDescriptor(app, 'close');
    await serveMetricsOf(app, { METRICS_HOST: '127.0.0.1', METRICS_PORT: 0 });
    expect(Object.getOwnPropertyDescriptor(app, 'close')).toEqual(close);
    await app.close();
  });

  it("refuses to start, naming the key, when the app's schema lacks the metrics keys", async () => {
    const app = await nestApp();
    await expect(serveMetricsOf(app, {})).rejects.toThrow('METRICS_PORT');
    await app.close();
  });
});
