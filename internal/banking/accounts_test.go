package banking

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

func TestSandboxIBANIsValid(t *testing.T) {
	for i := 0; i < 200; i++ {
		iban := SandboxIBAN()
		if _, err := bankacct.IBAN(iban); err != nil {
			t.Fatalf("%s: %v", iban, err)
		}
	}
}

// Concurrent first payments of a sandbox integration must all get the same receiving account.
func TestReceivingCreatesOneSandboxAccount(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "INSERT INTO integrations (name, sandbox, api_key, secret_enc, token_ttl_s, created_at) VALUES ('s', ?, 'pk_s', ?, 3600, 0)", true, []byte{1}); err != nil {
			t.Fatal(err)
		}
		accts := &Accounts{DB: db, Now: time.Now}
		var wg sync.WaitGroup
		ibans := make(chan string, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := accts.Receiving(ctx, 1, true, "EUR")
				if err != nil {
					t.Error(err)
					return
				}
				ibans <- a.IBAN
			}()
		}
		wg.Wait()
		close(ibans)
		seen := map[string]bool{}
		for iban := range ibans {
			seen[iban] = true
		}
		if len(seen) != 1 {
			t.Fatalf("concurrent first payments got %d accounts", len(seen))
		}
		if _, err := accts.Receiving(ctx, 1, false, "EUR"); err != ErrNoAccount {
			t.Fatalf("production without an account: %v", err)
		}
	})
}

// Receiving is served from memory; registering or assigning an account on this instance is
// seen by the next call.
func TestReceivingSeesChangesAtOnce(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, "INSERT INTO integrations (name, sandbox, api_key, secret_enc, token_ttl_s, created_at) VALUES ('l', ?, 'pk_l', ?, 3600, 0)", false, []byte{1}); err != nil {
			t.Fatal(err)
		}
		accts := &Accounts{DB: db, Now: time.Now}
		if _, err := accts.Receiving(ctx, 1, false, "EUR"); err != ErrNoAccount {
			t.Fatalf("no account yet: %v", err)
		}
		a, err := accts.Register(ctx, Account{IBAN: "ES9121000418450200051332", BIC: "CAIXESBBXXX", HolderName: "Operator SL", Currency: "EUR"})
		if err != nil {
			t.Fatal(err)
		}
		if err := accts.Assign(ctx, 1, a.IBAN); err != nil {
			t.Fatal(err)
		}
		got, err := accts.Receiving(ctx, 1, false, "EUR")
		if err != nil || got.IBAN != a.IBAN || got.HolderName != "Operator SL" {
			t.Fatalf("after assigning: %+v %v", got, err)
		}
		if _, err := accts.Register(ctx, Account{IBAN: a.IBAN, BIC: "CAIXESBBXXX", HolderName: "Operator Renamed SL", Currency: "EUR"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := accts.Receiving(ctx, 1, false, "EUR"); got.HolderName != "Operator Renamed SL" {
			t.Fatalf("after registering again: %+v", got)
		}
	})
}
