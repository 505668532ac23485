/** Thrown when every password check slot is taken and the queue is full: answer 429, try later. */
export class PasswordCheckBusyError extends Error {
  constructor() {
    super('too many password checks at once');
    this.name = PasswordCheckBusyError.name;
  }
}

/**
 * Runs at most `concurrency` password checks at once, with at most `queueLimit` waiting; beyond
 * that it refuses at once. scrypt is slow and memory-hard on purpose, so a flood of sign-ins (an
 * unknown user name costs a full check too) would otherwise take every CPU and its memory.
 *
 * @example
 * const queue = new PasswordCheckQueue(4, 32);
 * const ok = await queue.run(() => verifyPassword(password, hash)); // may throw PasswordCheckBusyError
 */
export class PasswordCheckQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
  ) {}

  async run<T>(check: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) throw new PasswordCheckBusyError();
      // The slot is handed over by the finishing check, so `running` stays counted meanwhile.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await check();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
