// Package asset is the catalogue of crypto assets pocketramp trades: one row per (symbol, chain)
// with its decimals, contract and whether it is active for on-ramp and off-ramp. The default
// catalogue is seeded on start; the operator may change the flags.
package asset

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/cache"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Asset is one token or native coin on one chain.
type Asset struct {
	Symbol   string
	Name     string
	Chain    string
	Decimals int
	Contract string // empty for native coins
	OnRamp   bool
	OffRamp  bool
}

// Native reports whether the asset is the chain's own coin.
func (a Asset) Native() bool { return a.Contract == "" }

// Code is the ledger asset code, e.g. "USDC:polygon".
func (a Asset) Code() string { return a.Symbol + ":" + a.Chain }

// ChainIDs holds the chains of the default catalogue, the ones the API accepts, with their EVM
// chain id (0 for Bitcoin, which has none).
var ChainIDs = map[string]int64{"ethereum": 1, "bsc": 56, "polygon": 137, "arbitrum": 42161, "base": 8453, "bitcoin": 0}

// DefaultChain is the chain CryptoPocket assumes when a request names none.
const DefaultChain = "polygon"

// DefaultChainFor is the chain a quote for symbol uses when the request names none: DefaultChain
// when the default catalogue has the symbol there, else the one chain that carries it (BTC is
// only on bitcoin), else DefaultChain (the lookup then answers coin_not_supported).
func DefaultChainFor(symbol string) string {
	sym := strings.ToUpper(strings.TrimSpace(symbol))
	var only string
	for _, a := range Default {
		if a.Symbol != sym {
			continue
		}
		if a.Chain == DefaultChain {
			return DefaultChain
		}
		if only != "" && only != a.Chain {
			return DefaultChain
		}
		only = a.Chain
	}
	if only == "" {
		return DefaultChain
	}
	return only
}

// Default is the seeded catalogue (contracts and decimals from shared/reference/assets.md).
var Default = []Asset{
	{"USDC", "USD Coin", "ethereum", 6, "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", true, true},
	{"USDT", "Tether USD", "ethereum", 6, "0xdAC17F958D2ee523a2206206994597C13D831ec7", true, true},
	{"USDC", "USD Coin", "polygon", 6, "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", true, true},
	{"USDT", "Tether USD", "polygon", 6, "0xc2132D05D31c914a87C6611C10748AEb04B58e8F", true, true},
	{"USDC", "USD Coin (Binance-peg)", "bsc", 18, "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d", true, true},
	{"USDT", "Tether USD (Binance-peg)", "bsc", 18, "0x55d398326f99059fF775485246999027B3197955", true, true},
	{"USDC", "USD Coin", "arbitrum", 6, "0xaf88d065e77c8cC2239327C5EDb3A432268e5831", true, true},
	{"USDT", "Tether USD", "arbitrum", 6, "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9", true, true},
	{"USDC", "USD Coin", "base", 6, "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", true, true},
	{"ETH", "Ether", "ethereum", 18, "", true, false},
	{"ETH", "Ether", "arbitrum", 18, "", true, false},
	{"ETH", "Ether", "base", 18, "", true, false},
	{"POL", "Polygon Ecosystem Token", "polygon", 18, "", true, false},
	{"BNB", "BNB", "bsc", 18, "", true, false},
	// ETH on polygon is not native there: it is the PoS-bridged ERC-20 (WETH) CryptoPocket's
	// examples buy as "ETH" on the default chain.
	{"ETH", "Ether (PoS-bridged)", "polygon", 18, "0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619", true, false},
	// BUSD is in CryptoPocket's examples but Paxos stopped issuing it (2023): known, never active,
	// so every call answers coin_not_supported for it.
	{"BUSD", "Binance USD (discontinued)", "bsc", 18, "0xe9e7CEA3DedcA5984780Bafc599bD69ADd087D56", false, false},
	{"BTC", "Bitcoin", "bitcoin", 8, "", true, true},
}

// Catalogue reads and seeds the asset table.
type Catalogue struct{ DB *store.DB }

