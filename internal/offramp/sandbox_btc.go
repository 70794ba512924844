package offramp

import (
	"context"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
)

// sandboxBitcoinDeposit pays a sandbox operation's bcrt1… deposit address with a real regtest
// transaction from the sandbox faucet and mines it into a block; the Bitcoin adapter then sees
// it, counts confirmations and credits it like any deposit.
func (s *Service) sandboxBitcoinDeposit(ctx context.Context, in SandboxDepositInput, r Rampoff) (Rampoff, error) {
	sym := strings.ToUpper(strings.TrimSpace(in.Symbol))
	if sym != "" && sym != "BTC" {
		return Rampoff{}, errcode.Field("symbol", "The symbol must be BTC on bitcoin.")
	}
	amount := money.New(r.Amount.Units(), r.Amount.Scale())
	if len(in.Amount) > 0 && string(in.Amount) != "null" {
		f := errcode.Fields{}
		amount = parseTokens(f, "amount", in.Amount, 8)
		if err := f.Err(); err != nil {
			return Rampoff{}, err
		}
	}
	if amount.Sign() <= 0 || !amount.Units().IsInt64() {
		return Rampoff{}, errcode.Field("amount", "The amount must be greater than zero.")
	}
	b, err := s.Chains.BitcoinSandbox(ctx)
	if err != nil {
		return Rampoff{}, err
	}
	if _, err := b.Chain().Fund(r.DepositAddress, amount.Units().Int64()); err != nil {
		return Rampoff{}, err
	}
	if _, err := b.Chain().Mine(1); err != nil {
		return Rampoff{}, err
	}
	return s.Get(ctx, in.IntegrationID, in.ID)
}
