package evm

import (
	"errors"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// Two scanners on one database (two instances, for the moment both believe they lead): the
// cursor moves by compare-and-set, so a scan that read a cursor another scanner has moved
// since writes nothing, and scanning side by side credits every deposit exactly once.
func TestCursorCompareAndSet(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		a, b := e.adapter(), e.adapter()
		customer := e.sim.WalletKey(7)
		e.fund(crypto.PubkeyToAddress(customer.PublicKey), "USDT", usdc(500))
		e.fund(crypto.PubkeyToAddress(customer.PublicKey), "native", ether(5))
		var refs []string
		for i := range 4 {
			ref := "sale-" + string(rune('a'+i))
			da, err := a.DepositAddress(e.ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.sim.Transfer(e.ctx, customer, common.HexToAddress(da.Address), "USDT", usdc(int64(10+i))); err != nil {
				t.Fatal(err)
			}
			refs = append(refs, ref)
		}
		e.sim.Mine(1)

		stale, err := a.loadCursor(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.scan(b) // the other instance moves the cursor
		head, _ := e.sim.Client().BlockNumber(e.ctx)
		if err := a.scanRange(e.ctx, stale, head, head); !errors.Is(err, errCursorMoved) {
			t.Fatalf("a scan from a moved cursor: %v, want errCursorMoved", err)
		}
		if cur, _ := a.loadCursor(e.ctx); cur.number != head {
			t.Fatalf("cursor at %d after the refused scan, want %d", cur.number, head)
		}

		for range 4 {
			e.sim.Mine(1)
			var wg sync.WaitGroup
			for _, s := range []*Adapter{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := s.ScanDeposits(e.ctx); err != nil {
						t.Errorf("ScanDeposits: %v", err)
					}
				}()
			}
			wg.Wait()
		}
		credited := map[string]int{}
		for _, d := range e.deposits {
			if d.Status == chain.DepositCredited {
				credited[d.Ref]++
			}
		}
		for _, ref := range refs {
			ds, _ := a.Deposits(e.ctx, ref)
			if len(ds) != 1 || ds[0].Status != chain.DepositCredited || credited[ref] != 1 {
				t.Fatalf("%s: deposits %+v, credited %d times", ref, ds, credited[ref])
			}
		}
	})
}
