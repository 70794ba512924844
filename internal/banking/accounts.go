// Package banking holds the operator's bank accounts and what the banks say happened on them.
// This file: the accounts and their assignment to integrations.
package banking

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/cache"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Account is an operator bank account.
type Account struct {
	IBAN       string `json:"iban"`
	BIC        string `json:"bic"`
	HolderName string `json:"holder_name"`
	BankName   string `json:"bank_name"`
	Currency   string `json:"currency"`
	Status     string `json:"status"`
	Sandbox    bool   `json:"-"`
	// Scheme is set for an account identified by another id than an IBAN (CLABE, CBU, BBAN,
	// a bank's proprietary scheme ...); IBAN then holds that id, the account's key.
	Scheme string `json:"-"`
	// BatchBooking is the pain.001 BtchBookg this account asks its bank for; PainVersion the
	// pain.001 version its bank takes (pain.001.001.03 or .09).
	BatchBooking bool   `json:"-"`
	PainVersion  string `json:"-"`
}

// ErrAccountNotFound is an IBAN not assigned to the caller (REFERENCE §6).
var ErrAccountNotFound = &errcode.Error{Code: "bank_account_not_found", Kind: errcode.KindNotFound}

// Accounts manages operator bank accounts.
type Accounts struct {
	DB  *store.DB
	Now func() time.Time
}

// Register adds or updates an operator account after validating its id (an IBAN, or another
// account id with its scheme), BIC, ISO 4217 currency and pain.001 settings.
func (s *Accounts) Register(ctx context.Context, a Account) (Account, error) {
	f := errcode.Fields{}
	a.Scheme = strings.TrimSpace(a.Scheme)
	if a.Scheme == "" {
		iban, err := bankacct.IBAN(a.IBAN)
		if err != nil {
			f.Add("iban", "%s", err.Error())
		}
		a.IBAN = iban
	} else {
		id := strings.ToUpper(strings.Join(strings.Fields(a.IBAN), ""))
		if id == "" || len(id) > 34 || strings.ContainsFunc(id, func(r rune) bool { return r < '!' || r > '~' }) {
			f.Add("account_id", "The account id must be 1 to 34 printable characters without spaces.")
		}
		a.IBAN = id
	}
	bic, err := bankacct.BIC(a.BIC)
	if err != nil {
		f.Add("bic", "%s", err.Error())
	}
	a.HolderName, a.BankName = strings.TrimSpace(a.HolderName), strings.TrimSpace(a.BankName)
	if a.HolderName == "" {
		errcode.Required(f, "holder_name")
	}
	a.Currency = strings.ToUpper(strings.TrimSpace(a.Currency))
	if _, ok := money.CurrencyScale(a.Currency); !ok {
		f.Add("currency", "The currency must be an ISO 4217 currency code.")
	}
	switch a.PainVersion {
	case "":
		a.PainVersion = bankfile.Pain001v03
	case bankfile.Pain001v03, bankfile.Pain001v09:
	default:
		f.Add("pain_version", "The pain.001 version must be %s or %s.", bankfile.Pain001v03, bankfile.Pain001v09)
	}
	if err := f.Err(); err != nil {
		return Account{}, err
	}
	a.BIC, a.Status = bic, "active"
	_, err = s.DB.Exec(ctx, `INSERT INTO bank_accounts (iban, bic, holder_name, bank_name, currency, status, sandbox, id_scheme, batch_booking, pain_version, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (iban) DO UPDATE SET bic = excluded.bic, holder_name = excluded.holder_name,
		bank_name = excluded.bank_name, currency = excluded.currency, id_scheme = excluded.id_scheme, batch_booking = excluded.batch_booking,
		pain_version = excluded.pain_version`, a.IBAN, a.BIC, a.HolderName, a.BankName, a.Currency, a.Status, a.Sandbox, a.Scheme,
		a.BatchBooking, a.PainVersion, store.Micros(s.Now()))
	s.forgetReceiving()
	return a, err
}

// Assign gives an integration the use of an account.
func (s *Accounts) Assign(ctx context.Context, integrationID int64, iban string) error {
	_, err := s.DB.Exec(ctx, "INSERT INTO integration_bank_accounts (integration_id, iban) VALUES (?, ?) ON CONFLICT DO NOTHING", integrationID, iban)
	s.forgetReceiving()
	return err
}

// ReceivingCacheTTL bounds how long Receiving serves an account from memory: a change made on
// this instance (Register, Assign) is seen at once, one made on another instance within it.
const ReceivingCacheTTL = 5 * time.Second

type receivingKey struct {
	db            *store.DB
	integrationID int64
	sandbox       bool
	currency      string
}

// receivingCache keeps the receiving accounts createPayment reads on every bank transfer.
var receivingCache = &cache.Map[receivingKey, Account]{TTL: ReceivingCacheTTL}

// forgetReceiving drops this database's cached receiving accounts after a change.
func (s *Accounts) forgetReceiving() {
	receivingCache.DeleteFunc(func(k receivingKey, _ Account) bool { return k.db == s.DB })
}

const accountColumns = "a.iban, a.bic, a.holder_name, a.bank_name, a.currency, a.status, a.sandbox"

