import { explainStatus, explainUnreachable } from './problems';

describe(explainStatus.name, () => {
  it('asks to sign in again on 401, with the reason the API gave', () => {
    expect(
      explainStatus(401, { statusCode: 401, error: 'invalid_token', message: 'token expired' }),
    ).toBe('Your session is no longer accepted (401: token expired). Sign in again.');
  });

  it('says what is missing on 403', () => {
    expect(
      explainStatus(403, { error: 'insufficient_scope', message: 'requires scope admin:read' }),
    ).toBe('You are not allowed to do this (403: requires scope admin:read).');
  });

  it.each([
    ['delay-seconds', '30', 'Try again in 30 s.'],
    ['an HTTP date', new Date(Date.UTC(2030, 0, 1, 0, 0, 45)).toUTCString(), 'Try again in 45 s.'],
    ['no header (not exposed by CORS)', null, 'Try again in a moment.'],
    ['a header it cannot read', 'soon', 'Try again in a moment.'],
  ])('tells how long to wait on 429, from %s', (_case, retryAfter, expected) => {
    expect(explainStatus(429, {}, retryAfter, Date.UTC(2030, 0, 1))).toBe(
      `Too many requests (429). ${expected}`,
    );
  });

  it.each([502, 503])('says a service is down on %i', (status) => {
    expect(explainStatus(status, undefined)).toBe(
      `A service behind the API is down (${status}). Try again in a moment.`,
    );
  });

  it('says a service is too slow on 504', () => {
    expect(explainStatus(504, undefined)).toMatch(/did not answer in time \(504\)/);
  });

  it('shows no internals of a 500', () => {
    expect(explainStatus(500, { message: 'Internal server error' })).toBe(
      'The API failed (500). Try again later.',
    );
  });

  it('lists validation messages of a 400', () => {
    expect(
      explainStatus(400, { message: ['items must not be empty', 'quantity must be an integer'] }),
    ).toBe(
      'The API refused the request (400: items must not be empty; quantity must be an integer).',
    );
  });
});

describe(explainUnreachable.name, () => {
  it('names the origin it could not reach', () => {
    expect(explainUnreachable('the API', 'http://localhost:3000/api')).toMatch(
      /^Cannot reach the API at http:\/\/localhost:3000:/,
    );
  });
});
