package chainset

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/chain/btc/btcsim"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Bitcoin is the catalogue's chain name of Bitcoin.
const Bitcoin = "bitcoin"

// BitcoinLive configures the production Bitcoin chain.
type BitcoinLive struct {
	Params      *chaincfg.Params // mainnet, testnet3, signet or regtest
	RPCURLs     []string         // http://user:pass@host:port, tried in order
	HotWallet   *btcec.PrivateKey
	DepositXpub string // BIP-84 account key (zpub/xpub; vpub/tpub on test networks)
	// Confirmations, ScanFrom and Fees: see btc.Config (zero values take its defaults).
	Confirmations int64
	ScanFrom      int64
	Fees          btc.FeePolicy
}

// BitcoinSandbox is the in-process regtest chain of sandbox integrations with its adapter.
type BitcoinSandbox struct {
	chain   *btcsim.Chain
	adapter *btc.Adapter
	stop    func()
}

// Chain is the simulated chain (faucet, mining).
func (b *BitcoinSandbox) Chain() *btcsim.Chain { return b.chain }

// Adapter is the sandbox chain's adapter.
func (b *BitcoinSandbox) Adapter() *btc.Adapter { return b.adapter }

// sandboxBitcoinFunding is what the faucet gives the sandbox hot wallet when the chain starts.
const sandboxBitcoinFunding = 100 * 100_000_000

func (s *Set) connectBitcoin(ctx context.Context, l *BitcoinLive) error {
	node, err := btc.NewRPC(l.RPCURLs, nil)
	if err != nil {
		return err
	}
	a, err := btc.New(ctx, btc.Config{Name: Bitcoin, Params: l.Params, DB: s.cfg.DB, Node: node, HotWallet: l.HotWallet,
		DepositXpub: l.DepositXpub, Confirmations: l.Confirmations, ScanFrom: l.ScanFrom, Fees: l.Fees,
		OnPayout: s.onPayout(false), OnDeposit: s.onDeposit(false), OnFee: s.onBitcoinFee(false), Now: s.cfg.Now, Logger: s.cfg.Log})
	if err != nil {
		return fmt.Errorf("chain bitcoin: %w", err)
	}
	s.btcLive = a
	s.cfg.Log.Info("bitcoin hot wallet", "network", l.Params.Name, "address", a.HotWallet())
	return nil
}

func (s *Set) onBitcoinFee(sandbox bool) func(context.Context, *store.Tx, btc.Fee) error {
	return func(ctx context.Context, tx *store.Tx, f btc.Fee) error {
		if s.cfg.OnMinerFee == nil {
			return nil
		}
		return s.cfg.OnMinerFee(ctx, tx, MinerFee{Sandbox: sandbox, Chain: Bitcoin, Asset: btc.Symbol, TxID: f.TxID, Block: f.Block,
			Fee: big.NewInt(f.Fee), Reversal: f.Reversal})
	}
}

func (s *Set) seeded(label string) []byte {
	mac := hmac.New(sha256.New, s.cfg.SandboxSeed)
	mac.Write([]byte(label))
	return mac.Sum(nil)
}

// errBitcoinFollower: the sandbox Bitcoin chain is not reached through the leader yet.
var errBitcoinFollower = &errcode.Error{Code: "sandbox_chain_unavailable", Kind: errcode.KindUnavailable,
	Message: "the sandbox Bitcoin chain runs on the leading instance only; send sandbox Bitcoin requests there"}

