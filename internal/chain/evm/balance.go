package evm

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/contracts"
)

// Balances reads what the hot wallet holds on chain now: the native coin (gas money) and each
// configured token.
func (a *Adapter) Balances(ctx context.Context) ([]chain.Balance, error) {
	native, err := a.be.BalanceAt(ctx, a.from, nil)
	if err != nil {
		return nil, fmt.Errorf("evm: %s: balance: %w", a.network, err)
	}
	out := []chain.Balance{{Asset: a.cfg.NativeSymbol, Decimals: a.cfg.NativeDecimals, Amount: native}}
	for _, t := range a.cfg.Tokens {
		raw, err := a.be.CallContract(ctx, ethereum.CallMsg{To: &t.Address, Data: contracts.PackBalanceOf(a.from)}, nil)
		if err != nil {
			return out, fmt.Errorf("evm: %s: balanceOf %s: %w", a.network, t.Symbol, err)
		}
		b, err := contracts.UnpackUint256(raw)
		if err != nil {
			return out, err
		}
		out = append(out, chain.Balance{Asset: t.Symbol, Decimals: t.Decimals, Amount: b})
	}
	return out, nil
}
