import { auditFinding, collectAuthRules } from '@acme/auth';
import { HEALTH_PATTERN } from '@acme/contracts';
import { AppModule } from './app.module';

describe('payment route audit', () => {
  const rules = collectAuthRules(AppModule);

  it('finds the handlers of every controller', () => {
    expect(rules.length).toBeGreaterThan(0);
  });

  it('declares an auth rule on every message handler', () => {
    expect(rules.map(auditFinding).filter(Boolean)).toEqual([]);
  });

  it('answers without a token exactly these messages', () => {
    expect(rules.filter((rule) => rule.public).map((rule) => rule.route)).toEqual([
      // The container's health check and its callers' pings, which carry no user token.
      HEALTH_PATTERN,
    ]);
  });
});
