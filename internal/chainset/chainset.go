// Package chainset holds the chain adapters a running pocketramp uses: live EVM chains the
// operator configured (JSON-RPC, hot wallet, deposit xpub) and, for sandbox integrations, one
// in-process simulated chain per chain name, started on first use. Both kinds are the same
// evm.Adapter; only the backend differs. The set also runs their background passes.
package chainset

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/chain/evm"
	"github.com/pocketramp/pocketramp/internal/chain/simchain"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Live configures one production chain.
type Live struct {
	Chain       evm.ChainConfig // resolved by the config package (presets, rpc_urls)
	HotWallet   *ecdsa.PrivateKey
	DepositXpub string
}

// Config configures the set.
type Config struct {
	DB *store.DB
	// SandboxSeed makes the sandbox chains' keys and contracts the same after every restart.
	SandboxSeed []byte
	Live        []Live
	// OnSandboxFunded books the faucet's funding of a new sandbox chain's hot wallet (genesis
	// identifies the chain's life: a restart funds a new one).
	OnSandboxFunded func(ctx context.Context, chainName, genesis, asset string, amount *big.Int) error
	// OnMinerFee books the miner fee of a confirmed payout transaction (Bitcoin: one per
	// transaction, batched payouts share it) inside the transaction that confirms it, and
	// reverses that booking (f.Reversal) inside the transaction that rewinds a reorg which
	// orphaned its block.
	OnMinerFee func(ctx context.Context, tx *store.Tx, f MinerFee) error
	// BlockInterval is how often sandbox chains mine a block; PassInterval how often adapters
	// process payouts and scan deposits.
	BlockInterval time.Duration
	PassInterval  time.Duration
	// Bitcoin is the live Bitcoin chain (nil: not configured). The sandbox's regtest chain is
	// saved in DataDir ("" keeps it in memory) and mines every BitcoinBlockInterval (default
	// 4×BlockInterval).
	Bitcoin              *BitcoinLive
	DataDir              string
	BitcoinBlockInterval time.Duration
	Log                  *slog.Logger
	Now                  func() time.Time
}

// MinerFee is the miner fee of a payout transaction to book or, with Reversal, to un-book.
type MinerFee struct {
	Sandbox      bool
	Chain, Asset string
	TxID         string
	Block        string // hash of the block that confirms (or confirmed) the transaction
	Fee          *big.Int
	Reversal     bool
}

// Set is the chains of one pocketramp.
type Set struct {
	cfg Config
	// settler hears about payouts and deposits (Settle); nil until connected.
	settler atomic.Pointer[settlerBox]
	mu      sync.Mutex
	live    map[string]*evm.Adapter
	sim     map[string]*SandboxChain
	// btcLive and btcSim are the Bitcoin chain's adapters (a UTXO chain beside the EVM ones).
	btcLive *btc.Adapter
	btcSim  *BitcoinSandbox
	ctx     context.Context // set by Start: background passes of chains started later use it
	wg      sync.WaitGroup
	// A follower (Follow, until Start) reaches the sandbox chains through the leading instance.
	follow  *follow
	leading bool
	remote  map[string]*SandboxChain
}

// follow is how a follower finds the leader.
type follow struct {
	leaderURL func(ctx context.Context) (string, error)
	self      string // this instance's URL: never its own leader
	token     string // the operator token the leader accepts
}

// SandboxChain is a simulated chain with its adapter.
type SandboxChain struct {
	chain   *simchain.Chain
	adapter *evm.Adapter
	stop    func()
	url     string // a chain the leader runs: its JSON-RPC address
}

// SandboxChainIDs keep sandbox chains apart from the real networks they imitate.
var SandboxChainIDs = map[string]int64{"ethereum": 900001, "bsc": 900056, "polygon": 900137, "arbitrum": 942161, "base": 908453}

