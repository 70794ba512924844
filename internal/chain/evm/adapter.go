// Package evm is the chain.Adapter for EVM chains (ethereum, polygon, bsc, arbitrum, base).
//
// It talks to a node through Backend (a *ethclient.Client in production, the simulated
// backend's client in sandbox mode and tests) and keeps its state in the store: payouts with
// their signed transactions, per-address nonce counters, derived deposit addresses, deposits and
// the scan cursor (migrations 00003_chain.sql).
//
// Payouts: SubmitPayout records the request. ProcessPayouts checks the hot wallet balance (a
// shortfall parks the payout as waiting/insufficient_funds and sets the payouts_waiting metric),
// estimates gas, prices EIP-1559 fees within the chain's GasPolicy, then in one database
// transaction allocates the next nonce of the hot wallet, signs, and records raw transaction,
// hash and nonce. Only after that commit is the transaction broadcast. A crash at any point
// leaves either an unsigned payout (signed later with the next nonce) or a recorded signed one,
// which the next pass re-broadcasts byte for byte or finds by hash. Nonces are allocated from a
// database row, so they survive restarts and stay gapless across concurrent passes and
// processes sharing the database.
//
// Deposits: DepositAddress derives m/44'/60'/account'/0/i from the configured account xpub (the
// server never holds the private key) with i allocated per xpub. ScanDeposits reads ERC-20
// Transfer logs of the configured tokens (and, with WatchNative, direct native transfers) into
// those addresses, records them as pending with block number and hash, and credits them once
// they have Confirmations blocks and their block is still canonical. Hashes of the last
// ReorgWindow scanned blocks are kept; when the cursor's block is no longer canonical the scan
// rewinds to the common ancestor, marks the deposits above it reorged, and re-reads the new
// branch (a transfer that is mined again becomes pending again, in its new block).
//
// Not handled: replacing a stuck transaction with a higher fee (same nonce), native deposits
// made by contract-internal calls, tokens with transfer fees or rebasing balances.
package evm

import (
	"context"
	"crypto/ecdsa"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/address"
	"github.com/pocketramp/pocketramp/internal/chain/hd"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Config wires an adapter.
type Config struct {
	Chain   ChainConfig
	DB      *store.DB
	Backend Backend
	// HotWallet signs payouts. Nil disables payouts (deposits only).
	HotWallet *ecdsa.PrivateKey
	// DepositXpub is the account-level extended public key (m/44'/60'/account') deposit
	// addresses are derived from. Empty disables DepositAddress.
	DepositXpub string
	// AllowChainReset lets the adapter accept a new genesis (the sandbox chain after a restart)
	// and reset its state for this chain; otherwise a genesis change is an error.
	AllowChainReset bool
	// OnDeposit is called inside the transaction that changes a deposit's status (pending,
	// credited, reorged, dropped), so the caller's ledger entries and webhooks commit with it.
	OnDeposit func(ctx context.Context, tx *store.Tx, d chain.Deposit) error
	// OnPayout is called inside the transaction that changes a payout's status.
	OnPayout func(ctx context.Context, tx *store.Tx, p chain.Payout) error
	Now      func() time.Time
	Logger   *slog.Logger
}

// Adapter implements chain.Adapter for one EVM chain.
type Adapter struct {
	cfg     ChainConfig
	network string // the chain's key in the store and metrics
	db      *store.DB
	be      Backend
	key     *ecdsa.PrivateKey
	from    common.Address
	deriver *hd.Deriver
	chainID *big.Int
	signer  types.Signer
	tokens  map[string]Token         // by symbol
	byAddr  map[common.Address]Token // by contract
	now     func() time.Time
	log     *slog.Logger

	onDeposit func(ctx context.Context, tx *store.Tx, d chain.Deposit) error
	onPayout  func(ctx context.Context, tx *store.Tx, p chain.Payout) error

	payoutMu sync.Mutex // one payout pass at a time in this process
	scanMu   sync.Mutex // one scan pass at a time in this process

	// afterSign, when set (tests), runs between recording a signed payout and broadcasting it;
	// an error aborts the pass as a crash would.
	afterSign func(p chain.Payout) error
}

var _ chain.Adapter = (*Adapter)(nil)

// New checks the backend's chain id against the configuration, records (or checks) the genesis
// and scan cursor, and returns the adapter.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	cc := cfg.Chain
	cc.defaults()
	if cc.Name == "" {
		return nil, errors.New("evm: chain name required")
	}
	if cfg.DB == nil || cfg.Backend == nil {
		return nil, errors.New("evm: DB and Backend required")
	}
	id, err := cfg.Backend.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("evm: %s: chain id: %w", cc.Name, err)
	}
	if cc.ChainID != 0 && id.Int64() != cc.ChainID {
		return nil, fmt.Errorf("evm: %s: node reports chain id %s, configured %d", cc.Name, id, cc.ChainID)
	}
	network := cc.Name
	if cc.Network != "" {
		network = cc.Network
	}
	a := &Adapter{
		cfg: cc, network: network, db: cfg.DB, be: cfg.Backend, key: cfg.HotWallet, chainID: id,
		signer:    types.LatestSignerForChainID(id),
		tokens:    map[string]Token{},
		byAddr:    map[common.Address]Token{},
		now:       cfg.Now,
		log:       cfg.Logger,
		onDeposit: cfg.OnDeposit,
		onPayout:  cfg.OnPayout,
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.log = a.log.With("chain", cc.Name)
	if a.key != nil {
		a.from = crypto.PubkeyToAddress(a.key.PublicKey)
	}
	if cfg.DepositXpub != "" {
		if a.deriver, err = hd.NewDeriver(cfg.DepositXpub); err != nil {
			return nil, err
		}
	}
	for _, t := range cc.Tokens {
		a.tokens[strings.ToUpper(t.Symbol)] = t
		a.byAddr[t.Address] = t
	}
	if err := a.initCursor(ctx, cfg.AllowChainReset); err != nil {
		return nil, err
	}
	return a, nil
}

