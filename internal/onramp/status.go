package onramp

import (
	"slices"

	"github.com/pocketramp/pocketramp/internal/ramp"
)

// Status is a payment's status; its values are the contract's strings (REFERENCE §4.5).
type Status string

// Statuses of a payment.
const (
	StatusStarted         Status = "started"
	StatusPendingBank     Status = "pending_bank"
	StatusPaymentReceived Status = "payment_received"
	StatusCoinsSent       Status = "coins_sent"
	StatusExpired         Status = "expired"
	StatusFailed          Status = "failed"
	StatusRefunded        Status = "refunded"
)

// machine is the payment state machine. Expired payments may still receive a late bank
// transfer through reconciliation (REFERENCE §6).
var machine = ramp.NewMachine(
	[]Status{StatusStarted, StatusPendingBank, StatusPaymentReceived, StatusCoinsSent, StatusExpired, StatusFailed, StatusRefunded},
	map[Status][]Status{
		StatusStarted:         {StatusPendingBank, StatusPaymentReceived, StatusExpired, StatusFailed},
		StatusPendingBank:     {StatusPaymentReceived, StatusExpired, StatusFailed},
		StatusExpired:         {StatusPaymentReceived},
		StatusPaymentReceived: {StatusCoinsSent, StatusFailed, StatusRefunded},
		StatusFailed:          {StatusRefunded},
	})

// openStatuses are those of a payment still waiting for its fiat: it expires, or fails, from
// them, and holds its share of the limits until it expires.
var openStatuses = []Status{StatusStarted, StatusPendingBank}

// heldStatuses are those of a payment whose fiat arrived: it holds its share of the limits.
var heldStatuses = []Status{StatusPaymentReceived, StatusCoinsSent}

// Statuses returns every status in the contract's order.
func Statuses() []Status { return machine.All() }

// Transitions returns the state machine as strings (a copy), for the operator API.
func Transitions() map[string][]string { return machine.Table() }

// Valid reports whether s is a payment status.
func (s Status) Valid() bool { return machine.Valid(s) }

// CanMoveTo reports whether a payment may move from s to next.
func (s Status) CanMoveTo(next Status) bool { return machine.CanMove(s, next) }

// Open reports whether a payment in s is still waiting for its fiat.
func (s Status) Open() bool { return slices.Contains(openStatuses, s) }
