import { ConflictException, Inject, Injectable } from '@nestjs/common';
import { ORDER_PATTERNS } from '@acme/contracts';
import type { ChargePaymentDto, Payment, PaymentCompletedDto } from '@acme/contracts';
import { DATABASE, FieldCipher } from '@acme/persistence';
import type { OpenDatabase } from '@acme/persistence';
import { currentCallMeta } from '@acme/auth';
import { outgoingTraceContext } from '@acme/telemetry';
import { eq } from 'drizzle-orm';
import { createHash, randomUUID } from 'node:crypto';
import { paymentField } from './payment-fields';
import { outbox, payments } from './payments.table';

type PaymentRow = typeof payments.$inferSelect;

/** Charges, one per order, with their completion events in the same transaction. */
@Injectable()
export class PaymentsService {
  constructor(
    @Inject(DATABASE) private readonly database: OpenDatabase,
    private readonly cipher: FieldCipher,
  ) {}

  /**
   * Idempotent by order: the unique order id in the database, not a check in
   * memory, makes concurrent and repeated charges of one order yield one
   * payment, and every caller gets that payment back.
   */
  async charge(request: ChargePaymentDto): Promise<{ payment: Payment; created: boolean }> {
    const id = randomUUID();
    const created = await this.database.db.transaction(async (tx) => {
      const inserted = await tx
        .insert(payments)
        .values({
          id,
          orderId: request.orderId,
          payerId: request.payerId,
          amount: request.amount,
          currency: request.currency,
          status: 'SUCCEEDED',
          billingDetails: request.billing
            ? this.cipher.encrypt(
                JSON.stringify(request.billing),
                paymentField('billing_details', id),
              )
            : null,
          cardFingerprint: request.cardToken
            ? this.cipher.encrypt(
                fingerprint(request.cardToken),
                paymentField('card_fingerprint', id),
              )
            : null,
        })
        .onConflictDoNothing({ target: payments.orderId })
        .returning({ id: payments.id });
      if (inserted.length === 0) return false;
      const event: PaymentCompletedDto = { orderId: request.orderId, paymentId: id };
      const meta = currentCallMeta();
      await tx.insert(outbox).values({
        topic: ORDER_PATTERNS.paymentCompleted,
        payload: event,
        traceContext: outgoingTraceContext(meta),
        // The payer is the user whose call this is: the charge handler's policy checked it.
        actorId: request.payerId,
        requestId: meta?.requestId ?? null,
      });
      return true;
    });
    const [row] = await this.database.db
      .select()
      .from(payments)
      .where(eq(payments.orderId, request.orderId));
    if (
      row.amount !== request.amount ||
      row.payerId !== request.payerId ||
      row.currency !== request.currency
    ) {
      throw new ConflictException('order was already charged with different terms');
    }
    return { payment: toPayment(row), created };
  }
}

/** Recognises a card without keeping anything that could charge it. */
function fingerprint(cardToken: string): string {
  return createHash('sha256').update(cardToken).digest('base64url');
}

function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    orderId: row.orderId,
    payerId: row.payerId,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
  };
}
