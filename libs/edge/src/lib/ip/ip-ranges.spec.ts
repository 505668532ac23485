import { clientAddressKey, IpRanges, isIpRange, parseAddress } from './ip-ranges';

describe(IpRanges.name, () => {
  const ranges = IpRanges.parse(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1']);

  it.each(['10.1.2.3', '10.255.255.255', '192.0.2.7', '2001:db8::1', '2001:db8:ffff::42', '::1'])(
    'contains %s',
    (address) => {
      expect(ranges.contains(address)).toBe(true);
    },
  );

  it.each(['11.0.0.1', '192.0.2.8', '2001:db9::1', '::2', '127.0.0.1'])(
    'does not contain %s',
    (address) => {
      expect(ranges.contains(address)).toBe(false);
    },
  );

  it('matches an IPv4-mapped IPv6 address (a dual-stack socket) as the IPv4 address it carries', () => {
    expect(ranges.contains('::ffff:10.9.8.7')).toBe(true);
    expect(ranges.contains('::ffff:11.0.0.1')).toBe(false);
  });

  it('contains nothing unparsable, so a malformed address never passes an allow list', () => {
    for (const address of [
      undefined,
      '',
      'localhost',
      '10.1',
      '0x0a.0.0.1',
      '10.0.0.1, 10.0.0.2',
      '2001:db8::1/64',
    ]) {
      expect(ranges.contains(address)).toBe(false);
    }
  });

  it('refuses a bad entry, naming it', () => {
    for (const bad of [
      '10.0.0.0/33',
      '2001:db8::/129',
      'not-an-ip',
      '10.0.0.0/8/8',
      '10.0.0.0/x',
      '::ffff:10.0.0.0/104',
    ]) {
      expect(() => IpRanges.parse(['10.0.0.0/8', bad])).toThrow(`"${bad}"`);
      expect(isIpRange(bad)).toBe(false);
    }
  });

  it('is empty when given nothing', () => {
    expect(IpRanges.parse([]).size).toBe(0);
    expect(IpRanges.parse([]).contains('10.0.0.1')).toBe(false);
  });
});

describe(parseAddress.name, () => {
  it('accepts only four-part decimal IPv4, which ipaddr.js alone would not insist on', () => {
    expect(parseAddress('10.0.0.1')?.toString()).toBe('10.0.0.1');
    expect(parseAddress('167772161')).toBeUndefined();
  });
});

describe(clientAddressKey.name, () => {
  it('keys IPv4 clients by address and IPv6 clients by their /64', () => {
    expect(clientAddressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientAddressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey('2001:db8:1:2:bbbb::9')).toBe('2001:db8:1:2::/64');
    expect(clientAddressKey(undefined)).toBe('unknown');
  });
});
