package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

// TestSchemaParity migrates both engines and checks that they describe the same schema: the same
// tables, columns (name, type class, nullability), primary keys, unique constraints, indexes and
// foreign keys. Domain SQL is shared by both engines, so a column or index present on one engine
// only is a bug that the other engine's tests cannot see.
func TestSchemaParity(t *testing.T) {
	lite := describeSQLite(t, storetest.Open(t, store.SQLite).SQL())
	pg := describePostgres(t, storetest.Open(t, store.Postgres).SQL())
	if len(lite) == 0 {
		t.Fatal("no tables found in the SQLite schema")
	}
	for _, name := range union(keys(lite), keys(pg)) {
		l, inLite := lite[name]
		p, inPG := pg[name]
		switch {
		case !inLite:
			t.Errorf("table %s exists only on PostgreSQL", name)
		case !inPG:
			t.Errorf("table %s exists only on SQLite", name)
		default:
			for _, d := range diff(l, p) {
				t.Errorf("table %s: %s", name, d)
			}
		}
	}
}

// schema describes one table as comparable lines, one per column, key, index or foreign key.
type schema []string

func keys(m map[string]schema) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

func diff(lite, pg schema) []string {
	var out []string
	for _, l := range lite {
		if !slices.Contains(pg, l) {
			out = append(out, "only on SQLite: "+l)
		}
	}
	for _, p := range pg {
		if !slices.Contains(lite, p) {
			out = append(out, "only on PostgreSQL: "+p)
		}
	}
	return out
}

// typeClass maps each engine's declared types onto the classes the domain code relies on.
// PostgreSQL BOOLEAN is stored as INTEGER on SQLite's STRICT tables (0/1), so both are "int";
// amounts beyond 64 bits are NUMERIC on PostgreSQL and decimal strings (TEXT) on SQLite.
func typeClass(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	switch {
	case t == "integer" || t == "int" || t == "bigint" || t == "smallint" || t == "boolean":
		return "int"
	case t == "text" || t == "numeric" || strings.HasPrefix(t, "character varying") || strings.HasPrefix(t, "varchar"):
		return "text"
	case t == "blob" || t == "bytea":
		return "bytes"
	case t == "real" || t == "double precision":
		return "real"
	}
	return t
}

// skipTable leaves out tables owned by libraries with their own per-engine migrations.
func skipTable(name string) bool {
	return name == "goose_db_version" || strings.HasPrefix(name, "river_") || strings.HasPrefix(name, "sqlite_")
}

func rowsOf(t *testing.T, db *sql.DB, query string, args ...any) [][]sql.NullString {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]sql.NullString
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

func describeSQLite(t *testing.T, db *sql.DB) map[string]schema {
	out := map[string]schema{}
	for _, r := range rowsOf(t, db, `SELECT name FROM sqlite_master WHERE type = 'table'`) {
		table := r[0].String
		if skipTable(table) {
			continue
		}
		var s schema
		var pk []string
		for _, c := range rowsOf(t, db, `SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, table) {
			notNull := c[2].String == "1" || c[3].String != "0"
			s = append(s, fmt.Sprintf("column %s %s notnull=%v", c[0].String, typeClass(c[1].String), notNull))
			if c[3].String != "0" {
				pk = append(pk, c[3].String+":"+c[0].String)
			}
		}
		slices.Sort(pk)
		for i := range pk {
			pk[i] = pk[i][strings.Index(pk[i], ":")+1:]
		}
		s = append(s, "primary key ("+strings.Join(pk, ", ")+")")
		for _, ix := range rowsOf(t, db, `SELECT name, "unique", origin, partial FROM pragma_index_list(?)`, table) {
			if ix[2].String == "pk" {
				continue
			}
			var cols []string
			for _, c := range rowsOf(t, db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix[0].String) {
				cols = append(cols, c[0].String)
			}
			s = append(s, indexLine(ix[1].String == "1", ix[3].String == "1", cols))
		}
		for _, fk := range rowsOf(t, db, `SELECT "table", group_concat("from", ', '), group_concat("to", ', ') FROM pragma_foreign_key_list(?) GROUP BY id`, table) {
			s = append(s, fmt.Sprintf("foreign key (%s) references %s (%s)", fk[1].String, fk[0].String, fk[2].String))
		}
		slices.Sort(s)
		out[table] = s
	}
	return out
}

func describePostgres(t *testing.T, db *sql.DB) map[string]schema {
	out := map[string]schema{}
	for _, r := range rowsOf(t, db, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`) {
		table := r[0].String
		if skipTable(table) {
			continue
		}
		var s schema
		for _, c := range rowsOf(t, db, `SELECT column_name, data_type, is_nullable FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table) {
			s = append(s, fmt.Sprintf("column %s %s notnull=%v", c[0].String, typeClass(c[1].String), c[2].String == "NO"))
		}
		// Index columns in index order; expression indexes show their expression.
		ixs := rowsOf(t, db, `SELECT i.indisprimary, i.indisunique, i.indpred IS NOT NULL,
				(SELECT string_agg(pg_get_indexdef(i.indexrelid, k, true), ', ' ORDER BY k)
				   FROM generate_series(1, i.indnkeyatts) AS k)
			FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
			WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`, table)
		for _, ix := range ixs {
			cols := strings.Split(ix[3].String, ", ")
			if ix[0].String == "true" {
				s = append(s, "primary key ("+strings.Join(cols, ", ")+")")
				continue
			}
			s = append(s, indexLine(ix[1].String == "true", ix[2].String == "true", cols))
		}
		for _, fk := range rowsOf(t, db, `SELECT
				(SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(con.conkey) WITH ORDINALITY AS k(att, n)
				   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.att),
				ref.relname,
				(SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(con.confkey) WITH ORDINALITY AS k(att, n)
				   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.att)
			FROM pg_constraint con
			JOIN pg_class c ON c.oid = con.conrelid
			JOIN pg_class ref ON ref.oid = con.confrelid
			WHERE con.contype = 'f' AND c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`, table) {
			s = append(s, fmt.Sprintf("foreign key (%s) references %s (%s)", fk[0].String, fk[1].String, fk[2].String))
		}
		slices.Sort(s)
		out[table] = s
	}
	return out
}

func indexLine(unique, partial bool, cols []string) string {
	kind := "index"
	if unique {
		kind = "unique index"
	}
	if partial {
		kind = "partial " + kind
	}
	return kind + " (" + strings.Join(cols, ", ") + ")"
}
