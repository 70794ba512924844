// Package btc is the chain.Adapter for Bitcoin (mainnet, testnet, signet, regtest).
//
// It talks to a node through Node (RPC: Bitcoin Core's or btcd's JSON-RPC, several URLs with
// failover; btcsim: the in-process regtest chain of sandbox mode and tests) and keeps its state
// in the store: payouts, deposit addresses, deposits, the scan cursor and scanned block hashes
// in the chain_* tables shared with the EVM adapter, and the hot wallet's signed transactions
// and unspent outputs in btc_txs and btc_utxos (migration 00019_bitcoin.sql). Amounts are
// satoshis (int64) everywhere; blocks are read serialized (getblock verbosity 0) so no amount
// passes through a float.
//
// Scanning: ScanDeposits reads every block from the cursor to the tip. Outputs paying the hot
// wallet become its UTXOs, inputs spending them mark them spent, outputs paying a deposit
// address become pending deposits (one per output: log_index is the output index), and the
// hot wallet's own transactions are found by txid. Hashes of the last ReorgWindow blocks are
// kept; when the cursor's block is no longer on the best chain the scan rewinds to the common
// ancestor, marks deposits above it reorged, un-confirms outputs, spends and payout
// transactions above it, and re-reads the new branch. Deposits and payouts count once they have
// Confirmations blocks and their block is still on the best chain.
//
// A reorg deeper than Confirmations (within ReorgWindow) can orphan a payout transaction that
// was already confirmed. Its payouts stay confirmed and their operations keep their state and
// postings: the payouts were paid by a signed transaction whose inputs stay reserved, and the
// server never signs anything else spending them, so whichever member of its family (the
// transaction or a fee bump of it) is mined pays exactly those outputs. The transaction goes back
// to broadcast (re-broadcast when the node dropped it, bumped BumpAfter later), its family's
// other members can be recognised again, and OnFee is called with Reversal in the rewinding
// database transaction, so the miner fee booking is undone; the fee of the member that confirms
// on the new branch is booked then, and the payouts (and their operations) carry its txid. A
// transaction that can never be mined again (one of its inputs came from a transaction the
// reorg removed for good) stays broadcast with the node's error in last_error and counts in the
// awaiting_confirmations{kind="reorged_payout"} gauge: an operator matter.
//
// Payouts: SubmitPayout records the request. ProcessPayouts batches every due payout (up to
// MaxBatch, in id order, dropping those the wallet cannot fund, which wait with reason
// insufficient_funds) into one native SegWit transaction: fee rate from the node's estimate
// clamped to the operator's FeePolicy (the fallback rate where the node has no estimate, as on
// regtest), confirmed hot-wallet UTXOs chosen largest first, change back to the hot wallet,
// every input signalling replace-by-fee. The transaction is built as a PSBT and signed in
// process, then recorded (raw bytes, txid, fee, the UTXOs it reserves, the payouts it carries)
// in one database transaction before it is broadcast. After a crash the recorded bytes are
// broadcast again; a payout is never signed twice with other inputs. A transaction still
// unmined BumpAfter after its broadcast is replaced (BIP 125) by one spending the same inputs
// with a higher fee taken from the change; whichever of the two is mined carries the payouts.
package btc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Symbol is the asset the adapter pays and receives.
const Symbol = "BTC"

// FeePolicy bounds payout fees. Rates are satoshis per 1000 virtual bytes (1000 = 1 sat/vB).
type FeePolicy struct {
	// ConfTarget is the confirmation target (blocks) asked of the node's estimator (default 6).
	ConfTarget int
	// MinRate and MaxRate clamp the node's estimate (defaults 1000 and 200000: 1 and 200 sat/vB).
	MinRate, MaxRate int64
	// FallbackRate is used when the node has no estimate (default 2000; regtest always).
	FallbackRate int64
	// BumpAfter is how long a broadcast transaction may stay unmined before it is replaced with
	// a higher fee (default 30 minutes); BumpPercent the least increase of its rate (default 50).
	BumpAfter   time.Duration
	BumpPercent int64
}