// New builds the set and connects the live chains.
func New(ctx context.Context, cfg Config) (*Set, error) {
	if cfg.BlockInterval == 0 {
		cfg.BlockInterval = 500 * time.Millisecond
	}
	if cfg.PassInterval == 0 {
		cfg.PassInterval = 250 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Set{cfg: cfg, live: map[string]*evm.Adapter{}, sim: map[string]*SandboxChain{}, remote: map[string]*SandboxChain{}}
	for _, l := range cfg.Live {
		be, err := evm.DialFailover(ctx, l.Chain.RPCURLs)
		if err != nil {
			return nil, err
		}
		a, err := evm.New(ctx, evm.Config{Chain: l.Chain, DB: cfg.DB, Backend: be, HotWallet: l.HotWallet, DepositXpub: l.DepositXpub,
			OnPayout: s.onPayout(false), OnDeposit: s.onDeposit(false), Now: cfg.Now, Logger: cfg.Log})
		if err != nil {
			return nil, fmt.Errorf("chain %s: %w", l.Chain.Name, err)
		}
		s.live[l.Chain.Name] = a
	}
	if cfg.Bitcoin != nil {
		if err := s.connectBitcoin(ctx, cfg.Bitcoin); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Settler is what the chains report to (the consumer, chainset, owns the interface): the ramps
// settle a payout's or deposit's change inside the transaction that records it.
type Settler interface {
	OnPayout(ctx context.Context, tx *store.Tx, sandbox bool, p chain.Payout) error
	OnDeposit(ctx context.Context, tx *store.Tx, sandbox bool, d chain.Deposit) error
}

type settlerBox struct{ Settler }

// Settle connects the settler the chains report payouts and deposits to. The ramps and the
// chains need each other at run time (a ramp pays out through a chain; a chain reports the
// payout back to the ramp), so one of them is built first: the chains, which the ramps and the
// pricer are then built with; the ramps connect here, once, before the chains start. Until
// then a change that would be reported fails with its transaction (errNoSettler), so no payout
// or deposit is recorded without its settlement.
func (s *Set) Settle(st Settler) { s.settler.Store(&settlerBox{st}) }

var errNoSettler = errors.New("chainset: no settler connected (Settle)")

func (s *Set) onPayout(sandbox bool) func(context.Context, *store.Tx, chain.Payout) error {
	return func(ctx context.Context, tx *store.Tx, p chain.Payout) error {
		if st := s.settler.Load(); st != nil {
			return st.OnPayout(ctx, tx, sandbox, p)
		}
		return errNoSettler
	}
}

func (s *Set) onDeposit(sandbox bool) func(context.Context, *store.Tx, chain.Deposit) error {
	return func(ctx context.Context, tx *store.Tx, d chain.Deposit) error {
		if st := s.settler.Load(); st != nil {
			return st.OnDeposit(ctx, tx, sandbox, d)
		}
		return errNoSettler
	}
}

// ErrNotConfigured is a chain the operator has not configured for production.
var ErrNotConfigured = errcode.New("coin_not_supported", "this chain is not configured on this server")

// Adapter returns the adapter of chain name for sandbox or live use.
func (s *Set) Adapter(ctx context.Context, sandbox bool, name string) (chain.Adapter, error) {
	if name == Bitcoin {
		if sandbox {
			b, err := s.BitcoinSandbox(ctx)
			if err != nil {
				return nil, err
			}
			return b.adapter, nil
		}
		if s.btcLive == nil {
			return nil, ErrNotConfigured
		}
		return s.btcLive, nil
	}
	if !sandbox {
		s.mu.Lock()
		a, ok := s.live[name]
		s.mu.Unlock()
		if !ok {
			return nil, ErrNotConfigured
		}
		return a, nil
	}
	sc, err := s.Sandbox(ctx, name)
	if err != nil {
		return nil, err
	}
	return sc.adapter, nil
}

// nativeSymbols are the default chains' native coins, for Settles on every quote and payment
// (evm.DefaultChains builds its whole map anew on each call).
var nativeSymbols = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for name, c := range evm.DefaultChains() {
		out[name] = c.NativeSymbol
	}
	return out
})

// sandboxTokens are the test tokens a sandbox chain deploys: USDC and USDT with the decimals of
// the real chain's, and on polygon the bridged ETH (an ERC-20 there, as in the catalogue).
func sandboxTokens(name string) []simchain.TokenSpec {
	if name == "bsc" {
		return simchain.Tokens18()
	}
	tokens := simchain.Tokens6()
	if name == "polygon" {
		tokens = append(tokens, simchain.TokenSpec{Symbol: "ETH", Name: "Test Ether (PoS-bridged)", Decimals: 18})
	}
	return tokens
}

// Settles reports whether this server can pay out and take deposits of symbol on chainName for
// sandbox or live integrations (what available-assets and quotes may offer). contract is the
// token contract a live chain is configured with ("" for a native coin, and for sandbox chains,
// whose contracts are deployed at first use).
func (s *Set) Settles(sandbox bool, chainName, symbol string) (contract string, ok bool) {
	symbol = strings.ToUpper(symbol)
	if chainName == Bitcoin {
		s.mu.Lock()
		live := s.btcLive != nil
		s.mu.Unlock()
		return "", symbol == "BTC" && (sandbox || live)
	}
	if sandbox {
		if _, ok := SandboxChainIDs[chainName]; !ok {
			return "", false
		}
		if strings.EqualFold(nativeSymbols()[chainName], symbol) {
			return "", true
		}
		for _, t := range sandboxTokens(chainName) {
			if t.Symbol == symbol {
				return "", true
			}
		}
		return "", false
	}
	s.mu.Lock()
	a, ok := s.live[chainName]
	s.mu.Unlock()
	if !ok {
		return "", false
	}
	return a.Asset(symbol)
}

// ValidateAddress validates and normalises addr for the network chainName pays out on for
// sandbox or live use: Bitcoin addresses of the sandbox's regtest (bcrt1…, and mainnet ones) or
// of the configured network (bc1/1/3 on mainnet, tb1 on testnet and signet, bcrt1 on regtest);
// other chains' addresses do not depend on the network.
func (s *Set) ValidateAddress(sandbox bool, chainName, addr string) (string, error) {
	if chainName != Bitcoin {
		return chain.ValidateAddress(chainName, addr)
	}
	var err error
	for _, p := range s.bitcoinParams(sandbox) {
		var out string
		if out, err = btc.ValidateAddress(addr, p); err == nil {
			return out, nil
		}
	}
	return "", err
}

// Sandbox returns the simulated chain behind a sandbox chain name, starting it on first use:
// deploys the test tokens, funds the hot wallet from the faucet and starts mining. A follower
// (see Follow) gets the leader's chain instead, reached over JSON-RPC; while no instance leads
// (an election under way) it waits up to 30 seconds.
func (s *Set) Sandbox(ctx context.Context, name string) (*SandboxChain, error) {
	if _, ok := SandboxChainIDs[name]; !ok {
		return nil, ErrNotConfigured
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		sc, ok := s.sim[name]
		follower := s.follow != nil && !s.leading
		s.mu.Unlock()
		if ok {
			return sc, nil
		}
		if !follower {
			return s.openSandbox(ctx, name)
		}
		sc, err := s.remoteSandbox(ctx, name)
		if !errors.Is(err, errNoLeader) || time.Now().After(deadline) {
			return sc, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// errNoLeader: no other instance leads right now.
var errNoLeader = &errcode.Error{Code: "sandbox_chain_unavailable", Kind: errcode.KindUnavailable,
	Message: "the sandbox chains run on the leading instance and none leads right now; retry shortly"}

// sandboxSeed is the seed of sandbox chain name's keys and contracts.
func (s *Set) sandboxSeed(name string) []byte {
	mac := hmac.New(sha256.New, s.cfg.SandboxSeed)
	mac.Write([]byte("sandbox chain " + name))
	return mac.Sum(nil)
}

// sandboxAdapter is the EVM adapter of sandbox chain name on sim.
func (s *Set) sandboxAdapter(ctx context.Context, name string, sim *simchain.Chain) (*evm.Adapter, error) {
	cfg := evm.DefaultChains()[name]
	cfg.ChainID, cfg.Network, cfg.Confirmations = SandboxChainIDs[name], "sandbox:"+name, 2
	cfg.Tokens = nil
	for _, t := range sim.Tokens() {
		cfg.Tokens = append(cfg.Tokens, evm.Token{Symbol: t.Symbol, Address: t.Address, Decimals: t.Decimals})
	}
	cfg.Gas = evm.GasPolicy{}
	_, xpub := sim.DepositKeys()
	a, err := evm.New(ctx, evm.Config{Chain: cfg, DB: s.cfg.DB, Backend: sim.Client(), HotWallet: sim.HotWalletKey(), DepositXpub: xpub,
		AllowChainReset: true, OnPayout: s.onPayout(true), OnDeposit: s.onDeposit(true), Now: s.cfg.Now, Logger: s.cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("sandbox chain %s: %w", name, err)
	}
	return a, nil
}

// remoteSandbox is the leader's sandbox chain name, reached through its operator listener.
func (s *Set) remoteSandbox(ctx context.Context, name string) (*SandboxChain, error) {
	s.mu.Lock()
	f := s.follow
	s.mu.Unlock()
	base, err := f.leaderURL(ctx)
	if err != nil {
		return nil, err
	}
	if base == "" || base == f.self {
		return nil, errNoLeader
	}
	url := strings.TrimRight(base, "/") + "/admin/api/sandbox/chains/" + name + "/rpc"
	s.mu.Lock()
	old := s.remote[name]
	s.mu.Unlock()
	if old != nil && old.url == url {
		// The recorded leader may have just died (its row stays until the next leader writes
		// its own): a chain that does not answer counts as no leader, and is dialled again.
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := old.chain.Client().BlockNumber(pctx)
		cancel()
		if err == nil {
			return old, nil
		}
		s.mu.Lock()
		if s.remote[name] == old {
			delete(s.remote, name)
			old.chain.Close()
		}
		s.mu.Unlock()
		return nil, errNoLeader
	}
	client, err := rpc.DialOptions(ctx, url, rpc.WithHeader("Authorization", "Bearer "+f.token))
	if err != nil {
		return nil, fmt.Errorf("sandbox chain %s on the leader: %w", name, err)
	}
	sim, err := simchain.Attach(ctx, client, simchain.Config{Seed: s.sandboxSeed(name), ChainID: SandboxChainIDs[name], Tokens: sandboxTokens(name)})
	if err != nil {
		client.Close()
		s.cfg.Log.Warn("sandbox chain on the leader unreachable", "chain", name, "leader", base, "err", err)
		return nil, errNoLeader // a leader that just died, or one still opening the chain
	}
	a, err := s.sandboxAdapter(ctx, name, sim)
	if err != nil {
		sim.Close()
		return nil, err
	}
	sc := &SandboxChain{chain: sim, adapter: a, stop: func() {}, url: url}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.remote[name]; cur != nil && cur != old {
		sim.Close() // another request dialled it meanwhile
		return cur, nil
	}
	s.remote[name] = sc
	return sc, nil
}

// Follow makes this set a follower: sandbox chains not opened yet are reached on the leading
// instance (leaderURL returns its operator listener URL, "" while none leads; self is this
// instance's own), authenticated with the operator token, until Start makes it the leader.
// For several instances on one database: only the leader runs the chains, from the shared data
// directory.
func (s *Set) Follow(leaderURL func(ctx context.Context) (string, error), self, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.follow = &follow{leaderURL: leaderURL, self: self, token: token}
}

// openSandbox starts sandbox chain name in this process.
func (s *Set) openSandbox(ctx context.Context, name string) (*SandboxChain, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.sim[name]; ok {
		return sc, nil
	}
	id := SandboxChainIDs[name]
	tokens := sandboxTokens(name)
	dir := ""
	if s.cfg.DataDir != "" {
		dir = filepath.Join(s.cfg.DataDir, "sandbox-evm", name)
	}
	sim, err := simchain.New(simchain.Config{Seed: s.sandboxSeed(name), ChainID: id, Tokens: tokens, DataDir: dir})
	if err != nil {
		return nil, fmt.Errorf("sandbox chain %s: %w", name, err)
	}
	a, err := s.sandboxAdapter(ctx, name, sim)
	if err != nil {
		sim.Close()
		return nil, err
	}
	if err := s.fundSandbox(ctx, name, sim, a.HotWallet()); err != nil {
		sim.Close()
		return nil, err
	}
	sc := &SandboxChain{chain: sim, adapter: a, stop: sim.AutoMine(s.cfg.BlockInterval)}
	s.sim[name] = sc
	if s.ctx != nil {
		s.run(a)
	}
	s.cfg.Log.Info("sandbox chain started", "chain", name, "chain_id", id, "hot_wallet", a.HotWallet().Hex(), "new", sim.Fresh(), "dir", dir)
	return sc, nil
}

// fundSandbox gives the hot wallet of a sandbox chain its tokens and gas from the faucet, and
// books the tokens: each asset the wallet holds none of (a new chain, or one killed before its
// funding was mined; a reopened chain keeps its balances). The booking's reference names the
// chain's genesis and asset, so it is booked once per chain.
func (s *Set) fundSandbox(ctx context.Context, name string, sim *simchain.Chain, hot common.Address) error {
	var sent []common.Hash
	for _, t := range sim.Tokens() {
		if bal, err := sim.TokenBalance(ctx, t.Symbol, hot); err != nil || bal.Sign() > 0 {
			if err != nil {
				return fmt.Errorf("sandbox chain %s: hot wallet balance: %w", name, err)
			}
			continue
		}
		units := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Decimals)), nil)
		amount := new(big.Int).Mul(big.NewInt(10_000_000), units)
		h, err := sim.Fund(ctx, hot, t.Symbol, amount)
		if err != nil {
			return fmt.Errorf("sandbox chain %s: fund hot wallet: %w", name, err)
		}
		sent = append(sent, h)
		if s.cfg.OnSandboxFunded != nil {
			if err := s.cfg.OnSandboxFunded(ctx, name, sim.Genesis().Hex(), t.Symbol, amount); err != nil {
				return fmt.Errorf("sandbox chain %s: book funding: %w", name, err)
			}
		}
	}
	if bal, err := sim.Client().BalanceAt(ctx, hot, nil); err != nil {
		return fmt.Errorf("sandbox chain %s: hot wallet balance: %w", name, err)
	} else if bal.Sign() == 0 {
		h, err := sim.Fund(ctx, hot, "native", new(big.Int).Exp(big.NewInt(10), big.NewInt(21), nil))
		if err != nil {
			return fmt.Errorf("sandbox chain %s: fund hot wallet gas: %w", name, err)
		}
		sent = append(sent, h)
	}
	// Mined before the chain is used, so a restart finds the wallet funded. The pool admits
	// asynchronously: a block sealed too early is followed by another.
	deadline := time.Now().Add(time.Minute)
	for _, h := range sent {
		for {
			sim.Commit()
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			rc, err := sim.WaitMined(wctx, h)
			cancel()
			if err == nil && rc.Status != types.ReceiptStatusSuccessful {
				return fmt.Errorf("sandbox chain %s: funding %s reverted", name, h.Hex())
			}
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("sandbox chain %s: funding %s not mined: %w", name, h.Hex(), err)
			}
		}
	}
	return nil
}

// Chain is the simulated chain (faucet, balances) of a sandbox chain.
func (sc *SandboxChain) Chain() *simchain.Chain { return sc.chain }

// Adapter is the sandbox chain's adapter.
func (sc *SandboxChain) Adapter() *evm.Adapter { return sc.adapter }

// Start runs the adapters' payout and deposit passes until Stop.
func (s *Set) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx = ctx
	s.leading = true
	s.closeRemote()
	for _, a := range s.live {
		s.run(a)
	}
	for _, sc := range s.sim {
		s.run(sc.adapter)
	}
	if s.btcLive != nil {
		s.run(s.btcLive)
	}
	if s.btcSim != nil {
		s.run(s.btcSim.adapter)
	}
}

func (s *Set) run(a interface {
	Run(ctx context.Context, interval time.Duration)
}) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		a.Run(s.ctx, s.cfg.PassInterval)
	}()
}

// closeRemote drops the connections to the leader's chains (s.mu held).
func (s *Set) closeRemote() {
	for _, sc := range s.remote {
		sc.chain.Close()
	}
	s.remote = map[string]*SandboxChain{}
}

// Wait waits for the passes to end after Start's context is cancelled, then stops the sandbox
// chains (a follower reaches them on the leader again).
func (s *Set) Wait() {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx, s.leading = nil, false
	s.closeRemote()
	for _, sc := range s.sim {
		sc.stop()
		sc.chain.Close()
	}
	s.sim = map[string]*SandboxChain{}
	if s.btcSim != nil {
		s.btcSim.stop()
		s.btcSim = nil
	}
}
