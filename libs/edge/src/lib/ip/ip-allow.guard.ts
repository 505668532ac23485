import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { incomingCall, setClientNetworks } from '@acme/auth';
import { IpAllowMetadata } from '../edge.decorators';
import { EDGE_OPTIONS } from '../edge.options';
import type { EdgeOptions } from '../edge.options';
import { IpRanges } from './ip-ranges';
import { TracedGuard } from '@acme/telemetry';

/**
 * Enforces `@IpAllow(name)`: the client address (`request.ip`: the socket's,
 * or the one trusted proxies report) must be in the named list. On every HTTP
 * request it also records which lists hold the address, for policies such as
 * `hasRole('admin', { from: 'admin' })` (`@acme/auth`).
 */
@TracedGuard()
@Injectable()
export class IpAllowGuard implements CanActivate {
  private readonly lists: ReadonlyMap<string, IpRanges>;

  constructor(
    private readonly reflector: Reflector,
    @Inject(EDGE_OPTIONS) options: EdgeOptions,
  ) {
    this.lists = new Map(
      Object.entries(options.ipLists).map(([name, ranges]) => [name, IpRanges.parse(ranges)]),
    );
  }

  canActivate(context: ExecutionContext): boolean {
    const name = this.reflector.getAllAndOverride(IpAllowMetadata, [
      context.getHandler(),
      context.getClass(),
    ]);
    const call = incomingCall(context);
    switch (call.kind) {
      case 'http': {
        const { request } = call;
        const { ip } = request;
        // For policies here and, forwarded with every message, in the services behind.
        setClientNetworks(
          request,
          [...this.lists].filter(([, ranges]) => ranges.contains(ip)).map(([list]) => list),
        );
        if (name === undefined) return true;
        // An unknown list admits nobody (EdgeModule refuses to start with one anyway).
        if (this.lists.get(name)?.contains(ip)) return true;
        throw new ForbiddenException(`requests from ${ip} are not allowed here`);
      }
      case 'rpc':
      case 'unsupported':
        if (name === undefined) return true;
        throw new ForbiddenException('IP rules apply to HTTP routes only');
    }
  }
}
