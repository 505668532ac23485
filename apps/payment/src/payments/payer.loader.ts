import { Injectable } from '@nestjs/common';
import type { ResourceOwnerLoader } from '@acme/auth';

/**
 * The user a charge is for. With `isOwner(PayerLoader)` the forwarded token
 * must belong to that user: the order service cannot charge someone else
 * with the token of whoever happens to be calling it.
 */
@Injectable()
export class PayerLoader implements ResourceOwnerLoader<{ payerId: string }> {
  load(input: unknown): { payerId: string } | undefined {
    const payerId = (input as { payerId?: unknown } | undefined)?.payerId;
    return typeof payerId === 'string' ? { payerId } : undefined;
  }

  ownerOf(charge: { payerId: string }): string {
    return charge.payerId;
  }
}
