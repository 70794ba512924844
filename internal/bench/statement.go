package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/customer"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/store"
)

// StatementOptions says what the reconciliation benchmark runs.
type StatementOptions struct {
	DatabaseURL string // "" for SQLite in a temporary directory
	// SQLiteCacheMB is the configuration's sqlite_cache_mb (0: SQLite's default page cache).
	SQLiteCacheMB int64
	Lines         int
	JSON          bool   // print one JSON object instead of text
	CPUProfile    string // write a CPU profile of the import (not the seeding) to this file
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
	// RSSBeforeBytes is the resident set when the import starts: the running pocketramp (the
	// server, River, the sandbox chain) with the seeded payments, before any of the statement.
	RSSBeforeBytes uint64 `json:"rss_before_bytes"`
	// ProcessPeakRSSBytes is the high-water mark of the whole run, seeding included.
	ProcessPeakRSSBytes uint64 `json:"process_peak_rss_bytes"`
	// RSSFileBeforeBytes is the file-backed part of RSSBeforeBytes: pages of the pocketramp
	// binary itself (its code and read-only data) that start-up touched. They are clean, shared
	// and reclaimable, and do not grow with the statement.
	RSSFileBeforeBytes uint64 `json:"rss_file_before_bytes"`
	// PeakRSSAnonBytes is the highest anonymous resident set sampled during the import (every
	// 20 ms from /proc/self/statm, which is cheap to read): the process's own memory (Go heap,
	// stacks, SQLite's cache), without the binary.
	PeakRSSAnonBytes uint64 `json:"peak_rss_anon_bytes"`
	// FloorSeconds is the import's ceiling: the database alone writing the rows the import
	// wrote, copied in one transaction into a fresh database of the same schema (floor.go).
	FloorSeconds float64 `json:"floor_seconds"`
	// FloorRows counts the rows the floor wrote (inserted and updated), all tables together.
	FloorRows int64 `json:"floor_rows"`
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
	a, cleanup, err := startApp(ctx, dir, databaseURL, opt.SQLiteCacheMB)
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
	start := time.Now()
	concepts, amount, err := seedPayments(ctx, a, cred.ID, users, n)
	if err != nil {
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
		return amount, fmt.Sprintf("TRANSF SEPA /RF %s %s", concepts[i][:5], concepts[i][5:])
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
	concepts = nil
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapBefore = ms.HeapInuse
	res.ProcessPeakRSSBytes = peakRSS()
	resetPeakRSS()
	res.RSSBeforeBytes = procStatus("VmRSS:")
	res.RSSFileBeforeBytes = procStatus("RssFile:")
	var peak, peakAnon atomic.Uint64
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
			if a := anonRSS(); a > peakAnon.Load() {
				peakAnon.Store(a)
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
	mark, err := markFloor(ctx, a.DB)
	if err != nil {
		return StatementResult{}, err
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
	res.Matched, res.PeakHeap, res.PeakRSSAnonBytes = ir.Matched, peak.Load(), peakAnon.Load()
	res.PeakRSSBytes = peakRSS()
	res.ProcessPeakRSSBytes = max(res.ProcessPeakRSSBytes, res.PeakRSSBytes)
	floor, err := importFloor(ctx, a.DB, dir, databaseURL, mark)
	if err != nil {
		return StatementResult{}, err
	}
	res.FloorSeconds, res.FloorRows = floor.took.Seconds(), floor.rows
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
	fmt.Fprintf(out, "import + auto-match: %s (%.0f lines/s), matched %d/%d; heap in use %.0f MB before, peak %.0f MB; peak RSS during the import %.0f MB (%.0f MB when it started, %.0f MB of it the binary's pages; whole run %.0f MB); peak anonymous RSS %.0f MB\n",
		elapsed.Round(time.Millisecond), res.LinesPerS, ir.Matched, n, float64(res.HeapBefore)/1e6, float64(res.PeakHeap)/1e6,
		float64(res.PeakRSSBytes)/1e6, float64(res.RSSBeforeBytes)/1e6, float64(res.RSSFileBeforeBytes)/1e6, float64(res.ProcessPeakRSSBytes)/1e6,
		float64(res.PeakRSSAnonBytes)/1e6)
	fmt.Fprintf(out, "floor: the database alone writes the import's %d rows in %s (one INSERT ... SELECT per table into a fresh database of the same schema); the import took %.1f × that\n",
		res.FloorRows, floor.took.Round(time.Millisecond), res.Seconds/res.FloorSeconds)
	return res, nil
}

// resetPeakRSS resets the kernel's high-water mark of this process's resident set (Linux), so
// peakRSS measures from now on; elsewhere it does nothing.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// anonRSS is the resident set less its file-backed and shared pages, from /proc/self/statm
// (Linux; 0 elsewhere): one short line, where /proc/self/status costs enough to show in the
// import's profile when read every 20 ms.
func anonRSS() uint64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident, shared uint64
	if _, err := fmt.Sscan(string(raw), &size, &resident, &shared); err != nil || shared > resident {
		return 0
	}
	return (resident - shared) * uint64(os.Getpagesize())
}

// peakRSS reads VmHWM from /proc (Linux); 0 elsewhere.
func peakRSS() uint64 { return procStatus("VmHWM:") }

// procStatus reads a size in kB from /proc/self/status (Linux) in bytes; 0 elsewhere.
func procStatus(field string) uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	var kb uint64
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(field)) {
			fmt.Sscanf(string(bytes.TrimPrefix(line, []byte(field))), "%d", &kb)
		}
	}
	return kb * 1024
}

