import { BlockList, isIP } from 'node:net';

/**
 * Makes a check of client addresses against IPv4 and IPv6 addresses and CIDR ranges. An empty
 * list allows every address. IPv4 clients seen by a dual-stack server as `::ffff:a.b.c.d` match
 * IPv4 ranges. A `remoteAddress` that is not an IP address never matches a non-empty list.
 *
 * @example
 * const allowed = ipAllowlist(['10.0.0.0/8', '2001:db8::/32', '127.0.0.1']);
 * allowed('10.1.2.3'); // true
 */
export function ipAllowlist(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => true;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`not an IP address or CIDR range: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const bare = stripZone(address);
    const family = isIP(bare);
    if (family === 0) return false;
    if (family === 6) {
      // BlockList matches IPv4 rules against IPv4-mapped IPv6 addresses only in some Node
      // versions; unmap explicitly so behaviour does not depend on that.
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
      if (mapped?.[1] !== undefined) return list.check(mapped[1], 'ipv4') || list.check(bare, 'ipv6');
    }
    return list.check(bare, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** `fe80::1%eth0` → `fe80::1`: the zone is local to the host and not part of a range. */
function stripZone(address: string): string {
  const i = address.indexOf('%');
  return i === -1 ? address : address.slice(0, i);
}
