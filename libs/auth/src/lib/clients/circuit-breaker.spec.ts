import { CircuitBreaker } from './circuit-breaker';

describe(CircuitBreaker.name, () => {
  let now = 0;
  const breaker = () => new CircuitBreaker({ failureThreshold: 3, resetAfterMs: 1_000 }, () => now);

  beforeEach(() => (now = 0));

  it('stays closed below the threshold and resets the count on success', () => {
    const circuit = breaker();
    circuit.failure();
    circuit.failure();
    circuit.success();
    circuit.failure();
    circuit.failure();
    expect(circuit.allow()).toBe(true);
  });

  it('opens after consecutive failures and refuses calls until the reset time', () => {
    const circuit = breaker();
    for (let i = 0; i < 3; i++) circuit.failure();
    expect(circuit.allow()).toBe(false);
    now = 999;
    expect(circuit.allow()).toBe(false);
  });

  it('lets exactly one trial call through after the reset time, and closes if it succeeds', () => {
    const circuit = breaker();
    for (let i = 0; i < 3; i++) circuit.failure();
    now = 1_000;
    expect(circuit.allow()).toBe(true);
    expect(circuit.allow()).toBe(false);
    circuit.success();
    expect(circuit.allow()).toBe(true);
    expect(circuit.isOpen).toBe(false);
  });

  it('opens again at once when the trial call fails', () => {
    const circuit = breaker();
    for (let i = 0; i < 3; i++) circuit.failure();
    now = 1_000;
    circuit.allow();
    circuit.failure();
    expect(circuit.allow()).toBe(false);
    now = 2_000;
    expect(circuit.allow()).toBe(true);
  });

  it('does not count refused connections before the service has ever answered: it is starting', () => {
    const circuit = breaker();
    for (let i = 0; i < 10; i++) circuit.refused();
    expect(circuit.allow()).toBe(true);
    expect(circuit.isOpen).toBe(false);
  });

  it('counts refused connections once the service has answered: it went down', () => {
    const circuit = breaker();
    circuit.success();
    for (let i = 0; i < 3; i++) circuit.refused();
    expect(circuit.allow()).toBe(false);
  });
});
