package webhook_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
	"github.com/pocketramp/pocketramp/internal/webhook"
	"github.com/pocketramp/pocketramp/internal/webhook/webhooktest"
)

// BenchmarkDelivery records b.N events from 8 concurrent writers (each in its own transaction,
// as a domain change would) with a subscription to a local receiver that verifies both
// signatures, and reports deliveries per second (from the first change to the last delivery)
// and the latency from each change's commit to its delivery (p50, p99, max).
//
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test go test -run '^$' -bench Delivery -benchtime 2000x ./internal/webhook/
func BenchmarkDelivery(b *testing.B) {
	for _, engine := range []store.Engine{store.SQLite, store.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			db := storetest.Open(b, engine)
			e := newEnv(b, db, webhook.Config{}, true)
			benchDelivery(b, e)
		})
	}
}

func benchDelivery(b *testing.B, e *env) {
	ctx := context.Background()
	rcv := webhooktest.NewReceiver(b)
	whsec, _ := e.svc.SigningSecret(ctx, e.in.ID)
	rcv.SetKeys(e.cred.APIKey, e.cred.APISecret, whsec)
	if err := e.svc.Subscribe(ctx, e.in, "PAY_IN", rcv.URL()); err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	committed := map[string]time.Time{}
	arrived := map[string]time.Time{}
	done := make(chan struct{})
	n := b.N
	rcv.OnReceive(func(p webhooktest.Payload) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := arrived[p.ID]; dup {
			return
		}
		arrived[p.ID] = time.Now()
		if len(arrived) == n {
			close(done)
		}
	})
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range jobs {
				var ev event.Event
				err := e.db.Tx(ctx, func(tx *store.Tx) error {
					var err error
					ev, err = e.log.Record(ctx, tx, time.Now(), e.in.ID, event.PayIn, "payment", fmt.Sprint(i), map[string]any{"id": i, "status": "paid"})
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
				at := time.Now()
				mu.Lock()
				committed[ev.ID] = at
				mu.Unlock()
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d delivered", len(arrived), n)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	lat := make([]time.Duration, 0, n)
	for id, c := range committed {
		// A delivery can beat the writer's timestamp by microseconds: the job is visible at
		// commit, before Tx returns.
		lat = append(lat, max(0, arrived[id].Sub(c)))
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	b.ReportMetric(float64(n)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
	b.ReportMetric(0, "ns/op")
	if rej := rcv.Rejections(); len(rej) > 0 {
		b.Fatalf("receiver rejected: %v", rej[0])
	}
}
