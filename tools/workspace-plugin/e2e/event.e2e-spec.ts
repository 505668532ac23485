import { readFileSync } from 'node:fs';
import { ThrowawayWorkspace } from './throwaway-workspace';
import type { RunResult } from './throwaway-workspace';

const MINUTE = 60_000;

/**
 * The event generator as an engineer uses it, in a throwaway copy of this
 * workspace: an event each way between order and payment (payment has an
 * outbox and order handlers; order has neither outbox nor payment handlers),
 * then the broker's users and the authorization report regenerated, and
 * both services type-checked, linted and unit-tested (their route audits
 * included) with the generated code in them.
 */
describe('nx g @acme/workspace-plugin:event', () => {
  let workspace: ThrowawayWorkspace;
  const npm = (script: string, ...args: string[]) =>
    workspace.run('npm', ['run', '-s', script, '--', ...args], 2 * MINUTE);
  const generate = (name: string, producer: string, consumer: string) =>
    workspace.nx(
      [
        'g',
        '@acme/workspace-plugin:event',
        name,
        `--producer=${producer}`,
        `--consumer=${consumer}`,
        '--no-interactive',
      ],
      3 * MINUTE,
    );

  beforeAll(() => {
    workspace = new ThrowawayWorkspace();
  });

  afterAll(() => workspace?.remove());

  it('generates payment refunded, to order, and order shipped, to payment', async () => {
    succeeded(await generate('refunded', 'payment', 'order'));
    succeeded(await generate('shipped', 'order', 'payment'));
  });

  it('refuses a service without a database, saying what it lacks', async () => {
    const result = await generate('seen', 'order', 'gateway');
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('gateway cannot take part in events');
  });

  it('gives the broker a user per service with the new subjects, and the report the new handlers', async () => {
    expect((await npm('broker:config', '--check')).code).not.toBe(0);
    succeeded(await npm('broker:config'));
    succeeded(await npm('auth:report'));
    const authorization = readFileSync(workspace.path('deploy/nats/authorization.conf'), 'utf8');
    expect(authorization).toContain('"events.order.>"');
    expect(authorization).toContain(
      '"$JS.API.CONSUMER.CREATE.EVENTS_ORDER.payment__order_shipped.events.order.shipped"',
    );
    expect(authorization).toContain(
      '"$JS.API.CONSUMER.CREATE.EVENTS_PAYMENT.order__payment_refunded.events.payment.refunded"',
    );
    expect(readFileSync(workspace.path('k8s/base/nats/authorization.conf'), 'utf8')).toBe(
      authorization,
    );
    const report = readFileSync(workspace.path('docs/AUTHORIZATION.md'), 'utf8');
    expect(report).toContain('events.payment.refunded');
    expect(report).toContain('events.order.shipped');
    succeeded(await npm('broker:config', '--check'));
    succeeded(await npm('auth:report', '--check'));
  });

  it('type-checks, lints and passes the unit tests of both services and the contracts', async () => {
    for (const config of [
      'apps/order/tsconfig.app.json',
      'apps/order/tsconfig.spec.json',
      'apps/payment/tsconfig.app.json',
      'apps/payment/tsconfig.spec.json',
      'libs/contracts/tsconfig.lib.json',
    ]) {
      succeeded(
        await workspace.run(
          workspace.path('node_modules/.bin/tsc'),
          ['--noEmit', '-p', config],
          2 * MINUTE,
        ),
      );
    }
    const result = succeeded(
      await workspace.nx(
        ['run-many', '-t', 'lint,test', '-p', 'order,payment,contracts', '--output-style=static'],
        8 * MINUTE,
      ),
    );
    expect(result.output).toContain('Successfully ran targets lint, test for 3 projects');
  });
});

/** The result, or a failure that shows the end of what the command printed. */
function succeeded(result: RunResult): RunResult {
  if (result.code !== 0) {
    throw new Error(`exit code ${result.code}:\n${result.output.slice(-6_000)}`);
  }
  return result;
}
