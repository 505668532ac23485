import type { CircuitState } from '../metrics/auth.metrics';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one trial call through. */
  resetAfterMs: number;
}

type State =
  | { name: 'closed'; failures: number }
  | { name: 'open'; until: number }
  | { name: 'half-open' };

/**
 * Stops calling a service that keeps failing: after `failureThreshold`
 * consecutive failures every call fails at once for `resetAfterMs`, then one
 * trial call decides whether to close the circuit again. A caller of a dead
 * service gets a fast 503 instead of piling up requests that each wait for a
 * timeout.
 *
 * @example
 * if (!breaker.allow()) throw new ServiceUnavailableException();
 * try { const result = await call(); breaker.success(); } catch (e) { breaker.failure(); throw e; }
 */
export class CircuitBreaker {
  private state: State = { name: 'closed', failures: 0 };
  private reached = false;

  /** `onStateChange`: told each time the state changes (a metric follows it). */
  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
    private readonly onStateChange: (state: CircuitState) => void = () => undefined,
  ) {}

  /** Whether a call may go out now. In half-open state only the first caller gets through. */
  allow(): boolean {
    switch (this.state.name) {
      case 'closed':
        return true;
      case 'open':
        if (this.now() < this.state.until) return false;
        this.enter({ name: 'half-open' });
        return true;
      case 'half-open':
        return false;
    }
  }

  success(): void {
    this.reached = true;
    this.enter({ name: 'closed', failures: 0 });
  }

  /**
   * The service refused the connection: nothing listens there. Until the
   * service has answered once it is still starting (`npm start` builds it
   * while its callers already run): the call fails at once anyway, and
   * counting it would keep the circuit open for `resetAfterMs` after the
   * service is up. Once it has answered, a refusal means it went down, and counts.
   */
  refused(): void {
    if (this.reached) this.failure();
  }

  failure(): void {
    const failures =
      this.state.name === 'closed' ? this.state.failures + 1 : this.options.failureThreshold;
    this.enter(
      failures >= this.options.failureThreshold
        ? { name: 'open', until: this.now() + this.options.resetAfterMs }
        : { name: 'closed', failures },
    );
  }

  private enter(state: State): void {
    const changed = state.name !== this.state.name;
    this.state = state;
    if (changed) this.onStateChange(state.name);
  }

  get isOpen(): boolean {
    return this.state.name !== 'closed';
  }
}
