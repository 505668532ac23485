import { join } from 'node:path';
import { imageAllocatorEnv, pathRequests, poll } from './system';

describe(pathRequests.name, () => {
  it('reads each order in turn, as the bench user', () => {
    const read = pathRequests('read', 'a.b.c', ['1', '2']);

    expect([read.nextPath(), read.nextPath(), read.nextPath()]).toEqual([
      '/api/orders/1',
      '/api/orders/2',
      '/api/orders/1',
    ]);
    expect(read).toMatchObject({ method: 'GET', headers: { authorization: 'Bearer a.b.c' } });
  });

  it('pays each pending order once, and says when none is left', () => {
    const exhausted = jest.fn();
    const write = pathRequests('write', 'a.b.c', ['1', '2'], exhausted);

    expect([write.nextPath(), write.nextPath()]).toEqual([
      '/api/orders/1/pay',
      '/api/orders/2/pay',
    ]);
    expect(exhausted).not.toHaveBeenCalled();
    write.nextPath();
    expect(exhausted).toHaveBeenCalled();
    expect(write).toMatchObject({ method: 'POST', body: '{"cardToken":"tok_benchmark0001"}' });
  });
});

describe(imageAllocatorEnv.name, () => {
  it("reads the allocator settings of the images' final stage", () => {
    expect(imageAllocatorEnv(join(__dirname, '../../../..'))).toEqual({ MALLOC_ARENA_MAX: '2' });
  });
});

describe(poll.name, () => {
  it('gives up after its timeout, naming what it waited for', async () => {
    const started = Date.now();
    await expect(
      poll(
        'the gateway ready',
        100,
        () => undefined,
        () => Promise.resolve(false),
      ),
    ).rejects.toThrow('timed out waiting for the gateway ready (0.1 s)');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('answers once the check passes, and stops at once when the guard throws', async () => {
    let checks = 0;
    await poll(
      'a port',
      60_000,
      () => undefined,
      () => Promise.resolve(++checks === 3),
    );
    expect(checks).toBe(3);
    await expect(
      poll(
        'a port',
        60_000,
        () => {
          throw new Error('order exited with 1');
        },
        () => Promise.resolve(false),
      ),
    ).rejects.toThrow('order exited with 1');
  });
});
