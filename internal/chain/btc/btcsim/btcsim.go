// Package btcsim is an in-process Bitcoin regtest chain for sandbox mode and tests: a block
// chain starting at the regtest genesis, a UTXO set, a mempool that checks every input's
// script with btcd's txscript engine (and accepts BIP 125 replacements), a miner, reorgs
// (InvalidateBlock, as bitcoind and btcd offer), a faucet holding the mined coins, and
// persistence to a file. It implements btc.Node, so the Bitcoin adapter runs against it
// unchanged. Blocks carry real transactions and a valid proof of work at regtest difficulty;
// consensus rules beyond those (weight limits, witness commitments, timelocks) are not checked.
package btcsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/pocketramp/pocketramp/internal/chain/btc"
)

// Params are the network parameters of the simulated chain (regtest: bcrt1… addresses).
var Params = &chaincfg.RegressionNetParams

type coin struct {
	out      *wire.TxOut
	height   int64 // 0 for a mempool output
	coinbase bool
}

// Chain is a simulated regtest chain. It is safe for concurrent use.
type Chain struct {
	mu      sync.Mutex
	blocks  []*wire.MsgBlock // best chain; blocks[0] is the genesis
	hashes  []chainhash.Hash
	known   map[chainhash.Hash]*wire.MsgBlock // every block ever mined, orphans included
	utxos   map[wire.OutPoint]coin            // confirmed outputs
	pool    []*wire.MsgTx                     // mempool in arrival order
	poolIDs map[chainhash.Hash]*wire.MsgTx
	faucet  *btcec.PrivateKey
	fscript []byte
	feeRate int64 // sat/kvB answered by EstimateFee; 0: no estimate
	path    string
	extra   uint64
}

// New starts a chain at the regtest genesis with the faucet key derived from seed.
func New(seed []byte) *Chain {
	sum := sha256.Sum256(append([]byte("btcsim faucet "), seed...))
	key, _ := btcec.PrivKeyFromBytes(sum[:])
	c := &Chain{known: map[chainhash.Hash]*wire.MsgBlock{}, utxos: map[wire.OutPoint]coin{}, poolIDs: map[chainhash.Hash]*wire.MsgTx{}, faucet: key}
	c.fscript = P2WPKHScript(key.PubKey())
	g := Params.GenesisBlock
	c.blocks, c.hashes = []*wire.MsgBlock{g}, []chainhash.Hash{g.BlockHash()}
	c.known[c.hashes[0]] = g
	return c
}

// P2WPKHScript is the output script paying key's P2WPKH address.
func P2WPKHScript(pub *btcec.PublicKey) []byte {
	s, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(btcutil.Hash160(pub.SerializeCompressed())).Script()
	return s
}

// Address is key's P2WPKH address on regtest.
func Address(pub *btcec.PublicKey) string {
	a, _ := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), Params)
	return a.EncodeAddress()
}

// FaucetAddress is the address mined coins are paid to.
func (c *Chain) FaucetAddress() string { return Address(c.faucet.PubKey()) }

// SetFeeEstimate makes EstimateFee answer rate (sat/kvB); 0 makes it answer "no estimate", as a
// regtest node does.
func (c *Chain) SetFeeEstimate(rate int64) {
	c.mu.Lock()
	c.feeRate = rate
	c.mu.Unlock()
}

// BlockCount implements btc.Node.
func (c *Chain) BlockCount(ctx context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int64(len(c.blocks) - 1), nil
}

// BlockHash implements btc.Node.
func (c *Chain) BlockHash(ctx context.Context, height int64) (chainhash.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if height < 0 || height >= int64(len(c.hashes)) {
		return chainhash.Hash{}, fmt.Errorf("%w: block height %d out of range", btc.ErrNotFound, height)
	}
	return c.hashes[height], nil
}

// Block implements btc.Node.
func (c *Chain) Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.known[hash]
	if !ok {
		return nil, fmt.Errorf("%w: block %s", btc.ErrNotFound, hash)
	}
	return b.Copy(), nil
}

