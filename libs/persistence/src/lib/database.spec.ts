import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from './database';
import type { DatabaseOptions, OpenDatabase } from './database';
import { migrate } from './migrations';

const MIGRATIONS = [
  { id: '0001_notes', sql: 'CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);' },
  {
    id: '0002_notes_author',
    sql: "ALTER TABLE notes ADD COLUMN author text NOT NULL DEFAULT 'nobody';",
  },
];

const POSTGRES_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe.each<[string, () => DatabaseOptions]>([
  [
    'embedded PGlite',
    () => ({ dataDir: mkdtempSync(join(tmpdir(), 'pglite-')), schema: 'notes_test' }),
  ],
  [
    'PostgreSQL',
    () => ({ url: POSTGRES_URL, dataDir: '', schema: `notes_${process.pid}_${Date.now()}` }),
  ],
])('openDatabase with %s', (_engine, options) => {
  let settings: DatabaseOptions;
  let database: OpenDatabase;

  beforeAll(async () => {
    settings = options();
    database = await openDatabase(settings);
  });

  afterAll(async () => {
    if (settings.url) await database.exec(`DROP SCHEMA "${settings.schema}" CASCADE`);
    await database.close();
    if (!settings.url) rmSync(settings.dataDir, { recursive: true, force: true });
  });

  it('applies each migration once, in order, inside its own schema', async () => {
    expect(await migrate(database, MIGRATIONS)).toEqual(['0001_notes', '0002_notes_author']);
    expect(await migrate(database, MIGRATIONS)).toEqual([]);
    await database.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [1, 'hello']);
    const [row] = await database.query<{ schema: string; author: string }>(
      'SELECT current_schema() AS schema, author FROM notes WHERE id = 1',
    );
    expect(row).toEqual({ schema: settings.schema, author: 'nobody' });
  });

  it('rolls a failed transaction back whole', async () => {
    await expect(
      database.transaction(async (tx) => {
        await tx.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [2, 'lost']);
        await tx.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [1, 'duplicate key']);
      }),
    ).rejects.toThrow();
    expect(await database.query('SELECT id FROM notes WHERE id = 2')).toEqual([]);
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(openDatabase({ ...settings, schema: 'x"; DROP TABLE notes; --' })).rejects.toThrow(
      /invalid schema/,
    );
  });
});

describe('openDatabase as a role that owns its schema but may not create one (PostgreSQL)', () => {
  const role = `owner_${process.pid}_${Date.now()}`;
  let admin: OpenDatabase;

  beforeAll(async () => {
    admin = await openDatabase({ url: POSTGRES_URL, dataDir: '', schema: 'public' });
    // No CREATE on the database: PUBLIC does not have it by default.
    await admin.exec(
      `CREATE ROLE "${role}" LOGIN; CREATE SCHEMA "${role}" AUTHORIZATION "${role}";`,
    );
  });

  afterAll(async () => {
    await admin.exec(`DROP SCHEMA "${role}" CASCADE; DROP ROLE "${role}";`);
    await admin.close();
  });

  it('opens and migrates it without trying to create it', async () => {
    const url = new URL(POSTGRES_URL);
    url.username = role;
    const database = await openDatabase({ url: url.toString(), dataDir: '', schema: role });
    try {
      expect(await migrate(database, MIGRATIONS)).toEqual(['0001_notes', '0002_notes_author']);
    } finally {
      await database.close();
    }
  });
});

describe('migrate under concurrency (PostgreSQL)', () => {
  it('applies a migration once when two replicas start together', async () => {
    const schema = `race_${process.pid}_${Date.now()}`;
    const [a, b] = await Promise.all([
      openDatabase({ url: POSTGRES_URL, dataDir: '', schema }),
      openDatabase({ url: POSTGRES_URL, dataDir: '', schema }),
    ]);
    try {
      const [first, second] = await Promise.all([migrate(a, MIGRATIONS), migrate(b, MIGRATIONS)]);
      expect([...first, ...second].sort()).toEqual(['0001_notes', '0002_notes_author']);
    } finally {
      await a.exec(`DROP SCHEMA "${schema}" CASCADE`);
      await Promise.all([a.close(), b.close()]);
    }
  });
});
