package banking

import (
	"testing"

	"github.com/pocketramp/pocketramp/internal/bankacct"
)

func TestSandboxIBANIsValid(t *testing.T) {
	for i := 0; i < 200; i++ {
		iban := SandboxIBAN()
		if _, err := bankacct.IBAN(iban); err != nil {
			t.Fatalf("%s: %v", iban, err)
		}
	}
}
