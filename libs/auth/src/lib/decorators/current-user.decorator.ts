import { createParamDecorator } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { getPrincipal } from '../context/principal.context';

/**
 * Injects the verified {@link Principal} of the caller (HTTP or RPC).
 *
 * @example
 * @MessagePattern(ORDER_PATTERNS.list) list(@CurrentUser() user: Principal) {}
 */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  getPrincipal(context),
);
