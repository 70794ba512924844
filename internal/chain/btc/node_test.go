package btc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseBTC(t *testing.T) {
	for _, tc := range []struct {
		in      string
		roundUp bool
		want    int64
		wantErr bool
	}{
		{"0.00012", false, 12000, false},
		{"1e-05", false, 1000, false},
		{"1E-5", false, 1000, false},
		{"21000000", false, 2_100_000_000_000_000, false},
		{"0.00000001", false, 1, false},
		{"0.000000011", false, 0, true},
		{"0.000000011", true, 2, false},
		{"-1", true, -100_000_000, false},
		{"21000000.00000001", false, 0, true},
		{"abc", false, 0, true},
		{"", false, 0, true},
		{"0.1", false, 10_000_000, false}, // a float64 would make this 10000000.000000002
	} {
		got, err := parseBTC(tc.in, tc.roundUp)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseBTC(%q, %v) = %d, %v; want %d, err %v", tc.in, tc.roundUp, got, err, tc.want, tc.wantErr)
		}
	}
	if _, err := feeRateFromBTC("-1"); !errors.Is(err, ErrNoEstimate) {
		t.Errorf("estimatefee -1 = %v, want ErrNoEstimate", err)
	}
}

func FuzzParseBTC(f *testing.F) {
	for _, s := range []string{"0.1", "1e-05", "-1", "21000000", "0.123456789", "1/3", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseBTC(s, false)
		if err != nil {
			return
		}
		if v > 2_100_000_000_000_000 || v < -2_100_000_000_000_000 {
			t.Fatalf("parseBTC(%q) = %d out of range", s, v)
		}
	})
}

// TestRPCFailover: a dead node URL and one answering garbage are skipped; an RPC error from a
// live node is final (not retried elsewhere); basic auth comes from the URL.
func TestRPCFailover(t *testing.T) {
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	dead.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>bad gateway</html>")
	}))
	defer html.Close()
	var calls int
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req struct {
			Method string `json:"method"`
			Params []any  `json:"params"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		switch req.Method {
		case "getblockcount":
			io.WriteString(w, `{"result":812345,"error":null,"id":1}`)
		case "estimatesmartfee":
			io.WriteString(w, `{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}`)
		case "estimatefee":
			io.WriteString(w, `{"result":1.2e-05,"error":null,"id":1}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"result":null,"error":{"code":-8,"message":"Block height out of range"},"id":1}`)
		}
	}))
	defer good.Close()
	withAuth := strings.Replace(good.URL, "http://", "http://user:secret@", 1)
	r, err := NewRPC([]string{dead.URL, html.URL, withAuth}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	n, err := r.BlockCount(ctx)
	if err != nil || n != 812345 {
		t.Fatalf("BlockCount = %d, %v", n, err)
	}
	rate, err := r.EstimateFee(ctx, 6)
	if err != nil || rate != 1200 {
		t.Fatalf("EstimateFee = %d, %v; want 1200 sat/kvB from btcd's estimatefee", rate, err)
	}
	before := calls
	if _, err := r.BlockHash(ctx, 99999999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("BlockHash above the tip = %v, want ErrNotFound", err)
	}
	if calls != before+1 {
		t.Fatalf("an RPC error was retried: %d calls", calls-before)
	}
	if _, err := NewRPC([]string{"ftp://x"}, nil); err == nil {
		t.Fatal("ftp URL accepted")
	}
}
