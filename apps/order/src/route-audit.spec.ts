import { auditFinding, collectAuthRules } from '@acme/auth';
import { AppModule } from './app.module';

describe('order route audit', () => {
  const rules = collectAuthRules(AppModule);

  it('finds the handlers of every controller', () => {
    expect(rules.length).toBeGreaterThan(0);
  });

  it('declares an auth rule on every message handler', () => {
    expect(rules.map(auditFinding).filter(Boolean)).toEqual([]);
  });
});