// Config wires an adapter.
type Config struct {
	Name string // chain name in the catalogue: "bitcoin"
	// Network names this chain's rows in the store when it differs from Name ("sandbox:bitcoin").
	Network string
	Params  *chaincfg.Params // chaincfg.MainNetParams, TestNet3Params, SigNetParams, RegressionNetParams
	DB      *store.DB
	Node    Node
	// HotWallet signs payouts from its P2WPKH address. Nil disables payouts (deposits only).
	HotWallet *btcec.PrivateKey
	// DepositXpub is the BIP-84 account key (m/84'/coin'/account': xpub/zpub on mainnet,
	// tpub/vpub on test networks) deposit addresses are derived from. Empty disables deposits.
	DepositXpub string
	// Confirmations a deposit or payout needs (default 2); ReorgWindow how many recent block
	// hashes are kept (default max(2×Confirmations, 24)).
	Confirmations int64
	ReorgWindow   int64
	// ScanFrom is the first height scanned on first use (0: start at the current tip). Set it to
	// a height before the hot wallet's first funding so its outputs are seen.
	ScanFrom int64
	Fees     FeePolicy
	// MaxBatch is the most payouts in one transaction (default 50).
	MaxBatch int
	// AlsoAccept lists other networks whose addresses payouts may go to, paid as the same output
	// script: the sandbox (regtest) accepts mainnet addresses, which is what customers' wallets
	// show and what the flows' own address checks expect.
	AlsoAccept []*chaincfg.Params
	// AllowChainReset accepts a new genesis (the sandbox chain after a reset) and forgets the
	// old chain's state; otherwise a genesis change is an error.
	AllowChainReset bool
	OnDeposit       func(ctx context.Context, tx *store.Tx, d chain.Deposit) error
	OnPayout        func(ctx context.Context, tx *store.Tx, p chain.Payout) error
	// OnFee runs once per payout transaction, inside the transaction that confirms it and its
	// payouts, with the miner fee it paid (what the hot wallet spent beyond the payouts); and,
	// with Reversal set, inside the transaction that rewinds a reorg which orphaned the block
	// confirming it (it runs again when the transaction, or one of its family, confirms anew).
	OnFee  func(ctx context.Context, tx *store.Tx, f Fee) error
	Now    func() time.Time
	Logger *slog.Logger
}

// Fee is the miner fee of a confirmed payout transaction, or (Reversal) of one whose
// confirming block left the best chain.
type Fee struct {
	Chain    string // the adapter's network name ("bitcoin", "sandbox:bitcoin")
	TxID     string
	Fee      int64 // satoshis
	VSize    int64
	Block    string // hash of the block confirming (or, for a reversal, that confirmed) it
	Reversal bool
}

// Adapter implements chain.Adapter for Bitcoin.
type Adapter struct {
	cfg      Config
	network  string
	params   *chaincfg.Params
	db       *store.DB
	node     Node
	key      *btcec.PrivateKey
	hot      btcutil.Address // P2WPKH of key
	hotPkScr []byte
	deriver  *deriver
	now      func() time.Time
	log      *slog.Logger

	payoutMu sync.Mutex
	scanMu   sync.Mutex

	// afterSign, when set (tests), runs between recording a signed transaction and
	// broadcasting it; an error aborts the pass as a crash would.
	afterSign func(txid string) error
}

var _ chain.Adapter = (*Adapter)(nil)

