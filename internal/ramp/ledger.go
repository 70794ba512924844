package ramp

import (
	"context"
	"strings"

	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
)

// LedgerKey is the key of a ramp's ledger account. Sandbox operations live under "sb:" so they
// never mix with the operator's real books; both ramps use the same key where the account is
// the same (customer, hot wallet, external, trading, fees).
func LedgerKey(sandbox bool, parts ...string) string {
	k := strings.Join(parts, ":")
	if sandbox {
		return "sb:" + k
	}
	return k
}

// Account ensures the ledger account LedgerKey(sandbox, parts...) of kind and asset, in tx.
func Account(ctx context.Context, tx *store.Tx, sandbox bool, kind ledger.Kind, asset string, parts ...string) (ledger.AccountID, error) {
	return ledger.EnsureAccount(ctx, tx, ledger.Account{Key: LedgerKey(sandbox, parts...), Kind: kind, Asset: asset})
}

// TokenAsset is the ledger asset code of a token on a chain.
func TokenAsset(symbol, chainName string) string { return symbol + ":" + chainName }
