import { PasswordCheckBusyError, PasswordCheckQueue } from './password-check-queue';

describe(PasswordCheckQueue.name, () => {
  it('runs at most `concurrency` checks at once, queues `queueLimit` more and refuses the rest', async () => {
    const queue = new PasswordCheckQueue(2, 3);
    let running = 0;
    let mostAtOnce = 0;
    const check = async () => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return true;
    };

    const results = await Promise.allSettled(Array.from({ length: 10 }, () => queue.run(check)));

    expect(mostAtOnce).toBe(2);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
    for (const result of results.filter((result) => result.status === 'rejected')) {
      expect(result.reason).toBeInstanceOf(PasswordCheckBusyError);
    }
    // Every slot came back: a new burst gets the same treatment.
    expect(await queue.run(check)).toBe(true);
  });

  it('frees the slot of a check that fails', async () => {
    const queue = new PasswordCheckQueue(1, 0);
    await expect(queue.run(() => Promise.reject(new Error('scrypt failed')))).rejects.toThrow(
      'scrypt failed',
    );
    expect(await queue.run(() => Promise.resolve('next'))).toBe('next');
  });
});
