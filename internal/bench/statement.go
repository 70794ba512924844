package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
)

// StatementOptions says what the reconciliation benchmark runs.
type StatementOptions struct {
	DatabaseURL string // "" for SQLite in a temporary directory
	Lines       int
	JSON        bool   // print one JSON object instead of text
	CPUProfile  string // write a CPU profile of the import (not the seeding) to this file
}

// StatementResult is the outcome of the reconciliation benchmark.
type StatementResult struct {
	Engine     string  `json:"engine"`
	Lines      int     `json:"lines"`
	FileBytes  int64   `json:"file_bytes"`
	Seconds    float64 `json:"seconds"` // import: parse + de-duplicate + post + auto-match, one transaction
	LinesPerS  float64 `json:"lines_per_second"`
	Matched    int     `json:"matched"`
	SeedSecs   float64 `json:"seed_seconds"` // creating the open payments (not part of the import)
	PeakHeap   uint64  `json:"peak_heap_bytes"`
	HeapBefore uint64  `json:"heap_before_bytes"`
	// PeakRSSBytes is the process's peak resident set during the import: the high-water mark is
	// reset (Linux /proc/self/clear_refs) once the payments are seeded and the heap returned to
	// the OS, so it is what the import needs on top of a running pocketramp.
	PeakRSSBytes uint64 `json:"peak_rss_bytes"`
	// ProcessPeakRSSBytes is the high-water mark of the whole run, seeding included.
	ProcessPeakRSSBytes uint64 `json:"process_peak_rss_bytes"`
}

// RunStatement creates n open bank-transfer payments, writes a camt.053 statement with one
// credit for each (remittance text carrying the reference as a bank would), then imports and
// auto-matches it, measuring time and peak memory.
func RunStatement(ctx context.Context, opt StatementOptions, out io.Writer) (StatementResult, error) {
	databaseURL, n := opt.DatabaseURL, opt.Lines
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
	res := StatementResult{Engine: string(a.DB.Engine()), Lines: n}
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
	res.SeedSecs = time.Since(start).Seconds()
	acct, err := a.Accounts.Receiving(ctx, cred.ID, true, "EUR")
	if err != nil {
		return StatementResult{}, err
	}
	// The statement goes to a file, as a bank's would: the import reads it from disk.
	path := filepath.Join(dir, "statement.xml")
	f, err := os.Create(path)
	if err != nil {
		return StatementResult{}, err
	}
	err = bankfile.GenerateCAMT053(f, acct.IBAN, n, func(i int) (money.Amount, string) {
		return amounts[i], fmt.Sprintf("TRANSF SEPA /RF %s %s", concepts[i][:5], concepts[i][5:])
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return StatementResult{}, err
	}
	if fi, err := os.Stat(path); err == nil {
		res.FileBytes = fi.Size()
	}
	concepts, amounts = nil, nil
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapBefore = ms.HeapInuse
	res.ProcessPeakRSSBytes = peakRSS()
	resetPeakRSS()
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
	if opt.CPUProfile != "" {
		pf, err := os.Create(opt.CPUProfile)
		if err != nil {
			return StatementResult{}, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return StatementResult{}, err
		}
	}
	start = time.Now()
	ir, err := a.Banking.ImportPath(ctx, acct.IBAN, "bench", path, nil)
	elapsed := time.Since(start)
	if opt.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	close(done)
	if err != nil {
		return StatementResult{}, err
	}
	res.Seconds, res.LinesPerS = elapsed.Seconds(), float64(n)/elapsed.Seconds()
	res.Matched, res.PeakHeap = ir.Matched, peak.Load()
	res.PeakRSSBytes = peakRSS()
	res.ProcessPeakRSSBytes = max(res.ProcessPeakRSSBytes, res.PeakRSSBytes)
	if ir.Exceptions > 0 {
		rows, err := a.DB.Query(ctx, "SELECT exception, COUNT(*) FROM bank_transactions WHERE status = 'unmatched' GROUP BY exception")
		if err == nil {
			for rows.Next() {
				var kind string
				var n int
				rows.Scan(&kind, &n)
				fmt.Fprintf(os.Stderr, "unmatched: %s × %d\n", kind, n)
			}
			rows.Close()
		}
	}
	if opt.JSON {
		return res, json.NewEncoder(out).Encode(res)
	}
	fmt.Fprintf(out, "engine %s: %d lines (%.1f MB camt.053), seeding %d payments took %.1fs\n", res.Engine, n, float64(res.FileBytes)/1e6, n, res.SeedSecs)
	fmt.Fprintf(out, "import + auto-match: %s (%.0f lines/s), matched %d/%d; heap in use %.0f MB before, peak %.0f MB; peak RSS during the import %.0f MB (whole run %.0f MB)\n",
		elapsed.Round(time.Millisecond), res.LinesPerS, ir.Matched, n, float64(res.HeapBefore)/1e6, float64(res.PeakHeap)/1e6,
		float64(res.PeakRSSBytes)/1e6, float64(res.ProcessPeakRSSBytes)/1e6)
	return res, nil
}

// resetPeakRSS resets the kernel's high-water mark of this process's resident set (Linux), so
// peakRSS measures from now on; elsewhere it does nothing.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

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