// Chain returns the chain name.
func (a *Adapter) Chain() string { return a.cfg.Name }

// HotWallet returns the payout address.
func (a *Adapter) HotWallet() common.Address { return a.from }

// ValidateAddress validates an EVM address and returns its EIP-55 form.
func (a *Adapter) ValidateAddress(addr string) (string, error) {
	return address.Validate(a.cfg.Name, addr)
}

func (a *Adapter) micros() int64 { return a.now().UnixMicro() }

// initCursor records the genesis and the starting block on first use; on a genesis change it
// resets (sandbox) or refuses (production).
func (a *Adapter) initCursor(ctx context.Context, allowReset bool) error {
	g, err := a.be.HeaderByNumber(ctx, big.NewInt(0))
	if err != nil {
		return fmt.Errorf("evm: %s: genesis: %w", a.network, err)
	}
	head, err := a.be.HeaderByNumber(ctx, nil)
	if err != nil {
		return fmt.Errorf("evm: %s: head: %w", a.network, err)
	}
	genesis := g.Hash().Hex()
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		var stored string
		err := tx.QueryRow(ctx, `SELECT genesis_hash FROM chain_cursors WHERE chain = ?`+tx.ForUpdate(), a.network).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.Exec(ctx, `INSERT INTO chain_cursors (chain, genesis_hash, block_number, block_hash, updated_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (chain) DO NOTHING`, a.network, genesis, head.Number.Int64(), head.Hash().Hex(), a.micros())
			return err
		case err != nil:
			return err
		case stored == genesis:
			return nil
		case !allowReset:
			return fmt.Errorf("evm: %s: node genesis %s differs from the recorded %s (wrong RPC endpoint?)", a.network, genesis, stored)
		}
		a.log.Warn("chain genesis changed: resetting chain state (sandbox restart)", "old", stored, "new", genesis)
		return a.resetChain(ctx, tx, genesis, head)
	})
}

// resetChain forgets a chain that no longer exists (sandbox restart): unconfirmed payouts go back
// to queued (re-signed on the new chain), nonce counters and scanned blocks are dropped,
// unconfirmed deposits are marked dropped, and the cursor restarts at the new head.
func (a *Adapter) resetChain(ctx context.Context, tx *store.Tx, genesis string, head *types.Header) error {
	now := a.micros()
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE chain_payouts SET status = 'queued', reason = '', last_error = 'chain reset: re-signing for the new chain',
			nonce = NULL, tx_hash = NULL, raw_tx = NULL, gas_limit = NULL, max_fee = NULL, max_tip = NULL,
			block_number = NULL, block_hash = NULL, confirmations = 0, updated_at = ?
			WHERE chain = ? AND status IN ('queued', 'waiting', 'signed', 'broadcast')`, []any{now, a.network}},
		{`DELETE FROM chain_nonces WHERE chain = ?`, []any{a.network}},
		{`DELETE FROM chain_blocks WHERE chain = ?`, []any{a.network}},
		{`UPDATE chain_cursors SET genesis_hash = ?, block_number = ?, block_hash = ?, updated_at = ? WHERE chain = ?`,
			[]any{genesis, head.Number.Int64(), head.Hash().Hex(), now, a.network}},
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s.q, s.args...); err != nil {
			return err
		}
	}
	ds, err := a.queryDeposits(ctx, tx, `WHERE chain = ? AND status = 'pending'`, a.network)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if err := a.setDepositStatus(ctx, tx, &d, chain.DepositDropped); err != nil {
			return err
		}
	}
	return nil
}

// asset resolves a payout asset to its token (nil for the native coin).
func (a *Adapter) asset(symbol string) (*Token, error) {
	s := strings.ToUpper(symbol)
	if t, ok := a.tokens[s]; ok {
		return &t, nil
	}
	if s == strings.ToUpper(a.cfg.NativeSymbol) && s != "" {
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %s on %s", chain.ErrUnknownAsset, symbol, a.network)
}

// Asset reports whether the chain is configured with symbol (a token or its native coin) and
// the token's contract ("" for the native coin).
func (a *Adapter) Asset(symbol string) (contract string, ok bool) {
	t, err := a.asset(symbol)
	if err != nil {
		return "", false
	}
	if t == nil {
		return "", true
	}
	return t.Address.Hex(), true
}

// Confirmations returns the number of blocks confirming txHash (the block itself counts as 1).
func (a *Adapter) Confirmations(ctx context.Context, txHash string) (uint64, error) {
	r, err := a.be.TransactionReceipt(ctx, common.HexToHash(txHash))
	if err != nil {
		if isNotFound(err) {
			return 0, nil
		}
		return 0, err
	}
	head, err := a.be.BlockNumber(ctx)
	if err != nil {
		return 0, err
	}
	return confs(head, r.BlockNumber.Uint64()), nil
}

func confs(head, block uint64) uint64 {
	if head < block {
		return 0
	}
	return head - block + 1
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "not found") || strings.Contains(s, "indexing is in progress")
}

// Run calls ProcessPayouts and ScanDeposits every interval until ctx ends (for callers without a
// job queue, e.g. sandbox mode). Errors are logged and retried on the next tick.
func (a *Adapter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if a.key != nil {
			if err := a.ProcessPayouts(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("payout pass", "err", err)
			}
		}
		if err := a.ScanDeposits(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("deposit scan", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
