import type { Type } from '@nestjs/common';
import { IpAllowMetadata, RateLimitMetadata } from './edge.decorators';
import type { EdgeOptions } from './edge.options';

/**
 * What is wrong with the edge decorators of these controllers under these
 * options: an `@IpAllow` list that is not configured, or a `@RateLimit` cost
 * the bucket can never hold (every request would be refused).
 */
export function routeRuleProblems(
  controllers: readonly Type<unknown>[],
  options: EdgeOptions,
): string[] {
  const problems: string[] = [];
  for (const controller of controllers) {
    const prototype = controller.prototype as Record<string, unknown>;
    const handlers = Object.getOwnPropertyNames(prototype)
      .filter((name) => name !== 'constructor' && typeof prototype[name] === 'function')
      .map((name) => ({
        name: `${controller.name}.${name}`,
        targets: [prototype[name] as object, controller],
      }));
    for (const { name, targets } of handlers) {
      const list = readFirst<string>(IpAllowMetadata.KEY, targets);
      if (list !== undefined && !(list in options.ipLists)) {
        problems.push(
          `${name}: @IpAllow('${list}') names no configured IP list (known: ${Object.keys(options.ipLists).join(', ') || 'none'})`,
        );
      }
      const limit = readFirst<{ burstCapacity?: number; cost?: number }>(
        RateLimitMetadata.KEY,
        targets,
      );
      const capacity = limit?.burstCapacity ?? options.rateLimit.burstCapacity;
      if (limit?.cost !== undefined && limit.cost > capacity) {
        problems.push(
          `${name}: @RateLimit cost ${limit.cost} exceeds the bucket capacity ${capacity}`,
        );
      }
    }
  }
  return problems;
}

function readFirst<T>(key: string, targets: readonly object[]): T | undefined {
  for (const target of targets) {
    const value = Reflect.getMetadata(key, target) as T | undefined;
    if (value !== undefined) return value;
  }
  return undefined;
}
