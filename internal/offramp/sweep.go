package offramp

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	gethcommon "github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/chain/evm"
	"github.com/pocketramp/pocketramp/internal/chain/hd"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Gas for sweeping one ERC-20 deposit in the sandbox: the address is topped up with
// sweepTopUp from the faucet when it holds less than sweepMinGas.
var (
	sweepMinGas = new(big.Int).Exp(big.NewInt(10), big.NewInt(15), nil)              // 0.001 native
	sweepTopUp  = new(big.Int).Mul(big.NewInt(5), big.NewInt(1_000_000_000_000_000)) // 0.005 native
)

// Sweeps lists the deposits whose tokens are still on their deposit address: pending, in
// flight or failed sandbox sweeps, and every live deposit (status operator) — the addresses the
// operator sweeps with the deposit xprv, which the server never holds.
func (s *Service) Sweeps(ctx context.Context, sandbox *bool) (_ []Deposit, err error) {
	defer errcode.Op("offramp.Sweeps", &err)
	where := "sweep_status <> 'swept'"
	args := []any{}
	if sandbox != nil {
		where += " AND sandbox = ?"
		args = append(args, *sandbox)
	}
	return queryDeposits(ctx, s.DB, where+" ORDER BY id", args...)
}

// SweepDue sweeps the sandbox deposits waiting for it (and finishes sweeps sent earlier) and
// returns how many were swept.
func (s *Service) SweepDue(ctx context.Context) (_ int, err error) {
	defer errcode.Op("offramp.SweepDue", &err)
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	ds, err := queryDeposits(ctx, s.DB, "sandbox = ? AND sweep_status IN ('pending', 'sent') ORDER BY id LIMIT 50", true)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range ds {
		if d.SweepStatus == "pending" {
			res, err := s.DB.Exec(ctx, "UPDATE rampoff_deposits SET sweep_status = 'sending', updated_at = ? WHERE id = ? AND sweep_status = 'pending'",
				store.Micros(s.Now()), d.ID)
			if err != nil {
				return n, err
			}
			if k, _ := res.RowsAffected(); k != 1 {
				continue
			}
		}
		ok, err := s.sweep(ctx, d)
		if err != nil {
			s.log().Error("sandbox sweep failed", "deposit", d.ID, "rampoff", d.RampoffID, "err", err)
			if _, e := s.DB.Exec(ctx, "UPDATE rampoff_deposits SET sweep_status = 'failed', sweep_error = ?, updated_at = ? WHERE id = ?",
				err.Error(), store.Micros(s.Now()), d.ID); e != nil {
				return n, e
			}
			continue
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// sweep moves one sandbox deposit from its address to the hot wallet: gas top-up from the
// faucet when needed (booked external → deposit address in the native coin), the token
// transfer signed with the deposit key derived from the sandbox xprv, and on its receipt the
// token posting deposit address → hot wallet with the gas burnt. ok is false while the transfer
// is not mined yet (the next pass looks again).
func (s *Service) sweep(ctx context.Context, d Deposit) (ok bool, err error) {
	sc, err := s.Chains.Sandbox(ctx, d.Chain)
	if err != nil {
		return false, err
	}
	c := sc.Chain()
	s.faucets.Store(d.Network, c.FaucetAddress())
	if d.SweepStatus == "sent" {
		rc, err := c.Client().TransactionReceipt(ctx, gethcommon.HexToHash(d.SweepTxID))
		if err != nil {
			return false, nil // not mined yet, or the sandbox chain restarted: the operator sees it in /admin/api/sweeps
		}
		return true, s.finishSweep(ctx, d, rc)
	}
	xprv, _ := c.DepositKeys()
	key, err := hd.DepositPrivateKey(xprv, d.HDIndex)
	if err != nil {
		return false, err
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	if !strings.EqualFold(addr.Hex(), d.Address) {
		return false, fmt.Errorf("deposit key %d derives %s, not %s", d.HDIndex, addr.Hex(), d.Address)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	bal, err := c.Client().BalanceAt(wctx, addr, nil)
	if err != nil {
		return false, err
	}
	native := evm.DefaultChains()[d.Chain].NativeSymbol
	if bal.Cmp(sweepMinGas) < 0 {
		h, err := c.Fund(wctx, addr, "native", sweepTopUp)
		if err != nil {
			return false, fmt.Errorf("gas top-up: %w", err)
		}
		rc, err := c.WaitMined(wctx, h)
		if err != nil {
			return false, fmt.Errorf("gas top-up %s: %w", h.Hex(), err)
		}
		if rc.Status != types.ReceiptStatusSuccessful {
			return false, fmt.Errorf("gas top-up %s reverted", h.Hex())
		}
		err = s.DB.Tx(ctx, func(tx *store.Tx) error {
			asset := tokenAsset(native, d.Chain)
			ext, err := account(ctx, tx, true, ledger.KindExternal, asset, "external", d.Chain, native)
			if err != nil {
				return err
			}
			dep, err := account(ctx, tx, true, ledger.KindDepositAddress, asset, "deposit", d.Chain, d.Address, native)
			if err != nil {
				return err
			}
			_, err = ledger.Post(ctx, tx, ledger.Transaction{Reference: "offramp:gas:" + h.Hex(),
				Description: "sandbox faucet gas for sweeping " + d.Address, Postings: ledger.Transfer(ext, dep, asset, sweepTopUp)})
			return err
		})
		if err != nil {
			return false, err
		}
	}
	h, err := c.Transfer(wctx, key, sc.Adapter().HotWallet(), d.Asset, d.Amount.Units())
	if err != nil {
		return false, fmt.Errorf("sweep transfer: %w", err)
	}
	if _, err := s.DB.Exec(ctx, "UPDATE rampoff_deposits SET sweep_status = 'sent', sweep_txid = ?, updated_at = ? WHERE id = ?",
		h.Hex(), store.Micros(s.Now()), d.ID); err != nil {
		return false, err
	}
	d.SweepTxID = h.Hex()
	rc, err := c.WaitMined(wctx, h)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return false, nil
		}
		return false, err
	}
	return true, s.finishSweep(ctx, d, rc)
}

// finishSweep books a mined sweep: the tokens (when it succeeded) and the gas it burnt.
func (s *Service) finishSweep(ctx context.Context, d Deposit, rc *types.Receipt) error {
	native := evm.DefaultChains()[d.Chain].NativeSymbol
	gas := new(big.Int).SetUint64(rc.GasUsed)
	if rc.EffectiveGasPrice != nil {
		gas.Mul(gas, rc.EffectiveGasPrice)
	}
	return s.DB.Tx(ctx, func(tx *store.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, "SELECT sweep_status FROM rampoff_deposits WHERE id = ?"+tx.ForUpdate(), d.ID).Scan(&status); err != nil {
			return err
		}
		if status != "sent" {
			return nil
		}
		nativeAsset := tokenAsset(native, d.Chain)
		depNative, err := account(ctx, tx, true, ledger.KindDepositAddress, nativeAsset, "deposit", d.Chain, d.Address, native)
		if err != nil {
			return err
		}
		fees, err := account(ctx, tx, true, KindNetworkFees, nativeAsset, "network_fees", d.Chain, native)
		if err != nil {
			return err
		}
		postings := []ledger.Posting{}
		if gas.Sign() > 0 {
			postings = append(postings, ledger.Transfer(depNative, fees, nativeAsset, gas)...)
		}
		next, desc := "failed", "reverted sweep of "+d.Address
		if rc.Status == types.ReceiptStatusSuccessful {
			token := tokenAsset(d.Asset, d.Chain)
			dep, err := account(ctx, tx, true, ledger.KindDepositAddress, token, "deposit", d.Chain, d.Address, d.Asset)
			if err != nil {
				return err
			}
			hot, err := account(ctx, tx, true, ledger.KindHotWallet, token, "hotwallet", d.Chain, d.Asset)
			if err != nil {
				return err
			}
			postings = append(postings, ledger.Transfer(dep, hot, token, d.Amount.Units())...)
			next, desc = "swept", fmt.Sprintf("sweep of %s %s from %s to the hot wallet", d.Amount, d.Asset, d.Address)
		}
		if len(postings) >= 2 {
			if _, err := ledger.Post(ctx, tx, ledger.Transaction{Reference: fmt.Sprintf("offramp:sweep:%d", d.ID),
				Description: desc + " (" + d.SweepTxID + ")", Postings: postings}); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, "UPDATE rampoff_deposits SET sweep_status = ?, updated_at = ? WHERE id = ?", next, store.Micros(s.Now()), d.ID)
		return err
	})
}