// InMempool implements btc.Node.
func (c *Chain) InMempool(ctx context.Context, txid chainhash.Hash) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.poolIDs[txid]
	return ok, nil
}

// EstimateFee implements btc.Node.
func (c *Chain) EstimateFee(ctx context.Context, target int) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.feeRate <= 0 {
		return 0, btc.ErrNoEstimate
	}
	return c.feeRate, nil
}

// Errors of SendRawTransaction (worded like bitcoind's rejections).
var (
	ErrAlreadyKnown = errors.New("txn-already-known")
	ErrInChain      = errors.New("transaction already in block chain")
	ErrMissing      = errors.New("bad-txns-inputs-missingorspent")
	ErrReplacement  = errors.New("txn-mempool-conflict: replacement rejected")
)

// SendRawTransaction implements btc.Node: the transaction enters the mempool if every input
// exists (in a block or the mempool), is unspent or spent only by replaceable mempool
// transactions it outbids, verifies, and pays no more than it has.
func (c *Chain) SendRawTransaction(ctx context.Context, tx *wire.MsgTx) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accept(tx.Copy())
}

func (c *Chain) lookup(op wire.OutPoint) (coin, bool) {
	if u, ok := c.utxos[op]; ok {
		return u, true
	}
	if p, ok := c.poolIDs[op.Hash]; ok && int(op.Index) < len(p.TxOut) {
		return coin{out: p.TxOut[op.Index]}, true
	}
	return coin{}, false
}

func (c *Chain) accept(tx *wire.MsgTx) error {
	txid := tx.TxHash()
	if _, ok := c.poolIDs[txid]; ok {
		return ErrAlreadyKnown
	}
	for i := range tx.TxOut {
		if _, ok := c.utxos[wire.OutPoint{Hash: txid, Index: uint32(i)}]; ok {
			return ErrInChain
		}
	}
	if err := blockchain.CheckTransactionSanity(btcutil.NewTx(tx)); err != nil {
		return fmt.Errorf("bad transaction: %w", err)
	}
	if blockchain.IsCoinBaseTx(tx) {
		return errors.New("coinbase transactions are mined, not sent")
	}
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	var in int64
	conflicts := map[chainhash.Hash]*wire.MsgTx{}
	height := int64(len(c.blocks) - 1)
	for _, ti := range tx.TxIn {
		u, ok := c.lookup(ti.PreviousOutPoint)
		if !ok {
			return fmt.Errorf("%w: %s", ErrMissing, ti.PreviousOutPoint)
		}
		if u.coinbase && height+1-u.height < int64(Params.CoinbaseMaturity) {
			return fmt.Errorf("bad-txns-premature-spend-of-coinbase: %s", ti.PreviousOutPoint)
		}
		if s := c.spender(ti.PreviousOutPoint); s != nil {
			conflicts[s.TxHash()] = s
		}
		fetcher.AddPrevOut(ti.PreviousOutPoint, u.out)
		in += u.out.Value
	}
	var out int64
	for _, o := range tx.TxOut {
		out += o.Value
	}
	if in < out {
		return fmt.Errorf("bad-txns-in-belowout: %d < %d", in, out)
	}
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, ti := range tx.TxIn {
		u, _ := c.lookup(ti.PreviousOutPoint)
		vm, err := txscript.NewEngine(u.out.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, u.out.Value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			return fmt.Errorf("mandatory-script-verify-flag-failed (input %d): %w", i, err)
		}
	}
	fee, vsize := in-out, vsizeOf(tx)
	if fee*1000 < 1000*vsize {
		return fmt.Errorf("min relay fee not met: %d < %d", fee, vsize)
	}
	if len(conflicts) > 0 {
		var oldFee, oldSize int64
		for _, old := range conflicts {
			if !signalsRBF(old) {
				return fmt.Errorf("%w: %s is not replaceable", ErrReplacement, old.TxHash())
			}
			f, _ := c.poolFee(old)
			oldFee += f
			oldSize += vsizeOf(old)
		}
		if fee < oldFee+vsize || fee*oldSize <= oldFee*vsize {
			return fmt.Errorf("%w: insufficient fee (%d vs %d)", ErrReplacement, fee, oldFee)
		}
		for h := range conflicts {
			c.evict(h)
		}
	}
	c.pool = append(c.pool, tx)
	c.poolIDs[txid] = tx
	return nil
}

