package app

import (
	"context"
	"fmt"

	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
)

// sealedColumn is a text column that holds customers' bank accounts encrypted (secret.SealText).
type sealedColumn struct {
	table, column string
	hash          string // column of the account's lookup hash (customer.AccountHash); "" for none
}

var sealedColumns = []sealedColumn{
	{table: "customers", column: "iban", hash: "iban_hash"},
	{table: "rampoffs", column: "payout_account"},
	{table: "bank_payouts", column: "creditor_iban"},
}

// sealAccounts encrypts the bank accounts that rows written before migration 00024 (or by an
// older binary) keep in clear, and fills their lookup hashes. SQL cannot encrypt, so this runs
// at every start right after the migrations; it only touches plaintext rows, so it is
// idempotent and a no-op once done. It returns how many values it sealed.
func sealAccounts(ctx context.Context, db *store.DB, box *secret.Box) (int, error) {
	total := 0
	for _, c := range sealedColumns {
		for {
			n, err := sealBatch(ctx, db, box, c)
			if err != nil {
				return total, fmt.Errorf("seal %s.%s: %w", c.table, c.column, err)
			}
			total += n
			if n == 0 {
				break
			}
		}
	}
	return total, nil
}

// sealBatch seals up to 500 plaintext values of c in one transaction.
func sealBatch(ctx context.Context, db *store.DB, box *secret.Box, c sealedColumn) (int, error) {
	n := 0
	err := db.Tx(ctx, func(tx *store.Tx) error {
		n = 0
		rows, err := tx.Query(ctx, "SELECT id, "+c.column+" FROM "+c.table+" WHERE "+c.column+" <> '' AND "+c.column+
			" NOT LIKE ? ORDER BY id LIMIT 500"+tx.ForUpdate(), secret.SealedPrefix+"%")
		if err != nil {
			return err
		}
		type row struct {
			id    any
			plain string
		}
		var todo []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.plain); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range todo {
			set, args := c.column+" = ?", []any{box.SealText(r.plain)}
			if c.hash != "" {
				set += ", " + c.hash + " = ?"
				args = append(args, customer.AccountHash(box, r.plain))
			}
			if _, err := tx.Exec(ctx, "UPDATE "+c.table+" SET "+set+" WHERE id = ?", append(args, r.id)...); err != nil {
				return err
			}
		}
		n = len(todo)
		return nil
	})
	return n, err
}
