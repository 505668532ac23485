import { BadRequestException, ValidationPipe } from '@nestjs/common';
import type { ArgumentMetadata } from '@nestjs/common';
import { validate } from 'class-validator';

const POISONING_KEYS = new Set(['__proto__', 'constructor']);

/** The first key, at any depth, that could poison a prototype when the value is copied or merged. */
function poisoningKey(value: unknown, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 64) return undefined;
  for (const key of Object.keys(value)) {
    if (POISONING_KEYS.has(key)) return key;
    const found = poisoningKey((value as Record<string, unknown>)[key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Refuses a `__proto__` or `constructor` key anywhere in the
 * value, before validation: class-transformer would drop it silently. HTTP
 * bodies meet the same rule earlier, in the gateway's JSON parser; messages
 * between services meet it here.
 */
class StrictValidationPipe extends ValidationPipe {
  // Not async: ValidationPipe's own promise is the answer. On node 20 every promise runs the
  // call context's hooks, and an async function returning a promise makes two more.
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Bodies, message payloads, queries and params: what callers send, not what custom decorators make.
    const key = metadata.type === 'custom' ? undefined : poisoningKey(value);
    if (key) {
      return Promise.reject(
        new BadRequestException(`a "${key}" key is not accepted anywhere in the input`),
      );
    }
    return super.transform(value, metadata);
  }
}

/**
 * DTO validation for HTTP bodies and message payloads alike: unknown fields
 * are refused, not silently dropped, every failing field is named, and keys
 * that could poison a prototype are refused.
 */
export function strictValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    // Given, not left for Nest to require: the services bundle the rules their DTOs use
    // (tools/webpack), and Nest's require would load the whole package, libphonenumber-js too.
    validatorPackage: { validate },
  });
}
