package onramp

import (
	"maps"
	"slices"
	"testing"
)

// TestStatusTransitions pins the payment state machine: every allowed move, and every other
// pair of statuses refused.
func TestStatusTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusStarted, StatusPendingBank}: true, {StatusStarted, StatusPaymentReceived}: true,
		{StatusStarted, StatusExpired}: true, {StatusStarted, StatusFailed}: true,
		{StatusPendingBank, StatusPaymentReceived}: true, {StatusPendingBank, StatusExpired}: true,
		{StatusPendingBank, StatusFailed}:        true,
		{StatusExpired, StatusPaymentReceived}:   true, // a late transfer, through reconciliation
		{StatusPaymentReceived, StatusCoinsSent}: true, {StatusPaymentReceived, StatusFailed}: true,
		{StatusPaymentReceived, StatusRefunded}: true,
		{StatusFailed, StatusRefunded}:          true,
	}
	all := Statuses()
	want := []Status{"started", "pending_bank", "payment_received", "coins_sent", "expired", "failed", "refunded"}
	if !slices.Equal(all, want) {
		t.Fatalf("statuses %v, want the contract's %v", all, want)
	}
	for _, from := range all {
		for _, to := range all {
			if got := from.CanMoveTo(to); got != allowed[[2]Status{from, to}] {
				t.Errorf("%s → %s: %v", from, to, got)
			}
		}
	}
	for _, final := range []Status{StatusCoinsSent, StatusRefunded} {
		if next := Transitions()[string(final)]; len(next) != 0 {
			t.Errorf("%s is final, moves to %v", final, next)
		}
	}
	if Status("paid").Valid() || Status("paid").CanMoveTo(StatusFailed) || StatusStarted.CanMoveTo("paid") {
		t.Error("an unknown status is accepted")
	}
	// Transitions hands out a copy: changing it changes nothing.
	table := Transitions()
	table["coins_sent"] = []string{"started"}
	clear(table["started"])
	if StatusCoinsSent.CanMoveTo(StatusStarted) || !StatusStarted.CanMoveTo(StatusPendingBank) {
		t.Error("the transition table changed through its copy")
	}
	if n := len(slices.Collect(maps.Keys(Transitions()))); n != 5 {
		t.Errorf("%d statuses with moves, want 5", n)
	}
}

func TestOpenStatuses(t *testing.T) {
	for _, s := range Statuses() {
		if got, want := s.Open(), s == StatusStarted || s == StatusPendingBank; got != want {
			t.Errorf("%s open: %v", s, got)
		}
	}
}
