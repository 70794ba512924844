// Package config is pocketramp's one configuration: a TOML file (--config FILE or
// POCKETRAMP_CONFIG), every key also settable by an environment variable POCKETRAMP_<KEY>
// (the environment wins over the file, command-line flags win over both), secrets also from a
// file (<key>_file in TOML, POCKETRAMP_<KEY>_FILE). Load returns one validated struct; an invalid
// value is an error naming the key and where it came from, so a bad setting stops the start.
//
// Defaults live here only: app.New fills what a caller left zero from Default().
package config

import (
	"crypto/ecdsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/chain/evm"
	"github.com/pocketramp/pocketramp/internal/chain/hd"
)

// EnvPrefix prefixes every environment variable; EnvFile names the configuration file.
const (
	EnvPrefix = "POCKETRAMP_"
	EnvFile   = "POCKETRAMP_CONFIG"
)

// Config is the effective configuration. The `doc` tags are the README's table (a test checks
// the README documents every key).
type Config struct {
	DataDir     string `toml:"data_dir" doc:"directory of the SQLite database, the generated master key and operator token, and stored documents"`
	DatabaseURL Secret `toml:"database_url" doc:"postgres://... selects PostgreSQL; empty: SQLite file pocketramp.db in data_dir"`
	// SQLiteCacheMB trades memory for the speed of large writes (docs/performance.md).
	SQLiteCacheMB int64  `toml:"sqlite_cache_mb" doc:"SQLite: page cache of the writer connection in MB; more makes large statement imports faster at that much more memory; 0: SQLite's default of 2 MB"`
	Addr          string `toml:"addr" doc:"HTTP listen address (serve --addr)"`
	AdminAddr     string `toml:"admin_addr" doc:"listen address of the operator API and metrics (serve --admin-addr); off: none"`
	PublicURL     string `toml:"public_url" doc:"base URL of hosted pages (KYC, checkout) in links sent to customers; empty: derived from addr"`
	LogFormat     string `toml:"log_format" doc:"text or json"`

	MasterKey     Secret `toml:"master_key" doc:"base64 of 32 bytes encrypting secrets, PII and documents at rest; empty: generated once into data_dir/master.key"`
	OperatorToken Secret `toml:"operator_token" doc:"bearer token of the operator API /admin/api; empty: generated once into data_dir/operator.token"`
	// OperatorTokenRole scopes that shared token; operators' own tokens act with their role.
	OperatorTokenRole string `toml:"operator_token_role" doc:"role the operator token acts with: admin, compliance, finance or read-only"`
	AdminURL          string `toml:"admin_url" doc:"base URL operators open the console at (set-password links); empty: http://ADMIN_ADDR"`
	InstanceURL       string `toml:"instance_url" doc:"URL of this instance's operator listener as the other instances on the same database reach it (the leader serves the sandbox chains there); empty: http:// and the bound admin address"`

	PriceSources []string `toml:"price_sources" doc:"live price feeds of production integrations, tried in order: kraken, bitstamp, sandbox (offline)"`
	PriceMaxAge  Duration `toml:"price_max_age" doc:"how long a fetched live price is used"`

	StatementDir string `toml:"statement_dir" doc:"watched folder: statement files dropped in DIR/<IBAN>/ are imported; empty: not watched"`

	WebhookRetryBase     Duration `toml:"webhook_retry_base" doc:"first webhook retry delay, doubling up to 720x"`
	WebhookDisableAfter  Duration `toml:"webhook_disable_after" doc:"how long an endpoint may fail without a success before it is disabled"`
	WebhookRescueAfter   Duration `toml:"webhook_rescue_after" doc:"when a webhook delivery left running by a killed instance is tried again (at least the 10 s attempt timeout + 21 s)"`
	SandboxBlockInterval Duration `toml:"sandbox_block_interval" doc:"how often the sandbox chains mine a block"`
	// SandboxPrivateWebhooks: may sandbox webhooks target loopback and private addresses?
	SandboxPrivateWebhooks string `toml:"sandbox_private_webhooks" doc:"may sandbox webhooks target loopback and private addresses: auto (only while no production integration exists), true or false"`

	HotWalletKey Secret `toml:"hot_wallet_key" doc:"hex secp256k1 private key of the payout hot wallet of the live chains"`
	DepositXpub  string `toml:"deposit_xpub" doc:"account-level xpub (m/44'/60'/0') the live chains derive deposit addresses from"`

	// Chains are the live chains ([[chains]] tables; see chains.go).
	Chains []Chain `toml:"chains" doc:"live chains; see Chains"`

	// The live Bitcoin chain (see bitcoin.go); enabled by btc_rpc_urls.
	BTCNetwork       string   `toml:"btc_network" doc:"Bitcoin network of the live chain: mainnet, testnet, signet or regtest; addresses are validated for it"`
	BTCRPCURLs       []string `toml:"btc_rpc_urls" doc:"Bitcoin Core (or btcd) JSON-RPC URLs http://user:pass@host:port, tried in order; empty: no live Bitcoin"`
	BTCConfirmations int64    `toml:"btc_confirmations" doc:"blocks before a Bitcoin deposit is credited or a payout counts"`
	BTCScanFrom      int64    `toml:"btc_scan_from" doc:"first block height scanned on first start (before the hot wallet's first funding); 0: the tip"`
	BTCMinFeeRate    int64    `toml:"btc_min_fee_rate" doc:"least payout fee rate in sat/vB (the node's estimatesmartfee is clamped to min..max)"`
	BTCMaxFeeRate    int64    `toml:"btc_max_fee_rate" doc:"highest payout fee rate in sat/vB"`
	BTCHotWalletWIF  Secret   `toml:"btc_hot_wallet_wif" doc:"WIF private key of the Bitcoin payout hot wallet (P2WPKH) for btc_network"`
	BTCDepositXpub   string   `toml:"btc_deposit_xpub" doc:"BIP-84 account extended public key (zpub/xpub; vpub/tpub on test networks) deposit addresses are derived from"`

	// File is the configuration file read ("" for none); Sources says where each key's value
	// came from (default, the file, an environment variable, a flag).
	File    string            `toml:"-"`
	Sources map[string]string `toml:"-"`

	live []evm.ChainConfig // Chains resolved against the presets by Validate
}