// BitcoinSandbox returns the sandbox's regtest chain, starting it on first use: the chain is
// loaded from (and saved to) the data directory, a new one is mined past coinbase maturity and
// the hot wallet funded from the faucet; a block is mined every BitcoinBlockInterval.
func (s *Set) BitcoinSandbox(ctx context.Context) (*BitcoinSandbox, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.btcSim != nil {
		return s.btcSim, nil
	}
	if s.follow != nil && !s.leading {
		// Its file in the shared data dir is written by one process: the leader's.
		return nil, errBitcoinFollower
	}
	var sim *btcsim.Chain
	if s.cfg.DataDir == "" {
		sim = btcsim.New(s.seeded("sandbox bitcoin chain"))
	} else {
		var err error
		if sim, err = btcsim.Open(filepath.Join(s.cfg.DataDir, "sandbox-bitcoin.chain"), s.seeded("sandbox bitcoin chain")); err != nil {
			return nil, fmt.Errorf("sandbox chain bitcoin: %w", err)
		}
	}
	hot, _ := btcec.PrivKeyFromBytes(s.seeded("sandbox bitcoin hot wallet"))
	master, err := hdkeychain.NewMaster(s.seeded("sandbox bitcoin deposit seed"), btcsim.Params)
	if err != nil {
		return nil, err
	}
	acct := master
	for _, i := range []uint32{84, 1, 0} {
		if acct, err = acct.Derive(hdkeychain.HardenedKeyStart + i); err != nil {
			return nil, err
		}
	}
	xpub, err := acct.Neuter()
	if err != nil {
		return nil, err
	}
	height, _ := sim.BlockCount(ctx)
	a, err := btc.New(ctx, btc.Config{Name: Bitcoin, Network: "sandbox:" + Bitcoin, Params: btcsim.Params, DB: s.cfg.DB, Node: sim,
		HotWallet: hot, DepositXpub: xpub.String(), Confirmations: 2, ScanFrom: 1, AllowChainReset: true,
		AlsoAccept: s.bitcoinParams(true)[1:],
		Fees:       btc.FeePolicy{BumpAfter: 2 * time.Minute},
		OnPayout:   s.onPayout(true), OnDeposit: s.onDeposit(true), OnFee: s.onBitcoinFee(true), Now: s.cfg.Now, Logger: s.cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("sandbox chain bitcoin: %w", err)
	}
	if height == 0 {
		if _, err := sim.Mine(110); err != nil { // 10 coinbase outputs of 50 BTC mature
			return nil, err
		}
		if _, err := sim.Fund(a.HotWallet(), sandboxBitcoinFunding); err != nil {
			return nil, fmt.Errorf("sandbox chain bitcoin: fund hot wallet: %w", err)
		}
		hashes, err := sim.Mine(1)
		if err != nil {
			return nil, err
		}
		if s.cfg.OnSandboxFunded != nil {
			// The funding block identifies this chain's life: a reset chain is funded (and booked) again.
			if err := s.cfg.OnSandboxFunded(ctx, Bitcoin, hashes[0].String(), btc.Symbol, big.NewInt(sandboxBitcoinFunding)); err != nil {
				return nil, fmt.Errorf("sandbox chain bitcoin: book funding: %w", err)
			}
		}
	}
	interval := s.cfg.BitcoinBlockInterval
	if interval == 0 {
		interval = 4 * s.cfg.BlockInterval
	}
	b := &BitcoinSandbox{chain: sim, adapter: a,
		stop: sim.AutoMine(interval, func(err error) { s.cfg.Log.Error("sandbox bitcoin mining", "err", err) })}
	s.btcSim = b
	if s.ctx != nil {
		s.run(a)
	}
	s.cfg.Log.Info("sandbox chain started", "chain", Bitcoin, "height", height, "hot_wallet", a.HotWallet())
	return b, nil
}

// bitcoinParams is the network Bitcoin addresses are checked against: the sandbox's regtest
// (which also pays mainnet addresses, what customers' wallets show), or the configured live
// network (mainnet when Bitcoin is not configured).
func (s *Set) bitcoinParams(sandbox bool) []*chaincfg.Params {
	if sandbox {
		return []*chaincfg.Params{btcsim.Params, &chaincfg.MainNetParams}
	}
	if s.cfg.Bitcoin != nil && s.cfg.Bitcoin.Params != nil {
		return []*chaincfg.Params{s.cfg.Bitcoin.Params}
	}
	return []*chaincfg.Params{&chaincfg.MainNetParams}
}

// NetworkFee estimates a payout's miner fee on chainName (pricing.NetworkFeeEstimator): for
// Bitcoin the node's fee rate within the operator's caps times a one-input, two-output P2WPKH
// payout's virtual size, in BTC; other chains have no estimate (ok false: their fixed fee).
func (s *Set) NetworkFee(ctx context.Context, sandbox bool, chainName string) (money.Amount, string, bool, error) {
	if chainName != Bitcoin {
		return money.Amount{}, "", false, nil
	}
	a, err := s.Adapter(ctx, sandbox, Bitcoin)
	if errors.Is(err, ErrNotConfigured) {
		return money.Amount{}, "", false, nil // not offered live; the fixed fee prices nothing real
	}
	if err != nil {
		return money.Amount{}, "", false, err
	}
	fee, err := a.(*btc.Adapter).EstimatePayoutFee(ctx)
	if err != nil {
		return money.Amount{}, "", false, err
	}
	return money.FromInt64(fee, 8), btc.Symbol, true, nil
}

// BitcoinParams maps a network name to its parameters (see btc.NetworkParams).
func BitcoinParams(name string) (*chaincfg.Params, error) { return btc.NetworkParams(name) }