// New checks the node's genesis against the network, records (or checks) the scan cursor and
// returns the adapter.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	if cfg.Name == "" {
		cfg.Name = "bitcoin"
	}
	if cfg.DB == nil || cfg.Node == nil || cfg.Params == nil {
		return nil, errors.New("btc: DB, Node and Params required")
	}
	if cfg.Confirmations <= 0 {
		cfg.Confirmations = 2
	}
	if cfg.ReorgWindow <= 0 {
		cfg.ReorgWindow = max(2*cfg.Confirmations, 24)
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 50
	}
	f := &cfg.Fees
	if f.ConfTarget <= 0 {
		f.ConfTarget = 6
	}
	if f.MinRate <= 0 {
		f.MinRate = 1000
	}
	if f.MaxRate <= 0 {
		f.MaxRate = 200_000
	}
	if f.FallbackRate <= 0 {
		f.FallbackRate = 2000
	}
	f.FallbackRate = min(max(f.FallbackRate, f.MinRate), f.MaxRate)
	if f.BumpAfter <= 0 {
		f.BumpAfter = 30 * time.Minute
	}
	if f.BumpPercent <= 0 {
		f.BumpPercent = 50
	}
	a := &Adapter{cfg: cfg, network: cfg.Name, params: cfg.Params, db: cfg.DB, node: cfg.Node, key: cfg.HotWallet,
		now: cfg.Now, log: cfg.Logger}
	if cfg.Network != "" {
		a.network = cfg.Network
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.log = a.log.With("chain", a.network)
	if a.key != nil {
		addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(a.key.PubKey().SerializeCompressed()), a.params)
		if err != nil {
			return nil, err
		}
		a.hot = addr
		if a.hotPkScr, err = txscript.PayToAddrScript(addr); err != nil {
			return nil, err
		}
	}
	if cfg.DepositXpub != "" {
		d, err := newDeriver(cfg.DepositXpub, a.params)
		if err != nil {
			return nil, err
		}
		a.deriver = d
	}
	if err := a.initCursor(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Chain returns the chain name.
func (a *Adapter) Chain() string { return a.cfg.Name }

// Params returns the network parameters.
func (a *Adapter) Params() *chaincfg.Params { return a.params }

// HotWallet returns the payout address ("" without a hot wallet key).
func (a *Adapter) HotWallet() string {
	if a.hot == nil {
		return ""
	}
	return a.hot.EncodeAddress()
}

// ValidateAddress checks that addr is a Bitcoin address of the configured network (bc1…, 1…,
// 3… on mainnet; tb1… on testnet and signet; bcrt1… on regtest) and returns it normalised
// (bech32 in lower case).
func (a *Adapter) ValidateAddress(addr string) (string, error) {
	s, err := ValidateAddress(addr, a.params)
	for _, p := range a.cfg.AlsoAccept {
		if err == nil {
			break
		}
		if s2, err2 := ValidateAddress(addr, p); err2 == nil {
			s, err = s2, nil
		}
	}
	return s, err
}

// decodeAddress decodes a validated address of the network or of AlsoAccept.
func (a *Adapter) decodeAddress(addr string) (btcutil.Address, error) {
	d, err := btcutil.DecodeAddress(addr, a.params)
	if err == nil && d.IsForNet(a.params) {
		return d, nil
	}
	for _, p := range a.cfg.AlsoAccept {
		if d, err2 := btcutil.DecodeAddress(addr, p); err2 == nil && d.IsForNet(p) {
			return d, nil
		}
	}
	if err == nil {
		err = fmt.Errorf("btc: %s is not an address of %s", addr, a.params.Name)
	}
	return nil, err
}

// ValidateAddress checks addr against the network of params.
func ValidateAddress(addr string, params *chaincfg.Params) (string, error) {
	s := strings.TrimSpace(addr)
	if s == "" {
		return "", &invalidAddress{"empty"}
	}
	if strings.ToUpper(s) == s && !strings.HasPrefix(s, "1") && !strings.HasPrefix(s, "3") {
		s = strings.ToLower(s) // an all-upper-case bech32 address (QR codes) is valid
	}
	d, err := btcutil.DecodeAddress(s, params)
	if err != nil {
		return "", &invalidAddress{err.Error()}
	}
	if !d.IsForNet(params) {
		return "", &invalidAddress{"not an address of " + params.Name}
	}
	switch d.(type) {
	case *btcutil.AddressPubKey:
		return "", &invalidAddress{"a raw public key is not an address"}
	}
	return d.EncodeAddress(), nil
}

type invalidAddress struct{ reason string }

func (e *invalidAddress) Error() string { return "invalid bitcoin address: " + e.reason }
func (e *invalidAddress) Unwrap() error { return chain.ErrInvalidAddress }

func (a *Adapter) micros() int64 { return a.now().UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// initCursor records the genesis and the starting block on first use; on a genesis change it
// resets (sandbox) or refuses (production).
func (a *Adapter) initCursor(ctx context.Context) error {
	g, err := a.node.BlockHash(ctx, 0)
	if err != nil {
		return fmt.Errorf("btc: %s: genesis: %w", a.network, err)
	}
	if a.params.Net != chaincfg.RegressionNetParams.Net && g != *a.params.GenesisHash {
		return fmt.Errorf("btc: %s: node genesis %s is not %s's (wrong node or network?)", a.network, g, a.params.Name)
	}
	start, startHash, err := a.startBlock(ctx)
	if err != nil {
		return err
	}
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		var stored string
		err := tx.QueryRow(ctx, `SELECT genesis_hash FROM chain_cursors WHERE chain = ?`+tx.ForUpdate(), a.network).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.Exec(ctx, `INSERT INTO chain_cursors (chain, genesis_hash, block_number, block_hash, updated_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (chain) DO NOTHING`, a.network, g.String(), start, startHash.String(), a.micros())
			return err
		case err != nil:
			return err
		case stored == g.String():
			return nil
		case !a.cfg.AllowChainReset:
			return fmt.Errorf("btc: %s: node genesis %s differs from the recorded %s (wrong node?)", a.network, g, stored)
		}
		a.log.Warn("chain genesis changed: resetting chain state (sandbox reset)", "old", stored, "new", g)
		return a.resetChain(ctx, tx, g.String(), start, startHash)
	})
}

