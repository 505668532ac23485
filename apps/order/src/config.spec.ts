import { validateOrderEnv } from './config';

describe('order configuration', () => {
  it('requires tokens issued for its audience', () => {
    expect(validateOrderEnv({}).AUTH_AUDIENCE).toBe('urn:acme:order');
  });

  it("exchanges its callers' tokens for payment's audience unless told otherwise", () => {
    expect(validateOrderEnv({})).toMatchObject({
      AUTH_DELEGATION: 'exchange',
      PAYMENT_AUDIENCE: 'urn:acme:payment',
    });
  });

  it('listens on port 4001 and calls payment on 4002 unless told otherwise', () => {
    expect(validateOrderEnv({})).toMatchObject({
      PORT: 4001,
      PAYMENT_ADDRESS: { host: 'localhost', port: 4002 },
    });
  });

  it('refuses bad values and names every bad key at once', () => {
    const bad = { PORT: 'eighty', PAYMENT_ADDRESS: 'payment', AUTH_CLOCK_TOLERANCE_SEC: '600' };
    const problems = (() => {
      try {
        validateOrderEnv(bad);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected the configuration to be refused');
    })();
    for (const key of Object.keys(bad)) expect(problems).toContain(`${key}:`);
  });
});
