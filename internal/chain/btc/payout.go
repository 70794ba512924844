package btc

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/btcutil/psbt"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/store"
)

// DustLimit is the smallest payout and change output (the dust threshold of a P2PKH output, the
// strictest of the standard kinds a payout may go to).
const DustLimit = 546

// rbfSequence signals BIP 125 replaceability on every input.
const rbfSequence = wire.MaxTxInSequenceNum - 2

// incrementalRate is the least rate (sat/kvB) by which a replacement's fee must exceed the
// original's (Bitcoin Core's default incremental relay fee).
const incrementalRate = 1000

const payoutCols = `id, chain, idempotency_key, asset, token, from_address, to_address, amount, status, reason,
	last_error, tx_hash, block_number, confirmations, attempts, created_at, updated_at, btc_tx_id`

type payoutRow struct {
	chain.Payout
	txRow int64 // btc_txs.id of the family's first transaction; 0 when unsigned
}

func (a *Adapter) queryPayouts(ctx context.Context, q queryer, where string, args ...any) ([]payoutRow, error) {
	rows, err := q.Query(ctx, `SELECT `+payoutCols+` FROM chain_payouts `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []payoutRow
	for rows.Next() {
		var p payoutRow
		var amount string
		var hash sql.NullString
		var block, txRow sql.NullInt64
		var created, updated int64
		if err := rows.Scan(&p.ID, &p.Chain, &p.Key, &p.Asset, &p.Token, &p.From, &p.To, &amount, &p.Status, &p.Reason,
			&p.LastError, &hash, &block, &p.Confirmations, &p.Attempts, &created, &updated, &txRow); err != nil {
			return nil, err
		}
		var ok bool
		if p.Amount, ok = new(big.Int).SetString(amount, 10); !ok {
			return nil, fmt.Errorf("btc: payout %d: bad amount %q", p.ID, amount)
		}
		p.TxHash, p.BlockNumber, p.txRow = hash.String, uint64(block.Int64), txRow.Int64
		p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, p)
	}
	return out, rows.Err()
}

// SubmitPayout records a payout; ProcessPayouts sends it. Repeating a request with the same Key
// returns the recorded payout (ErrConflict if its parameters differ).
func (a *Adapter) SubmitPayout(ctx context.Context, req chain.PayoutRequest) (chain.Payout, error) {
	var p chain.Payout
	err := a.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		p, err = a.SubmitPayoutTx(ctx, tx, req)
		return err
	})
	return p, err
}