func signalsRBF(tx *wire.MsgTx) bool {
	for _, in := range tx.TxIn {
		if in.Sequence < wire.MaxTxInSequenceNum-1 {
			return true
		}
	}
	return false
}

func vsizeOf(tx *wire.MsgTx) int64 {
	return (int64(tx.SerializeSizeStripped())*3 + int64(tx.SerializeSize()) + 3) / 4
}

// spender is the mempool transaction spending op, if any.
func (c *Chain) spender(op wire.OutPoint) *wire.MsgTx {
	for _, p := range c.pool {
		for _, in := range p.TxIn {
			if in.PreviousOutPoint == op {
				return p
			}
		}
	}
	return nil
}

func (c *Chain) poolFee(tx *wire.MsgTx) (int64, bool) {
	var in, out int64
	for _, ti := range tx.TxIn {
		u, ok := c.lookup(ti.PreviousOutPoint)
		if !ok {
			return 0, false
		}
		in += u.out.Value
	}
	for _, o := range tx.TxOut {
		out += o.Value
	}
	return in - out, true
}

// evict removes a mempool transaction and its descendants.
func (c *Chain) evict(h chainhash.Hash) {
	tx, ok := c.poolIDs[h]
	if !ok {
		return
	}
	delete(c.poolIDs, h)
	for i, p := range c.pool {
		if p == tx {
			c.pool = append(c.pool[:i:i], c.pool[i+1:]...)
			break
		}
	}
	for _, p := range append([]*wire.MsgTx(nil), c.pool...) {
		for _, in := range p.TxIn {
			if in.PreviousOutPoint.Hash == h {
				c.evict(p.TxHash())
				break
			}
		}
	}
}

// Mempool returns the txids in the mempool.
func (c *Chain) Mempool() []chainhash.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]chainhash.Hash, len(c.pool))
	for i, p := range c.pool {
		out[i] = p.TxHash()
	}
	return out
}

// DropMempool empties the mempool (a node restart that lost it).
func (c *Chain) DropMempool() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pool, c.poolIDs = nil, map[chainhash.Hash]*wire.MsgTx{}
}

// Mine mines n blocks with every mempool transaction, paying the subsidy and fees to the
// faucet, and returns the new blocks' hashes.
func (c *Chain) Mine(n int) ([]chainhash.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []chainhash.Hash
	for range n {
		h, err := c.mine()
		if err != nil {
			return out, err
		}
		out = append(out, h)
	}
	return out, c.appendLocked(len(out))
}

func (c *Chain) mine() (chainhash.Hash, error) {
	height := int64(len(c.blocks))
	var fees int64
	txs := []*wire.MsgTx{nil}
	for _, p := range c.pool {
		f, _ := c.poolFee(p)
		fees += f
		txs = append(txs, p)
	}
	c.extra++
	sig, err := txscript.NewScriptBuilder().AddInt64(height).AddInt64(int64(c.extra)).AddData([]byte("/pocketramp-btcsim/")).Script()
	if err != nil {
		return chainhash.Hash{}, err
	}
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: *wire.NewOutPoint(&chainhash.Hash{}, wire.MaxPrevOutIndex), SignatureScript: sig, Sequence: wire.MaxTxInSequenceNum})
	cb.AddTxOut(wire.NewTxOut(blockchain.CalcBlockSubsidy(int32(height), Params)+fees, c.fscript))
	txs[0] = cb
	utxs := make([]*btcutil.Tx, len(txs))
	for i, t := range txs {
		utxs[i] = btcutil.NewTx(t)
	}
	prev := c.blocks[len(c.blocks)-1]
	ts := time.Now().Truncate(time.Second)
	if !ts.After(prev.Header.Timestamp) {
		ts = prev.Header.Timestamp.Add(time.Second)
	}
	b := &wire.MsgBlock{Header: wire.BlockHeader{Version: 0x20000000, PrevBlock: c.hashes[len(c.hashes)-1],
		MerkleRoot: blockchain.CalcMerkleRoot(utxs, false), Timestamp: ts, Bits: Params.PowLimitBits}, Transactions: txs}
	target := blockchain.CompactToBig(Params.PowLimitBits)
	for {
		h := b.Header.BlockHash()
		if blockchain.HashToBig(&h).Cmp(target) <= 0 {
			break
		}
		b.Header.Nonce++
	}
	c.connect(b)
	c.pool, c.poolIDs = nil, map[chainhash.Hash]*wire.MsgTx{}
	return c.hashes[len(c.hashes)-1], nil
}

