package onramp

import (
	"context"
	"fmt"
	"time"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/ramp"
)

// book is where the on-ramp's limits are counted: payments received or being paid out, and
// intents that have not expired yet (a transfer may still arrive for them).
var book = ramp.Book{Table: "payments", Held: ramp.Names(heldStatuses...), Open: ramp.Names(openStatuses...)}

// levelLimits is the KYC-level limit over a rolling 30 days.
func levelLimits(st Settings, level string, now time.Time) []ramp.Limit {
	return ramp.LevelLimits{Basic: st.eur(st.BasicLimitEUR), Reinforced: st.eur(st.ReinforcedLimitEUR)}.For(level, now, "purchase")
}

// cardLimits is the card limit per calendar quarter, for card payments.
func cardLimits(st Settings, m Method, now time.Time) []ramp.Limit {
	if m.Kind != KindCard {
		return nil
	}
	y, mo, _ := now.UTC().Date()
	quarter := time.Date(y, time.Month((int(mo)-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	return []ramp.Limit{{Max: st.eur(st.CardQuarterLimitEUR), Since: quarter, Where: "payment_type = ?", Args: []any{m.Code},
		Err: ramp.ErrLimit.With(fmt.Sprintf("Card purchases are limited to %s EUR per calendar quarter.", st.CardQuarterLimitEUR), nil)}}
}

// limitsFor is every limit a payment by method m reserves against, for the customer's level.
func limitsFor(st Settings, m Method, now time.Time) func(level string) []ramp.Limit {
	return func(level string) []ramp.Limit { return append(levelLimits(st, level, now), cardLimits(st, m, now)...) }
}

// checkLimits checks, in the contract's order, the KYC-level limit, the method's maximum and
// the card quarter limit, reading the usage with q. Inside the transaction that writes the
// payment, after the customer's lock, this reserves the limits; outside, it is advisory and
// that transaction reserves them (book.Reserve).
func (s *Service) checkLimits(ctx context.Context, q ramp.Querier, c customer.Customer, st Settings, m Method, amount, eur money.Amount) error {
	now := s.Now()
	if err := book.Check(ctx, q, c.ID, now, eur, levelLimits(st, c.KYCLevel, now)); err != nil {
		return err
	}
	if err := checkMethodMax(m, amount); err != nil {
		return err
	}
	return book.Check(ctx, q, c.ID, now, eur, cardLimits(st, m, now))
}

// checkMethodMax checks the method's maximum per payment.
func checkMethodMax(m Method, amount money.Amount) error {
	if max := money.MustParse(m.Max, m.scale()); amount.Scale() == max.Scale() && amount.Cmp(max) > 0 {
		return ramp.ErrLimit.With(fmt.Sprintf("A %s payment is at most %s %s.", m.Name, max, m.Fiat), nil)
	}
	return nil
}
