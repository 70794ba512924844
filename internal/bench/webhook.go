package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pocketramp/pocketramp/internal/app"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// webhookResult is the delivery benchmark's outcome.
type webhookResult struct {
	n       int
	perSec  float64
	ceiling float64
}

// benchWebhooks queues a backlog of PAY_IN events (1,000 per second of opt.Duration) for a
// subscription to a loopback receiver, starts the delivery workers and measures how fast the
// backlog drains: every delivery signed, posted, answered 200 and recorded. The ceiling is
// plain POSTs of the same body to the same receiver by as many clients as there are workers.
func benchWebhooks(ctx context.Context, a *app.App, integrationID int64, opt Options) (webhookResult, error) {
	n := max(1000, int(opt.Duration.Seconds()*1000))
	var mu sync.Mutex
	arrived := map[string]bool{}
	done := make(chan struct{})
	rcv, stop, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/hook" {
			var p struct{ ID string }
			json.Unmarshal(body, &p)
			mu.Lock()
			if _, dup := arrived[p.ID]; !dup && p.ID != "" {
				arrived[p.ID] = true
				if len(arrived) == n {
					close(done)
				}
			}
			mu.Unlock()
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	if err != nil {
		return webhookResult{}, err
	}
	defer stop()
	in, err := a.Integrations.Get(ctx, integrationID)
	if err != nil {
		return webhookResult{}, err
	}
	if err := a.Webhooks.Subscribe(ctx, in, event.PayIn, rcv+"/hook"); err != nil {
		return webhookResult{}, err
	}
	const perTx = 100
	for i := 0; i < n; i += perTx {
		err := a.DB.Tx(ctx, func(tx *store.Tx) error {
			for j := i; j < min(n, i+perTx); j++ {
				if _, err := a.Events.Record(ctx, tx, time.Now(), integrationID, event.PayIn, "payment", fmt.Sprint(j),
					map[string]any{"id": j, "status": "payment_received"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return webhookResult{}, err
		}
	}
	start := time.Now()
	if err := a.Start(ctx); err != nil {
		return webhookResult{}, err
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		mu.Lock()
		defer mu.Unlock()
		return webhookResult{}, fmt.Errorf("only %d of %d delivered in 5 minutes", len(arrived), n)
	case <-ctx.Done():
		return webhookResult{}, ctx.Err()
	}
	elapsed := time.Since(start)
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	a.Stop(stopCtx)
	cancel()
	res := webhookResult{n: n, perSec: float64(n) / elapsed.Seconds()}

	body := strings.Repeat("x", 200) // a PAY_IN payload's size
	c := load(hostOf(rcv), "webhook ceiling", always(wireRequest("POST", rcv+"/ceiling", []byte(body))), Options{Duration: opt.Duration, Concurrency: webhook.DefaultWorkers})
	res.ceiling = c.PerSec
	return res, nil
}
