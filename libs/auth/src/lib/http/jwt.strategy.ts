import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Jwt } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { Principal } from '../principal';
import { AccessTokenVerifier } from '../token/access-token.verifier';

export const JWT_STRATEGY = 'jwt';

/**
 * passport-jwt, wired to the shared verifier: the key comes from the
 * verifier's header checks and JWKS, `jsonwebtoken` checks signature, `iss`,
 * `aud`, `exp` and `nbf` with the verifier's options, and the claims are mapped
 * by the verifier too.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(private readonly verifier: AccessTokenVerifier) {
    const { algorithms, issuer, audience, ...jsonWebTokenOptions } = verifier.jwtOptions;
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (_request, token: string, done) => {
        verifier.resolveKey(token).then(
          // jsonwebtoken takes a KeyObject; the typings only know PEM strings and buffers.
          (key) => done(null, key as unknown as Buffer),
          (error: unknown) => done(error),
        );
      },
      algorithms,
      issuer: issuer as string,
      audience: audience as string,
      jsonWebTokenOptions,
    });
  }

  validate(decoded: Jwt): Principal {
    return this.verifier.toPrincipal(decoded);
  }
}
