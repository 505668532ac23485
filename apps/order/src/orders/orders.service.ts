import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { ORDER_LIMITS } from '@acme/contracts';
import type { ListOrdersDto, Order, OrderItemDto, OrderPage } from '@acme/contracts';
import { DATABASE } from '@acme/persistence';
import type { OpenDatabase } from '@acme/persistence';
import { and, desc, eq, getTableColumns, or, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import { CATALOG, CURRENCY } from './catalog';
import { decodeCursor, encodeCursor } from './order-cursor';
import { orders } from './orders.table';

type OrderRow = typeof orders.$inferSelect;

/** Orders and their lifecycle, in this service's own database. */
@Injectable()
export class OrdersService {
  constructor(@Inject(DATABASE) private readonly database: OpenDatabase) {}

  async create(ownerId: string, items: readonly OrderItemDto[]): Promise<Order> {
    // Bounded like every other field of an order, so that a page of orders is bounded too.
    if (ownerId.length > ORDER_LIMITS.maxOwnerIdLength) {
      throw new BadRequestException(
        `the token's subject is longer than ${ORDER_LIMITS.maxOwnerIdLength} characters`,
      );
    }
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

  listByOwner(ownerId: string, page: ListOrdersDto): Promise<OrderPage> {
    return this.page(eq(orders.ownerId, ownerId), page);
  }

  listAll(page: ListOrdersDto): Promise<OrderPage> {
    return this.page(undefined, page);
  }

  /**
   * A page of orders, the newest first, by keyset: the rows after the cursor's
   * (created_at, id) in the order of the indexes orders_owner_page and
   * orders_page, so a deep page costs what the first one does.
   */
  private async page(
    filter: SQL | undefined,
    { limit = ORDER_LIMITS.defaultPageSize, cursor }: ListOrdersDto,
  ): Promise<OrderPage> {
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && !after) {
      throw new BadRequestException('cursor must be the nextCursor of a previous page');
    }
    const rows = await this.database.db
      .select({
        ...getTableColumns(orders),
        position: sql<string>`to_char(${orders.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
      })
      .from(orders)
      .where(
        and(
          filter,
          after &&
            sql`(${orders.createdAt}, ${orders.id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`,
        ),
      )
      .orderBy(desc(orders.createdAt), desc(orders.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(toOrder),
      nextCursor:
        rows.length > limit && last
          ? encodeCursor({ createdAt: last.position, id: last.id })
          : null,
    };
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
