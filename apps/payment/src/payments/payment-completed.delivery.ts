import { Injectable } from '@nestjs/common';
import { InjectServiceClient } from '@acme/auth';
import type { ServiceClient } from '@acme/auth';
import { EVENT_ROUTES, ORDER_PATTERNS } from '@acme/contracts';
import type { OutboxDirectDelivery } from '@acme/events';

/**
 * Without a broker, payment completed goes straight to order, as payment
 * (client credentials); with one, it is `events.payment.completed`.
 */
@Injectable()
export class PaymentCompletedDelivery implements OutboxDirectDelivery {
  readonly subjects = {
    [ORDER_PATTERNS.paymentCompleted]: EVENT_ROUTES.paymentCompleted.subject,
  };

  constructor(@InjectServiceClient('order') private readonly order: ServiceClient) {}

  send(topic: string, payload: unknown): Promise<unknown> {
    return this.order.sendAsService(topic, payload);
  }
}
