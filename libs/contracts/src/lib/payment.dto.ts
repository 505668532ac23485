// Class decorators record design types through reflect-metadata: load it whoever imports first.
import 'reflect-metadata';
import { IsIn, IsInt, IsString, IsUUID, Min } from 'class-validator';

export class ChargePaymentDto {
  @IsUUID()
  orderId: string;

  /** The user the order belongs to; payment checks it against the forwarded token. */
  @IsString()
  payerId: string;

  /** Amount in cents. */
  @IsInt()
  @Min(1)
  amount: number;

  @IsIn(['EUR'])
  currency: string;
}

export interface Payment {
  id: string;
  orderId: string;
  payerId: string;
  amount: number;
  currency: string;
  status: 'SUCCEEDED';
  createdAt: string;
}

export class PaymentCompletedDto {
  @IsUUID()
  orderId: string;

  @IsUUID()
  paymentId: string;
}
