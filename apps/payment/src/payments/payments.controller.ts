import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AllowServices, InjectServiceClient, isOwner, Policy, Roles, Scopes } from '@acme/auth';
import type { ServiceClient } from '@acme/auth';
import { ChargePaymentDto, ORDER_PATTERNS, PAYMENT_PATTERNS } from '@acme/contracts';
import type { Payment, PaymentCompletedDto } from '@acme/contracts';
import { PayerLoader } from './payer.loader';
import { PaymentsService } from './payments.service';

@Controller()
export class PaymentsController {
  private readonly log = new Logger(PaymentsController.name);

  constructor(
    private readonly payments: PaymentsService,
    @InjectServiceClient('order') private readonly order: ServiceClient,
  ) {}

  /** Only the order service may ask, and only with the paying user's own token. */
  @MessagePattern(PAYMENT_PATTERNS.charge)
  @AllowServices('order')
  @Roles('user')
  @Scopes('orders:write')
  @Policy(isOwner(PayerLoader))
  async charge(@Payload() request: ChargePaymentDto): Promise<Payment> {
    const { payment, created } = this.payments.charge(request);
    if (created) await this.notifyOrder(payment);
    return payment;
  }

  /**
   * Tells order the payment completed, as this service (not as the user). The
   * order service also records the payment from this call's answer, so a lost
   * notification delays nothing in the normal path.
   */
  private async notifyOrder(payment: Payment): Promise<void> {
    const event: PaymentCompletedDto = { orderId: payment.orderId, paymentId: payment.id };
    try {
      await this.order.sendAsService(ORDER_PATTERNS.paymentCompleted, event);
    } catch (error) {
      this.log.warn(`order ${payment.orderId} not notified of payment ${payment.id}: ${(error as Error).message}`);
    }
  }
}
