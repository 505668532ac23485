import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AllowServices, isOwner, Policy, Roles, Scopes } from '@acme/auth';
import { ChargePaymentDto, PAYMENT_PATTERNS } from '@acme/contracts';
import type { Payment } from '@acme/contracts';
import { OutboxRelay } from '@acme/events';
import { PayerLoader } from './payer.loader';
import { PaymentsService } from './payments.service';

@Controller()
export class PaymentsController {
  constructor(
    private readonly payments: PaymentsService,
    private readonly outbox: OutboxRelay,
  ) {}

  /**
   * Only the order service may ask, and only with the paying user's own token.
   * Payment then tells order the payment completed, as itself, through the outbox.
   */
  @MessagePattern(PAYMENT_PATTERNS.charge)
  @AllowServices('order')
  @Roles('user')
  @Scopes('orders:write')
  @Policy(isOwner(PayerLoader))
  async charge(@Payload() request: ChargePaymentDto): Promise<Payment> {
    const { payment, created } = await this.payments.charge(request);
    if (created) this.outbox.kick();
    return payment;
  }
}