// Default is the configuration with nothing set.
func Default() Config {
	return Config{
		DataDir:                "./data",
		Addr:                   "127.0.0.1:8080",
		AdminAddr:              "127.0.0.1:8081",
		OperatorTokenRole:      "admin",
		LogFormat:              "text",
		PriceSources:           []string{"kraken", "bitstamp"},
		PriceMaxAge:            Duration(60 * time.Second),
		WebhookRetryBase:       Duration(30 * time.Second),
		WebhookRescueAfter:     Duration(time.Minute),
		WebhookDisableAfter:    Duration(72 * time.Hour),
		SandboxBlockInterval:   Duration(500 * time.Millisecond),
		BTCNetwork:             "mainnet",
		BTCConfirmations:       2,
		BTCMinFeeRate:          1,
		BTCMaxFeeRate:          200,
		SandboxPrivateWebhooks: "auto",
	}
}

// Secret is a value `config check` and logs never show.
type Secret string

// Duration is a Go duration string ("30s", "72h") in TOML and the environment.
type Duration time.Duration

// D is the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalText parses a positive duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 30s, 500ms, 72h)", b)
	}
	if v <= 0 {
		return fmt.Errorf("%q: must be positive", b)
	}
	*d = Duration(v)
	return nil
}

// Key is one top-level setting.
type Key struct {
	Name   string // TOML key
	Env    string // environment variable
	Doc    string
	Secret bool
	field  int
}

// Keys lists the top-level settings in declaration order.
func Keys() []Key {
	t := reflect.TypeFor[Config]()
	var out []Key
	for i := range t.NumField() {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("toml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		out = append(out, Key{Name: name, Env: EnvPrefix + strings.ToUpper(name), Doc: f.Tag.Get("doc"),
			Secret: f.Type == reflect.TypeFor[Secret](), field: i})
	}
	return out
}

// LookupEnv reads the environment (os.LookupEnv in production; a map in tests).
type LookupEnv func(string) (string, bool)

