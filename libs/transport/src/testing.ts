export {
  createCertificateAuthority,
  issueServiceCertificate,
  writeDevPki,
} from './lib/testing/dev-pki';
export type { CertificateAuthority, IssuedCertificate } from './lib/testing/dev-pki';
export { freePort, isListening } from './lib/testing/ports';
export { closedWithin, expiringShortly, issueTlsMaterial } from './lib/testing/tls';
export { metricValue } from './lib/testing/metrics';
