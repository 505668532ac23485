/** The products this service sells, with unit prices in cents. Clients send SKUs, never prices. */
export const CATALOG: ReadonlyMap<string, { name: string; unitPrice: number }> = new Map([
  ['book-1', { name: 'Designing Secure Systems', unitPrice: 2999 }],
  ['book-2', { name: 'Zero Trust Networks', unitPrice: 3499 }],
  ['mug-1', { name: 'Mutual TLS mug', unitPrice: 1250 }],
  ['sticker-1', { name: 'Deny-by-default sticker', unitPrice: 199 }],
]);

export const CURRENCY = 'EUR';
