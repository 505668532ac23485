import { userScopePolicy } from './scope-policy';

describe(userScopePolicy.name, () => {
  it('grants admin:read to admins only', () => {
    expect(userScopePolicy(['orders:read', 'admin:read'], ['user', 'admin'])).toEqual({
      granted: ['orders:read', 'admin:read'],
      rejected: [],
    });
    expect(userScopePolicy(['orders:read', 'admin:read'], ['user'])).toEqual({
      granted: ['orders:read'],
      rejected: ['admin:read'],
    });
  });
});
