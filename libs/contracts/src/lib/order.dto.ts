// Class decorators record design types through reflect-metadata: load it whoever imports first.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsInt,
  IsOptional,
  IsString,
  Length,
  IsUUID,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ORDER_LIMITS } from './order.constants';

export class OrderItemDto {
  /** A catalog SKU, e.g. `book-1`. Prices come from the order service's catalog, never from the client. */
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'sku must be a lowercase catalog id' })
  sku: string;

  @IsInt()
  @Min(1)
  @Max(ORDER_LIMITS.maxQuantity)
  quantity: number;
}

export class CreateOrderDto {
  @ValidateNested({ each: true })
  @Type(() => OrderItemDto)
  @ArrayMinSize(1)
  @ArrayMaxSize(ORDER_LIMITS.maxItems)
  items: OrderItemDto[];
}

/** Which page of orders: the newest first, `limit` at a time, after `cursor`. */
export class ListOrdersDto {
  /** Orders in the page: 20 unless given, at most 50. */
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(ORDER_LIMITS.maxPageSize, {
    message: `limit must be at most ${ORDER_LIMITS.maxPageSize}, the maximum page size`,
  })
  limit?: number;

  /** `nextCursor` of the previous page; without it, the first page. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,128}$/, {
    message: 'cursor must be the nextCursor of a previous page',
  })
  cursor?: string;
}

export class OrderIdDto {
  @IsUUID()
  id: string;
}

/** The payer's billing details: stored encrypted by payment, never returned. */
export class BillingDetailsDto {
  @IsString()
  @Length(1, 200)
  name: string;

  @IsString()
  @Length(1, 500)
  address: string;
}

/** What the owner sends to pay: optional billing details and a card token from the payment provider. */
export class PayOrderBodyDto {
  @IsOptional()
  @ValidateNested()
  @Type(() => BillingDetailsDto)
  billing?: BillingDetailsDto;

  /** A payment provider's card token, never a card number. */
  @IsOptional()
  @Matches(/^tok_[A-Za-z0-9]{8,64}$/, {
    message: 'cardToken must be a provider token (tok_...), never a card number',
  })
  cardToken?: string;
}

export class PayOrderDto extends PayOrderBodyDto {
  @IsUUID()
  id: string;
}

export type OrderStatus = 'PENDING' | 'PAID';

export interface OrderLine {
  sku: string;
  quantity: number;
  /** Unit price in cents. */
  unitPrice: number;
}

export interface Order {
  id: string;
  ownerId: string;
  status: OrderStatus;
  items: OrderLine[];
  /** Sum of the lines in cents. */
  total: number;
  currency: string;
  paymentId?: string;
  createdAt: string;
}

/** One page of orders, the newest first. */
export interface OrderPage {
  items: Order[];
  /** Pass it as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
}