// Load reads the file (path, or POCKETRAMP_CONFIG when path is empty; none is fine), applies
// the environment over it, and validates. Flags are applied by the caller with Set before
// Validate; use LoadUnvalidated for that.
func Load(path string, env LookupEnv) (Config, error) {
	c, err := LoadUnvalidated(path, env)
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

// LoadUnvalidated is Load without the final Validate, for callers that still apply flags.
func LoadUnvalidated(path string, env LookupEnv) (Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	c := Default()
	c.Sources = map[string]string{}
	if path == "" {
		path, _ = env(EnvFile)
	}
	if path != "" {
		if err := c.readFile(path); err != nil {
			return c, err
		}
	}
	if err := c.applyEnv(env); err != nil {
		return c, err
	}
	return c, nil
}

func (c *Config) readFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	c.File = path
	var fc Config
	md, err := toml.Decode(string(raw), &fc)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	var loose map[string]any
	if _, err := toml.Decode(string(raw), &loose); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	var unknown []string
	secretFiles := map[string]string{}
	for _, k := range md.Undecoded() {
		if len(k) == 1 && strings.HasSuffix(k[0], "_file") && isSecretKey(strings.TrimSuffix(k[0], "_file")) {
			s, ok := loose[k[0]].(string)
			if !ok {
				return fmt.Errorf("config %s: %s: want a file path string", path, k[0])
			}
			secretFiles[strings.TrimSuffix(k[0], "_file")] = s
			continue
		}
		unknown = append(unknown, k.String())
	}
	if len(unknown) > 0 {
		return fmt.Errorf("config %s: unknown key %s (see README, Configuration)", path, strings.Join(unknown, ", "))
	}
	dst, src := reflect.ValueOf(c).Elem(), reflect.ValueOf(fc)
	for _, k := range Keys() {
		if md.IsDefined(k.Name) {
			dst.Field(k.field).Set(src.Field(k.field))
			c.Sources[k.Name] = "file"
		}
	}
	for name, file := range secretFiles {
		if err := c.setSecretFile(name, file, "file "+name+"_file"); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	}
	return nil
}

func isSecretKey(name string) bool {
	for _, k := range Keys() {
		if k.Name == name {
			return k.Secret
		}
	}
	return false
}

func (c *Config) setSecretFile(name, file, source string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%s: %w", name+"_file", err)
	}
	return c.Set(name, strings.TrimSpace(string(b)), source)
}

func (c *Config) applyEnv(env LookupEnv) error {
	var errs []error
	for _, k := range Keys() {
		if k.Name == "chains" {
			continue
		}
		if v, ok := env(k.Env); ok && v != "" {
			errs = append(errs, c.Set(k.Name, v, "env "+k.Env))
		} else if file, ok := env(k.Env + "_FILE"); ok && k.Secret && file != "" {
			errs = append(errs, c.setSecretFile(k.Name, file, "env "+k.Env+"_FILE"))
		}
	}
	errs = append(errs, c.applyChainEnv(env))
	return errors.Join(errs...)
}

