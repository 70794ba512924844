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
