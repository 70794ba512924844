package offramp

import (
	"slices"
	"testing"
)

// TestStatusTransitions pins the off-ramp state machine: every allowed move, and every other
// pair of statuses refused.
func TestStatusTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusPending, StatusCryptoReceived}: true, {StatusPending, StatusExpired}: true,
		{StatusExpired, StatusCryptoReceived}:    true, // a late deposit, held
		{StatusCryptoReceived, StatusProcessing}: true, {StatusCryptoReceived, StatusFailed}: true,
		{StatusProcessing, StatusFinished}: true, {StatusProcessing, StatusFailed}: true,
		{StatusFinished, StatusFailed}: true, // the bank returned the payout
	}
	all := Statuses()
	want := []Status{"pending", "crypto_received", "processing", "finished", "expired", "failed"}
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
	if next := Transitions()[string(StatusFailed)]; len(next) != 0 {
		t.Errorf("failed is final, moves to %v", next)
	}
	if Status("done").Valid() || StatusPending.CanMoveTo("done") {
		t.Error("an unknown status is accepted")
	}
	table := Transitions()
	table["failed"] = []string{"pending"}
	if StatusFailed.CanMoveTo(StatusPending) {
		t.Error("the transition table changed through its copy")
	}
}
