import { auditFinding, collectAuthRules } from '@acme/auth';
import { HEALTH_ROUTES } from '@acme/bootstrap';
import { AppModule } from './app.module';

describe('gateway route audit', () => {
  // As createHttpApp serves them: under /api, except the health routes.
  const rules = collectAuthRules(AppModule, {
    globalPrefix: 'api',
    excludeFromPrefix: Object.values(HEALTH_ROUTES),
  });

  it('finds the handlers of every controller', () => {
    expect(rules.length).toBeGreaterThan(0);
  });

  it('declares an auth rule on every route', () => {
    expect(rules.map(auditFinding).filter(Boolean)).toEqual([]);
  });

  it('serves without a token exactly these routes', () => {
    expect(rules.filter((rule) => rule.public).map((rule) => rule.route)).toEqual([
      // Where to get a token: a client cannot have one yet.
      'GET /api/public/info',
      // Probes of the platform, which holds no token; they tell nothing about the data.
      'GET /healthz',
      // Every dependency's state, with error messages: from the admin IP list only (IpAllow).
      'GET /healthz/dependencies',
      'GET /readyz',
    ]);
  });
});
