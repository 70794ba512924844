package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pocketramp.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	c, err := Load("", envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.WebhookRetryBase.D() != 30*time.Second || c.Addr != "127.0.0.1:8080" || c.Source("addr") != "default" {
		t.Fatalf("%+v", c)
	}
}

// The environment wins over the file; each value remembers its source.
func TestFileThenEnv(t *testing.T) {
	p := writeFile(t, `
data_dir = "/var/lib/pocketramp"
addr = ":9000"
price_sources = ["bitstamp"]
webhook_retry_base = "5s"
`)
	c, err := Load("", envMap(map[string]string{EnvFile: p, "POCKETRAMP_ADDR": "0.0.0.0:7000", "POCKETRAMP_PRICE_SOURCES": "sandbox, kraken"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/pocketramp" || c.Addr != "0.0.0.0:7000" || c.WebhookRetryBase.D() != 5*time.Second {
		t.Fatalf("%+v", c)
	}
	if strings.Join(c.PriceSources, ",") != "sandbox,kraken" || c.Source("addr") != "env POCKETRAMP_ADDR" || c.Source("data_dir") != "file" {
		t.Fatalf("%v %v", c.PriceSources, c.Sources)
	}
}

// An invalid value stops the start, naming the key and where it came from.
func TestInvalidValuesNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		file string
		env  map[string]string
		want string
	}{
		{env: map[string]string{"POCKETRAMP_WEBHOOK_RETRY_BASE": "soon"}, want: "webhook_retry_base (from env POCKETRAMP_WEBHOOK_RETRY_BASE)"},
		{file: `webhook_disable_after = "-1h"`, want: "webhook_disable_after"},
		{file: `webhok_retry_base = "1s"`, want: "unknown key webhok_retry_base"},
		{env: map[string]string{"POCKETRAMP_LOG_FORMAT": "xml"}, want: "log_format"},
		{env: map[string]string{"POCKETRAMP_MASTER_KEY": "c2hvcnQ="}, want: "master_key"},
		{env: map[string]string{"POCKETRAMP_HOT_WALLET_KEY": "zz"}, want: "hot_wallet_key"},
		{env: map[string]string{"POCKETRAMP_DEPOSIT_XPUB": "xpub-nope"}, want: "deposit_xpub"},
		{env: map[string]string{"POCKETRAMP_PUBLIC_URL": "example.com"}, want: "public_url"},
		{env: map[string]string{"POCKETRAMP_ADDR": "8080"}, want: "addr"},
		{env: map[string]string{"POCKETRAMP_SQLITE_CACHE_MB": "-1"}, want: "sqlite_cache_mb"},
		{file: `sqlite_cache_mb = 100000`, want: "sqlite_cache_mb"},
		{env: map[string]string{"POCKETRAMP_PRICE_SOURCES": "coinbase"}, want: "price_sources"},
		{env: map[string]string{"POCKETRAMP_CHAINS": "polygon-mumbai"}, want: "chains[0].preset"},
		{file: "[[chains]]\nname = \"ethereum\"\nrpc_urls = [\"http://127.0.0.1:8545\"]", want: "chains[0].chain_id"},
		{file: "[[chains]]\nname = \"optimism\"\nchain_id = 10\nrpc_urls = [\"http://x\"]", want: "chains[0].name"},
		{file: "[[chains]]\npreset = \"sepolia\"\ntokens = [{ symbol = \"USDC\", contract = \"0x12\", decimals = 6 }]", want: "chains[0].tokens[0].contract"},
		{file: "[[chains]]\npreset = \"sepolia\"\ntokens = [{ symbol = \"USDC\", contract = \"0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238\", decimals = 18 }]", want: "18"},
		{file: "[[chains]]\npreset = \"polygon\"", want: "chains[0].rpc_urls"},
		{file: "[[chains]]\npreset = \"sepolia\"\nmax_fee_gwei = \"ten\"", want: "max_fee_gwei"},
	} {
		env := tc.env
		if env == nil {
			env = map[string]string{}
		}
		path := ""
		if tc.file != "" {
			path = writeFile(t, tc.file)
		}
		_, err := Load(path, envMap(env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %q: error %v, want it to mention %q", tc.env, tc.file, err, tc.want)
		}
	}
}

// Secrets come from files too and are never printed.
func TestSecretsFromFilesRedacted(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "hot.key")
	os.WriteFile(keyFile, []byte("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318\n"), 0o600)
	p := writeFile(t, "hot_wallet_key_file = \""+keyFile+"\"\noperator_token = \"op_in_the_file\"\n")
	c, err := Load(p, envMap(map[string]string{"POCKETRAMP_DATABASE_URL": "postgres://app:hunter2@db:5432/ramp"}))
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := c.HotWallet(); k == nil {
		t.Fatal("hot wallet key not read from its file")
	}
	var out bytes.Buffer
	c.Write(&out)
	s := out.String()
	for _, secret := range []string{"4c0883a6", "op_in_the_file", "hunter2"} {
		if strings.Contains(s, secret) {
			t.Fatalf("secret %q printed:\n%s", secret, s)
		}
	}
	if !strings.Contains(s, "postgres://app:REDACTED@db:5432/ramp") || !strings.Contains(s, "prefer POCKETRAMP_OPERATOR_TOKEN") {
		t.Fatalf("output:\n%s", s)
	}
}

