import { BadRequestException, Injectable } from '@nestjs/common';
import type { ChargePaymentDto, Payment } from '@acme/contracts';
import { randomUUID } from 'node:crypto';

/** Charges, one per order. Held in memory: restarting the service forgets them. */
@Injectable()
export class PaymentsService {
  private readonly byOrder = new Map<string, Payment>();

  /** Idempotent by order: charging the same order again returns the first payment. */
  charge(request: ChargePaymentDto): { payment: Payment; created: boolean } {
    const existing = this.byOrder.get(request.orderId);
    if (existing) {
      if (existing.amount !== request.amount || existing.payerId !== request.payerId) {
        throw new BadRequestException('order was already charged with different terms');
      }
      return { payment: existing, created: false };
    }
    const payment: Payment = {
      id: randomUUID(),
      orderId: request.orderId,
      payerId: request.payerId,
      amount: request.amount,
      currency: request.currency,
      status: 'SUCCEEDED',
      createdAt: new Date().toISOString(),
    };
    this.byOrder.set(request.orderId, payment);
    return { payment, created: true };
  }
}