// seedPayments creates n open bank-transfer payments of one amount, spread over users, and
// returns their references. It is a fixture, not the createPayment path: one payment is created
// through createPayment as the template (amounts, price, fees, receiving account), and the
// others are copies of it with their own id, customer and reference, inserted set-based in one
// transaction. Seeding 100,000 payments through createPayment took longer than the import it
// prepares (each call sums its customer's recent payments for the limits).
func seedPayments(ctx context.Context, a *app.App, integrationID int64, users []int64, n int) ([]string, money.Amount, error) {
	amount := money.FromInt64(10000, 2)
	raw, _ := json.Marshal(amount.String())
	c, err := a.Onramp.Create(ctx, onramp.CreateInput{IntegrationID: integrationID, Sandbox: true, UserID: users[0],
		PaymentType: "transfer", FiatSymbol: "EUR", FiatAmount: raw, CoinSymbol: "USDC", CoinChain: "polygon",
		Wallet: "0x52908400098527886E0F7030069857D2E4169EE7"})
	if err != nil {
		return nil, money.Amount{}, err
	}
	p := c.Payment
	concepts := make([]string, n)
	concepts[0] = p.Concept
	for i, body := 1, int64(1_000_000_000); i < n; body++ {
		// Valid references (ISO 7064 check digits, as onramp.ValidConcept wants), distinct
		// from each other and from the template's.
		if c := fmt.Sprintf("%d%02d", body, 98-(body*100)%97); c != p.Concept {
			concepts[i] = c
			i++
		}
	}
	const cols = 26
	err = a.DB.Tx(ctx, func(tx *store.Tx) error {
		return store.Chunks(n-1, store.RowsPerStatement(cols), func(from, to int) error {
			args := make([]any, 0, cols*(to-from))
			for i := from + 1; i <= to; i++ {
				id := ids.Alnum(25)
				hash := sha256.Sum256([]byte(id))
				args = append(args, id, p.IntegrationID, users[i%len(users)], p.Sandbox, p.Guided, p.PaymentType, p.Fiat,
					p.FiatAmount.Scale(), p.FiatAmount.Units().Int64(), p.EUREquivalent.Units().Int64(), p.Coin, p.Chain,
					p.CoinAmount.Scale(), p.CoinAmount.UnitsString(), p.Price.String(), string(p.Fees), p.Wallet, p.Status,
					concepts[i], p.BankIBAN, p.CallbackURL, hash[:], store.Micros(p.CreatedAt), store.Micros(p.UpdatedAt),
					store.Micros(p.ExpiresAt), nil)
			}
			_, err := tx.Exec(ctx, `INSERT INTO payments (id, integration_id, user_id, sandbox, guided, payment_type, fiat_symbol,
				fiat_scale, fiat_amount, eur_equivalent, coin_symbol, coin_chain, coin_decimals, coin_amount, price, fees, wallet,
				status, concept, bank_iban, callback_url, page_token_hash, created_at, updated_at, expires_at, quote_id)
				VALUES `+store.Placeholders(to-from, cols), args...)
			return err
		})
	})
	return concepts, amount, err
}
