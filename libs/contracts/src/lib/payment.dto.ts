// Class decorators record design types through reflect-metadata: load it whoever imports first.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Min,
  ValidateNested,
} from 'class-validator';
import { BillingDetailsDto } from './order.dto';

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

  @IsOptional()
  @ValidateNested()
  @Type(() => BillingDetailsDto)
  billing?: BillingDetailsDto;

  @IsOptional()
  @Matches(/^tok_[A-Za-z0-9]{8,64}$/)
  cardToken?: string;
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