// ForIntegration lists the accounts assigned to an integration.
func (s *Accounts) ForIntegration(ctx context.Context, integrationID int64) ([]Account, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+accountColumns+` FROM bank_accounts a JOIN integration_bank_accounts i ON i.iban = a.iban
		WHERE i.integration_id = ? ORDER BY a.currency, a.iban`, integrationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Account{}
	for rows.Next() {
		var a Account
		if err := rows.Scan(&a.IBAN, &a.BIC, &a.HolderName, &a.BankName, &a.Currency, &a.Status, &a.Sandbox); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Get returns an account assigned to integrationID.
func (s *Accounts) Get(ctx context.Context, integrationID int64, iban string) (Account, error) {
	list, err := s.ForIntegration(ctx, integrationID)
	if err != nil {
		return Account{}, err
	}
	iban = strings.ToUpper(strings.ReplaceAll(iban, " ", ""))
	for _, a := range list {
		if a.IBAN == iban {
			return a, nil
		}
	}
	return Account{}, ErrAccountNotFound
}

// ErrNoAccount means the integration has no active account in a currency.
var ErrNoAccount = errors.New("no bank account in this currency is assigned to the integration")

// Receiving returns the account an integration's customers pay currency into; a sandbox
// integration without one is given a sandbox account on first use. Served from memory for up
// to ReceivingCacheTTL (every bank-transfer payment reads it).
func (s *Accounts) Receiving(ctx context.Context, integrationID int64, sandbox bool, currency string) (Account, error) {
	return receivingCache.Load(ctx, receivingKey{s.DB, integrationID, sandbox, currency}, func(ctx context.Context) (Account, error) {
		return s.loadReceiving(ctx, integrationID, sandbox, currency)
	})
}

func (s *Accounts) loadReceiving(ctx context.Context, integrationID int64, sandbox bool, currency string) (Account, error) {
	if a, ok, err := s.receiving(ctx, s.DB, integrationID, sandbox, currency); err != nil || ok {
		return a, err
	}
	if !sandbox || currency != "EUR" {
		return Account{}, ErrNoAccount
	}
	// Concurrent first payments must share one account: look again under the integration's row
	// lock (PostgreSQL) or the write lock (SQLite) before creating it.
	var out Account
	err := s.DB.Tx(ctx, func(tx *store.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, "SELECT id FROM integrations WHERE id = ?"+tx.ForUpdate(), integrationID).Scan(&id); err != nil {
			return err
		}
		a, ok, err := s.receiving(ctx, tx, integrationID, sandbox, currency)
		if err != nil || ok {
			out = a
			return err
		}
		out = Account{IBAN: SandboxIBAN(), BIC: "PCKTESM1XXX", HolderName: "pocketramp Sandbox Operator SL", BankName: "Sandbox Bank",
			Currency: "EUR", Status: "active", Sandbox: true}
		if _, err := tx.Exec(ctx, `INSERT INTO bank_accounts (iban, bic, holder_name, bank_name, currency, status, sandbox, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, out.IBAN, out.BIC, out.HolderName, out.BankName, out.Currency, out.Status, true, store.Micros(s.Now())); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO integration_bank_accounts (integration_id, iban) VALUES (?, ?)", integrationID, out.IBAN)
		return err
	})
	return out, err
}

type querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// receiving finds an active account of the integration in currency.
func (s *Accounts) receiving(ctx context.Context, q querier, integrationID int64, sandbox bool, currency string) (Account, bool, error) {
	rows, err := q.Query(ctx, "SELECT "+accountColumns+` FROM bank_accounts a JOIN integration_bank_accounts i ON i.iban = a.iban
		WHERE i.integration_id = ? AND a.currency = ? AND a.status = 'active' AND a.sandbox = ? ORDER BY a.created_at, a.iban LIMIT 1`,
		integrationID, currency, sandbox)
	if err != nil {
		return Account{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return Account{}, false, rows.Err()
	}
	var a Account
	err = rows.Scan(&a.IBAN, &a.BIC, &a.HolderName, &a.BankName, &a.Currency, &a.Status, &a.Sandbox)
	return a, err == nil, err
}

// SandboxIBAN returns a random Spanish IBAN with valid check digits (bank code 9999, which no
// Spanish bank uses), so sandbox accounts pass the same validation as real ones.
func SandboxIBAN() string {
	digits := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			d, _ := rand.Int(rand.Reader, big.NewInt(10))
			b.WriteByte(byte('0' + d.Int64()))
		}
		return b.String()
	}
	bank, branch, account := "9999", digits(4), digits(10)
	ccc := func(s string) int {
		w := []int{1, 2, 4, 8, 5, 10, 9, 7, 3, 6}
		sum := 0
		for i, c := range s {
			sum += int(c-'0') * w[i]
		}
		d := 11 - sum%11
		switch d {
		case 11:
			return 0
		case 10:
			return 1
		}
		return d
	}
	control := fmt.Sprintf("%d%d", ccc("00"+bank+branch), ccc(account))
	bban := bank + branch + control + account
	// ISO 7064 mod 97-10 over BBAN + "ES00" with letters as numbers (E=14, S=28).
	n, _ := new(big.Int).SetString(bban+"142800", 10)
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("ES%02d%s", check, bban)
}
