package customer

import (
	"context"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/nationalid"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Search finds customers of every integration for the operator console, newest first. The
// query is tried as what it looks like, each through an index: an e-mail (exact), an IBAN
// (exact, spaces ignored), an identification number or a local account number (CLABE, CBU),
// the last three through lookup hashes as they are stored encrypted, a customer id, or else
// the start of a first name.
func (s *Service) Search(ctx context.Context, query string, page, perPage int) (_ []Customer, _ int, err error) {
	defer errcode.Op("customer.Search", &err)
	q := strings.TrimSpace(query)
	var w store.Where
	compact := strings.ToUpper(strings.ReplaceAll(q, " ", ""))
	switch {
	case q == "":
	case strings.Contains(q, "@"):
		w.Add("email = ?", strings.ToLower(q))
	case len(compact) >= 15 && len(compact) <= 34 && isLetter(compact[0]) && isLetter(compact[1]) && isDigit(compact[2]) && isDigit(compact[3]):
		w.Add("iban_hash = ?", AccountHash(s.Box, compact))
	case allDigits(q) && len(q) < 8:
		w.Add("id = ?", q)
	case hasDigit(q):
		n := nationalid.Normalize(q)
		// An ID number, or a local account number (CLABE, CBU …) kept encrypted like an IBAN.
		w.Add("(identification_hash IN (?, ?) OR iban_hash = ?)", s.idHash(n), s.idHash(strings.TrimPrefix(n, "ES")), AccountHash(s.Box, compact))
	default:
		// A range on the indexed lower-case name (LIKE alone would scan the table on
		// PostgreSQL), then LIKE for the exact prefix. SQLite's lower() folds ASCII only.
		lo := strings.ToLower(q)
		r := []rune(lo)
		r[len(r)-1]++
		w.Add("name_key >= ? AND name_key < ? AND name_key LIKE ? ESCAPE '!'", lo, string(r), escapeLike(lo)+"%")
	}
	return store.Page(ctx, s.DB, "customers", columns, w, "id DESC", page, perPage, s.scan)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`!`, `!!`, `%`, `!%`, `_`, `!_`).Replace(s)
}

func isLetter(b byte) bool { return b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool  { return b >= '0' && b <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// ReviewEntry is one decision in a customer's review history.
type ReviewEntry struct {
	Action    string
	Reason    string
	Actor     string
	CreatedAt string
}

// ReviewHistory lists a customer's KYC decisions, oldest first.
func (s *Service) ReviewHistory(ctx context.Context, id int64) (_ []ReviewEntry, err error) {
	defer errcode.Op("customer.ReviewHistory", &err)
	rows, err := s.DB.Query(ctx, "SELECT action, reason, actor, created_at FROM customer_reviews WHERE customer_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReviewEntry
	for rows.Next() {
		var e ReviewEntry
		var at int64
		if err := rows.Scan(&e.Action, &e.Reason, &e.Actor, &at); err != nil {
			return nil, err
		}
		e.CreatedAt = store.Time(at).Format("2006-01-02 15:04 UTC")
		out = append(out, e)
	}
	return out, rows.Err()
}
