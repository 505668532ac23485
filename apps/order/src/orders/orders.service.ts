import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import type { Order, OrderItemDto } from '@acme/contracts';
import { DATABASE } from '@acme/persistence';
import type { OpenDatabase } from '@acme/persistence';
import { and, asc, eq, or } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { CATALOG, CURRENCY } from './catalog';
import { orders } from './orders.table';

type OrderRow = typeof orders.$inferSelect;

/** Orders and their lifecycle, in this service's own database. */
@Injectable()
export class OrdersService {
  constructor(@Inject(DATABASE) private readonly database: OpenDatabase) {}

  async create(ownerId: string, items: readonly OrderItemDto[]): Promise<Order> {
    const lines = items.map(({ sku, quantity }) => {
      const product = CATALOG.get(sku);
      if (!product) throw new BadRequestException(`unknown sku: ${sku}`);
      return { sku, quantity, unitPrice: product.unitPrice };
    });
    const [row] = await this.database.db
      .insert(orders)
      .values({
        id: randomUUID(),
        ownerId,
        status: 'PENDING',
        items: lines,
        total: lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0),
        currency: CURRENCY,
      })
      .returning();
    return toOrder(row);
  }

  async find(id: string): Promise<Order | undefined> {
    const [row] = await this.database.db.select().from(orders).where(eq(orders.id, id));
    return row ? toOrder(row) : undefined;
  }

  async get(id: string): Promise<Order> {
    const order = await this.find(id);
    if (!order) throw new NotFoundException('order not found');
    return order;
  }

  async listByOwner(ownerId: string): Promise<Order[]> {
    const rows = await this.database.db
      .select()
      .from(orders)
      .where(eq(orders.ownerId, ownerId))
      .orderBy(asc(orders.createdAt));
    return rows.map(toOrder);
  }

  async listAll(): Promise<Order[]> {
    return (await this.database.db.select().from(orders).orderBy(asc(orders.createdAt))).map(
      toOrder,
    );
  }

  async delete(id: string): Promise<void> {
    const deleted = await this.database.db
      .delete(orders)
      .where(eq(orders.id, id))
      .returning({ id: orders.id });
    if (deleted.length === 0) throw new NotFoundException('order not found');
  }

  /**
   * Records the payment of an order. Idempotent: confirming the same payment
   * again (the charge answer and payment's event both do) changes nothing.
   */
  async markPaid(id: string, paymentId: string): Promise<Order> {
    const [row] = await this.database.db
      .update(orders)
      .set({ status: 'PAID', paymentId })
      .where(
        and(eq(orders.id, id), or(eq(orders.status, 'PENDING'), eq(orders.paymentId, paymentId))),
      )
      .returning();
    if (row) return toOrder(row);
    const existing = await this.get(id);
    throw new ConflictException(`order already paid by payment ${existing.paymentId ?? ''}`);
  }
}

function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    ownerId: row.ownerId,
    status: row.status,
    items: row.items,
    total: row.total,
    currency: row.currency,
    ...(row.paymentId ? { paymentId: row.paymentId } : {}),
    createdAt: row.createdAt.toISOString(),
  };
}
