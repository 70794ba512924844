package evm

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// BenchmarkPayouts measures end-to-end ERC-20 payouts per second against the simulated chain on
// SQLite: record, sign + record with nonce, broadcast, mine, confirm. Blocks are mined every
// 100 payouts (the simulated chain has no block time).
func BenchmarkPayouts(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	e := newEnv(b, db)
	e.cfg.Chain.Confirmations = 1
	a := e.adapter()
	e.fund(a.HotWallet(), "USDC", new(big.Int).Mul(usdc(1), big.NewInt(int64(b.N)+1)))
	e.fund(a.HotWallet(), "native", ether(1000))
	to := addrOf(1, e.sim).Hex()
	const batch = 100
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		for i := 0; i < n; i++ {
			if _, err := a.SubmitPayout(e.ctx, chain.PayoutRequest{Key: fmt.Sprintf("b-%d", done+i), Asset: "USDC", To: to, Amount: usdc(1)}); err != nil {
				b.Fatal(err)
			}
		}
		e.process(a) // sign + broadcast
		e.sim.Commit()
		e.process(a) // receipts → confirmed
		done += n
	}
	b.StopTimer()
	var open int
	if err := db.QueryRow(e.ctx, `SELECT COUNT(*) FROM chain_payouts WHERE status <> 'confirmed'`).Scan(&open); err != nil || open != 0 {
		b.Fatalf("%d payouts not confirmed (%v)", open, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payouts/s")
}
