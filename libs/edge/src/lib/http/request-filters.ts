import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { IpRanges } from '../ip/ip-ranges';

/**
 * Express middleware: refuses (403) a client address in `deny`, or outside
 * `allow` when that is not empty. The address is `request.ip`: the socket's,
 * unless Express's `trust proxy` names the proxies whose `X-Forwarded-For` counts.
 * Errors go to `next`, for the app's error handler to answer.
 *
 * @example
 * app.use(ipFilter({ allow: [], deny: ['192.0.2.0/24'] }));
 */
export function ipFilter(rules: {
  allow: readonly string[];
  deny: readonly string[];
}): RequestHandler {
  const allow = IpRanges.parse(rules.allow);
  const deny = IpRanges.parse(rules.deny);
  return (request: Request, _response: Response, next: NextFunction) => {
    const { ip } = request;
    const refused = deny.contains(ip) || (allow.size > 0 && !allow.contains(ip));
    next(
      refused
        ? new ForbiddenException(`requests from ${ip ?? 'an unknown address'} are not allowed`)
        : undefined,
    );
  };
}

/**
 * Express middleware: 414 for a request target (path and query) longer than `maxLength`.
 *
 * @example
 * app.use(urlLengthLimit(2048));
 */
export function urlLengthLimit(maxLength: number): RequestHandler {
  return (request: Request, _response: Response, next: NextFunction) => {
    next(
      request.originalUrl.length > maxLength
        ? new HttpException(
            {
              statusCode: 414,
              error: 'URI Too Long',
              message: `the URL is longer than ${maxLength} characters`,
            },
            HttpStatus.URI_TOO_LONG,
          )
        : undefined,
    );
  };
}

/**
 * Express middleware: 415 for a request with a body that is not JSON (`application/json` or `+json`).
 *
 * @example
 * app.use(jsonBodiesOnly());
 */
export function jsonBodiesOnly(): RequestHandler {
  return (request: Request, _response: Response, next: NextFunction) => {
    // null: no body; false: a body of another type. `Content-Length: 0` is no body either.
    const json = request.is(['application/json', 'application/*+json']);
    const refused = json === false && request.headers['content-length'] !== '0';
    next(
      refused
        ? new UnsupportedMediaTypeException('request bodies must be application/json')
        : undefined,
    );
  };
}
