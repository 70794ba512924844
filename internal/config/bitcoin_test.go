package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
)

func testWIF(t *testing.T, p *chaincfg.Params) string {
	k, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32))
	w, err := btcutil.NewWIF(k, p, true)
	if err != nil {
		t.Fatal(err)
	}
	return w.String()
}

func testXpub(t *testing.T, p *chaincfg.Params) string {
	k, err := hdkeychain.NewMaster(bytes.Repeat([]byte{9}, 32), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint32{84, 1, 0} {
		if k, err = k.Derive(hdkeychain.HardenedKeyStart + i); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := k.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	return pub.String()
}

// Bitcoin is configured in TOML (the WIF from a file), the environment wins, and config check
// shows node hosts only and never the key.
func TestBitcoinKeys(t *testing.T) {
	wifFile := filepath.Join(t.TempDir(), "btc.wif")
	if err := os.WriteFile(wifFile, []byte(testWIF(t, &chaincfg.TestNet3Params)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	xpub := testXpub(t, &chaincfg.TestNet3Params)
	p := writeFile(t, `
btc_network = "testnet"
btc_rpc_urls = ["http://pr:node-secret@10.0.0.5:18332", "http://pr:node-secret@10.0.0.6:18332"]
btc_hot_wallet_wif_file = "`+wifFile+`"
btc_deposit_xpub = "`+xpub+`"
btc_scan_from = 4512000
btc_max_fee_rate = 50
`)
	c, err := Load(p, envMap(map[string]string{"POCKETRAMP_BTC_CONFIRMATIONS": "6"}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Bitcoin()
	if err != nil || b == nil {
		t.Fatalf("bitcoin: %+v %v", b, err)
	}
	if b.Params.Name != chaincfg.TestNet3Params.Name || len(b.RPCURLs) != 2 || b.Confirmations != 6 || b.ScanFrom != 4512000 ||
		b.Fees.MinRate != 1000 || b.Fees.MaxRate != 50_000 || b.HotWallet == nil || b.DepositXpub != xpub {
		t.Fatalf("bitcoin: %+v", b)
	}
	if c.Source("btc_confirmations") != "env POCKETRAMP_BTC_CONFIRMATIONS" || c.Source("btc_hot_wallet_wif") != "file btc_hot_wallet_wif_file" {
		t.Fatalf("sources: %v", c.Sources)
	}
	var out bytes.Buffer
	c.Write(&out)
	s := out.String()
	for _, want := range []string{`btc_network`, `"testnet"`, `http://10.0.0.5:18332`, `btc_confirmations       = 6`, `(set, redacted)`} {
		if !strings.Contains(s, want) {
			t.Errorf("config check lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "node-secret") || strings.Contains(s, testWIF(t, &chaincfg.TestNet3Params)) {
		t.Errorf("config check shows a secret:\n%s", s)
	}
	// Without btc_rpc_urls there is no live Bitcoin.
	if c, err := Load("", envMap(nil)); err != nil {
		t.Fatal(err)
	} else if b, err := c.Bitcoin(); b != nil || err != nil {
		t.Fatalf("unconfigured: %+v %v", b, err)
	}
}

func TestBitcoinInvalidValues(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"POCKETRAMP_BTC_NETWORK": "moon"}, `btc_network (from env POCKETRAMP_BTC_NETWORK): "moon"`},
		{map[string]string{"POCKETRAMP_BTC_RPC_URLS": "10.0.0.5:8332"}, "btc_rpc_urls"},
		{map[string]string{"POCKETRAMP_BTC_CONFIRMATIONS": "two"}, `btc_confirmations (from env POCKETRAMP_BTC_CONFIRMATIONS): "two" is not an integer`},
		{map[string]string{"POCKETRAMP_BTC_CONFIRMATIONS": "0"}, "btc_confirmations (from env POCKETRAMP_BTC_CONFIRMATIONS): at least 1"},
		{map[string]string{"POCKETRAMP_BTC_MIN_FEE_RATE": "20", "POCKETRAMP_BTC_MAX_FEE_RATE": "10"}, "btc_max_fee_rate (from env POCKETRAMP_BTC_MAX_FEE_RATE): 10 sat/vB is below btc_min_fee_rate 20"},
		{map[string]string{"POCKETRAMP_BTC_NETWORK": "testnet", "POCKETRAMP_BTC_HOT_WALLET_WIF": testWIF(t, &chaincfg.MainNetParams)}, "btc_hot_wallet_wif (from env POCKETRAMP_BTC_HOT_WALLET_WIF): the key is not for testnet3"},
		{map[string]string{"POCKETRAMP_BTC_HOT_WALLET_WIF": "not-a-key"}, "btc_hot_wallet_wif (from env POCKETRAMP_BTC_HOT_WALLET_WIF): not a WIF private key"},
		{map[string]string{"POCKETRAMP_BTC_DEPOSIT_XPUB": testXpub(t, &chaincfg.TestNet3Params)}, "btc_deposit_xpub (from env POCKETRAMP_BTC_DEPOSIT_XPUB): deposit xpub has version"},
	} {
		_, err := Load("", envMap(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.env, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "not-a-key") {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}