// connect appends b to the best chain and applies it to the UTXO set.
func (c *Chain) connect(b *wire.MsgBlock) {
	h := b.BlockHash()
	height := int64(len(c.blocks))
	c.blocks, c.hashes = append(c.blocks, b), append(c.hashes, h)
	c.known[h] = b
	for i, tx := range b.Transactions {
		if i > 0 {
			for _, in := range tx.TxIn {
				delete(c.utxos, in.PreviousOutPoint)
			}
		}
		txid := tx.TxHash()
		for v, o := range tx.TxOut {
			c.utxos[wire.OutPoint{Hash: txid, Index: uint32(v)}] = coin{out: o, height: height, coinbase: i == 0}
		}
	}
}

// InvalidateBlock removes the best chain's blocks from height on (as invalidateblock does); the
// transactions they held return to the mempool where they still apply. Mining again builds a
// competing branch: the reorg a scanner must notice.
func (c *Chain) InvalidateBlock(height int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if height < 1 || height >= int64(len(c.blocks)) {
		return fmt.Errorf("btcsim: no block at height %d to invalidate", height)
	}
	removed := c.blocks[height:]
	keep := c.blocks[1:height]
	pool := c.pool
	c.blocks, c.hashes = c.blocks[:1], c.hashes[:1]
	c.utxos = map[wire.OutPoint]coin{}
	c.pool, c.poolIDs = nil, map[chainhash.Hash]*wire.MsgTx{}
	for _, b := range keep {
		c.connect(b)
	}
	for _, b := range removed {
		for _, tx := range b.Transactions[1:] {
			_ = c.accept(tx)
		}
	}
	for _, tx := range pool {
		_ = c.accept(tx)
	}
	return c.saveLocked()
}

// Send pays amount satoshis from key's P2WPKH outputs to the address (RBF-signalling, change to
// key, fee at rate sat/kvB; 0 means 2000) and returns the txid.
func (c *Chain) Send(key *btcec.PrivateKey, to string, amount, rate int64) (chainhash.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.send(key, to, amount, rate)
}

// Fund pays amount from the faucet to the address.
func (c *Chain) Fund(to string, amount int64) (chainhash.Hash, error) {
	return c.Send(c.faucet, to, amount, 0)
}

// Balance is what the address holds in confirmed outputs.
func (c *Chain) Balance(addr string) (int64, error) {
	a, err := btcutil.DecodeAddress(addr, Params)
	if err != nil {
		return 0, err
	}
	script, err := txscript.PayToAddrScript(a)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var sum int64
	for _, u := range c.utxos {
		if bytes.Equal(u.out.PkScript, script) {
			sum += u.out.Value
		}
	}
	return sum, nil
}

