package ledger_test

import (
	"fmt"
	"math/big"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// benchParallelism × GOMAXPROCS writers in the parallel variants; scripts/bench-ledger.sh
// compares them with pgbench at the same client count.
const benchParallelism = 2

// BenchmarkPost measures committed two-posting transactions (one db.Tx each) per second: serial,
// parallel writers contending for the same two accounts, and parallel writers on distinct
// accounts. PostgreSQL runs when TEST_DATABASE_URL is set.
func BenchmarkPost(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			var seq atomic.Int64
			pair := func(name string) (ledger.AccountID, ledger.AccountID) {
				return ensure(b, db, name+":from", ledger.KindExternal, "EUR", false),
					ensure(b, db, name+":to", ledger.KindCustomer, "EUR", true)
			}
			transfer := func(b *testing.B, from, to ledger.AccountID) {
				ref := fmt.Sprintf("bench:%d", seq.Add(1))
				if _, err := post(db, ledger.Transaction{Reference: ref, Postings: ledger.Transfer(from, to, "EUR", big.NewInt(1))}); err != nil {
					b.Error(err)
				}
			}
			report := func(b *testing.B) {
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
				b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "postings/s")
			}

			b.Run("serial", func(b *testing.B) {
				from, to := pair("serial")
				for b.Loop() {
					transfer(b, from, to)
				}
				report(b)
			})
			b.Run("parallel-shared", func(b *testing.B) {
				from, to := pair("shared")
				b.SetParallelism(benchParallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						transfer(b, from, to)
					}
				})
				report(b)
			})
			b.Run("parallel-distinct", func(b *testing.B) {
				var pairs [][2]ledger.AccountID
				for i := range 4 * benchParallelism * runtime.GOMAXPROCS(0) {
					from, to := pair(fmt.Sprintf("distinct:%d", i))
					pairs = append(pairs, [2]ledger.AccountID{from, to})
				}
				var worker atomic.Int64
				b.SetParallelism(benchParallelism)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					p := pairs[int(worker.Add(1)-1)%len(pairs)]
					from, to := p[0], p[1]
					for pb.Next() {
						transfer(b, from, to)
					}
				})
				report(b)
			})
		})
	}
}
