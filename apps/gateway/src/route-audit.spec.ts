import { auditFinding, collectAuthRules } from '@acme/auth';
import { AppModule } from './app.module';

describe('gateway route audit', () => {
  const rules = collectAuthRules(AppModule, { globalPrefix: 'api' });

  it('finds the handlers of every controller', () => {
    expect(rules.length).toBeGreaterThan(0);
  });

  it('declares an auth rule on every route', () => {
    expect(rules.map(auditFinding).filter(Boolean)).toEqual([]);
  });
});
