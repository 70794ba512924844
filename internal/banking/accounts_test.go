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
