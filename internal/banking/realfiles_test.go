package banking

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// realBankFiles is the public sample data beside the repository: real statements from the test
// data of open-source camt, MT940 and Norma 43 parsers (their SOURCES.md gives each origin).
const realBankFiles = "../../../shared/bankfiles"

// Every real statement file imports into the database: each statement's account registered as
// the operator would (IBAN, or its other account id), every booked entry stored once, and a
// second import of the same file adds nothing. The ledger verifies afterwards. The parser's
// own goldens for these files are in internal/bankfile (real_test.go).
func TestImportRealFilesTwice(t *testing.T) {
	var files []string
	filepath.WalkDir(realBankFiles, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, ".json") && !strings.HasSuffix(path, ".md") &&
			!strings.Contains(path, ".wrong.") {
			files = append(files, path)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skipf("%s not found: the real bank files are not beside this checkout", realBankFiles)
	}
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _, _ := newImportService(t, db)
		for _, path := range files {
			name := strings.TrimPrefix(path, realBankFiles+"/")
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			stmts, err := bankfile.Parse(raw, bankfile.ParseOptions{})
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			booked := 0
			upload := ""
			for _, st := range stmts {
				id := statementAccount(st)
				acct := Account{IBAN: id, BIC: "DEUTDEFFXXX", HolderName: "Operator", Currency: st.Account.Currency}
				if _, err := bankacct.IBAN(id); err != nil {
					acct.Scheme = "BBAN"
				}
				if acct.Currency == "" && len(st.Entries) > 0 {
					acct.Currency = st.Entries[0].Currency
				}
				if acct.Currency == "" {
					acct.Currency = "EUR"
				}
				reg, err := s.Accounts.Register(ctx, acct)
				if err != nil {
					t.Fatalf("%s: register account %q: %v", name, id, err)
				}
				if upload == "" {
					upload = reg.IBAN
				}
				for _, e := range st.Entries {
					if e.Status == bankfile.StatusBooked {
						booked++
					}
				}
			}
			before := count(t, db, `SELECT COUNT(*) FROM bank_transactions`)
			first, err := s.Import(ctx, upload, name, raw, stmts)
			if err != nil {
				t.Errorf("%s: import: %v", name, err)
				continue
			}
			stored := count(t, db, `SELECT COUNT(*) FROM bank_transactions`) - before
			// Several sample files hold the same movements of the same account (one statement in
			// several versions of a format): those are duplicates of an earlier file, stored once.
			if len(first.Skipped) != 0 || stored != first.Imported+first.ZeroAmount || first.Imported+first.ZeroAmount+first.Duplicates != booked {
				t.Errorf("%s: %d booked entries, %d stored; result %+v", name, booked, stored, first)
			}
			again, err := s.Import(ctx, upload, name, raw, stmts)
			if err != nil {
				t.Errorf("%s: second import: %v", name, err)
				continue
			}
			if again.Imported != 0 || again.ZeroAmount != 0 || count(t, db, `SELECT COUNT(*) FROM bank_transactions`)-before != stored {
				t.Errorf("%s: the second import added entries: %+v", name, again)
			}
		}
		verifyLedger(t, db)
	})
}
