package offramp

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/big"
	"strings"
	"time"

	gethcommon "github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/chain/evm"
	"github.com/pocketramp/pocketramp/internal/chain/simchain"
	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
)

// SandboxDepositInput is the body of POST /sandbox/rampoffs/{id}/deposit.
type SandboxDepositInput struct {
	IntegrationID int64
	ID            string
	Amount        json.RawMessage // tokens, major units; empty: the quoted amount
	Symbol        string          // empty: the operation's token; another token or the native coin tests the policy
}

// senderIndex picks the sandbox customer wallet that sends an operation's deposits.
func senderIndex(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return 1000 + h.Sum32()%1_000_000
}

// SandboxDeposit sends a real transfer on the sandbox chain to the operation's deposit
// address, from a customer wallet the faucet funds first, and waits until it is mined. The
// chain adapter then sees it, counts confirmations and credits it, like any deposit.
func (s *Service) SandboxDeposit(ctx context.Context, in SandboxDepositInput) (_ Rampoff, err error) {
	defer errcode.Op("offramp.SandboxDeposit", &err)
	r, err := s.Get(ctx, in.IntegrationID, in.ID)
	if err != nil {
		return Rampoff{}, err
	}
	if !r.Sandbox {
		return Rampoff{}, errcode.NotFound
	}
	if r.Chain == chainset.Bitcoin { // a UTXO chain: the faucet pays the address directly
		return s.sandboxBitcoinDeposit(ctx, in, r)
	}
	sc, err := s.Chains.Sandbox(ctx, r.Chain)
	if err != nil {
		return Rampoff{}, err
	}
	c := sc.Chain()
	native := strings.ToUpper(evm.DefaultChains()[r.Chain].NativeSymbol)
	sym := strings.ToUpper(strings.TrimSpace(in.Symbol))
	if sym == "" {
		sym = r.Coin
	}
	asset, decimals := sym, 18
	if t, ok := c.Token(sym); ok {
		decimals = int(t.Decimals)
	} else if sym == native {
		asset = "native"
	} else {
		var names []string
		for _, t := range c.Tokens() {
			names = append(names, t.Symbol)
		}
		return Rampoff{}, errcode.Field("symbol", "The symbol must be one of %s or %s on %s.", strings.Join(names, ", "), native, r.Chain)
	}
	amount := money.New(r.Amount.Units(), r.Amount.Scale())
	if sym != r.Coin || decimals != r.Amount.Scale() {
		amount = money.Zero(decimals)
	}
	if len(in.Amount) > 0 && string(in.Amount) != "null" {
		f := errcode.Fields{}
		amount = parseTokens(f, "amount", in.Amount, decimals)
		if err := f.Err(); err != nil {
			return Rampoff{}, err
		}
	}
	if amount.Sign() <= 0 {
		return Rampoff{}, errcode.Field("amount", "The amount field is required when sending another asset.")
	}

	s.sandboxMu.Lock()
	defer s.sandboxMu.Unlock()
	s.faucets.Store("sandbox:"+r.Chain, c.FaucetAddress())
	// The simulated node admits transactions asynchronously; a send that collides with a block
	// being sealed is tried once more before the caller sees an error.
	if sent, err := s.sandboxSend(ctx, c, r, asset, amount); err != nil {
		if sent { // the deposit itself went out: never send it twice
			return Rampoff{}, err
		}
		s.log().Warn("sandbox deposit: retrying", "rampoff", r.ID, "err", err)
		time.Sleep(200 * time.Millisecond)
		if _, err := s.sandboxSend(ctx, c, r, asset, amount); err != nil {
			return Rampoff{}, err
		}
	}
	return s.Get(ctx, in.IntegrationID, in.ID)
}

// sandboxSend funds the operation's sender wallet from the faucet and sends amount of asset to
// the deposit address, waiting until it is mined; sent reports that the deposit was submitted.
func (s *Service) sandboxSend(ctx context.Context, c *simchain.Chain, r Rampoff, asset string, amount money.Amount) (sent bool, err error) {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	key := c.WalletKey(senderIndex(r.ID))
	from := crypto.PubkeyToAddress(key.PublicKey)
	gas := new(big.Int).Exp(big.NewInt(10), big.NewInt(17), nil)
	var funds []gethcommon.Hash
	if asset == "native" {
		h, err := c.Fund(wctx, from, "native", new(big.Int).Add(gas, amount.Units()))
		if err != nil {
			return false, err
		}
		funds = append(funds, h)
	} else {
		for _, f := range []struct {
			asset string
			amt   *big.Int
		}{{asset, amount.Units()}, {"native", gas}} {
			h, err := c.Fund(wctx, from, f.asset, f.amt)
			if err != nil {
				return false, err
			}
			funds = append(funds, h)
		}
	}
	for _, h := range funds {
		if rc, err := c.WaitMined(wctx, h); err != nil || rc.Status != types.ReceiptStatusSuccessful {
			return false, fmt.Errorf("sandbox faucet funding %s failed: %v", h.Hex(), err)
		}
	}
	h, err := c.Transfer(wctx, key, gethcommon.HexToAddress(r.DepositAddress), asset, amount.Units())
	if err != nil {
		return false, err
	}
	rc, err := c.WaitMined(wctx, h)
	if err != nil {
		return true, fmt.Errorf("sandbox deposit %s: %w", h.Hex(), err)
	}
	if rc.Status != types.ReceiptStatusSuccessful {
		return true, fmt.Errorf("sandbox deposit %s reverted (gas used %d)", h.Hex(), rc.GasUsed)
	}
	return true, nil
}
