package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
)

// StatementResult is the outcome of the reconciliation benchmark.
type StatementResult struct {
	Lines        int
	FileBytes    int
	Seed         time.Duration // creating the open payments (not measured as import)
	Import       time.Duration // parse + de-duplicate + post + auto-match, one transaction
	Matched      int
	PeakHeap     uint64 // peak heap in use during the import
	HeapBefore   uint64
	PeakRSSBytes uint64 // the process's peak resident set (whole run)
}

// RunStatement creates n open bank-transfer payments, writes a camt.053 statement with one
// credit for each (remittance text carrying the reference as a bank would), then imports and
// auto-matches it, measuring time and peak memory.
func RunStatement(ctx context.Context, databaseURL string, n int, out io.Writer) (StatementResult, error) {
	dir, err := os.MkdirTemp("", "pocketramp-bench-")
	if err != nil {
		return StatementResult{}, err
	}
	defer os.RemoveAll(dir)
	a, cleanup, err := startApp(ctx, dir, databaseURL)
	if err != nil {
		return StatementResult{}, err
	}
	defer cleanup()
	cred, err := a.Integrations.Create(ctx, integration.NewParams{Name: "bench", Sandbox: true})
	if err != nil {
		return StatementResult{}, err
	}
	if err := onramp.SaveSettings(ctx, a.DB, cred.ID, onramp.Settings{BasicLimitEUR: "1000000000", ReinforcedLimitEUR: "1000000000"}, time.Now()); err != nil {
		return StatementResult{}, err
	}
	const customers = 100
	var users []int64
	for i := 0; i < customers; i++ {
		reg, err := a.Customers.Register(ctx, cred.ID, customer.Person{Name: "Bench", Email: fmt.Sprintf("b%d@example.com", i)})
		if err != nil {
			return StatementResult{}, err
		}
		if _, err := a.Customers.SandboxSetKYC(ctx, cred.ID, reg.Customer.ID, customer.StatusValid, customer.LevelReinforced, ""); err != nil {
			return StatementResult{}, err
		}
		users = append(users, reg.Customer.ID)
	}
	res := StatementResult{Lines: n}
	concepts := make([]string, n)
	amounts := make([]money.Amount, n)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				amt := money.FromInt64(int64(1000+i%90000), 2)
				raw, _ := json.Marshal(amt.String())
				c, err := a.Onramp.Create(ctx, onramp.CreateInput{IntegrationID: cred.ID, Sandbox: true, UserID: users[i%customers],
					PaymentType: "transfer", FiatSymbol: "EUR", FiatAmount: raw, CoinSymbol: "USDC", CoinChain: "polygon",
					Wallet: "0x52908400098527886E0F7030069857D2E4169EE7"})
				if err != nil {
					errs <- fmt.Errorf("payment %d: %w", i, err)
					return
				}
				concepts[i], amounts[i] = c.Payment.Concept, amt
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return StatementResult{}, err
	}
	res.Seed = time.Since(start)
	acct, err := a.Accounts.Receiving(ctx, cred.ID, true, "EUR")
	if err != nil {
		return StatementResult{}, err
	}
	var file bytes.Buffer
	if err := bankfile.GenerateCAMT053(&file, acct.IBAN, n, func(i int) (money.Amount, string) {
		return amounts[i], fmt.Sprintf("TRANSF SEPA /RF %s %s", concepts[i][:5], concepts[i][5:])
	}); err != nil {
		return StatementResult{}, err
	}
	res.FileBytes = file.Len()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapBefore = ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	start = time.Now()
	ir, err := a.Banking.ImportFile(ctx, acct.IBAN, "bench", file.Bytes(), nil)
	res.Import = time.Since(start)
	close(done)
	if err != nil {
		return StatementResult{}, err
	}
	res.Matched, res.PeakHeap = ir.Matched, peak.Load()
	if ir.Exceptions > 0 {
		rows, err := a.DB.Query(ctx, "SELECT exception, COUNT(*) FROM bank_transactions WHERE status = 'unmatched' GROUP BY exception")
		if err == nil {
			for rows.Next() {
				var kind string
				var n int
				rows.Scan(&kind, &n)
				fmt.Fprintf(out, "unmatched: %s × %d\n", kind, n)
			}
			rows.Close()
		}
	}
	res.PeakRSSBytes = peakRSS()
	fmt.Fprintf(out, "engine %s: %d lines (%.1f MB camt.053), seeding %d payments took %s\n", a.DB.Engine(), n, float64(res.FileBytes)/1e6, n, res.Seed.Round(time.Millisecond))
	fmt.Fprintf(out, "import + auto-match: %s (%.0f lines/s), matched %d/%d; heap in use %.0f MB before, peak %.0f MB; process peak RSS %.0f MB\n",
		res.Import.Round(time.Millisecond), float64(n)/res.Import.Seconds(), ir.Matched, n, float64(res.HeapBefore)/1e6, float64(res.PeakHeap)/1e6, float64(res.PeakRSSBytes)/1e6)
	return res, nil
}

// peakRSS reads VmHWM from /proc (Linux); 0 elsewhere.
func peakRSS() uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	var kb uint64
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("VmHWM:")) {
			fmt.Sscanf(string(bytes.TrimPrefix(line, []byte("VmHWM:"))), "%d", &kb)
		}
	}
	return kb * 1024
}
