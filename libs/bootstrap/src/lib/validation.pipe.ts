import { ValidationPipe } from '@nestjs/common';

/**
 * DTO validation for HTTP bodies and message payloads alike: unknown fields
 * are refused, not silently dropped, and every failing field is named.
 */
export function strictValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
  });
}
