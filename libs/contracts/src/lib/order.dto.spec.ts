import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CreateOrderDto } from './order.dto';

describe(CreateOrderDto.name, () => {
  const errors = (body: unknown) =>
    validateSync(plainToInstance(CreateOrderDto, body), {
      whitelist: true,
      forbidNonWhitelisted: true,
    });

  it('accepts catalog items with sane quantities', () => {
    expect(errors({ items: [{ sku: 'book-1', quantity: 2 }] })).toEqual([]);
  });

  it.each([
    ['no items', { items: [] }],
    ['a quantity of 0', { items: [{ sku: 'book-1', quantity: 0 }] }],
    ['a quantity over 100', { items: [{ sku: 'book-1', quantity: 101 }] }],
    ['a fractional quantity', { items: [{ sku: 'book-1', quantity: 1.5 }] }],
    ['a sku that is not a catalog id', { items: [{ sku: '../etc/passwd', quantity: 1 }] }],
    ['a price from the client', { items: [{ sku: 'book-1', quantity: 1, unitPrice: 1 }] }],
    [
      'more than 50 lines',
      { items: Array.from({ length: 51 }, () => ({ sku: 'book-1', quantity: 1 })) },
    ],
  ])('refuses %s', (_case, body) => {
    expect(errors(body).length).toBeGreaterThan(0);
  });
});
