package errcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestInvalidSummary(t *testing.T) {
	f := Fields{}
	if f.Err() != nil {
		t.Fatal("empty fields must be nil error")
	}
	Required(f, "email")
	if got := f.Err().Error(); got != "The email field is required." {
		t.Fatalf("got %q", got)
	}
	Required(f, "company_name")
	if got := f.Err().Error(); got != "The company name field is required. (and 1 more error)" {
		t.Fatalf("got %q", got)
	}
	f.Add("email", "second")
	if got := f.Err().Error(); got != "The company name field is required. (and 2 more errors)" {
		t.Fatalf("got %q", got)
	}
	if !IsInvalid(fmt.Errorf("wrapped: %w", f.Err())) {
		t.Fatal("IsInvalid must see through wrapping")
	}
}

func TestErrorIsByCode(t *testing.T) {
	err := fmt.Errorf("ctx: %w", CoinNotSupported.With("no such coin", nil))
	if !errors.Is(err, CoinNotSupported) {
		t.Fatal("errors.Is must match by code")
	}
	if errors.Is(err, Unauthorized) {
		t.Fatal("different codes must not match")
	}
}

func TestErrInNamesTheFirstDeclaredField(t *testing.T) {
	f := Fields{}
	Required(f, "company_name")
	Required(f, "email")
	if got := f.ErrIn("email", "company_name").Error(); got != "The email field is required. (and 1 more error)" {
		t.Fatalf("got %q", got)
	}
	if got := f.Err().Error(); got != "The company name field is required. (and 1 more error)" {
		t.Fatalf("Err: %q", got)
	}
	if (Fields{}).ErrIn("x") != nil {
		t.Fatal("empty fields must be nil")
	}
}

func TestWithKindKeepsTheCode(t *testing.T) {
	nf := UserNotFound.WithKind(KindNotFound)
	if nf.Kind != KindNotFound || UserNotFound.Kind != KindRefused || !errors.Is(nf, UserNotFound) {
		t.Fatalf("copy %+v, catalogue entry %+v", nf, UserNotFound)
	}
}

func TestOpNamesInternalErrorsOnly(t *testing.T) {
	driver := errors.New("database is locked")
	run := func(ret error) (err error) {
		defer Op("onramp.Create", &err)
		return ret
	}
	if err := run(driver); err == nil || err.Error() != "onramp.Create: database is locked" || !errors.Is(err, driver) {
		t.Fatalf("internal error: %v", err)
	}
	if err := run(nil); err != nil {
		t.Fatalf("nil became %v", err)
	}
	biz := UserBanned.With("banned", nil)
	if err := run(fmt.Errorf("check: %w", biz)); err.Error() != "check: user_banned: banned" {
		t.Fatalf("business error changed: %v", err)
	}
	inv := Field("amount", "The amount is required.")
	if err := run(inv); err != error(inv) {
		t.Fatalf("validation error changed: %v", err)
	}
}