// A testnet is one line; a dev node is a table with its own token.
func TestChains(t *testing.T) {
	c, err := Load(writeFile(t, `chains = [{ preset = "polygon-amoy" }]`), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	l := c.LiveChains()
	if len(l) != 1 || l[0].Name != "polygon" || l[0].ChainID != 80002 || len(l[0].RPCURLs) != 1 || l[0].Tokens[0].Symbol != "USDC" {
		t.Fatalf("%+v", l)
	}
	c, err = Load(writeFile(t, `
[[chains]]
name = "ethereum"
chain_id = 1337
rpc_urls = ["http://127.0.0.1:8545", "http://127.0.0.1:8546/key"]
confirmations = 2
max_fee_gwei = "0.5"
tokens = [{ symbol = "usdc", contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3", decimals = 6 }]
`), envMap(map[string]string{"POCKETRAMP_RPC_POLYGON": "https://polygon.example/abc"}))
	if err != nil {
		t.Fatal(err)
	}
	l = c.LiveChains()
	if len(l) != 2 || l[0].ChainID != 1337 || l[0].Confirmations != 2 || l[0].NativeSymbol != "ETH" || l[0].Gas.MaxFeePerGas.String() != "500000000" ||
		l[0].Tokens[0].Symbol != "USDC" || len(l[0].Tokens) != 1 {
		t.Fatalf("%+v", l[0])
	}
	if l[1].Name != "polygon" || l[1].ChainID != 137 || l[1].RPCURLs[0] != "https://polygon.example/abc" {
		t.Fatalf("%+v", l[1])
	}
	var out bytes.Buffer
	c.Write(&out)
	if strings.Contains(out.String(), "abc") || strings.Contains(out.String(), "/key") {
		t.Fatalf("node URL path printed:\n%s", out.String())
	}
}

// Every key is documented in the README's configuration table.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if !bytes.Contains(raw, []byte("`"+k.Name+"`")) || (k.Name != "chains" && !bytes.Contains(raw, []byte("`"+k.Env+"`"))) {
			t.Errorf("README does not document %s (%s)", k.Name, k.Env)
		}
	}
	for _, sub := range []string{"preset", "name", "chain_id", "rpc_urls", "confirmations", "native_symbol", "watch_native", "max_fee_gwei", "min_tip_gwei", "max_tip_gwei", "tokens"} {
		if !bytes.Contains(raw, []byte("`"+sub+"`")) {
			t.Errorf("README does not document chains.%s", sub)
		}
	}
}

// A listen address without a host gives links on this machine's name, never "http://:8080".
func TestEffectivePublicURL(t *testing.T) {
	host, _ := os.Hostname()
	for addr, want := range map[string]string{":8080": "http://" + host + ":8080", "0.0.0.0:9000": "http://" + host + ":9000",
		"127.0.0.1:8080": "http://127.0.0.1:8080", "[::]:8080": "http://" + host + ":8080"} {
		c := Default()
		c.Addr = addr
		if got, derived := c.EffectivePublicURL(); got != want || !derived {
			t.Errorf("%s: %s %v, want %s", addr, got, derived, want)
		}
	}
	c := Default()
	c.PublicURL = "https://ramp.example.com/"
	if got, derived := c.EffectivePublicURL(); got != "https://ramp.example.com" || derived {
		t.Errorf("%s %v", got, derived)
	}
}
