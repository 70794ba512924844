package banking

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
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

// Payout statuses. A payout is queued pending (or held when it cannot be exported as it is),
// exported in a pain.001, then confirmed by its debit on a statement or returned by the bank;
// the operator may cancel it before it is exported.
const (
	PayoutPending   = "pending"
	PayoutHeld      = "held" // set aside: HoldReason says why; never blocks the account's other payouts
	PayoutExported  = "exported"
	PayoutConfirmed = "confirmed"
	PayoutReturned  = "returned"
	PayoutCancelled = "cancelled"
)

// Payout is a queued or sent SEPA payout.
type Payout struct {
	ID           int64        `json:"id"`
	IBAN         string       `json:"account"` // the operator account it is paid from
	EndToEndID   string       `json:"end_to_end_id"`
	Reference    string       `json:"reference"`
	Amount       money.Amount `json:"-"`
	Currency     string       `json:"currency"`
	CreditorName string       `json:"creditor_name"` // in the SEPA character set, as exported
	OriginalName string       `json:"original_name"` // as the customer gave it
	CreditorIBAN string       `json:"creditor_iban"`
	CreditorBIC  string       `json:"creditor_bic"`
	Remittance   string       `json:"remittance"`
	Status       string       `json:"status"`
	HoldReason   string       `json:"hold_reason"`
	Note         string       `json:"note"`
	BatchID      int64        `json:"batch_id"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
}

// Errors of the operator's payout actions.
var (
	ErrPayoutNotFound = &errcode.Error{Code: "bank_payout_not_found", Status: 404}
	// ErrPayoutState is an action the payout's status does not allow.
	ErrPayoutState = &errcode.Error{Code: "bank_payout_invalid_state", Status: 409}
	// ErrPayoutsHeld is an export whose every pending payout had to be set aside.
	ErrPayoutsHeld = &errcode.Error{Code: "bank_payouts_held", Status: 409}
	// ErrExport is an account whose pain.001 cannot be written (its own name, IBAN or BIC).
	ErrExport = &errcode.Error{Code: "bank_export_failed", Status: 422}
)

// PayoutCanceller is implemented by a PayoutHandler that wants to hear about payouts the
// operator cancelled (the off-ramp fails the operation; the customer is owed the money again).
type PayoutCanceller interface {
	PayoutCancelled(ctx context.Context, tx *store.Tx, reference, note string) error
}

// QueuePayoutTx records a payout in the caller's transaction. fromKey is the ledger account the
// money is owed from (it moves to the payout payable account until the bank debits it).
//
// The creditor name and remittance are converted to the SEPA character set and cut to their
// field limits here, once, so what the operator sees is what the bank will get. A payout that
// still could not be exported (a name with no Latin letters, a non-SEPA IBAN, ...) is queued
// held with its reason: it is in the ledger like any other and waits for the operator.
func (s *Service) QueuePayoutTx(ctx context.Context, tx *store.Tx, iban string, req PayoutRequest, fromKey string) (Payout, error) {
	acct, err := s.accountTx(ctx, tx, iban)
	if err != nil {
		return Payout{}, err
	}
	return s.queuePayout(ctx, tx, acct, req, fromKey)
}

func (s *Service) queuePayout(ctx context.Context, tx *store.Tx, acct Account, req PayoutRequest, fromKey string) (Payout, error) {
	if req.Amount.Sign() <= 0 {
		return Payout{}, errors.New("banking: payout amount must be positive")
	}
	creditorIBAN := strings.ToUpper(strings.Join(strings.Fields(req.CreditorIBAN), ""))
	if v, err := bankacct.IBAN(creditorIBAN); err == nil {
		creditorIBAN = v
	}
	now := s.Now()
	p := Payout{IBAN: acct.IBAN, EndToEndID: "PR" + ids.Alnum(30), Reference: req.Reference, Amount: req.Amount,
		Currency: acct.Currency, CreditorName: bankfile.SEPAText(req.CreditorName, bankfile.MaxNameLength),
		OriginalName: strings.TrimSpace(req.CreditorName), CreditorIBAN: creditorIBAN, CreditorBIC: strings.TrimSpace(req.CreditorBIC),
		Remittance: bankfile.SEPAText(req.Remittance, bankfile.MaxRemittanceLength), Status: PayoutPending, CreatedAt: now, UpdatedAt: now}
	if reason := exportProblem(acct, p); reason != "" {
		p.Status, p.HoldReason = PayoutHeld, reason
	}
	err := tx.QueryRow(ctx, `INSERT INTO bank_payouts (iban, end_to_end_id, reference, amount, scale, currency, creditor_name, original_name,
		creditor_iban, creditor_bic, remittance, status, hold_reason, sandbox, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.IBAN, p.EndToEndID, p.Reference, p.Amount.Units().Int64(), p.Amount.Scale(), p.Currency, p.CreditorName, p.OriginalName,
		p.CreditorIBAN, p.CreditorBIC, p.Remittance, p.Status, p.HoldReason, acct.Sandbox, store.Micros(now), store.Micros(now)).Scan(&p.ID)
	if err != nil {
		return Payout{}, fmt.Errorf("queue payout %s: %w", req.Reference, err)
	}
	if p.Status == PayoutHeld {
		s.alertHeld(tx, p)
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
	_, err = ledger.Post(ctx, tx, ledger.Transaction{Reference: queuedRef(p.ID),
		Description: "SEPA payout " + p.Reference + " to " + p.CreditorName, Postings: ledger.Transfer(payable, from, acct.Currency, p.Amount.Units())})
	return p, err
}

func queuedRef(id int64) string { return fmt.Sprintf("bankpayout:%d:queued", id) }

// exportProblem says why p cannot go into a pain.001 of acct ("" when it can), as
// "field: message" with the field named as the operator API names it.
func exportProblem(acct Account, p Payout) string {
	if acct.Currency != "EUR" {
		return "currency: SEPA credit transfers are in EUR; this account is in " + acct.Currency
	}
	if !bankfile.HasAlnum(p.CreditorName) {
		return fmt.Sprintf("name: %q has no letters in the SEPA character set; correct the beneficiary name", p.OriginalName)
	}
	err := bankfile.CheckPayment(paymentOf(p), painVersion(acct))
	var ve *bankfile.ValidationError
	if errors.As(err, &ve) {
		return problemField(ve.Field) + ": " + ve.Msg
	}
	if err != nil {
		return "export: " + err.Error()
	}
	return ""
}

// problemField names a pain.001 payment field as the operator API does.
func problemField(f string) string {
	if i := strings.LastIndexByte(f, '.'); i >= 0 {
		f = f[i+1:]
	}
	switch f {
	case "CreditorName":
		return "name"
	case "CreditorIBAN":
		return "iban"
	case "CreditorBIC":
		return "bic"
	case "Remittance":
		return "remittance"
	case "Amount":
		return "amount"
	case "EndToEndID":
		return "end_to_end_id"
	}
	return "export"
}

// painVersion is the pain.001 version the account's bank takes.
func painVersion(acct Account) string {
	if acct.PainVersion == "" {
		return bankfile.Pain001v03
	}
	return acct.PainVersion
}

func paymentOf(p Payout) bankfile.Payment {
	return bankfile.Payment{EndToEndID: p.EndToEndID, Amount: p.Amount, CreditorName: p.CreditorName, CreditorIBAN: p.CreditorIBAN,
		CreditorBIC: p.CreditorBIC, Remittance: p.Remittance}
}

// alertHeld tells the operator, once the transaction commits, that a payout was set aside.
func (s *Service) alertHeld(tx *store.Tx, p Payout) {
	reason := p.HoldReason
	tx.AfterCommit(func() {
		kind, _, _ := strings.Cut(reason, ":")
		payoutsHeldTotal.WithLabelValues(kind).Inc()
		s.log().Warn("bank payout held: it cannot be exported until the operator corrects, retries or cancels it",
			"payout_id", p.ID, "reference", p.Reference, "account", p.IBAN, "reason", reason)
	})
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
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
	Held      []Payout // payouts this export set aside instead of exporting
}

// ExportBatch writes the account's pending payouts into one pain.001 file and marks them
// exported; the operator uploads it to the bank. A payout that cannot be written is set aside
// (held, with its reason) and the others are exported without it. No payout exported: ok is
// false (with Held listing what was set aside, if anything).
func (s *Service) ExportBatch(ctx context.Context, iban string) (b Batch, ok bool, err error) {
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		b, ok = Batch{}, false
		acct, err := s.resolveAccountTx(ctx, tx, iban)
		if err != nil {
			return err
		}
		pending, err := queryPayouts(ctx, tx, "WHERE iban = ? AND status = 'pending' ORDER BY id"+tx.ForUpdate(), acct.IBAN)
		if err != nil {
			return err
		}
		var list []Payout
		for _, p := range pending {
			if reason := exportProblem(acct, p); reason != "" {
				if err := s.hold(ctx, tx, &p, reason); err != nil {
					return err
				}
				b.Held = append(b.Held, p)
				continue
			}
			list = append(list, p)
		}
		scale, _ := money.FiatScale(acct.Currency)
		batch := bankfile.Batch{MessageID: "PRB" + ids.Alnum(20), CreatedAt: s.Now(),
			InitiatorName: bankfile.SEPAText(acct.HolderName, bankfile.MaxNameLength), DebtorName: bankfile.SEPAText(acct.HolderName, bankfile.MaxNameLength),
			DebtorIBAN: acct.IBAN, DebtorBIC: acct.BIC, ExecutionDate: s.Now(), BatchBooking: &acct.BatchBooking}
		var buf bytes.Buffer
		// CheckPayment has vetted every payment alone; what can still fail is the batch
		// itself (the account's own data) or, defensively, one payment in it.
		for len(list) > 0 {
			batch.Payments = batch.Payments[:0]
			for _, p := range list {
				batch.Payments = append(batch.Payments, paymentOf(p))
			}
			buf.Reset()
			err := bankfile.WritePain001(&buf, batch, painVersion(acct))
			if err == nil {
				break
			}
			var ve *bankfile.ValidationError
			if !errors.As(err, &ve) {
				return fmt.Errorf("pain.001: %w", err)
			}
			var i int
			if _, scanErr := fmt.Sscanf(ve.Field, "Payments[%d]", &i); scanErr != nil || i < 0 || i >= len(list) {
				return ErrExport.With(fmt.Sprintf("The pain.001 of account %s cannot be written: %s. Correct the account (holder name, IBAN, BIC or pain.001 version).", acct.IBAN, ve.Error()), nil)
			}
			if err := s.hold(ctx, tx, &list[i], problemField(ve.Field)+": "+ve.Msg); err != nil {
				return err
			}
			b.Held = append(b.Held, list[i])
			list = append(list[:i], list[i+1:]...)
		}
		if len(list) == 0 {
			return nil
		}
		total := money.Zero(scale)
		for _, p := range list {
			total = total.Add(p.Amount)
		}
		b.MessageID, b.Payments, b.Total, b.File = batch.MessageID, len(list), total, buf.Bytes()
		if err := tx.QueryRow(ctx, `INSERT INTO bank_payout_batches (iban, message_id, payments, total, scale, file, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, acct.IBAN, b.MessageID, b.Payments, total.Units().Int64(), scale, buf.String(),
			store.Micros(s.Now())).Scan(&b.ID); err != nil {
			return err
		}
		for _, p := range list {
			if _, err := tx.Exec(ctx, "UPDATE bank_payouts SET status = 'exported', batch_id = ?, updated_at = ? WHERE id = ?", b.ID, store.Micros(s.Now()), p.ID); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	return b, ok, err
}

// hold sets a payout aside with its reason.
func (s *Service) hold(ctx context.Context, tx *store.Tx, p *Payout, reason string) error {
	p.Status, p.HoldReason, p.UpdatedAt = PayoutHeld, reason, s.Now()
	if _, err := tx.Exec(ctx, "UPDATE bank_payouts SET status = ?, hold_reason = ?, updated_at = ? WHERE id = ?",
		PayoutHeld, reason, store.Micros(p.UpdatedAt), p.ID); err != nil {
		return err
	}
	s.alertHeld(tx, *p)
	return nil
}

const payoutColumns = `id, iban, end_to_end_id, reference, amount, scale, currency, creditor_name, original_name, creditor_iban,
	creditor_bic, remittance, status, hold_reason, note, batch_id, created_at, updated_at`

func scanPayout(row store.Scanner) (Payout, error) {
	var p Payout
	var units, created, updated int64
	var scale int
	var batch sql.NullInt64
	err := row.Scan(&p.ID, &p.IBAN, &p.EndToEndID, &p.Reference, &units, &scale, &p.Currency, &p.CreditorName, &p.OriginalName,
		&p.CreditorIBAN, &p.CreditorBIC, &p.Remittance, &p.Status, &p.HoldReason, &p.Note, &batch, &created, &updated)
	p.Amount, p.BatchID, p.CreatedAt, p.UpdatedAt = money.FromInt64(units, scale), batch.Int64, store.Time(created), store.Time(updated)
	return p, err
}

func queryPayouts(ctx context.Context, tx *store.Tx, where string, args ...any) ([]Payout, error) {
	rows, err := tx.Query(ctx, "SELECT "+payoutColumns+" FROM bank_payouts "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Payout
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PayoutByReference returns a payout by its business reference.
func (s *Service) PayoutByReference(ctx context.Context, ref string) (Payout, error) {
	return scanPayout(s.DB.QueryRow(ctx, "SELECT "+payoutColumns+" FROM bank_payouts WHERE reference = ?", ref))
}

// PayoutByID returns a payout by id (ErrPayoutNotFound).
func (s *Service) PayoutByID(ctx context.Context, id int64) (Payout, error) {
	p, err := scanPayout(s.DB.QueryRow(ctx, "SELECT "+payoutColumns+" FROM bank_payouts WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Payout{}, ErrPayoutNotFound
	}
	return p, err
}

// PayoutFilter narrows the operator's payout list.
type PayoutFilter struct {
	Account string // operator account (IBAN or other id); "" for all
	Status  string
}

// ListPayouts lists payouts, oldest first (held payouts are the operator's queue).
func (s *Service) ListPayouts(ctx context.Context, f PayoutFilter, page, perPage int) ([]Payout, int, error) {
	var w store.Where
	if f.Account != "" {
		acct, err := s.account(ctx, f.Account)
		if err != nil {
			return nil, 0, err
		}
		w.Add("iban = ?", acct.IBAN)
	}
	w.AddIf(f.Status != "", "status = ?", f.Status)
	return store.Page(ctx, s.DB, "bank_payouts", payoutColumns, w, "id", page, perPage, scanPayout)
}

// Beneficiary is the operator's correction of a payout's creditor; empty fields stay as they are.
type Beneficiary struct {
	Name string
	IBAN string
	BIC  string
	Note string
}

// CorrectPayout changes the creditor of a pending or held payout. The corrected payout must be
// exportable (else a 422 naming the field, and nothing changes); a held payout goes back to
// pending for the next export.
func (s *Service) CorrectPayout(ctx context.Context, id int64, c Beneficiary) (Payout, error) {
	return s.changePayout(ctx, id, func(tx *store.Tx, acct Account, p *Payout) error {
		if p.Status != PayoutPending && p.Status != PayoutHeld {
			return ErrPayoutState.With(fmt.Sprintf("A %s payout cannot be corrected: only pending and held payouts can.", p.Status), nil)
		}
		f := errcode.Fields{}
		if n := strings.TrimSpace(c.Name); n != "" {
			p.OriginalName, p.CreditorName = n, bankfile.SEPAText(n, bankfile.MaxNameLength)
		}
		if v := strings.TrimSpace(c.IBAN); v != "" {
			iban, err := bankacct.IBAN(v)
			if err != nil {
				f.Add("iban", "%s", err.Error())
			}
			p.CreditorIBAN = iban
		}
		if v := strings.TrimSpace(c.BIC); v != "" {
			bic, err := bankacct.BIC(v)
			if err != nil {
				f.Add("bic", "%s", err.Error())
			}
			p.CreditorBIC = bic
		}
		if err := f.Err(); err != nil {
			return err
		}
		if reason := exportProblem(acct, *p); reason != "" {
			field, msg, _ := strings.Cut(reason, ": ")
			return errcode.Field(field, "The payout still cannot be exported: %s", msg)
		}
		p.Status, p.HoldReason = PayoutPending, ""
		if c.Note != "" {
			p.Note = c.Note
		}
		_, err := tx.Exec(ctx, `UPDATE bank_payouts SET creditor_name = ?, original_name = ?, creditor_iban = ?, creditor_bic = ?,
			status = ?, hold_reason = '', note = ?, updated_at = ? WHERE id = ?`, p.CreditorName, p.OriginalName, p.CreditorIBAN,
			p.CreditorBIC, p.Status, p.Note, store.Micros(s.Now()), p.ID)
		return err
	})
}

// RetryPayout puts a held payout back in the export queue once its problem is gone (e.g. the
// account's pain.001 version was changed), or re-queues an exported payout whose file the bank
// refused (only then: a file the bank executed would pay twice).
func (s *Service) RetryPayout(ctx context.Context, id int64, note string) (Payout, error) {
	return s.changePayout(ctx, id, func(tx *store.Tx, acct Account, p *Payout) error {
		if p.Status != PayoutHeld && p.Status != PayoutExported {
			return ErrPayoutState.With(fmt.Sprintf("A %s payout cannot be retried: only held and exported payouts can.", p.Status), nil)
		}
		if reason := exportProblem(acct, *p); reason != "" {
			field, msg, _ := strings.Cut(reason, ": ")
			return errcode.Field(field, "The payout still cannot be exported: %s", msg)
		}
		p.Status, p.HoldReason, p.BatchID = PayoutPending, "", 0
		if note != "" {
			p.Note = note
		}
		_, err := tx.Exec(ctx, "UPDATE bank_payouts SET status = ?, hold_reason = '', batch_id = NULL, note = ?, updated_at = ? WHERE id = ?",
			p.Status, p.Note, store.Micros(s.Now()), p.ID)
		return err
	})
}

// CancelPayout cancels a pending or held payout: the money is owed again to whom it was for
// (the queued ledger transaction is reversed in the same database transaction) and the
// payout's owner (the off-ramp) hears of it.
func (s *Service) CancelPayout(ctx context.Context, id int64, note string) (Payout, error) {
	return s.changePayout(ctx, id, func(tx *store.Tx, acct Account, p *Payout) error {
		if p.Status != PayoutPending && p.Status != PayoutHeld {
			return ErrPayoutState.With(fmt.Sprintf("A %s payout cannot be cancelled: only pending and held payouts can (an exported one may already be at the bank).", p.Status), nil)
		}
		if strings.TrimSpace(note) == "" {
			return errcode.Field("note", "Say why the payout is cancelled.")
		}
		p.Status, p.Note = PayoutCancelled, strings.TrimSpace(note)
		if _, err := tx.Exec(ctx, "UPDATE bank_payouts SET status = ?, note = ?, updated_at = ? WHERE id = ?",
			p.Status, p.Note, store.Micros(s.Now()), p.ID); err != nil {
			return err
		}
		if _, err := ledger.Reverse(ctx, tx, queuedRef(p.ID), fmt.Sprintf("bankpayout:%d:cancelled", p.ID)); err != nil {
			return err
		}
		if c, ok := s.Payouts.(PayoutCanceller); ok {
			return c.PayoutCancelled(ctx, tx, p.Reference, p.Note)
		}
		return nil
	})
}

// changePayout runs an operator action on a locked payout.
func (s *Service) changePayout(ctx context.Context, id int64, change func(*store.Tx, Account, *Payout) error) (Payout, error) {
	var p Payout
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = scanPayout(tx.QueryRow(ctx, "SELECT "+payoutColumns+" FROM bank_payouts WHERE id = ?"+tx.ForUpdate(), id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrPayoutNotFound
		}
		if err != nil {
			return err
		}
		acct, err := s.accountTx(ctx, tx, p.IBAN)
		if err != nil {
			return err
		}
		return change(tx, acct, &p)
	})
	if err != nil {
		return Payout{}, err
	}
	p.UpdatedAt = s.Now()
	return p, nil
}
