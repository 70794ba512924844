package webhook

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/secret"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// TestBatcherGathersCallsWhileBusy: a lone call runs at once; the calls arriving while it runs
// go together in the next run (up to max), each getting its own result; a failed run fails
// only its own calls.
func TestBatcherGathersCallsWhileBusy(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var mu sync.Mutex
		var runs [][]int
		b := &batcher[int, string]{max: 3, run: func(items []int) ([]string, error) {
			mu.Lock()
			runs = append(runs, slices.Clone(items))
			first := len(runs) == 1
			mu.Unlock()
			if first {
				<-release
			}
			if slices.Contains(items, 99) {
				return nil, errors.New("run failed")
			}
			out := make([]string, len(items))
			for i, v := range items {
				out[i] = fmt.Sprint("r", v)
			}
			return out, nil
		}}
		results := make([]string, 6)
		errs := make([]error, 6)
		var wg sync.WaitGroup
		call := func(i, v int) {
			wg.Go(func() { results[i], errs[i] = b.do(context.Background(), v) })
		}
		call(0, 0)
		synctest.Wait() // the first run is busy with item 0 alone
		for i := 1; i <= 4; i++ {
			call(i, i)
		}
		synctest.Wait()
		call(5, 99)
		synctest.Wait()
		close(release)
		wg.Wait()
		if len(runs) != 3 || !slices.Equal(runs[0], []int{0}) || len(runs[1]) != 3 || len(runs[2]) != 2 || !slices.Contains(runs[2], 99) {
			t.Fatalf("runs %v, want [0], then the next three queued, then the rest with 99", runs)
		}
		for i := range 5 {
			inFailed := slices.Contains(runs[2], i)
			if inFailed && errs[i] == nil || !inFailed && (errs[i] != nil || results[i] != fmt.Sprint("r", i)) {
				t.Errorf("call %d: %q, %v", i, results[i], errs[i])
			}
		}
		if errs[5] == nil {
			t.Error("the call in the failed run got no error")
		}
		// A caller whose context ends stops waiting.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := b.do(ctx, 7); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled caller: %v", err)
		}
	})
}

// TestRecordManyInOneTransaction records several attempts together: each delivery gets its
// attempt logged with the right number and status, a delivery attempted twice in one batch
// counts both, a vanished delivery fails alone, and loadMany reads them back with their
// subscription.
func TestRecordManyInOneTransaction(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		key := make([]byte, 32)
		rand.Read(key)
		box, _ := secret.NewBox(key)
		ins := &integration.Service{DB: db, Box: box, Now: time.Now}
		s, err := New(ctx, Config{DB: db, Integrations: ins, Box: box})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop(ctx)
		cred, _ := ins.Create(ctx, integration.NewParams{Name: "P", Sandbox: true})
		in, _ := ins.Get(ctx, cred.ID)
		if err := s.Subscribe(ctx, in, "PAY_IN", "http://127.0.0.1:9/x"); err != nil {
			t.Fatal(err)
		}
		l := &event.Log{Enqueue: s.Enqueue}
		var ids []string
		for i := range 3 {
			db.Tx(ctx, func(tx *store.Tx) error {
				_, err = l.Record(ctx, tx, time.Now(), in.ID, event.PayIn, "payment", fmt.Sprint("p", i), map[string]any{})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		list, _, _ := s.Deliveries(ctx, in.ID, Filter{})
		for _, d := range list {
			ids = append(ids, d.ID)
		}
		got, err := s.loadMany(append(slices.Clone(ids), "whd_missing"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[3].err != ErrDeliveryNotFound {
			t.Fatalf("loaded %+v", got)
		}
		for i, l := range got[:3] {
			if l.err != nil || l.d.ID != ids[i] || l.sub == nil || l.sub.URL != "http://127.0.0.1:9/x" || !l.d.JobID.Valid || l.production != 0 {
				t.Fatalf("loaded %d: %+v", i, l)
			}
		}
		sub := got[0].sub
		ok := Result{URL: sub.URL, At: time.Now(), Success: true, StatusCode: 200}
		bad := Result{URL: sub.URL, At: time.Now(), StatusCode: 503, Error: "HTTP 503"}
		out, err := s.recordMany([]attemptRecord{
			{d: got[0].d, sub: sub, res: ok},
			{d: got[1].d, sub: sub, res: bad},
			{d: got[1].d, sub: sub, res: bad, final: true},
			{d: got[2].d, sub: sub, res: bad, final: true},
			{d: delivery{ID: "whd_missing"}, sub: sub, res: ok},
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range out {
			if r.disabled || (i == 4) != (r.err != nil) {
				t.Fatalf("recorded %d: %+v", i, r)
			}
		}
		want := []struct {
			status   string
			attempts int
		}{{StatusSucceeded, 1}, {StatusFailed, 2}, {StatusFailed, 1}}
		for i, w := range want {
			d, err := s.Delivery(ctx, in.ID, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != w.status || d.Attempts != w.attempts || len(d.Log) != w.attempts {
				t.Fatalf("delivery %d: %+v", i, d)
			}
			for j, a := range d.Log {
				if a.Attempt != j+1 {
					t.Fatalf("delivery %d log: %+v", i, d.Log)
				}
			}
			if (d.DeliveredAt != nil) != (w.status == StatusSucceeded) {
				t.Fatalf("delivery %d delivered_at: %+v", i, d)
			}
		}
		// The batch had failures after the success: the endpoint is failing since now.
		if s2, _ := s.subscription(ctx, in.ID, event.PayIn); s2.FailingSince == nil || s2.LastSuccessAt == nil {
			t.Fatalf("subscription health: %+v", s2)
		}
		// A batch of successes (on PostgreSQL one statement, no transaction) is logged like any
		// attempt and marks the endpoint healthy again.
		out, err = s.recordMany([]attemptRecord{{d: got[1].d, sub: sub, res: ok}, {d: got[2].d, sub: sub, res: ok}})
		if err != nil || out[0].err != nil || out[1].err != nil {
			t.Fatalf("recording successes: %v %+v", err, out)
		}
		for i, n := range map[int]int{1: 3, 2: 2} {
			d, _ := s.Delivery(ctx, in.ID, ids[i])
			if d.Status != StatusSucceeded || d.Attempts != n || len(d.Log) != n || !d.Log[n-1].Success || d.DeliveredAt == nil {
				t.Fatalf("delivery %d after success: %+v", i, d)
			}
		}
		if s2, _ := s.subscription(ctx, in.ID, event.PayIn); s2.FailingSince != nil || s2.LastSuccessAt == nil {
			t.Fatalf("subscription after successes: %+v", s2)
		}
	})
}