// Set sets a top-level key from its string form (environment, flags); source is recorded.
// Lists are comma-separated.
func (c *Config) Set(name, value, source string) error {
	for _, k := range Keys() {
		if k.Name != name || k.Name == "chains" {
			continue
		}
		f := reflect.ValueOf(c).Elem().Field(k.field)
		switch p := f.Addr().Interface().(type) {
		case *string:
			*p = value
		case *Secret:
			*p = Secret(value)
		case *[]string:
			*p = splitList(value)
		case *int64:
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil {
				return fmt.Errorf("config: %s (from %s): %q is not an integer", name, source, value)
			}
			*p = n
		case *Duration:
			if err := p.UnmarshalText([]byte(value)); err != nil {
				return fmt.Errorf("config: %s (from %s): %w", name, source, err)
			}
		default:
			return fmt.Errorf("config: %s cannot be set from a string", name)
		}
		if c.Sources == nil {
			c.Sources = map[string]string{}
		}
		c.Sources[name] = source
		return nil
	}
	return fmt.Errorf("config: unknown key %q", name)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Validate checks every key and resolves the chains; the error names each invalid key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s%s: %s", key, c.from(key), fmt.Sprintf(format, args...)))
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if u := string(c.DatabaseURL); u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		bad("database_url", "want postgres://... (leave empty for SQLite)")
	}
	if c.SQLiteCacheMB < 0 || c.SQLiteCacheMB > 65536 {
		bad("sqlite_cache_mb", "%d: want 0 (SQLite's default) to 65536", c.SQLiteCacheMB)
	}
	for _, k := range []struct{ key, v string }{{"addr", c.Addr}, {"admin_addr", c.AdminAddr}} {
		if k.key == "admin_addr" && k.v == "off" {
			continue
		}
		if _, _, err := net.SplitHostPort(k.v); err != nil {
			bad(k.key, "%q is not host:port (e.g. 127.0.0.1:8080 or :8080)", k.v)
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public_url", "%q is not an http(s) URL with a host", c.PublicURL)
		}
	}
	switch c.OperatorTokenRole {
	case "admin", "compliance", "finance", "read-only":
	default:
		bad("operator_token_role", "%q: want admin, compliance, finance or read-only", c.OperatorTokenRole)
	}
	if c.AdminURL != "" {
		if u, err := url.Parse(c.AdminURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("admin_url", "%q is not an http(s) URL with a host", c.AdminURL)
		}
	}
	switch strings.ToLower(strings.TrimSpace(c.SandboxPrivateWebhooks)) {
	case "auto", "true", "false":
	default:
		bad("sandbox_private_webhooks", "%q: want auto, true or false", c.SandboxPrivateWebhooks)
	}
	if c.InstanceURL != "" {
		if u, err := url.Parse(c.InstanceURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("instance_url", "%q is not an http(s) URL with a host", c.InstanceURL)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log_format", "%q: want text or json", c.LogFormat)
	}
	if c.MasterKey != "" {
		if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(c.MasterKey))); err != nil || len(k) != 32 {
			bad("master_key", "want the base64 of 32 bytes (e.g. openssl rand -base64 32)")
		}
	}
	if len(c.PriceSources) == 0 {
		bad("price_sources", "at least one of kraken, bitstamp, sandbox")
	}
	for _, s := range c.PriceSources {
		switch strings.ToLower(s) {
		case "kraken", "bitstamp", "sandbox":
		default:
			bad("price_sources", "unknown source %q (want kraken, bitstamp or sandbox)", s)
		}
	}
	for _, d := range []struct {
		key string
		v   Duration
	}{{"price_max_age", c.PriceMaxAge}, {"webhook_retry_base", c.WebhookRetryBase}, {"webhook_disable_after", c.WebhookDisableAfter}, {"webhook_rescue_after", c.WebhookRescueAfter}, {"sandbox_block_interval", c.SandboxBlockInterval}} {
		if d.v <= 0 {
			bad(d.key, "must be a positive duration")
		}
	}
	if c.HotWalletKey != "" {
		if _, err := c.HotWallet(); err != nil {
			bad("hot_wallet_key", "not a hex secp256k1 private key")
		}
	}
	if c.DepositXpub != "" {
		if _, err := hd.NewDeriver(c.DepositXpub); err != nil {
			bad("deposit_xpub", "%v", err)
		}
	}
	if err := c.validateChains(); err != nil {
		errs = append(errs, err)
	}
	c.validateBitcoin(bad)
	return errors.Join(errs...)
}

// from says where a key's value came from, for error messages.
func (c *Config) from(key string) string {
	if s := c.Sources[key]; s != "" && s != "default" {
		return " (from " + s + ")"
	}
	return ""
}

// HotWallet parses hot_wallet_key (nil when unset).
func (c *Config) HotWallet() (*ecdsa.PrivateKey, error) {
	h := strings.TrimPrefix(strings.TrimSpace(string(c.HotWalletKey)), "0x")
	if h == "" {
		return nil, nil
	}
	return crypto.HexToECDSA(h)
}

// Source returns where key's value came from: "default", "file", "env VAR", "flag --x".
func (c *Config) Source(key string) string {
	if s := c.Sources[key]; s != "" {
		return s
	}
	return "default"
}

// EffectiveAdminURL is admin_url, or http://ADMIN_ADDR; "" when the operator listener is off.
func (c *Config) EffectiveAdminURL() string {
	if c.AdminURL != "" {
		return strings.TrimRight(c.AdminURL, "/")
	}
	if c.AdminAddr == "off" || c.AdminAddr == "" {
		return ""
	}
	return "http://" + c.AdminAddr
}

// EffectivePublicURL is public_url, or, when unset, one derived from addr: a listen address
// without a host (":8080", "0.0.0.0:8080") serves every interface, so links name this machine's
// host name rather than an address no customer can reach; derived reports the fallback (serve
// then says how to set POCKETRAMP_PUBLIC_URL).
func (c *Config) EffectivePublicURL() (u string, derived bool) {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/"), false
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return "http://" + c.Addr, true
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port), true
}
