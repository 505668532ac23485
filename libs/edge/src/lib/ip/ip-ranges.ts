import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * One address, strictly: four-part decimal IPv4 or IPv6. An IPv4-mapped IPv6
 * address (`::ffff:10.0.0.1`, what a dual-stack socket reports) is the IPv4
 * address it carries, so one rule covers both spellings.
 *
 * @example
 * parseAddress('::ffff:10.0.0.1')?.toString(); // '10.0.0.1'
 */
export function parseAddress(text: string): Address | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!ipaddr.IPv6.isValid(text)) return undefined;
  const address = ipaddr.IPv6.parse(text);
  return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

function parseRange(text: string): [Address, number] {
  const [host = '', bits, ...rest] = text.split('/');
  const address = parseAddress(host);
  const max = address?.kind() === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  // Ranges are written in the family they match: an IPv4 range as IPv4.
  const mapped = address?.kind() === 'ipv4' && host.includes(':');
  if (!address || mapped || rest.length > 0 || !/^\d{1,3}$/.test(bits ?? '0') || prefix > max) {
    throw new Error(`"${text}" is not an IPv4 or IPv6 address or CIDR range`);
  }
  return [address, prefix];
}

/**
 * Whether `text` is an address or CIDR range that {@link IpRanges.parse} accepts.
 *
 * @example
 * ranges.filter((range) => !isIpRange(range)); // the bad entries of a config list
 */
export function isIpRange(text: string): boolean {
  try {
    parseRange(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A set of IPv4 and IPv6 CIDR ranges; a bare address is a range of one.
 *
 * @example
 * const admins = IpRanges.parse(['10.0.0.0/8', '2001:db8::/32']);
 * admins.contains(request.ip); // false for anything unparsable
 */
export class IpRanges {
  private constructor(private readonly ranges: readonly [Address, number][]) {}

  /** Throws, naming the entry, on anything that is not an address or CIDR range. */
  static parse(ranges: readonly string[]): IpRanges {
    return new IpRanges(ranges.map(parseRange));
  }

  get size(): number {
    return this.ranges.length;
  }

  contains(address: string | undefined): boolean {
    const parsed = address === undefined ? undefined : parseAddress(address);
    if (!parsed) return false;
    return this.ranges.some(
      ([network, bits]) => network.kind() === parsed.kind() && parsed.match(network, bits),
    );
  }
}

/**
 * The rate-limit identity of an anonymous client: its IPv4 address, or the /64
 * of its IPv6 address, since one IPv6 host usually holds a whole /64.
 */
export function clientAddressKey(address: string | undefined): string {
  const parsed = address === undefined ? undefined : parseAddress(address);
  if (!parsed) return 'unknown';
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${(parsed as ipaddr.IPv6).parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}
