// Package audit keeps the operator audit log: every operator action and setting change, who did
// it, when, from where and what it changed (before → after). Records are append-only and
// hash-chained: each record's hash covers its fields and the previous record's hash, and a head
// row names the last record, so Verify detects a record that was altered, removed or truncated
// from the end. The database also refuses UPDATE and DELETE on the table (triggers).
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/store"
)

// Record is one audited action.
type Record struct {
	Seq    int64
	At     time.Time
	Actor  string // operator e-mail, "automation" for the shared token, "cli" for commands
	Role   string
	Via    string // console, api, cli
	Source string // client address
	Action string // e.g. customer.decision, integration.update
	Target string // e.g. customer:42
	Before string // JSON, "" when nothing existed
	After  string // JSON
	Prev   string // hash of the previous record ("" for the first)
	Hash   string
}

// Log appends and reads records.
type Log struct {
	DB  *store.DB
	Now func() time.Time
}

// JSON renders v for Before/After; nil is "".
func JSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return string(b)
}

// Append adds r at the end of the chain in its own transaction.
func (l *Log) Append(ctx context.Context, r Record) (Record, error) {
	var out Record
	err := l.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = l.AppendTx(ctx, tx, r)
		return err
	})
	return out, err
}

// AppendTx adds r in tx, so the record commits with the change it describes. The head row is
// locked, which serialises appends.
func (l *Log) AppendTx(ctx context.Context, tx *store.Tx, r Record) (Record, error) {
	var headSeq int64
	var headHash string
	if err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1"+tx.ForUpdate()).Scan(&headSeq, &headHash); err != nil {
		return Record{}, fmt.Errorf("audit head: %w", err)
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	r.Seq, r.Prev = headSeq+1, headHash
	r.At = store.Time(store.Micros(now())) // stored precision, so the hash verifies after a read
	r.Hash = hashOf(r)
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, role, via, source, action, target, before, after, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Seq, store.Micros(r.At), r.Actor, r.Role, r.Via, r.Source, r.Action, r.Target,
		r.Before, r.After, r.Prev, r.Hash); err != nil {
		return Record{}, err
	}
	if _, err := tx.Exec(ctx, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", r.Seq, r.Hash); err != nil {
		return Record{}, err
	}
	return r, nil
}

// hashOf is SHA-256 over the previous hash and every field, each length-prefixed so no two
// different records can share an encoding.
func hashOf(r Record) string {
	h := sha256.New()
	for _, f := range []string{r.Prev, strconv.FormatInt(r.Seq, 10), strconv.FormatInt(store.Micros(r.At), 10), r.Actor, r.Role, r.Via,
		r.Source, r.Action, r.Target, r.Before, r.After} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

const columns = "seq, at, actor, role, via, source, action, target, before, after, prev_hash, hash"

func scan(s store.Scanner) (Record, error) {
	var r Record
	var at int64
	err := s.Scan(&r.Seq, &at, &r.Actor, &r.Role, &r.Via, &r.Source, &r.Action, &r.Target, &r.Before, &r.After, &r.Prev, &r.Hash)
	r.At = store.Time(at)
	return r, err
}

// Filter narrows List.
type Filter struct {
	Actor  string
	Target string // exact, e.g. customer:42
	Action string // prefix, e.g. customer.
}

// List returns one page of records, newest first.
func (l *Log) List(ctx context.Context, f Filter, page, perPage int) ([]Record, int, error) {
	var w store.Where
	w.AddIf(f.Actor != "", "actor = ?", f.Actor)
	w.AddIf(f.Target != "", "target = ?", f.Target)
	w.AddIf(f.Action != "", "action LIKE ?", strings.ReplaceAll(f.Action, "%", "")+"%")
	return store.Page(ctx, l.DB, "audit_log", columns, w, "seq DESC", page, perPage, scan)
}

// Report is what Verify found.
type Report struct {
	Checked  int64
	Problems []string
}

// OK reports whether the chain is intact.
func (r Report) OK() bool { return len(r.Problems) == 0 }

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "audit log: %d records checked\n", r.Checked)
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  PROBLEM %s\n", p)
	}
	if r.OK() {
		b.WriteString("audit log OK: the hash chain is intact\n")
	}
	return b.String()
}

// maxProblems bounds the report: past the first break, every later record also mismatches.
const maxProblems = 50

// Verify walks the whole chain in order: sequence numbers without gaps, each record's prev_hash
// equal to the previous hash, each hash recomputed, and the head naming the last record.
func Verify(ctx context.Context, db *store.DB) (Report, error) {
	var rep Report
	add := func(format string, args ...any) {
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		}
	}
	rows, err := db.Query(ctx, "SELECT "+columns+" FROM audit_log ORDER BY seq")
	if err != nil {
		return rep, err
	}
	defer rows.Close()
	var lastSeq int64
	lastHash := ""
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return rep, err
		}
		rep.Checked++
		if r.Seq != lastSeq+1 {
			add("records %d to %d are missing", lastSeq+1, r.Seq-1)
		}
		if r.Prev != lastHash {
			add("record %d does not follow record %d (its previous hash differs)", r.Seq, lastSeq)
		}
		if hashOf(r) != r.Hash {
			add("record %d was altered (its content does not match its hash)", r.Seq)
		}
		lastSeq, lastHash = r.Seq, r.Hash
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	var headSeq int64
	var headHash string
	err = db.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&headSeq, &headHash)
	if errors.Is(err, sql.ErrNoRows) {
		add("the head record is missing")
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	if headSeq != lastSeq || headHash != lastHash {
		add("the log ends at record %d but the head names record %d: records were removed from the end", lastSeq, headSeq)
	}
	return rep, nil
}
