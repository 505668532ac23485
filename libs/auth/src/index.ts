export { AuthModule } from './lib/auth.module';
export type { AuthModuleAsyncOptions } from './lib/auth.module';
export { ASYMMETRIC_ALGORITHMS, AUTH_OPTIONS, DEFAULT_AUTH_OPTIONS } from './lib/auth.options';
export type { AsymmetricAlgorithm, AuthOptions, DpopOptions } from './lib/auth.options';
export { AUTH_PROVIDERS, PROVIDER_PROFILES } from './lib/provider-profiles';
export type { AuthProvider, ProviderProfile } from './lib/provider-profiles';
export {
  bearerChallenge,
  BEARER_ERRORS,
  challengeHeaders,
  InsufficientScopeException,
  InvalidTokenException,
} from './lib/auth.errors';
export type { InsufficientScopeReason } from './lib/auth.errors';
export { countDenial, denialLabels } from './lib/metrics/auth.metrics';
export type { CircuitState, DenialReason } from './lib/metrics/auth.metrics';
export type { Principal } from './lib/principal';
export { AllowServices, Policy, Public, Roles, Scopes } from './lib/decorators/auth.decorators';
export { CurrentUser } from './lib/decorators/current-user.decorator';
export { isPublicRoute } from './lib/decorators/auth-metadata';
export {
  allOf,
  anyOf,
  calledVia,
  fromNetwork,
  hasRole,
  hasScope,
  isOwner,
  isService,
} from './lib/policy/policy';
export type { PolicyContext, PolicyRule, ResourceOwnerLoader } from './lib/policy/policy';
export { AuthorizedResource } from './lib/policy/authorized-resource';
export { incomingCall } from './lib/context/incoming-call';
export type {
  IncomingCall,
  IncomingHttpCall,
  IncomingRpcCall,
  UnsupportedCall,
} from './lib/context/incoming-call';
export { getPrincipal } from './lib/context/principal.context';
export { getClientNetworks, setClientNetworks } from './lib/context/client-networks.context';
export { REQUEST_ID_HEADER, runRoutesInCallContext } from './lib/context/call-context';
// The call context the ServiceClient forwards: set by the transports and, for HTTP, runRoutesInCallContext.
export { currentCallMeta, withoutCallContext } from '@acme/transport';
export { AccessTokenVerifier } from './lib/token/access-token.verifier';
export { InvalidTokenError } from './lib/token/invalid-token.error';
export type { InvalidTokenCheck } from './lib/token/invalid-token.error';
export { JwksCache } from './lib/token/jwks.cache';
export { ServiceTokenProvider } from './lib/token/service-token.provider';
export { TokenExchanger } from './lib/token/token-exchanger';
export { TokenRequestError } from './lib/token/token-endpoint';
export type { ClientAuthentication } from './lib/token/token-endpoint';
export type { ServiceCredentials } from './lib/token/service-token.provider';
export { DEFAULT_RESILIENCE, ServiceClient } from './lib/clients/service-client';
export type {
  CalleeAuthorization,
  ResilienceOptions,
  SendOptions,
} from './lib/clients/service-client';
export { CircuitBreaker } from './lib/clients/circuit-breaker';
export type { CircuitBreakerOptions } from './lib/clients/circuit-breaker';
export { InjectServiceClient, ServiceClientsModule } from './lib/clients/service-clients.module';
export type { ServiceClientsOptions } from './lib/clients/service-clients.module';
export {
  auditFinding,
  collectAuthRules,
  declaredAuthRule,
  renderAuthRules,
} from './lib/audit/auth-rules';
export type { AuthRuleEntry, DeclaredAuthRule } from './lib/audit/auth-rules';
export {
  AUDIT_EVENTS,
  AUDIT_LOG_KEY,
  auditSubject,
  httpAuditSubject,
  principalName,
  traceIdOf,
  writeAuditEvent,
} from './lib/audit/audit-event';
export type {
  AuditedHttpRequest,
  AuditEvent,
  AuditEventName,
  AuditSubject,
} from './lib/audit/audit-event';
export { DpopNonces } from './lib/token/dpop-nonce';
export { HttpSenderConstraint } from './lib/http/http-sender-constraint';
export {
  DpopProofVerifier,
  MemoryReplayCache,
  RedisReplayCache,
} from './lib/token/dpop-proof.verifier';
export type { RedisSetNx, ReplayCache } from './lib/token/dpop-proof.verifier';