// startBlock is where scanning starts: ScanFrom-1, or the tip.
func (a *Adapter) startBlock(ctx context.Context) (int64, chainhash.Hash, error) {
	n, err := a.node.BlockCount(ctx)
	if err != nil {
		return 0, chainhash.Hash{}, fmt.Errorf("btc: %s: block count: %w", a.network, err)
	}
	if a.cfg.ScanFrom > 0 {
		n = min(n, a.cfg.ScanFrom-1)
	}
	h, err := a.node.BlockHash(ctx, n)
	return n, h, err
}

// resetChain forgets a chain that no longer exists: unconfirmed payouts go back to queued
// (signed again on the new chain), its transactions, outputs and scanned blocks are dropped,
// pending deposits are marked dropped.
func (a *Adapter) resetChain(ctx context.Context, tx *store.Tx, genesis string, start int64, startHash chainhash.Hash) error {
	now := a.micros()
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE chain_payouts SET status = 'queued', reason = '', last_error = 'chain reset: signing again on the new chain',
			tx_hash = NULL, btc_tx_id = NULL, block_number = NULL, block_hash = NULL, confirmations = 0, updated_at = ?
			WHERE chain = ? AND status IN ('queued', 'waiting', 'signed', 'broadcast')`, []any{now, a.network}},
		{`DELETE FROM btc_txs WHERE chain = ? AND status <> 'confirmed'`, []any{a.network}},
		{`DELETE FROM btc_utxos WHERE chain = ?`, []any{a.network}},
		{`DELETE FROM chain_blocks WHERE chain = ?`, []any{a.network}},
		{`UPDATE chain_cursors SET genesis_hash = ?, block_number = ?, block_hash = ?, updated_at = ? WHERE chain = ?`,
			[]any{genesis, start, startHash.String(), now, a.network}},
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
	for i := range ds {
		if err := a.setDepositStatus(ctx, tx, &ds[i], chain.DepositDropped); err != nil {
			return err
		}
	}
	return nil
}

// Confirmations returns the number of blocks confirming txHash (its block counts as 1) for a
// transaction the adapter has seen: a payout or a deposit. Others answer 0.
func (a *Adapter) Confirmations(ctx context.Context, txHash string) (uint64, error) {
	var block sql.NullInt64
	err := a.db.QueryRow(ctx, `SELECT block_number FROM btc_txs WHERE chain = ? AND txid = ? AND status IN ('mined', 'confirmed')`,
		a.network, txHash).Scan(&block)
	if errors.Is(err, sql.ErrNoRows) {
		err = a.db.QueryRow(ctx, `SELECT MAX(block_number) FROM chain_deposits WHERE chain = ? AND tx_hash = ? AND status IN ('pending', 'credited')`,
			a.network, txHash).Scan(&block)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if !block.Valid {
		return 0, nil
	}
	head, err := a.node.BlockCount(ctx)
	if err != nil {
		return 0, err
	}
	return confs(head, block.Int64), nil
}

func confs(head, block int64) uint64 {
	if block <= 0 || head < block {
		return 0
	}
	return uint64(head - block + 1)
}

// Run calls ProcessPayouts and ScanDeposits every interval until ctx ends.
func (a *Adapter) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := a.ScanDeposits(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("deposit scan", "err", err)
		}
		if a.key != nil {
			if err := a.ProcessPayouts(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("payout pass", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// NetworkParams maps a network name (mainnet, testnet, signet, regtest; "" is mainnet) to its
// parameters.
func NetworkParams(name string) (*chaincfg.Params, error) {
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
