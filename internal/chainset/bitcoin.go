package chainset

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"math/big"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"

	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/chain/btc/btcsim"
	"github.com/pocketramp/pocketramp/internal/errcode"
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
		OnPayout: s.onPayout(false), OnDeposit: s.onDeposit(false), Now: s.cfg.Now, Logger: s.cfg.Log})
	if err != nil {
		return fmt.Errorf("chain bitcoin: %w", err)
	}
	s.btcLive = a
	s.cfg.Log.Info("bitcoin hot wallet", "network", l.Params.Name, "address", a.HotWallet())
	return nil
}

func (s *Set) seeded(label string) []byte {
	mac := hmac.New(sha256.New, s.cfg.SandboxSeed)
	mac.Write([]byte(label))
	return mac.Sum(nil)
}

// errBitcoinFollower: the sandbox Bitcoin chain is not reached through the leader yet.
var errBitcoinFollower = &errcode.Error{Code: "sandbox_chain_unavailable", Status: http.StatusServiceUnavailable,
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
		AlsoAccept: []*chaincfg.Params{&chaincfg.MainNetParams},
		Fees:       btc.FeePolicy{BumpAfter: 2 * time.Minute},
		OnPayout:   s.onPayout(true), OnDeposit: s.onDeposit(true), Now: s.cfg.Now, Logger: s.cfg.Log})
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

// BitcoinFromEnv reads the live Bitcoin configuration from POCKETRAMP_BTC_* variables (getenv is
// os.Getenv): the chain is enabled by POCKETRAMP_BTC_RPC_URLS (comma-separated, tried in order);
// POCKETRAMP_BTC_NETWORK is mainnet (default), testnet, signet or regtest; payouts need
// POCKETRAMP_BTC_HOT_WALLET_WIF, deposits POCKETRAMP_BTC_DEPOSIT_XPUB; POCKETRAMP_BTC_SCAN_FROM is
// the first block height scanned, POCKETRAMP_BTC_CONFIRMATIONS the confirmations required, and
// POCKETRAMP_BTC_MAX_FEE_RATE / POCKETRAMP_BTC_MIN_FEE_RATE cap the fee rate in sat/vB.
func BitcoinFromEnv(getenv func(string) string) (*BitcoinLive, error) {
	urls := getenv("POCKETRAMP_BTC_RPC_URLS")
	if strings.TrimSpace(urls) == "" {
		return nil, nil
	}
	l := &BitcoinLive{}
	for _, u := range strings.Split(urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			l.RPCURLs = append(l.RPCURLs, u)
		}
	}
	var err error
	if l.Params, err = BitcoinParams(getenv("POCKETRAMP_BTC_NETWORK")); err != nil {
		return nil, err
	}
	if wif := strings.TrimSpace(getenv("POCKETRAMP_BTC_HOT_WALLET_WIF")); wif != "" {
		w, err := btcutil.DecodeWIF(wif)
		if err != nil {
			return nil, fmt.Errorf("POCKETRAMP_BTC_HOT_WALLET_WIF: %w", err)
		}
		if !w.IsForNet(l.Params) {
			return nil, fmt.Errorf("POCKETRAMP_BTC_HOT_WALLET_WIF: the key is not for %s", l.Params.Name)
		}
		l.HotWallet = w.PrivKey
	}
	l.DepositXpub = strings.TrimSpace(getenv("POCKETRAMP_BTC_DEPOSIT_XPUB"))
	for name, dst := range map[string]*int64{"POCKETRAMP_BTC_SCAN_FROM": &l.ScanFrom, "POCKETRAMP_BTC_CONFIRMATIONS": &l.Confirmations,
		"POCKETRAMP_BTC_MAX_FEE_RATE": &l.Fees.MaxRate, "POCKETRAMP_BTC_MIN_FEE_RATE": &l.Fees.MinRate} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: %q is not a non-negative integer", name, v)
		}
		*dst = n
	}
	l.Fees.MaxRate *= 1000 // sat/vB → sat/kvB
	l.Fees.MinRate *= 1000
	return l, nil
}

// BitcoinParams maps a network name to its parameters.
func BitcoinParams(name string) (*chaincfg.Params, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "mainnet", "main", "bitcoin":
		return &chaincfg.MainNetParams, nil
	case "testnet", "testnet3", "test":
		return &chaincfg.TestNet3Params, nil
	case "signet":
		return &chaincfg.SigNetParams, nil
	case "regtest":
		return &chaincfg.RegressionNetParams, nil
	}
	return nil, fmt.Errorf("bitcoin network %q: want mainnet, testnet, signet or regtest", name)
}
