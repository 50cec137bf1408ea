/** The models match the migrated tables: every attribute is a column, and every column is an attribute. */
import { QueryTypes } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../../test/helpers.js';
import { getModels } from './index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('models', () => {
  it('cover exactly the columns of their tables', async () => {
    const models = getModels(db.sequelize);
    for (const model of Object.values(models)) {
      const table = model.getTableName() as string;
      const columns = await db.sequelize.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
        { bind: [table], type: QueryTypes.SELECT },
      );
      const fields = (Object.values(model.getAttributes()) as Array<{ field?: string }>).map((a) => a.field);
      expect(fields.sort(), table).toEqual(columns.map((c) => c.column_name).sort());
    }
  });

  it('are defined once per connection', () => {
    expect(getModels(db.sequelize)).toBe(getModels(db.sequelize));
  });
});
