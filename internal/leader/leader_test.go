package leader_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketramp/pocketramp/internal/leader"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// Two electors on one PostgreSQL schema: one leads at a time; when the leader stops, the other
// takes over. On SQLite the only server always leads.
func TestOneLeaderAtATime(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var leading atomic.Int32
		var most atomic.Int32
		type run struct {
			cancel context.CancelFunc
			done   chan struct{}
			led    atomic.Bool
		}
		start := func(url string) *run {
			r := &run{done: make(chan struct{})}
			rctx, cancel := context.WithCancel(ctx)
			r.cancel = cancel
			e := &leader.Elector{DB: db, URL: url, Interval: 50 * time.Millisecond}
			go func() {
				defer close(r.done)
				e.Run(rctx, func(lctx context.Context) {
					r.led.Store(true)
					n := leading.Add(1)
					if n > most.Load() {
						most.Store(n)
					}
					<-lctx.Done()
					leading.Add(-1)
				})
			}()
			return r
		}
		wait := func(what string, cond func() bool) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for !cond() {
				if time.Now().After(deadline) {
					t.Fatalf("%s: not reached", what)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		a := start("http://a")
		wait("a leads", a.led.Load)
		if db.Engine() == store.SQLite {
			a.cancel()
			<-a.done
			return
		}
		b := start("http://b")
		time.Sleep(300 * time.Millisecond) // b tries several times meanwhile
		if b.led.Load() {
			t.Fatal("b leads while a does")
		}
		if _, url, err := leader.Current(ctx, db); err != nil || url != "http://a" {
			t.Fatalf("leader row: %q %v", url, err)
		}
		a.cancel()
		<-a.done
		wait("b takes over", b.led.Load)
		if _, url, _ := leader.Current(ctx, db); url != "http://b" {
			t.Fatalf("leader row after the takeover: %q", url)
		}
		b.cancel()
		<-b.done
		if most.Load() != 1 {
			t.Fatalf("%d leaders at once", most.Load())
		}
	})
}