// SubmitPayoutTx is SubmitPayout inside the caller's transaction.
func (a *Adapter) SubmitPayoutTx(ctx context.Context, tx *store.Tx, req chain.PayoutRequest) (chain.Payout, error) {
	if a.key == nil {
		return chain.Payout{}, fmt.Errorf("btc: %s: no hot wallet configured", a.network)
	}
	if req.Key == "" {
		return chain.Payout{}, errors.New("btc: payout key required")
	}
	if !strings.EqualFold(req.Asset, Symbol) {
		return chain.Payout{}, fmt.Errorf("%w: %s on %s", chain.ErrUnknownAsset, req.Asset, a.network)
	}
	if req.Amount == nil || !req.Amount.IsInt64() || req.Amount.Int64() < DustLimit || req.Amount.Int64() > 21_000_000*100_000_000 {
		return chain.Payout{}, fmt.Errorf("btc: payout amount must be between %d and 2.1e15 satoshis", DustLimit)
	}
	to, err := a.ValidateAddress(req.To)
	if err != nil {
		return chain.Payout{}, err
	}
	existing, err := a.queryPayouts(ctx, tx, `WHERE chain = ? AND idempotency_key = ?`, a.network, req.Key)
	if err != nil {
		return chain.Payout{}, err
	}
	if len(existing) > 0 {
		p := existing[0].Payout
		if p.To != to || p.Amount.Cmp(req.Amount) != 0 {
			return chain.Payout{}, fmt.Errorf("%w: payout %q", chain.ErrConflict, req.Key)
		}
		return p, nil
	}
	now := a.micros()
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO chain_payouts (chain, idempotency_key, asset, token, from_address, to_address, amount,
		status, created_at, updated_at) VALUES (?, ?, ?, '', ?, ?, ?, 'queued', ?, ?) RETURNING id`,
		a.network, req.Key, Symbol, a.HotWallet(), to, req.Amount.String(), now, now).Scan(&id); err != nil {
		return chain.Payout{}, err
	}
	p := chain.Payout{ID: id, Chain: a.network, Key: req.Key, Asset: Symbol, From: a.HotWallet(), To: to,
		Amount: new(big.Int).Set(req.Amount), Status: chain.PayoutQueued, CreatedAt: fromMicros(now), UpdatedAt: fromMicros(now)}
	return p, a.notifyPayout(ctx, tx, p)
}

// Payout reads a payout by id.
func (a *Adapter) Payout(ctx context.Context, id int64) (chain.Payout, error) {
	ps, err := a.queryPayouts(ctx, a.db, `WHERE id = ? AND chain = ?`, id, a.network)
	if err != nil {
		return chain.Payout{}, err
	}
	if len(ps) == 0 {
		return chain.Payout{}, chain.ErrNotFound
	}
	return ps[0].Payout, nil
}

func (a *Adapter) notifyPayout(ctx context.Context, tx *store.Tx, p chain.Payout) error {
	if a.cfg.OnPayout != nil {
		return a.cfg.OnPayout(ctx, tx, p)
	}
	return nil
}

// Tx is a hot-wallet transaction as recorded.
type Tx struct {
	ID          int64
	Root        int64 // the family's first transaction (itself when not a replacement)
	TxID        string
	Raw         []byte
	Fee         int64 // satoshis
	VSize       int64
	FeeRate     int64 // sat/kvB
	Change      int64
	Status      string // signed, broadcast, mined, confirmed, replaced, dead
	BlockNumber int64
	BlockHash   string
	BroadcastAt int64 // unix micros, 0 before the first broadcast
}

const txCols = `id, COALESCE(replaces, id), txid, raw_tx, fee, vsize, fee_rate, change, status, COALESCE(block_number, 0), COALESCE(block_hash, ''), COALESCE(broadcast_at, 0)`

func (a *Adapter) queryTxs(ctx context.Context, q queryer, where string, args ...any) ([]Tx, error) {
	rows, err := q.Query(ctx, `SELECT `+txCols+` FROM btc_txs `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Tx
	for rows.Next() {
		var t Tx
		if err := rows.Scan(&t.ID, &t.Root, &t.TxID, &t.Raw, &t.Fee, &t.VSize, &t.FeeRate, &t.Change, &t.Status,
			&t.BlockNumber, &t.BlockHash, &t.BroadcastAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Transactions lists the hot wallet's recorded transactions, oldest first (operators, tests).
func (a *Adapter) Transactions(ctx context.Context) ([]Tx, error) {
	return a.queryTxs(ctx, a.db, `WHERE chain = ? ORDER BY id`, a.network)
}

// utxo is a spendable hot-wallet output.
type utxo struct {
	op       wire.OutPoint
	amount   int64
	script   []byte
	coinbase bool
	block    int64
}

// spendable lists confirmed, unreserved, unspent (and, for coinbase outputs, mature) outputs,
// largest first.
func (a *Adapter) spendable(ctx context.Context, head int64) ([]utxo, error) {
	rows, err := a.db.Query(ctx, `SELECT txid, vout, amount, script, coinbase, block_number FROM btc_utxos
		WHERE chain = ? AND block_hash <> '' AND reserved_by IS NULL AND spent_block IS NULL ORDER BY amount DESC, txid, vout`, a.network)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []utxo
	for rows.Next() {
		var u utxo
		var txid string
		var vout int64
		if err := rows.Scan(&txid, &vout, &u.amount, &u.script, &u.coinbase, &u.block); err != nil {
			return nil, err
		}
		h, err := chainhash.NewHashFromStr(txid)
		if err != nil {
			return nil, err
		}
		u.op = wire.OutPoint{Hash: *h, Index: uint32(vout)}
		if u.coinbase && confs(head, u.block) < uint64(a.params.CoinbaseMaturity) {
			continue
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Balance is the hot wallet's spendable balance (confirmed, unreserved, mature outputs).
func (a *Adapter) Balance(ctx context.Context) (int64, error) {
	head, err := a.node.BlockCount(ctx)
	if err != nil {
		return 0, err
	}
	us, err := a.spendable(ctx, head)
	var sum int64
	for _, u := range us {
		sum += u.amount
	}
	return sum, err
}

// feeRate is the node's estimate clamped to the policy, or the fallback rate.
func (a *Adapter) feeRate(ctx context.Context) (int64, error) {
	f := a.cfg.Fees
	rate, err := a.node.EstimateFee(ctx, f.ConfTarget)
	if errors.Is(err, ErrNoEstimate) {
		feeRate.WithLabelValues(a.network).Set(float64(f.FallbackRate) / 1000)
		return f.FallbackRate, nil
	}
	if err != nil {
		return 0, fmt.Errorf("btc: %s: fee estimate: %w", a.network, err)
	}
	rate = min(max(rate, f.MinRate), f.MaxRate)
	feeRate.WithLabelValues(a.network).Set(float64(rate) / 1000)
	return rate, nil
}

// EstimatePayoutFee is the fee in satoshis a one-input, two-output payout to a P2WPKH address
// pays at the current rate (for quotes).
func (a *Adapter) EstimatePayoutFee(ctx context.Context) (int64, error) {
	rate, err := a.feeRate(ctx)
	if err != nil {
		return 0, err
	}
	p2wpkh := make([]byte, 22)
	return feeFor(rate, estimateVSize(1, [][]byte{p2wpkh, p2wpkh})), nil
}

func varIntSize(n int) int64 { return int64(wire.VarIntSerializeSize(uint64(n))) }

// estimateVSize bounds the virtual size of a transaction spending nIn P2WPKH inputs (72-byte
// signatures, the longest) to outputs with the given scripts.
func estimateVSize(nIn int, outScripts [][]byte) int64 {
	w := int64(4+4)*4 + 2 + (varIntSize(nIn)+varIntSize(len(outScripts)))*4
	w += int64(nIn) * ((36+1+4)*4 + 1 + 1 + 72 + 1 + 33)
	for _, s := range outScripts {
		w += (8 + varIntSize(len(s)) + int64(len(s))) * 4
	}
	return (w + 3) / 4
}

func feeFor(rate, vsize int64) int64 { return (rate*vsize + 999) / 1000 }

func vsizeOf(tx *wire.MsgTx) int64 {
	w := int64(tx.SerializeSizeStripped())*3 + int64(tx.SerializeSize())
	return (w + 3) / 4
}

// selection is a funded set of inputs for some outputs.
type selection struct {
	inputs []utxo
	fee    int64
	change int64 // 0: no change output (what is left goes to the fee)
}

// selectCoins picks inputs (largest first) paying outs at rate with change to the hot wallet;
// ok is false when the wallet cannot fund them.
func (a *Adapter) selectCoins(utxos []utxo, outs []*wire.TxOut, rate int64) (selection, bool) {
	var total int64
	scripts := make([][]byte, 0, len(outs)+1)
	for _, o := range outs {
		total += o.Value
		scripts = append(scripts, o.PkScript)
	}
	withChange := append(scripts[:len(scripts):len(scripts)], a.hotPkScr)
	var sum int64
	for i, u := range utxos {
		sum += u.amount
		n := i + 1
		feeChange := feeFor(rate, estimateVSize(n, withChange))
		if sum >= total+feeChange+DustLimit {
			return selection{inputs: utxos[:n], fee: feeChange, change: sum - total - feeChange}, true
		}
		if fee := feeFor(rate, estimateVSize(n, scripts)); sum >= total+fee {
			return selection{inputs: utxos[:n], fee: sum - total}, true // the rest (< dust + change cost) goes to the miner
		}
	}
	return selection{}, false
}

// sign builds the transaction as a PSBT, signs every input with the hot wallet key, finalises
// it and checks each input's script before returning the transaction.
func (a *Adapter) sign(inputs []utxo, outs []*wire.TxOut) (*wire.MsgTx, error) {
	ops := make([]*wire.OutPoint, len(inputs))
	seqs := make([]uint32, len(inputs))
	fetcher := txscript.NewMultiPrevOutFetcher(nil)
	for i := range inputs {
		ops[i] = &inputs[i].op
		seqs[i] = rbfSequence
		fetcher.AddPrevOut(inputs[i].op, &wire.TxOut{Value: inputs[i].amount, PkScript: inputs[i].script})
	}
	p, err := psbt.New(ops, outs, 2, 0, seqs)
	if err != nil {
		return nil, fmt.Errorf("btc: psbt: %w", err)
	}
	u, err := psbt.NewUpdater(p)
	if err != nil {
		return nil, err
	}
	pub := a.key.PubKey().SerializeCompressed()
	hashes := txscript.NewTxSigHashes(p.UnsignedTx, fetcher)
	for i, in := range inputs {
		if !bytes.Equal(in.script, a.hotPkScr) {
			return nil, fmt.Errorf("btc: input %s is not the hot wallet's", in.op)
		}
		if err := u.AddInWitnessUtxo(&wire.TxOut{Value: in.amount, PkScript: in.script}, i); err != nil {
			return nil, err
		}
		if err := u.AddInSighashType(txscript.SigHashAll, i); err != nil {
			return nil, err
		}
		sig, err := txscript.RawTxInWitnessSignature(p.UnsignedTx, hashes, i, in.amount, in.script, txscript.SigHashAll, a.key)
		if err != nil {
			return nil, err
		}
		if res, err := u.Sign(i, sig, pub, nil, nil); err != nil || res != psbt.SignSuccesful {
			return nil, fmt.Errorf("btc: psbt sign input %d: %v (%v)", i, err, res)
		}
	}
	if err := psbt.MaybeFinalizeAll(p); err != nil {
		return nil, fmt.Errorf("btc: psbt finalize: %w", err)
	}
	tx, err := psbt.Extract(p)
	if err != nil {
		return nil, fmt.Errorf("btc: psbt extract: %w", err)
	}
	for i, in := range inputs {
		vm, err := txscript.NewEngine(in.script, tx, i, txscript.StandardVerifyFlags, nil, hashes, in.amount, fetcher)
		if err != nil {
			return nil, err
		}
		if err := vm.Execute(); err != nil {
			return nil, fmt.Errorf("btc: signed input %d does not verify: %w", i, err)
		}
	}
	return tx, nil
}

// errClaimLost aborts recording a transaction whose payouts or inputs another worker took.
var errClaimLost = errors.New("btc: payouts or inputs claimed by another worker")

// errCrash is returned by the afterSign test hook to simulate a process dying.
var errCrash = errors.New("btc: simulated crash")

// ProcessPayouts runs one pass: recorded transactions are broadcast (again) or bumped, then the
// due payouts are batched, signed, recorded and broadcast.
func (a *Adapter) ProcessPayouts(ctx context.Context) error {
	if a.key == nil {
		return fmt.Errorf("btc: %s: no hot wallet configured", a.network)
	}
	a.payoutMu.Lock()
	defer a.payoutMu.Unlock()
	head, err := a.node.BlockCount(ctx)
	if err != nil {
		return fmt.Errorf("btc: %s: block count: %w", a.network, err)
	}
	var errs []error
	open, err := a.queryTxs(ctx, a.db, `WHERE chain = ? AND status IN ('signed', 'broadcast') ORDER BY id`, a.network)
	if err != nil {
		return err
	}
	rate := int64(0)
	for _, t := range open {
		switch {
		case t.Status == "signed":
			err = a.broadcast(ctx, t)
		case t.BroadcastAt > 0 && a.micros()-t.BroadcastAt > a.cfg.Fees.BumpAfter.Microseconds():
			if rate == 0 {
				if rate, err = a.feeRate(ctx); err != nil {
					break
				}
			}
			err = a.bump(ctx, t, rate)
		default:
			err = a.rebroadcastIfDropped(ctx, t)
		}
		if errors.Is(err, errCrash) {
			return err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("tx %s: %w", t.TxID, err))
		}
	}
	due, err := a.queryPayouts(ctx, a.db, `WHERE chain = ? AND status IN ('queued', 'waiting') AND btc_tx_id IS NULL ORDER BY id`, a.network)
	if err != nil || len(due) == 0 {
		return errors.Join(append(errs, err)...)
	}
	if rate == 0 {
		if rate, err = a.feeRate(ctx); err != nil {
			return errors.Join(append(errs, err)...)
		}
	}
	if err := a.payBatch(ctx, head, due, rate); err != nil {
		if errors.Is(err, errCrash) {
			return err
		}
		errs = append(errs, err)
	}
	errs = append(errs, a.updateGauges(ctx))
	return errors.Join(errs...)
}

// payBatch puts as many due payouts (in id order) as the wallet can fund into one transaction;
// the others wait with reason insufficient_funds.
func (a *Adapter) payBatch(ctx context.Context, head int64, due []payoutRow, rate int64) error {
	utxos, err := a.spendable(ctx, head)
	if err != nil {
		return err
	}
	var batch []payoutRow
	var outs []*wire.TxOut
	var sel selection
	var held []payoutRow
	for _, p := range due {
		if len(batch) >= a.cfg.MaxBatch {
			break // the next pass takes the rest
		}
		ad, err := a.decodeAddress(p.To)
		if err != nil {
			return fmt.Errorf("payout %d: %w", p.ID, err)
		}
		script, err := txscript.PayToAddrScript(ad)
		if err != nil {
			return fmt.Errorf("payout %d: %w", p.ID, err)
		}
		trial := append(outs[:len(outs):len(outs)], wire.NewTxOut(p.Amount.Int64(), script))
		s, ok := a.selectCoins(utxos, trial, rate)
		if !ok {
			held = append(held, p)
			continue
		}
		batch, outs, sel = append(batch, p), trial, s
	}
	var avail int64
	for _, u := range utxos {
		avail += u.amount
	}
	for i := range held {
		if err := a.hold(ctx, &held[i], chain.ReasonInsufficientFunds,
			fmt.Sprintf("hot wallet %s has %d sat spendable, payout needs %s sat plus fee (at %d sat/kvB) beside the others due", a.HotWallet(), avail, held[i].Amount, rate)); err != nil {
			return err
		}
	}
	if len(batch) == 0 {
		return nil
	}
	if sel.change > 0 {
		outs = append(outs, wire.NewTxOut(sel.change, a.hotPkScr))
	}
	stx, err := a.sign(sel.inputs, outs)
	if err != nil {
		return err
	}
	t, err := a.record(ctx, stx, sel.inputs, sel.fee, sel.change, rate, 0, batch)
	if errors.Is(err, errClaimLost) {
		return nil
	}
	if err != nil {
		return err
	}
	a.log.Info("payout transaction signed", "tx", t.TxID, "payouts", len(batch), "fee", t.Fee, "vsize", t.VSize, "rate_sat_kvb", rate)
	if a.afterSign != nil {
		if err := a.afterSign(t.TxID); err != nil {
			return errors.Join(errCrash, err)
		}
	}
	return a.broadcast(ctx, t)
}

// record stores a signed transaction before its broadcast: the btc_txs row, the inputs it
// reserves, and its payouts (signed, carrying its txid). root > 0 records a replacement of that
// family (same inputs, already reserved).
func (a *Adapter) record(ctx context.Context, stx *wire.MsgTx, inputs []utxo, fee, change, rate, root int64, payouts []payoutRow) (Tx, error) {
	var buf bytes.Buffer
	if err := stx.Serialize(&buf); err != nil {
		return Tx{}, err
	}
	t := Tx{TxID: stx.TxHash().String(), Raw: buf.Bytes(), Fee: fee, VSize: vsizeOf(stx), FeeRate: rate, Change: change, Status: "signed"}
	err := a.db.Tx(ctx, func(tx *store.Tx) error {
		now := a.micros()
		var replaces any
		if root > 0 {
			replaces = root
		}
		if err := tx.QueryRow(ctx, `INSERT INTO btc_txs (chain, txid, raw_tx, fee, vsize, fee_rate, change, status, replaces, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'signed', ?, ?, ?) RETURNING id`,
			a.network, t.TxID, t.Raw, t.Fee, t.VSize, rate, change, replaces, now, now).Scan(&t.ID); err != nil {
			return err
		}
		t.Root = t.ID
		if root > 0 {
			t.Root = root
			res, err := tx.Exec(ctx, `UPDATE btc_txs SET status = 'replaced', updated_at = ? WHERE chain = ? AND (id = ? OR replaces = ?) AND id <> ? AND status IN ('signed', 'broadcast')`,
				now, a.network, root, root, t.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errClaimLost // mined (or bumped) meanwhile
			}
			_, err = tx.Exec(ctx, `UPDATE chain_payouts SET tx_hash = ?, updated_at = ? WHERE chain = ? AND btc_tx_id = ?`, t.TxID, now, a.network, root)
			return err
		}
		for _, in := range inputs {
			res, err := tx.Exec(ctx, `UPDATE btc_utxos SET reserved_by = ? WHERE chain = ? AND txid = ? AND vout = ? AND reserved_by IS NULL AND spent_block IS NULL`,
				t.ID, a.network, in.op.Hash.String(), int64(in.op.Index))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return errClaimLost
			}
		}
		for i := range payouts {
			p := &payouts[i]
			res, err := tx.Exec(ctx, `UPDATE chain_payouts SET status = 'signed', reason = '', last_error = '', tx_hash = ?, btc_tx_id = ?, updated_at = ?
				WHERE id = ? AND status IN ('queued', 'waiting') AND btc_tx_id IS NULL`, t.TxID, t.ID, now, p.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return errClaimLost
			}
			p.Status, p.Reason, p.LastError, p.TxHash, p.txRow = chain.PayoutSigned, "", "", t.TxID, t.ID
			if err := a.notifyPayout(ctx, tx, p.Payout); err != nil {
				return err
			}
		}
		return nil
	})
	return t, err
}

// hold parks an unsigned payout as waiting with a reason; the next pass retries it.
func (a *Adapter) hold(ctx context.Context, p *payoutRow, reason, detail string) error {
	changed := p.Status != chain.PayoutWaiting || p.Reason != reason
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE chain_payouts SET status = 'waiting', reason = ?, last_error = ?, updated_at = ?
			WHERE id = ? AND status IN ('queued', 'waiting') AND btc_tx_id IS NULL`, reason, detail, a.micros(), p.ID); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		a.log.Warn("payout waiting", "payout", p.ID, "reason", reason, "detail", detail)
		p.Status, p.Reason, p.LastError = chain.PayoutWaiting, reason, detail
		return a.notifyPayout(ctx, tx, p.Payout)
	})
}

