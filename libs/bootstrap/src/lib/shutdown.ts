import { Logger } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { shutdownTracing } from '@acme/telemetry';

/**
 * On SIGTERM or SIGINT: run every shutdown hook (servers stop accepting,
 * clients disconnect), send the spans not yet exported, and exit 0, or exit 1
 * if that takes longer than `timeoutMs`. Nest's own `enableShutdownHooks` re-raises the signal, so an
 * orchestrator would see a crash instead of a clean stop.
 */
export function exitGracefullyOnSignals(app: INestApplicationContext, timeoutMs = 10_000): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    Logger.log(`${signal} received, shutting down`, 'Bootstrap');
    setTimeout(() => {
      Logger.error(`shutdown took longer than ${timeoutMs} ms, exiting`, 'Bootstrap');
      process.exit(1);
    }, timeoutMs).unref();
    app
      .close()
      // The spans of the last requests, still in the exporter's batch.
      .then(() => shutdownTracing())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          Logger.error(error, 'Bootstrap');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
