package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
)

// The statement import's floor: what the database alone takes to write the rows the import
// wrote, the import's ceiling as pgbench is createPayment's. After the import, a fresh database
// of the same schema (every index, foreign key, check and trigger, from the same migrations)
// gets the tables the import's rows refer to as they were before it, untimed; then, timed and in
// one transaction, the database copies the import's rows into it from the benchmarked one with
// one INSERT ... SELECT per table and one UPDATE ... FROM for the payments and ledger balances.
// No parsing, matching, round trips or bound values: pocketramp cannot write the same rows
// faster than that, on the same engine and machine.

// floorMark is where the import's rows start: the largest ids before it and its start time.
type floorMark struct {
	bankTx, ledgerTx, postings, payouts int64
	since                               int64 // micros: events and payment updates from then on
}

func markFloor(ctx context.Context, db *store.DB) (floorMark, error) {
	var m floorMark
	err := db.QueryRow(ctx, `SELECT (SELECT COALESCE(MAX(id), 0) FROM bank_transactions), (SELECT COALESCE(MAX(id), 0) FROM ledger_transactions),
		(SELECT COALESCE(MAX(id), 0) FROM ledger_postings), (SELECT COALESCE(MAX(id), 0) FROM chain_payouts)`).
		Scan(&m.bankTx, &m.ledgerTx, &m.postings, &m.payouts)
	m.since = store.Micros(time.Now())
	return m, err
}

// floorRows are the statements that replay the import's rows, {src} standing for the
// benchmarked database and {over} for PostgreSQL's OVERRIDING SYSTEM VALUE (the ids are
// copied); the arguments come from the mark.
var floorRows = []struct {
	table, query string
	arg          func(floorMark) int64
}{
	{"bank_transactions", "INSERT INTO bank_transactions {over} SELECT * FROM {src}bank_transactions WHERE id > ?", func(m floorMark) int64 { return m.bankTx }},
	{"ledger_transactions", "INSERT INTO ledger_transactions {over} SELECT * FROM {src}ledger_transactions WHERE id > ?", func(m floorMark) int64 { return m.ledgerTx }},
	{"ledger_postings", "INSERT INTO ledger_postings {over} SELECT * FROM {src}ledger_postings WHERE id > ?", func(m floorMark) int64 { return m.postings }},
	{"events", "INSERT INTO events SELECT * FROM {src}events WHERE created_at >= ?", func(m floorMark) int64 { return m.since }},
	{"chain_payouts", "INSERT INTO chain_payouts {over} SELECT * FROM {src}chain_payouts WHERE id > ?", func(m floorMark) int64 { return m.payouts }},
	{"payments", `UPDATE payments SET holder = v.holder, received_amount = v.received_amount, received_at = v.received_at,
		coin_amount = v.coin_amount, price = v.price, status = v.status, failure_reason = v.failure_reason, hold_reason = v.hold_reason,
		updated_at = v.updated_at, payout_id = v.payout_id FROM {src}payments AS v WHERE payments.id = v.id AND v.updated_at >= ?`,
		func(m floorMark) int64 { return m.since }},
	{"ledger_accounts", `UPDATE ledger_accounts SET balance = v.balance, last_posted_at = v.last_posted_at
		FROM {src}ledger_accounts AS v WHERE ledger_accounts.id = v.id AND v.last_posted_at >= ?`, func(m floorMark) int64 { return m.since }},
}

// floorSetup are the tables the import's rows refer to (foreign keys), in the order they refer
// to each other, copied before the timed part; the payments are then put back as they were
// before the import (open, nothing received).
var floorSetup = []string{"integrations", "customers", "bank_accounts", "bank_imports", "ledger_accounts", "payments"}

const floorReopen = `UPDATE payments SET holder = NULL, received_amount = NULL, received_at = NULL, payout_id = NULL,
	status = 'started' WHERE updated_at >= ?`

// importFloor measures the floor of the import that wrote db's rows since m. dir is the bench's
// directory (SQLite: the floor database goes there); databaseURL "" means SQLite.
func importFloor(ctx context.Context, db *store.DB, dir, databaseURL string, m floorMark) (floorResult, error) {
	cfg, src, over := store.Config{URL: "sqlite:" + filepath.Join(dir, "floor.db")}, "src.", ""
	if databaseURL != "" {
		var schema string
		if err := db.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return floorResult{}, err
		}
		u, drop, err := scratchSchema(ctx, databaseURL, "bench_floor")
		if err != nil {
			return floorResult{}, err
		}
		defer drop()
		cfg, src, over = store.Config{URL: u}, schema+".", "OVERRIDING SYSTEM VALUE"
	}
	f, err := store.Open(ctx, cfg)
	if err != nil {
		return floorResult{}, err
	}
	defer f.Close()
	if err := f.Migrate(ctx); err != nil {
		return floorResult{}, err
	}
	if f.Engine() == store.SQLite {
		// SQLite has one writer connection: every transaction below runs on it.
		if _, err := f.Exec(ctx, "ATTACH DATABASE ? AS src", filepath.Join(dir, "pocketramp.db")); err != nil {
			return floorResult{}, err
		}
	}
	q := strings.NewReplacer("{src}", src, "{over}", over).Replace
	err = f.Tx(ctx, func(tx *store.Tx) error {
		for _, t := range floorSetup {
			// WHERE true: SQLite's grammar needs it between a SELECT and ON CONFLICT.
			if _, err := tx.Exec(ctx, q("INSERT INTO "+t+" {over} SELECT * FROM {src}"+t+" WHERE true ON CONFLICT DO NOTHING")); err != nil {
				return fmt.Errorf("floor: copying %s: %w", t, err)
			}
		}
		_, err := tx.Exec(ctx, floorReopen, m.since)
		return err
	})
	if err != nil {
		return floorResult{}, err
	}
	if f.Engine() == store.Postgres {
		// As a live database would be: statistics, and no dead rows left by the reopening.
		if _, err := f.Exec(ctx, "VACUUM ANALYZE"); err != nil {
			return floorResult{}, err
		}
	}
	var res floorResult
	start := time.Now()
	err = f.Tx(ctx, func(tx *store.Tx) error {
		res.rows = 0
		for _, r := range floorRows {
			done, err := tx.Exec(ctx, q(r.query), r.arg(m))
			if err != nil {
				return fmt.Errorf("floor: %s: %w", r.table, err)
			}
			n, err := done.RowsAffected()
			if err != nil {
				return err
			}
			res.rows += n
		}
		return nil
	})
	res.took = time.Since(start)
	return res, err
}

type floorResult struct {
	took time.Duration
	rows int64 // inserted and updated
}
