/**
 * The bounds of an order and of a page of orders. Together they bound every
 * list reply by construction: a page holds at most `maxPageSize` orders of at
 * most `maxItems` lines each, whatever a caller has stored.
 */
export const ORDER_LIMITS = {
  /** Lines of one order. */
  maxItems: 50,
  /** Units of one line. */
  maxQuantity: 100,
  /** Characters of a catalog SKU (OrderItemDto's pattern). */
  maxSkuLength: 64,
  /** Characters of an owner's id, the token's `sub` (OpenID Connect Core caps it at 255). */
  maxOwnerIdLength: 255,
  /** Orders in a page when the caller does not ask for a size. */
  defaultPageSize: 20,
  /** The most orders one page holds. */
  maxPageSize: 50,
} as const;