// alreadyKnown reports a broadcast error meaning the node already has the transaction.
func alreadyKnown(err error) bool {
	if rpcCode(err) == rpcVerifyInChain {
		return true
	}
	s := strings.ToLower(err.Error())
	for _, m := range []string{"already in block chain", "already have transaction", "txn-already-in-mempool", "txn-already-known",
		"already known", "outputs already in utxo set"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// broadcast sends a recorded transaction, byte for byte, and marks it and its payouts broadcast.
func (a *Adapter) broadcast(ctx context.Context, t Tx) error {
	var stx wire.MsgTx
	if err := stx.Deserialize(bytes.NewReader(t.Raw)); err != nil {
		return fmt.Errorf("decode recorded tx: %w", err)
	}
	if stx.TxHash().String() != t.TxID {
		return fmt.Errorf("recorded tx %s does not hash to its txid", t.TxID)
	}
	if err := a.node.SendRawTransaction(ctx, &stx); err != nil && !alreadyKnown(err) {
		_, dbErr := a.db.Exec(ctx, `UPDATE btc_txs SET last_error = ?, updated_at = ? WHERE id = ?`, "broadcast: "+err.Error(), a.micros(), t.ID)
		return errors.Join(fmt.Errorf("broadcast: %w", err), dbErr)
	}
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		now := a.micros()
		res, err := tx.Exec(ctx, `UPDATE btc_txs SET status = 'broadcast', last_error = '', broadcast_at = COALESCE(broadcast_at, ?), updated_at = ?
			WHERE id = ? AND status = 'signed'`, now, now, t.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ps, err := a.queryPayouts(ctx, tx, `WHERE chain = ? AND btc_tx_id = ? AND status = 'signed'`, a.network, t.Root)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if _, err := tx.Exec(ctx, `UPDATE chain_payouts SET status = 'broadcast', attempts = attempts + 1, broadcast_at = COALESCE(broadcast_at, ?), updated_at = ? WHERE id = ?`,
				now, now, p.ID); err != nil {
				return err
			}
			p.Status = chain.PayoutBroadcast
			if err := a.notifyPayout(ctx, tx, p.Payout); err != nil {
				return err
			}
		}
		return nil
	})
}

