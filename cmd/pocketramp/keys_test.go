package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/chain/hd"
)

// fakeBitcoinNode answers the JSON-RPC calls a starting pocketramp makes of a regtest node.
func fakeBitcoinNode(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     any    `json:"id"`
			Method string `json:"method"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		res := map[string]any{"id": req.ID, "error": nil}
		switch req.Method {
		case "getblockcount":
			res["result"] = 150
		case "getblockhash":
			res["result"] = chaincfg.RegressionNetParams.GenesisHash.String()
		default:
			res["result"], res["error"] = nil, map[string]any{"code": -32601, "message": "Method not found"}
		}
		json.NewEncoder(w).Encode(res)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestKeys: `pocketramp keys` writes the secrets (0600, never overwritten) and prints the
// configuration with the public side; every printed address is checked against the secret
// files by an independent derivation, and the printed configuration starts a server whose
// `config check` names each Bitcoin node.
func TestKeys(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "keys")
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"keys", "--network", "regtest", "--out", dir}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	conf := out.String()
	read := func(name string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, st.Mode(), err)
		}
		b, _ := os.ReadFile(p)
		s := strings.TrimSpace(string(b))
		if strings.Contains(conf, s) {
			t.Fatalf("the secret in %s is printed", name)
		}
		return s
	}
	value := func(pattern string) string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(conf)
		if m == nil {
			t.Fatalf("output lacks %s:\n%s", pattern, conf)
		}
		return m[1]
	}

	// EVM hot wallet and the first deposit address of the account.
	evmKey, err := crypto.HexToECDSA(read("hot.key"))
	if err != nil {
		t.Fatal(err)
	}
	if got := value(`EVM hot wallet (0x[0-9a-fA-F]{40})`); got != crypto.PubkeyToAddress(evmKey.PublicKey).Hex() {
		t.Fatalf("EVM hot wallet printed %s", got)
	}
	dk, err := hd.DepositPrivateKey(read("evm-deposit.xprv"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := value(`m/44'/60'/0'; first deposit address (0x[0-9a-fA-F]{40})`); got != crypto.PubkeyToAddress(dk.PublicKey).Hex() {
		t.Fatalf("EVM first deposit address printed %s", got)
	}
	// Bitcoin: the WIF's P2WPKH address, the account's xpub and its receive address 0/0.
	params := &chaincfg.RegressionNetParams
	wif, err := btcutil.DecodeWIF(read("btc-hot.wif"))
	if err != nil || !wif.IsForNet(params) || !wif.CompressPubKey {
		t.Fatalf("WIF: %v", err)
	}
	hot, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(wif.SerializePubKey()), params)
	if got := value(`Bitcoin hot wallet (bcrt1q\w+)`); got != hot.EncodeAddress() {
		t.Fatalf("Bitcoin hot wallet printed %s, WIF's is %s", got, hot)
	}
	acct, err := hdkeychain.NewKeyFromString(read("btc-deposit.xprv"))
	if err != nil || !acct.IsPrivate() || acct.Depth() != 3 {
		t.Fatalf("BIP-84 account key: %v", err)
	}
	pub, _ := acct.Neuter()
	if got := value(`btc_deposit_xpub = "(tpub\w+)"  # BIP-84 m/84'/1'/0'`); got != pub.String() {
		t.Fatalf("xpub printed %s, the account's is %s", got, pub)
	}
	child, _ := acct.Derive(0)
	child, _ = child.Derive(0)
	cpub, _ := child.ECPubKey()
	first, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(cpub.SerializeCompressed()), params)
	if got := value(`m/84'/1'/0'; first deposit address (bcrt1q\w+)`); got != first.EncodeAddress() {
		t.Fatalf("first Bitcoin deposit address printed %s, derived %s", got, first)
	}

	// Never overwritten, all or nothing.
	before := read("btc-hot.wif")
	os.Remove(filepath.Join(dir, "hot.key"))
	if err := run(ctx, []string{"keys", "--network", "regtest", "--out", dir}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "never overwritten") {
		t.Fatalf("second run into the same directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "hot.key")); err == nil || read("btc-hot.wif") != before {
		t.Fatal("a refused run wrote keys")
	}
	os.WriteFile(filepath.Join(dir, "hot.key"), []byte(hex.EncodeToString(crypto.FromECDSA(evmKey))), 0o600)

	// The printed lines configure a server: config check names and checks each Bitcoin node.
	node := fakeBitcoinNode(t)
	file := filepath.Join(t.TempDir(), "pocketramp.toml")
	toml := "data_dir = " + quote(filepath.Join(t.TempDir(), "data")) + "\nprice_sources = [\"sandbox\"]\n" + conf +
		"btc_rpc_urls = [" + quote(strings.Replace(node.URL, "http://", "http://pr:node-secret@", 1)) + ", \"http://pr:node-secret@127.0.0.1:1\"]\n"
	os.WriteFile(file, []byte(toml), 0o600)
	out.Reset()
	if err := run(ctx, []string{"config", "check", "--config", file}, &out, &errOut); err != nil {
		t.Fatalf("config check: %v\n%s", err, out.String())
	}
	host := strings.TrimPrefix(node.URL, "http://")
	for _, want := range []string{"start check: ok", "# bitcoin node 1 " + host + " (regtest): answers at height 150",
		"# bitcoin node 2 127.0.0.1:1 (regtest): NOT answering"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config check lacks %q:\n%s", want, out.String())
		}
	}
	if s := out.String(); strings.Contains(s, "node-secret") || strings.Contains(s, before) {
		t.Fatalf("config check prints a secret:\n%s", s)
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
