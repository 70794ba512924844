package document

import (
	"context"
	"errors"
	"net"
	"net/netip"
)

// IsPublic reports whether addr is a globally routable unicast address: the policy document
// fetches follow, exported so other outgoing requests (webhooks) apply the same one.
func IsPublic(addr netip.Addr) bool { return isPublic(addr) }

// IsBlocked reports whether err comes from a dial the address policy refused.
func IsBlocked(err error) bool {
	var blk *blockedError
	return errors.As(err, &blk)
}

// GuardedDialer returns a DialContext for an http.Transport that resolves the host itself and
// connects only to addresses allow accepts (nil: IsPublic). Every resolved address is checked,
// one refused address refuses the host, and the socket's exact address is checked again just
// before it connects, so a DNS server answering differently on a second lookup (rebinding)
// cannot steer the connection anywhere else. resolver nil uses net.DefaultResolver.
func GuardedDialer(resolver Resolver, allow func(netip.Addr) bool) func(ctx context.Context, network, address string) (net.Conn, error) {
	if allow == nil {
		allow = isPublic
	}
	l := &Loader{Resolver: resolver, dialCheck: func(ap netip.AddrPort) error {
		if !allow(ap.Addr()) {
			return &blockedError{ap}
		}
		return nil
	}}
	return l.dial
}