// rebroadcastIfDropped sends a broadcast transaction again when the node's mempool lost it
// (restart, eviction) and it is not mined.
func (a *Adapter) rebroadcastIfDropped(ctx context.Context, t Tx) error {
	in, err := a.node.InMempool(ctx, mustHash(t.TxID))
	if err != nil || in {
		return err
	}
	var stx wire.MsgTx
	if err := stx.Deserialize(bytes.NewReader(t.Raw)); err != nil {
		return err
	}
	if err := a.node.SendRawTransaction(ctx, &stx); err != nil && !alreadyKnown(err) {
		_, dbErr := a.db.Exec(ctx, `UPDATE btc_txs SET last_error = ?, updated_at = ? WHERE id = ?`, "re-broadcast: "+err.Error(), a.micros(), t.ID)
		return dbErr
	}
	return nil
}

func mustHash(s string) chainhash.Hash {
	h, _ := chainhash.NewHashFromStr(s)
	if h == nil {
		return chainhash.Hash{}
	}
	return *h
}

// bump replaces a transaction stuck unmined past BumpAfter (BIP 125): the same inputs and
// payments, a rate at least BumpPercent higher (and at least the current estimate, at most the
// policy's MaxRate), the extra fee taken from the change.
func (a *Adapter) bump(ctx context.Context, t Tx, estimate int64) error {
	newRate := min(max(t.FeeRate*(100+a.cfg.Fees.BumpPercent)/100, estimate), a.cfg.Fees.MaxRate)
	if newRate <= t.FeeRate {
		return a.rebroadcastIfDropped(ctx, t) // already at the cap
	}
	var old wire.MsgTx
	if err := old.Deserialize(bytes.NewReader(t.Raw)); err != nil {
		return err
	}
	outs := make([]*wire.TxOut, 0, len(old.TxOut))
	var scripts [][]byte
	var paid int64
	for i, o := range old.TxOut {
		if t.Change > 0 && i == len(old.TxOut)-1 {
			continue // the change output, rebuilt below
		}
		outs = append(outs, wire.NewTxOut(o.Value, o.PkScript))
		scripts = append(scripts, o.PkScript)
		paid += o.Value
	}
	inputs := make([]utxo, len(old.TxIn))
	var sum int64
	for i, in := range old.TxIn {
		var u utxo
		err := a.db.QueryRow(ctx, `SELECT amount, script FROM btc_utxos WHERE chain = ? AND txid = ? AND vout = ?`,
			a.network, in.PreviousOutPoint.Hash.String(), int64(in.PreviousOutPoint.Index)).Scan(&u.amount, &u.script)
		if err != nil {
			return fmt.Errorf("input %s: %w", in.PreviousOutPoint, err)
		}
		u.op = in.PreviousOutPoint
		inputs[i] = u
		sum += u.amount
	}
	vsize := estimateVSize(len(inputs), append(scripts, a.hotPkScr))
	fee := max(feeFor(newRate, vsize), t.Fee+feeFor(incrementalRate, vsize))
	change := sum - paid - fee
	if change < DustLimit {
		change, fee = 0, sum-paid
		if fee < t.Fee+feeFor(incrementalRate, estimateVSize(len(inputs), scripts)) {
			_, err := a.db.Exec(ctx, `UPDATE btc_txs SET last_error = ?, updated_at = ? WHERE id = ?`,
				"fee bump: the change cannot pay a higher fee", a.micros(), t.ID)
			if err != nil {
				return err
			}
			return a.rebroadcastIfDropped(ctx, t)
		}
	}
	if change > 0 {
		outs = append(outs, wire.NewTxOut(change, a.hotPkScr))
	}
	stx, err := a.sign(inputs, outs)
	if err != nil {
		return err
	}
	nt, err := a.record(ctx, stx, inputs, fee, change, newRate, t.Root, nil)
	if errors.Is(err, errClaimLost) {
		return nil
	}
	if err != nil {
		return err
	}
	a.log.Warn("payout transaction bumped", "old", t.TxID, "new", nt.TxID, "old_fee", t.Fee, "fee", fee, "rate_sat_kvb", newRate)
	if a.afterSign != nil {
		if err := a.afterSign(nt.TxID); err != nil {
			return errors.Join(errCrash, err)
		}
	}
	return a.broadcast(ctx, nt)
}

