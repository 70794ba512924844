package customer

import (
	"context"
	"errors"
	"testing"
)

// The slow hash never runs more than cap(slowHashes) times at once: with every slot held, a
// check waits, and gives up when its request ends.
func TestSlowHashIsBounded(t *testing.T) {
	hash := HashPassword("correct horse")
	ctx := context.Background()
	for range cap(slowHashes) {
		slowHashes.Acquire(ctx)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := CheckPasswordContext(done, hash, "correct horse"); !errors.Is(err, context.Canceled) {
		t.Fatalf("check with every slot taken: %v, want it to wait and give up", err)
	}
	for range cap(slowHashes) {
		slowHashes.Release()
	}
	if ok, err := CheckPasswordContext(ctx, hash, "correct horse"); !ok || err != nil {
		t.Fatalf("check with free slots: %v %v", ok, err)
	}
	if ok, _ := CheckPasswordContext(ctx, "$argon2id$v=19$m=4000000,t=1,p=1$c2FsdA$aGFzaA", "x"); ok {
		t.Fatal("a stored hash asking for 4 GB was run")
	}
}
