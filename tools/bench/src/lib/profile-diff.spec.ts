import { compareSelfTime, functionOf, ownerOf, selfTimePerRequest } from './profile-diff';
import type { CpuProfile } from './profile-diff';

const frame = (id: number, functionName: string, url: string) => ({
  id,
  callFrame: { functionName, url },
});

/** Samples 1 ms apart from t = 1000 us: each sample's time is the gap to the next. */
function profileOf(sampledNodeIds: number[]): CpuProfile {
  return {
    nodes: [
      frame(1, '(root)', ''),
      frame(2, 'canActivate', '/w/node_modules/@nestjs/passport/dist/auth.guard.js'),
      frame(3, 'writev', ''),
      frame(4, 'handle', '/w/dist/apps/order/main.js'),
      frame(5, '(idle)', ''),
      frame(6, 'hash', 'node:internal/crypto/hash'),
    ],
    startTime: 0,
    samples: sampledNodeIds,
    timeDeltas: sampledNodeIds.map(() => 1_000),
  };
}

describe('ownerOf', () => {
  it.each([
    [{ functionName: 'x', url: '/w/node_modules/@nestjs/core/router.js' }, '@nestjs/core'],
    [{ functionName: 'x', url: '/w/node_modules/pg/lib/client.js' }, 'pg'],
    [{ functionName: 'x', url: 'node:net' }, 'node:net'],
    [{ functionName: 'x', url: '/w/dist/apps/order/main.js' }, 'app'],
    [{ functionName: '(garbage collector)', url: '' }, '(garbage collector)'],
    [{ functionName: 'writev', url: '' }, '(native) writev'],
  ])('puts %j under %s', (callFrame, owner) => {
    expect(ownerOf(callFrame)).toBe(owner);
  });
});

describe('functionOf', () => {
  it.each([
    [
      { functionName: 'canActivate', url: '/w/node_modules/@nestjs/passport/dist/auth.guard.js' },
      '@nestjs/passport canActivate',
    ],
    [{ functionName: '', url: 'node:net', lineNumber: 3 }, 'node:net (anonymous)'],
    [
      { functionName: 'handle', url: '/w/dist/apps/order/main.js', lineNumber: 41 },
      'app handle:42',
    ],
    [{ functionName: '(garbage collector)', url: '' }, '(garbage collector)'],
  ])('names %j %s', (callFrame, name) => {
    expect(functionOf(callFrame)).toBe(name);
  });
});

describe('selfTimePerRequest', () => {
  // Samples at 1, 2, ... 8 ms: passport, writev, app, idle, hash, passport, passport, writev.
  const profile = profileOf([2, 3, 4, 5, 6, 2, 2, 3]);

  it('adds each sample to its owner, per request, skipping idle time', () => {
    const perRequest = selfTimePerRequest(profile, [{ startUs: 0, endUs: 10_000, requests: 2 }]);

    expect(Object.fromEntries(perRequest)).toEqual({
      '@nestjs/passport': 1_500,
      '(native) writev': 500, // the last sample has no gap after it
      app: 500,
      'node:internal/crypto/hash': 500,
    });
  });

  it('counts only samples inside the windows, and the requests of all of them', () => {
    const perRequest = selfTimePerRequest(profile, [
      { startUs: 1_500, endUs: 3_500, requests: 1 },
      { startUs: 5_500, endUs: 6_500, requests: 1 },
    ]);

    expect(Object.fromEntries(perRequest)).toEqual({
      '(native) writev': 500,
      app: 500,
      '@nestjs/passport': 500,
    });
  });
});

describe('selfTimePerRequest by function', () => {
  it('adds each sample to what keyOf names', () => {
    const perRequest = selfTimePerRequest(
      profileOf([2, 4, 4, 2]),
      [{ startUs: 0, endUs: 10_000, requests: 1 }],
      functionOf,
    );

    expect(Object.fromEntries(perRequest)).toEqual({
      '@nestjs/passport canActivate': 1_000,
      'app handle': 2_000,
    });
  });
});

describe('compareSelfTime', () => {
  it('lists every owner of either system, the largest added cost first', () => {
    const secure = new Map([
      ['pg', 10],
      ['@nestjs/passport', 40],
      ['(native) writev', 30],
    ]);
    const insecure = new Map([
      ['pg', 12],
      ['(native) writev', 10],
      ['fastify', 5],
    ]);

    expect(compareSelfTime(secure, insecure).map((cost) => cost.owner)).toEqual([
      '@nestjs/passport',
      '(native) writev',
      'pg',
      'fastify',
    ]);
  });
});
