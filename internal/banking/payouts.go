package banking

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
)

// PayoutRequest is a SEPA credit transfer to make from an operator account.
type PayoutRequest struct {
	Reference    string // unique business reference, e.g. "offramp:<id>"
	Amount       money.Amount
	CreditorName string
	CreditorIBAN string
	CreditorBIC  string
	Remittance   string
}

// suspenseSource marks a payout paid out of the account's suspense (a returned transfer).
const suspenseSource = ""

// Payout is a queued or sent SEPA payout.
type Payout struct {
	ID           int64
	IBAN         string
	EndToEndID   string
	Reference    string
	Amount       money.Amount
	Currency     string
	CreditorName string
	CreditorIBAN string
	Status       string
	BatchID      int64
}

// QueuePayoutTx records a payout in the caller's transaction. fromKey is the ledger account the
// money is owed from (it moves to the payout payable account until the bank debits it).
func (s *Service) QueuePayoutTx(ctx context.Context, tx *store.Tx, iban string, req PayoutRequest, fromKey string) (Payout, error) {
	acct, err := s.accountTx(ctx, tx, iban)
	if err != nil {
		return Payout{}, err
	}
	return s.queuePayout(ctx, tx, acct, req, fromKey)
}

func (s *Service) queuePayout(ctx context.Context, tx *store.Tx, acct Account, req PayoutRequest, fromKey string) (Payout, error) {
	iban, err := bankacct.IBAN(req.CreditorIBAN)
	if err != nil {
		return Payout{}, errcode.Field("iban", "%s", err.Error())
	}
	if req.Amount.Sign() <= 0 {
		return Payout{}, errors.New("banking: payout amount must be positive")
	}
	now := s.Now()
	p := Payout{IBAN: acct.IBAN, EndToEndID: "PR" + event.RandomAlnum(30), Reference: req.Reference, Amount: req.Amount,
		Currency: acct.Currency, CreditorName: strings.TrimSpace(req.CreditorName), CreditorIBAN: iban, Status: "pending"}
	err = tx.QueryRow(ctx, `INSERT INTO bank_payouts (iban, end_to_end_id, reference, amount, scale, currency, creditor_name, creditor_iban,
		creditor_bic, remittance, status, sandbox, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id`,
		p.IBAN, p.EndToEndID, p.Reference, p.Amount.Units().Int64(), p.Amount.Scale(), p.Currency, p.CreditorName, p.CreditorIBAN,
		req.CreditorBIC, truncate(req.Remittance, 140), acct.Sandbox, store.Micros(now), store.Micros(now)).Scan(&p.ID)
	if err != nil {
		return Payout{}, fmt.Errorf("queue payout %s: %w", req.Reference, err)
	}
	if fromKey == suspenseSource {
		fromKey = SuspenseKey(acct.Sandbox, acct.IBAN, acct.Currency)
	}
	if _, err := tx.Exec(ctx, "UPDATE bank_payouts SET ledger_from = ? WHERE id = ?", fromKey, p.ID); err != nil {
		return Payout{}, err
	}
	from, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: fromKey, Kind: kindOf(fromKey), Asset: acct.Currency})
	if err != nil {
		return Payout{}, err
	}
	payable, err := ledger.EnsureAccount(ctx, tx, ledger.Account{Key: PayoutPayableKey(acct.Sandbox, acct.Currency), Kind: ledger.KindClearing, Asset: acct.Currency})
	if err != nil {
		return Payout{}, err
	}
	_, err = ledger.Post(ctx, tx, ledger.Transaction{Reference: fmt.Sprintf("bankpayout:%d:queued", p.ID),
		Description: "SEPA payout " + p.Reference + " to " + p.CreditorName, Postings: ledger.Transfer(payable, from, acct.Currency, p.Amount.Units())})
	return p, err
}

func kindOf(key string) ledger.Kind {
	key = strings.TrimPrefix(key, "sb:")
	switch {
	case strings.HasPrefix(key, "suspense:"):
		return ledger.KindSuspense
	case strings.HasPrefix(key, "customer:"):
		return ledger.KindCustomer
	}
	return ledger.KindClearing
}

// Batch is an exported pain.001 file.
type Batch struct {
	ID        int64
	MessageID string
	Payments  int
	Total     money.Amount
	File      []byte
}

// ExportBatch writes the account's pending payouts into one pain.001 file and marks them
// exported; the operator uploads it to the bank. No pending payouts: ok is false.
func (s *Service) ExportBatch(ctx context.Context, iban string) (b Batch, ok bool, err error) {
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		acct, err := s.accountTx(ctx, tx, iban)
		if err != nil {
			return ErrAccountNotFound
		}
		rows, err := tx.Query(ctx, `SELECT id, end_to_end_id, reference, amount, scale, creditor_name, creditor_iban, creditor_bic, remittance
			FROM bank_payouts WHERE iban = ? AND status = 'pending' ORDER BY id`+tx.ForUpdate(), acct.IBAN)
		if err != nil {
			return err
		}
		scale, _ := money.FiatScale(acct.Currency)
		batch := bankfile.Batch{MessageID: "PRB" + event.RandomAlnum(20), CreatedAt: s.Now(), InitiatorName: acct.HolderName,
			DebtorName: acct.HolderName, DebtorIBAN: acct.IBAN, DebtorBIC: acct.BIC, ExecutionDate: s.Now()}
		var ids []int64
		total := money.Zero(scale)
		for rows.Next() {
			var id, units int64
			var sc int
			var ref string
			var p bankfile.Payment
			if err := rows.Scan(&id, &p.EndToEndID, &ref, &units, &sc, &p.CreditorName, &p.CreditorIBAN, &p.CreditorBIC, &p.Remittance); err != nil {
				rows.Close()
				return err
			}
			p.Amount = money.FromInt64(units, sc)
			total = total.Add(p.Amount)
			batch.Payments = append(batch.Payments, p)
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) == 0 {
			return nil
		}
		var buf bytes.Buffer
		if err := bankfile.WritePain001(&buf, batch, "pain.001.001.03"); err != nil {
			return fmt.Errorf("pain.001: %w", err)
		}
		b = Batch{MessageID: batch.MessageID, Payments: len(ids), Total: total, File: buf.Bytes()}
		if err := tx.QueryRow(ctx, `INSERT INTO bank_payout_batches (iban, message_id, payments, total, scale, file, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, acct.IBAN, b.MessageID, b.Payments, total.Units().Int64(), scale, buf.String(),
			store.Micros(s.Now())).Scan(&b.ID); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.Exec(ctx, "UPDATE bank_payouts SET status = 'exported', batch_id = ?, updated_at = ? WHERE id = ?", b.ID, store.Micros(s.Now()), id); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	return b, ok, err
}

// PayoutByReference returns a payout by its business reference.
func (s *Service) PayoutByReference(ctx context.Context, ref string) (Payout, error) {
	var p Payout
	var units int64
	var scale int
	var batch *int64
	err := s.DB.QueryRow(ctx, `SELECT id, iban, end_to_end_id, reference, amount, scale, currency, creditor_name, creditor_iban, status, batch_id
		FROM bank_payouts WHERE reference = ?`, ref).Scan(&p.ID, &p.IBAN, &p.EndToEndID, &p.Reference, &units, &scale, &p.Currency,
		&p.CreditorName, &p.CreditorIBAN, &p.Status, &batch)
	if batch != nil {
		p.BatchID = *batch
	}
	p.Amount = money.FromInt64(units, scale)
	return p, err
}
