package document

import "net/netip"

// Ranges a fetch must never reach. IPv4 is a blocklist over the whole space; IPv6 is an
// allowlist (global unicast 2000::/3, plus NAT64 with a public embedded IPv4) minus the
// blocked parts of 2000::/3, because IPv6 has too many special forms to enumerate safely.
var (
	blockedV4 = prefixes(
		"0.0.0.0/8",       // "this network", incl. 0.0.0.0 which Linux treats as localhost
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, incl. cloud metadata 169.254.169.254
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments (incl. 192.0.0.192 Oracle metadata)
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // deprecated 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, incl. broadcast 255.255.255.255
	)
	globalV6  = netip.MustParsePrefix("2000::/3")
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64: last 32 bits are IPv4
	blockedV6 = prefixes(
		"2001::/23",     // IETF protocol assignments: Teredo (embeds IPv4), benchmarking, ORCHID
		"2001:db8::/32", // documentation
		"2002::/16",     // 6to4 embeds an IPv4 address the tunnel would reach; deprecated (RFC 7526)
		"3fff::/20",     // documentation (RFC 9637)
	)
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// isPublic reports whether addr is a globally routable unicast address a fetch may connect to.
// It covers IPv4-mapped IPv6 (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) by judging the
// embedded IPv4 address.
func isPublic(addr netip.Addr) bool {
	if !addr.IsValid() || addr.Zone() != "" {
		// A zone only makes sense for link-local scopes.
		return false
	}
	addr = addr.Unmap()
	if addr.Is4() {
		for _, p := range blockedV4 {
			if p.Contains(addr) {
				return false
			}
		}
		return true
	}
	if nat64.Contains(addr) {
		b := addr.As16()
		return isPublic(netip.AddrFrom4([4]byte(b[12:])))
	}
	// Outside 2000::/3 are ::, ::1, IPv4-compatible ::/96, fc00::/7, fe80::/10, fec0::/10,
	// ff00::/8, discard 100::/64, local-use NAT64 64:ff9b:1::/48 and the rest of the reserve.
	if !globalV6.Contains(addr) {
		return false
	}
	for _, p := range blockedV6 {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}