func (c *Chain) send(key *btcec.PrivateKey, to string, amount, rate int64) (chainhash.Hash, error) {
	if rate <= 0 {
		rate = 2000
	}
	dest, err := btcutil.DecodeAddress(to, Params)
	if err != nil {
		return chainhash.Hash{}, err
	}
	dscript, err := txscript.PayToAddrScript(dest)
	if err != nil {
		return chainhash.Hash{}, err
	}
	script := P2WPKHScript(key.PubKey())
	height := int64(len(c.blocks) - 1)
	type in struct {
		op wire.OutPoint
		c  coin
	}
	var ins []in
	for op, u := range c.utxos {
		if bytes.Equal(u.out.PkScript, script) && c.spender(op) == nil &&
			(!u.coinbase || height+1-u.height >= int64(Params.CoinbaseMaturity)) {
			ins = append(ins, in{op, u})
		}
	}
	for _, p := range c.pool {
		for v, o := range p.TxOut {
			op := wire.OutPoint{Hash: p.TxHash(), Index: uint32(v)}
			if bytes.Equal(o.PkScript, script) && c.spender(op) == nil {
				ins = append(ins, in{op, coin{out: o}})
			}
		}
	}
	// Largest first, deterministic among equals.
	for i := 1; i < len(ins); i++ {
		for j := i; j > 0 && (ins[j].c.out.Value > ins[j-1].c.out.Value ||
			(ins[j].c.out.Value == ins[j-1].c.out.Value && ins[j].op.String() < ins[j-1].op.String())); j-- {
			ins[j], ins[j-1] = ins[j-1], ins[j]
		}
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxOut(wire.NewTxOut(amount, dscript))
	var sum int64
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	for _, i := range ins {
		tx.AddTxIn(&wire.TxIn{PreviousOutPoint: i.op, Sequence: wire.MaxTxInSequenceNum - 2})
		fetcher.AddPrevOut(i.op, i.c.out)
		sum += i.c.out.Value
		fee := (rate*(11+68*int64(len(tx.TxIn))+31*2) + 999) / 1000
		if sum >= amount+fee {
			if change := sum - amount - fee; change >= 546 {
				tx.AddTxOut(wire.NewTxOut(change, script))
			}
			hashes := txscript.NewTxSigHashes(tx, fetcher)
			for k, ti := range tx.TxIn {
				u := fetcher.FetchPrevOutput(ti.PreviousOutPoint)
				w, err := txscript.WitnessSignature(tx, hashes, k, u.Value, u.PkScript, txscript.SigHashAll, key, true)
				if err != nil {
					return chainhash.Hash{}, err
				}
				tx.TxIn[k].Witness = w
			}
			if err := c.accept(tx); err != nil {
				return chainhash.Hash{}, err
			}
			return tx.TxHash(), nil
		}
	}
	return chainhash.Hash{}, fmt.Errorf("btcsim: %s has %d sat spendable, cannot send %d", Address(key.PubKey()), sum, amount)
}

// Open loads the chain saved at path (a missing file starts a new chain); mined blocks are
// appended to it, a reorg rewrites it. The mempool is not saved: after a restart it is empty, as
// a node's may be, and wallets broadcast their transactions again.
func Open(path string, seed []byte) (*Chain, error) {
	c := New(seed)
	c.path = path
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	r := bytes.NewReader(data)
	for r.Len() > 0 {
		var b wire.MsgBlock
		if err := b.Deserialize(r); err != nil {
			// A block cut short by a crash while appending: keep the chain before it.
			break
		}
		if b.Header.PrevBlock != c.hashes[len(c.hashes)-1] {
			return nil, fmt.Errorf("btcsim: %s: block %d does not extend the chain", path, len(c.blocks))
		}
		c.connect(&b)
	}
	c.extra = uint64(len(c.blocks))
	return c, c.saveLocked()
}

// Save rewrites the chain's file (no-op for a chain made with New).
func (c *Chain) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saveLocked()
}

func (c *Chain) saveLocked() error {
	if c.path == "" {
		return nil
	}
	var buf bytes.Buffer
	for _, b := range c.blocks[1:] {
		if err := b.Serialize(&buf); err != nil {
			return err
		}
	}
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, c.path)
}

// appendLocked appends the last n blocks to the chain's file.
func (c *Chain) appendLocked(n int) error {
	if c.path == "" || n == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, b := range c.blocks[len(c.blocks)-n:] {
		if err := b.Serialize(&buf); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// AutoMine mines a block every interval until the returned stop function is called.
func (c *Chain) AutoMine(interval time.Duration, onErr func(error)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if _, err := c.Mine(1); err != nil && onErr != nil {
					onErr(err)
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

var _ btc.Node = (*Chain)(nil)
