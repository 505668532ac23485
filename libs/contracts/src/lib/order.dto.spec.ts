import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CreateOrderDto, ListOrdersDto } from './order.dto';

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

describe(ListOrdersDto.name, () => {
  const errors = (query: unknown) =>
    validateSync(plainToInstance(ListOrdersDto, query), {
      whitelist: true,
      forbidNonWhitelisted: true,
    }).flatMap((error) => Object.values(error.constraints ?? {}));

  it.each([{}, { limit: '1' }, { limit: '50' }, { limit: 50, cursor: 'MjAyNi0xMi0wM1Qw' }])(
    'accepts %j',
    (query) => {
      expect(errors(query)).toEqual([]);
    },
  );

  it.each([
    [{ limit: '51' }, 'limit must be at most 50, the maximum page size'],
    [{ limit: '0' }, 'limit must be at least 1'],
    [{ limit: 'ten' }, 'limit must be an integer'],
    [{ limit: '2.5' }, 'limit must be an integer'],
    [{ cursor: 'not a cursor!' }, 'cursor must be the nextCursor of a previous page'],
    [{ cursor: 'a'.repeat(129) }, 'cursor must be the nextCursor of a previous page'],
    [{ offset: '10' }, 'property offset should not exist'],
  ])('refuses %j, saying %s', (query, message) => {
    expect(errors(query)).toContain(message);
  });
});
