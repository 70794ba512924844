package offramp

import "github.com/pocketramp/pocketramp/internal/ramp"

// Status is an off-ramp's status; its values are the contract's strings (REFERENCE §5).
type Status string

// Statuses of an off-ramp.
const (
	StatusPending        Status = "pending"
	StatusCryptoReceived Status = "crypto_received"
	StatusProcessing     Status = "processing"
	StatusFinished       Status = "finished"
	StatusExpired        Status = "expired"
	StatusFailed         Status = "failed"
)

// machine is the off-ramp state machine. An expired operation that still receives a deposit
// goes to crypto_received, held; a finished one fails when the bank returns the payout.
var machine = ramp.NewMachine(
	[]Status{StatusPending, StatusCryptoReceived, StatusProcessing, StatusFinished, StatusExpired, StatusFailed},
	map[Status][]Status{
		StatusPending:        {StatusCryptoReceived, StatusExpired},
		StatusExpired:        {StatusCryptoReceived},
		StatusCryptoReceived: {StatusProcessing, StatusFailed},
		StatusProcessing:     {StatusFinished, StatusFailed},
		StatusFinished:       {StatusFailed},
	})

// openStatuses are those of an off-ramp still waiting for its deposit: it expires from them,
// and holds its share of the limits until it expires.
var openStatuses = []Status{StatusPending}

// heldStatuses are those of an off-ramp whose tokens arrived (paid out or being paid out): it
// holds its share of the limits.
var heldStatuses = []Status{StatusCryptoReceived, StatusProcessing, StatusFinished}

// Statuses returns every status in the contract's order.
func Statuses() []Status { return machine.All() }

// Transitions returns the state machine as strings (a copy), for the operator API.
func Transitions() map[string][]string { return machine.Table() }

// Valid reports whether s is an off-ramp status.
func (s Status) Valid() bool { return machine.Valid(s) }

// CanMoveTo reports whether an off-ramp may move from s to next.
func (s Status) CanMoveTo(next Status) bool { return machine.CanMove(s, next) }
