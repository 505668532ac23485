import { sidecarConfig } from './mesh-sidecars';
import type { SidecarPorts } from './mesh-sidecars';

const ports: SidecarPorts = {
  inbound: { order: 7001, payment: 7002 },
  outbound: { gateway: { order: 7101 }, order: { payment: 7102 }, payment: { order: 7103 } },
};

describe(sidecarConfig.name, () => {
  const config = (service: 'gateway' | 'order') =>
    sidecarConfig({ service, appPort: 5000, ports, pemFile: '/pki/x.pem', caFile: '/pki/ca.crt' });

  it("takes mutual TLS 1.3 in, verified against the CA, to its app's plaintext port", () => {
    expect(config('order')).toContain(
      'bind 127.0.0.1:7001 ssl crt /pki/x.pem ca-file /pki/ca.crt verify required ssl-min-ver TLSv1.3\n' +
        '  default_backend app\n' +
        'backend app\n' +
        '  server app 127.0.0.1:5000',
    );
  });

  it("sends its app's calls to the callee's sidecar, checking the callee's certificate name", () => {
    expect(config('order')).toContain(
      'frontend to_payment\n  bind 127.0.0.1:7102\n  default_backend payment\nbackend payment\n' +
        '  server payment 127.0.0.1:7002 ssl crt /pki/x.pem ca-file /pki/ca.crt verify required ssl-min-ver TLSv1.3 sni str(payment) verifyhost payment',
    );
  });

  it('runs one thread in TCP mode, and takes nothing in for a service nobody calls', () => {
    expect(config('gateway')).toMatch(/nbthread 1\n[\s\S]*mode tcp/);
    expect(config('gateway')).not.toContain('frontend inbound');
  });
});
