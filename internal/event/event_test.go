package event_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

func TestSequencesAreGapFreePerIntegration(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, name := range []string{"a", "b"} {
			if _, err := db.Exec(ctx, "INSERT INTO integrations (name, sandbox, api_key, secret_enc, token_ttl_s, created_at) VALUES (?, ?, ?, ?, 3600, 0)",
				name, true, "pk_"+name, []byte{1}); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		var enqueued atomic.Int64
		log := &event.Log{Enqueue: func(ctx context.Context, tx *store.Tx, ev event.Event) error {
			enqueued.Add(1)
			return nil
		}}
		var wg sync.WaitGroup
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					integration := int64(1 + (w+i)%2)
					err := db.Tx(ctx, func(tx *store.Tx) error {
						_, err := log.Record(ctx, tx, now, integration, event.KYCStatusChanged, "customer", "1", map[string]int{"i": i})
						return err
					})
					if err != nil {
						t.Error(err)
					}
				}
			}(w)
		}
		wg.Wait()
		// A rolled-back recording leaves no gap.
		db.Tx(ctx, func(tx *store.Tx) error {
			log.Record(ctx, tx, now, 1, event.PayIn, "payment", "p", nil)
			return errors.New("rollback")
		})
		db.Tx(ctx, func(tx *store.Tx) error {
			_, err := log.Record(ctx, tx, now, 1, event.PayIn, "payment", "p", nil)
			return err
		})
		if enqueued.Load() != 62 { // 61 committed + 1 rolled back: enqueue runs inside the transaction
			t.Fatalf("enqueued %d", enqueued.Load())
		}
		for integration, want := range map[int64]int{1: 31, 2: 30} {
			var all []event.Event
			var after int64
			for {
				page, err := event.List(ctx, db, integration, after, 7)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				all = append(all, page...)
				after = page[len(page)-1].Sequence
			}
			if len(all) != want {
				t.Fatalf("integration %d: %d events, want %d", integration, len(all), want)
			}
			for i, ev := range all {
				if ev.Sequence != int64(i+1) {
					t.Fatalf("integration %d: event %d has sequence %d", integration, i, ev.Sequence)
				}
			}
		}
	})
}
