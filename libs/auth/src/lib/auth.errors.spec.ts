import { validateHeaderValue } from 'node:http';
import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  UnauthorizedException,
} from '@nestjs/common';
import {
  bearerChallenge,
  InsufficientScopeException,
  InvalidTokenException,
  MissingTokenException,
} from './auth.errors';

describe(InvalidTokenException.name, () => {
  it('is a 401 "unauthorized" asking for a token when none was given', () => {
    const exception = new InvalidTokenException();

    expect(exception).toBeInstanceOf(UnauthorizedException);
    expect(exception.getResponse()).toEqual({
      statusCode: 401,
      error: 'unauthorized',
      message: 'a bearer token is required',
    });
  });

  it('is a 401 "invalid_token" that says why a token was refused', () => {
    expect(new InvalidTokenException('token expired').getResponse()).toEqual({
      statusCode: 401,
      error: 'invalid_token',
      message: 'token expired',
    });
  });
});

describe(InsufficientScopeException.name, () => {
  it('is a 403 "insufficient_scope" that says what was required', () => {
    const exception = new InsufficientScopeException('requires scope: orders:write');

    expect(exception).toBeInstanceOf(ForbiddenException);
    expect(exception.getResponse()).toEqual({
      statusCode: 403,
      error: 'insufficient_scope',
      message: 'requires scope: orders:write',
    });
  });
});

describe(bearerChallenge.name, () => {
  it('is a bare "Bearer" challenge when no token was given (RFC 6750 3.1: no error code)', () => {
    expect(bearerChallenge(new InvalidTokenException())).toBe('Bearer');
  });

  it('names invalid_token and the reason for a refused token', () => {
    expect(bearerChallenge(new InvalidTokenException('token expired'))).toBe(
      'Bearer error="invalid_token", error_description="token expired"',
    );
  });

  it('names insufficient_scope and the requirement for a 403 of the auth guards', () => {
    expect(bearerChallenge(new InsufficientScopeException('requires any of roles: admin'))).toBe(
      'Bearer error="insufficient_scope", error_description="requires any of roles: admin"',
    );
  });

  it('offers DPoP with its algorithms when no token was given where proofs are checked', () => {
    const algorithms = ['ES256', 'PS256'];
    expect(bearerChallenge(new MissingTokenException({ required: true, algorithms }))).toBe(
      'DPoP algs="ES256 PS256"',
    );
    expect(bearerChallenge(new MissingTokenException({ required: false, algorithms }))).toBe(
      'Bearer, DPoP algs="ES256 PS256"',
    );
  });

  it('is a bare "Bearer" challenge for any other 401', () => {
    expect(bearerChallenge(new UnauthorizedException())).toBe('Bearer');
  });

  it.each([
    new ForbiddenException('not your order'),
    new BadRequestException('bad id'),
    new InternalServerErrorException(),
    new HttpException('Not Found', 404),
  ])('is undefined for %s, which is not about the bearer token', (exception) => {
    expect(bearerChallenge(exception)).toBeUndefined();
  });

  it('drops quotes and backslashes, which would end the quoted description early', () => {
    expect(
      bearerChallenge(new InvalidTokenException('token type "JWT\\" is not an access token')),
    ).toBe(
      'Bearer error="invalid_token", error_description="token type JWT is not an access token"',
    );
  });

  // The verifier's reasons quote the token's own header (`algorithm ${alg} is not accepted`),
  // so an attacker chooses part of the description.
  it.each([
    ['a line break', 'x\r\nSet-Cookie: session=evil'],
    ['a character Node refuses in a header', 'x\u2028\u{1F600}'],
    ['a control character', 'x\u0000\u007f'],
  ])(
    'keeps only the characters RFC 6750 allows in error_description: %s cannot break the header',
    (_case, alg) => {
      const challenge =
        bearerChallenge(new InvalidTokenException(`algorithm ${alg} is not accepted`)) ?? '';
      const description = /^Bearer error="invalid_token", error_description="(.*)"$/.exec(
        challenge,
      )?.[1];

      expect(description).toMatch(/^algorithm x.* is not accepted$/);
      expect(description).not.toMatch(/[^\x20\x21\x23-\x5B\x5D-\x7E]/);
      expect(() => validateHeaderValue('WWW-Authenticate', challenge)).not.toThrow();
    },
  );
});
