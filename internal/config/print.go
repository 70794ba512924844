package config

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/chain/evm"
)

// Write prints the effective configuration as TOML, each key with where its value came from,
// secrets redacted (a database URL keeps everything but its password) and node URLs cut to
// their host (providers put API keys in the path).
func (c *Config) Write(w io.Writer) {
	if c.File != "" {
		fmt.Fprintf(w, "# configuration file: %s\n", c.File)
	} else {
		fmt.Fprintf(w, "# no configuration file (--config FILE or %s)\n", EnvFile)
	}
	v := reflect.ValueOf(c).Elem()
	for _, k := range Keys() {
		if k.Name == "chains" {
			continue
		}
		var s string
		switch x := v.Field(k.field).Interface().(type) {
		case Secret:
			s = redact(k.Name, string(x))
		case []string:
			q := make([]string, len(x))
			for i, e := range x {
				if strings.HasSuffix(k.Name, "rpc_urls") {
					e = evm.RedactURL(e) // node URLs carry passwords and API keys
				}
				q[i] = strconv.Quote(e)
			}
			s = "[" + strings.Join(q, ", ") + "]"
		case int64:
			s = fmt.Sprint(x)
		default:
			s = strconv.Quote(fmt.Sprint(x))
		}
		src := c.Source(k.Name)
		if k.Secret && src == "file" && v.Field(k.field).String() != "" {
			src += "; prefer " + k.Env + " or " + k.Name + "_file to keeping the secret in the file"
		}
		fmt.Fprintf(w, "%-23s = %-44s # %s\n", k.Name, s, src)
	}
	if len(c.live) == 0 {
		fmt.Fprintf(w, "# chains: none (sandbox only)\n")
	}
	for i, cc := range c.live {
		fmt.Fprintf(w, "\n[[chains]] # %s", c.Source("chains"))
		if p := c.Chains[i].Preset; p != "" {
			fmt.Fprintf(w, ", preset %s", p)
		}
		fmt.Fprintln(w)
		urls := make([]string, len(cc.RPCURLs))
		for j, u := range cc.RPCURLs {
			urls[j] = strconv.Quote(evm.RedactURL(u))
		}
		fmt.Fprintf(w, "name = %q\nchain_id = %d\nrpc_urls = [%s]\nconfirmations = %d\nnative_symbol = %q\nwatch_native = %t\n",
			cc.Name, cc.ChainID, strings.Join(urls, ", "), cc.Confirmations, cc.NativeSymbol, cc.WatchNative)
		fmt.Fprintf(w, "# gas: max fee %s, tip %s .. %s\n", gweiString(cc.Gas.MaxFeePerGas), gweiString(cc.Gas.MinTipPerGas), gweiString(cc.Gas.MaxTipPerGas))
		for _, t := range cc.Tokens {
			fmt.Fprintf(w, "tokens = [{ symbol = %q, contract = %q, decimals = %d }]\n", t.Symbol, t.Address.Hex(), t.Decimals)
		}
	}
}

func redact(key, v string) string {
	if v == "" {
		return `""`
	}
	if key == "database_url" {
		if u, err := url.Parse(v); err == nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "REDACTED")
			}
			return strconv.Quote(u.String())
		}
	}
	return `"(set, redacted)"`
}
