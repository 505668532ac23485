import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { Order, OrderItemDto } from '@acme/contracts';
import { randomUUID } from 'node:crypto';
import { CATALOG, CURRENCY } from './catalog';

/** Orders and their lifecycle. Held in memory: restarting the service forgets them. */
@Injectable()
export class OrdersService {
  private readonly orders = new Map<string, Order>();

  create(ownerId: string, items: readonly OrderItemDto[]): Order {
    const lines = items.map(({ sku, quantity }) => {
      const product = CATALOG.get(sku);
      if (!product) throw new BadRequestException(`unknown sku: ${sku}`);
      return { sku, quantity, unitPrice: product.unitPrice };
    });
    const order: Order = {
      id: randomUUID(),
      ownerId,
      status: 'PENDING',
      items: lines,
      total: lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0),
      currency: CURRENCY,
      createdAt: new Date().toISOString(),
    };
    this.orders.set(order.id, order);
    return order;
  }

  find(id: string): Order | undefined {
    return this.orders.get(id);
  }

  get(id: string): Order {
    const order = this.orders.get(id);
    if (!order) throw new NotFoundException('order not found');
    return order;
  }

  listByOwner(ownerId: string): Order[] {
    return [...this.orders.values()].filter((order) => order.ownerId === ownerId);
  }

  listAll(): Order[] {
    return [...this.orders.values()];
  }

  delete(id: string): void {
    if (!this.orders.delete(id)) throw new NotFoundException('order not found');
  }

  /** Idempotent: a second confirmation of the same payment changes nothing. */
  markPaid(id: string, paymentId: string): Order {
    const order = this.get(id);
    if (order.status === 'PAID' && order.paymentId !== paymentId) {
      throw new BadRequestException('order already paid by another payment');
    }
    const paid: Order = { ...order, status: 'PAID', paymentId };
    this.orders.set(id, paid);
    return paid;
  }
}
