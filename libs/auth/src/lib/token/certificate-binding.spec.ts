import { checkCertificateBinding } from './certificate-binding';
import { InvalidTokenError } from './invalid-token.error';

const MINE = 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg';
const OTHER = 'DmfGZmQYpgcZ3XAkRzU4BOnvSiVGvNXiCbHQdAFw9nI';

function refusal(run: () => void): InvalidTokenError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe(checkCertificateBinding.name, () => {
  const bound = { sub: 'alice', cnf: { 'x5t#S256': MINE } };
  const unbound = { sub: 'alice' };

  it("accepts a bound token over a connection with that certificate's thumbprint", () => {
    expect(() => checkCertificateBinding(bound, MINE, true)).not.toThrow();
  });

  it('refuses a bound token over a connection with another certificate', () => {
    const error = refusal(() => checkCertificateBinding(bound, OTHER, false));
    expect(error.check).toBe('certificate_binding');
    expect(error.message).toBe("the token is bound to another certificate than this connection's");
  });

  it('refuses a bound token where no certificate can be seen (HTTP, behind a mesh)', () => {
    const error = refusal(() => checkCertificateBinding(bound, undefined, false));
    expect(error.message).toBe(
      'the token is bound to a certificate and this connection presents none',
    );
  });

  it('refuses an unbound token when binding is required, and accepts it when not', () => {
    expect(refusal(() => checkCertificateBinding(unbound, MINE, true)).check).toBe(
      'certificate_binding',
    );
    expect(() => checkCertificateBinding(unbound, MINE, false)).not.toThrow();
    expect(() => checkCertificateBinding(unbound, undefined, false)).not.toThrow();
  });

  it.each([[{ 'x5t#S256': 42 }], [{ 'x5t#S256': '' }]])('refuses a malformed binding %j', (cnf) => {
    expect(refusal(() => checkCertificateBinding({ cnf }, MINE, false)).message).toBe(
      'cnf x5t#S256 is malformed',
    );
  });

  it('refuses a confirmation method it cannot check, rather than take the token as bearer', () => {
    expect(
      refusal(() => checkCertificateBinding({ cnf: { jkt: 'abc' } }, MINE, false)).message,
    ).toBe('unsupported confirmation method cnf jkt');
  });
});