// Seed inserts the default assets that are missing; existing rows (and the operator's changes to
// them) are kept.
func (c Catalogue) Seed(ctx context.Context) error {
	defer lookups.Clear()
	return c.DB.Tx(ctx, func(tx *store.Tx) error {
		for _, a := range Default {
			var contract any
			if a.Contract != "" {
				contract = a.Contract
			}
			_, err := tx.Exec(ctx, `INSERT INTO assets (symbol, chain, name, decimals, contract, onramp, offramp)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (symbol, chain) DO NOTHING`,
				a.Symbol, a.Chain, a.Name, a.Decimals, contract, a.OnRamp, a.OffRamp)
			if err != nil {
				return fmt.Errorf("seed asset %s: %w", a.Code(), err)
			}
		}
		return nil
	})
}

const columns = "symbol, chain, name, decimals, contract, onramp, offramp"

func scan(row interface{ Scan(...any) error }) (Asset, error) {
	var a Asset
	var contract sql.NullString
	err := row.Scan(&a.Symbol, &a.Chain, &a.Name, &a.Decimals, &contract, &a.OnRamp, &a.OffRamp)
	a.Contract = contract.String
	return a, err
}

// List returns the assets active for on-ramp or off-ramp, ordered by symbol then chain.
func (c Catalogue) List(ctx context.Context) ([]Asset, error) {
	rows, err := c.DB.Query(ctx, "SELECT "+columns+" FROM assets WHERE onramp OR offramp ORDER BY symbol, chain")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Asset{}
	for rows.Next() {
		a, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CacheTTL bounds how long Get and HasSymbol serve the catalogue from memory: SetFlags on this
// instance is seen at once, a change made by another instance within CacheTTL.
const CacheTTL = 5 * time.Second

// lookup is a cached answer of Get (found or not) or HasSymbol.
type lookup struct {
	a     Asset
	found bool
}

type lookupKey struct {
	db            *store.DB
	symbol, chain string // chain "": HasSymbol
}

// lookups caches the request paths' catalogue reads (every quote and payment reads its asset).
var lookups = cache.Map[lookupKey, lookup]{TTL: CacheTTL, Max: 4096}

// Get returns the asset symbol on chain (case-insensitive); an unknown pair is
// errcode.CoinNotSupported.
func (c Catalogue) Get(ctx context.Context, symbol, chain string) (Asset, error) {
	sym, ch := strings.ToUpper(strings.TrimSpace(symbol)), strings.ToLower(strings.TrimSpace(chain))
	l, err := lookups.Load(ctx, lookupKey{c.DB, sym, ch}, func(ctx context.Context) (lookup, error) {
		a, err := scan(c.DB.QueryRow(ctx, "SELECT "+columns+" FROM assets WHERE symbol = ? AND chain = ?", sym, ch))
		if errors.Is(err, sql.ErrNoRows) {
			return lookup{}, nil
		}
		return lookup{a: a, found: true}, err
	})
	if err != nil {
		return Asset{}, err
	}
	if !l.found {
		return Asset{}, errcode.CoinNotSupported
	}
	return l.a, nil
}

// HasSymbol reports whether any chain carries symbol.
func (c Catalogue) HasSymbol(ctx context.Context, symbol string) (bool, error) {
	sym := strings.ToUpper(strings.TrimSpace(symbol))
	l, err := lookups.Load(ctx, lookupKey{c.DB, sym, ""}, func(ctx context.Context) (lookup, error) {
		var n int
		err := c.DB.QueryRow(ctx, "SELECT COUNT(*) FROM assets WHERE symbol = ? AND (onramp OR offramp)", sym).Scan(&n)
		return lookup{found: n > 0}, err
	})
	return l.found, err
}

// SetFlags turns on-ramp and off-ramp on or off for one asset.
func (c Catalogue) SetFlags(ctx context.Context, symbol, chain string, onramp, offramp bool) error {
	res, err := c.DB.Exec(ctx, "UPDATE assets SET onramp = ?, offramp = ? WHERE symbol = ? AND chain = ?", onramp, offramp, symbol, chain)
	lookups.Clear()
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errcode.CoinNotSupported
	}
	return nil
}