// scanWallet records block n's effect on the hot wallet inside the scan's transaction: its
// outputs, spends of its outputs, and its own transactions being mined.
func (a *Adapter) scanWallet(ctx context.Context, tx *store.Tx, n int64, hash chainhash.Hash, blk *wire.MsgBlock) error {
	ours := map[string]Tx{}
	open, err := a.queryTxs(ctx, tx, `WHERE chain = ? AND status IN ('signed', 'broadcast', 'replaced')`, a.network)
	if err != nil {
		return err
	}
	for _, t := range open {
		ours[t.TxID] = t
	}
	unspent := map[wire.OutPoint]bool{}
	rows, err := tx.Query(ctx, `SELECT txid, vout FROM btc_utxos WHERE chain = ? AND spent_block IS NULL`, a.network)
	if err != nil {
		return err
	}
	for rows.Next() {
		var txid string
		var vout int64
		if err := rows.Scan(&txid, &vout); err != nil {
			rows.Close()
			return err
		}
		unspent[wire.OutPoint{Hash: mustHash(txid), Index: uint32(vout)}] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := a.micros()
	for i, mtx := range blk.Transactions {
		txid := mtx.TxHash()
		if t, ok := ours[txid.String()]; ok {
			if err := a.mined(ctx, tx, t, n, hash.String(), now); err != nil {
				return err
			}
		}
		if i > 0 {
			for _, in := range mtx.TxIn {
				if unspent[in.PreviousOutPoint] {
					if _, err := tx.Exec(ctx, `UPDATE btc_utxos SET spent_block = ? WHERE chain = ? AND txid = ? AND vout = ?`,
						n, a.network, in.PreviousOutPoint.Hash.String(), int64(in.PreviousOutPoint.Index)); err != nil {
						return err
					}
				}
			}
		}
		for vout, o := range mtx.TxOut {
			if !bytes.Equal(o.PkScript, a.hotPkScr) {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO btc_utxos (chain, txid, vout, amount, script, coinbase, block_number, block_hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chain, txid, vout) DO UPDATE SET block_number = excluded.block_number, block_hash = excluded.block_hash`,
				a.network, txid.String(), int64(vout), o.Value, o.PkScript, i == 0, n, hash.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

// mined records that t (one of a family) is in block n: the others of its family can no longer
// be mined, and its payouts now carry its txid.
func (a *Adapter) mined(ctx context.Context, tx *store.Tx, t Tx, n int64, hash string, now int64) error {
	if _, err := tx.Exec(ctx, `UPDATE btc_txs SET status = 'mined', block_number = ?, block_hash = ?, broadcast_at = COALESCE(broadcast_at, ?), updated_at = ? WHERE id = ?`,
		n, hash, now, now, t.ID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE btc_txs SET status = 'dead', updated_at = ? WHERE chain = ? AND (id = ? OR replaces = ?) AND id <> ? AND status IN ('signed', 'broadcast', 'replaced')`,
		now, a.network, t.Root, t.Root, t.ID); err != nil {
		return err
	}
	ps, err := a.queryPayouts(ctx, tx, `WHERE chain = ? AND btc_tx_id = ? AND status IN ('signed', 'broadcast')`, a.network, t.Root)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := tx.Exec(ctx, `UPDATE chain_payouts SET status = 'broadcast', tx_hash = ?, block_number = ?, block_hash = ?, confirmations = 1,
			broadcast_at = COALESCE(broadcast_at, ?), updated_at = ? WHERE id = ?`, t.TxID, n, hash, now, now, p.ID); err != nil {
			return err
		}
		if p.Status == chain.PayoutSigned || p.TxHash != t.TxID {
			p.Status, p.TxHash, p.BlockNumber = chain.PayoutBroadcast, t.TxID, uint64(n)
			if err := a.notifyPayout(ctx, tx, p.Payout); err != nil {
				return err
			}
		}
	}
	// Payouts confirmed before a deep reorg orphaned their transaction: mined again (or a
	// replacement of it), they stay confirmed and carry the txid that is on the chain now.
	ps, err = a.queryPayouts(ctx, tx, `WHERE chain = ? AND btc_tx_id = ? AND status = 'confirmed'`, a.network, t.Root)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := tx.Exec(ctx, `UPDATE chain_payouts SET tx_hash = ?, block_number = ?, block_hash = ?, updated_at = ? WHERE id = ?`,
			t.TxID, n, hash, now, p.ID); err != nil {
			return err
		}
		p.TxHash, p.BlockNumber = t.TxID, uint64(n)
		if err := a.notifyPayout(ctx, tx, p.Payout); err != nil {
			return err
		}
	}
	return nil
}

// confirmPayouts finishes the payouts of mined transactions that reached the configured
// confirmations on the best chain.
func (a *Adapter) confirmPayouts(ctx context.Context, head int64) error {
	mined, err := a.queryTxs(ctx, a.db, `WHERE chain = ? AND status = 'mined' ORDER BY id`, a.network)
	if err != nil {
		return err
	}
	for _, t := range mined {
		n := confs(head, t.BlockNumber)
		ok, err := a.canonical(ctx, t.BlockNumber, t.BlockHash)
		if err != nil || !ok {
			return err // not canonical: the next scan rewinds
		}
		err = a.db.Tx(ctx, func(tx *store.Tx) error {
			now := a.micros()
			final := n >= uint64(a.cfg.Confirmations)
			if final {
				res, err := tx.Exec(ctx, `UPDATE btc_txs SET status = 'confirmed', updated_at = ? WHERE id = ? AND status = 'mined'`, now, t.ID)
				if err != nil {
					return err
				}
				if c, _ := res.RowsAffected(); c == 0 {
					return nil
				}
				if a.cfg.OnFee != nil {
					if err := a.cfg.OnFee(ctx, tx, Fee{Chain: a.network, TxID: t.TxID, Fee: t.Fee, VSize: t.VSize, Block: t.BlockHash}); err != nil {
						return err
					}
				}
			}
			ps, err := a.queryPayouts(ctx, tx, `WHERE chain = ? AND btc_tx_id = ? AND status = 'broadcast'`, a.network, t.Root)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if !final {
					if _, err := tx.Exec(ctx, `UPDATE chain_payouts SET confirmations = ?, updated_at = ? WHERE id = ?`, int64(n), now, p.ID); err != nil {
						return err
					}
					continue
				}
				if _, err := tx.Exec(ctx, `UPDATE chain_payouts SET status = 'confirmed', confirmations = ?, confirmed_at = ?, updated_at = ? WHERE id = ?`,
					int64(n), now, now, p.ID); err != nil {
					return err
				}
				p.Status, p.Confirmations, p.BlockNumber, p.TxHash = chain.PayoutConfirmed, n, uint64(t.BlockNumber), t.TxID
				if err := a.notifyPayout(ctx, tx, p.Payout); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Balances is the hot wallet's spendable balance as the chain adapters report it.
func (a *Adapter) Balances(ctx context.Context) ([]chain.Balance, error) {
	sats, err := a.Balance(ctx)
	if err != nil {
		return nil, err
	}
	return []chain.Balance{{Asset: Symbol, Decimals: 8, Amount: big.NewInt(sats)}}, nil
}
