import { BadRequestException, ForbiddenException, HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyBodyParser, FastifyInstance, FastifyRequest } from 'fastify';
import { IpRanges } from '../ip/ip-ranges';

/**
 * A check of a request before it is routed: the exception to answer with, or
 * `undefined` to let it through. `createHttpApp` runs them in one Fastify
 * `onRequest` hook; what they refuse goes to the app's exception filters.
 */
export type RequestFilter = (request: FastifyRequest) => HttpException | undefined;

/**
 * Refuses (403) a client address in `deny`, or outside `allow` when that is not
 * empty. The address is `request.ip`: the socket's, unless Fastify's
 * `trustProxy` names the proxies whose `X-Forwarded-For` counts.
 *
 * @example
 * ipFilter({ allow: [], deny: ['192.0.2.0/24'] });
 */
export function ipFilter(rules: {
  allow: readonly string[];
  deny: readonly string[];
}): RequestFilter {
  const allow = IpRanges.parse(rules.allow);
  const deny = IpRanges.parse(rules.deny);
  return ({ ip }) =>
    deny.contains(ip) || (allow.size > 0 && !allow.contains(ip))
      ? new ForbiddenException(`requests from ${ip} are not allowed`)
      : undefined;
}

/**
 * 414 for a request target (path and query) longer than `maxLength`.
 *
 * @example
 * urlLengthLimit(2048);
 */
export function urlLengthLimit(maxLength: number): RequestFilter {
  return ({ url }) =>
    url.length > maxLength
      ? new HttpException(
          {
            statusCode: 414,
            error: 'URI Too Long',
            message: `the URL is longer than ${maxLength} characters`,
          },
          HttpStatus.URI_TOO_LONG,
        )
      : undefined;
}

/**
 * Makes a Fastify instance parse JSON bodies (`application/json`, `+json`) of
 * at most `maxBodyBytes` and nothing else: another media type gets 415, a
 * larger body 413, malformed JSON 400. Keys that could poison a prototype are
 * refused by `strictValidationPipe`, for HTTP bodies and messages alike.
 *
 * @example
 * acceptJsonBodiesOnly(app.getHttpAdapter().getInstance(), 100 * 1024);
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance, maxBodyBytes: number): void {
  const parse: FastifyBodyParser<string> = (_request, body, done) => {
    // `Content-Length: 0` is no body, as on a request without Content-Type.
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body) as unknown);
    } catch {
      done(new BadRequestException('the body is not valid JSON'), undefined);
    }
  };
  fastify.removeAllContentTypeParsers();
  for (const mediaType of ['application/json', /^application\/[\w.-]+\+json$/]) {
    fastify.addContentTypeParser(mediaType, { parseAs: 'string', bodyLimit: maxBodyBytes }, parse);
  }
}
