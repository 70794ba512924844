package btc

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/store"
)

// deriver derives BIP-84 receive addresses (account key /0/index, P2WPKH).
type deriver struct {
	receive *hdkeychain.ExtendedKey // account/0
	params  *chaincfg.Params
	id      string
}

// Extended public key version bytes accepted per network family (BIP-32 and SLIP-132).
var (
	mainnetPub = map[string]bool{"0488b21e": true, "04b24746": true} // xpub, zpub
	testnetPub = map[string]bool{"043587cf": true, "045f1cf6": true} // tpub, vpub
)

// CheckDepositXpub reports whether xpub is an account-level extended public key of params'
// network family that deposit addresses can be derived from (for configuration checks).
func CheckDepositXpub(xpub string, params *chaincfg.Params) error {
	_, err := newDeriver(xpub, params)
	return err
}

func newDeriver(xpub string, params *chaincfg.Params) (*deriver, error) {
	k, err := hdkeychain.NewKeyFromString(strings.TrimSpace(xpub))
	if err != nil {
		return nil, fmt.Errorf("btc: deposit xpub: %w", err)
	}
	if k.IsPrivate() {
		return nil, errors.New("btc: the deposit key must be an extended public key: the server never holds the private key")
	}
	v := hex.EncodeToString(k.Version())
	want := testnetPub
	if params.Net == chaincfg.MainNetParams.Net {
		want = mainnetPub
	}
	if !want[v] {
		return nil, fmt.Errorf("btc: deposit xpub has version %s, which is not an extended public key for %s (want xpub/zpub on mainnet, tpub/vpub elsewhere)", v, params.Name)
	}
	recv, err := k.Derive(0)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(xpub)))
	return &deriver{receive: recv, params: params, id: "bip84:" + hex.EncodeToString(sum[:12])}, nil
}

func (d *deriver) address(index uint32) (string, error) {
	if index >= hdkeychain.HardenedKeyStart {
		return "", fmt.Errorf("btc: index %d out of the non-hardened range", index)
	}
	child, err := d.receive.Derive(index)
	if err != nil {
		return "", err
	}
	pub, err := child.ECPubKey()
	if err != nil {
		return "", err
	}
	addr, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), d.params)
	if err != nil {
		return "", err
	}
	return addr.EncodeAddress(), nil
}

// DepositAddress returns the deposit address of operation ref, deriving the next receive
// address of the account xpub on first use.
func (a *Adapter) DepositAddress(ctx context.Context, ref string) (chain.DepositAddress, error) {
	if a.deriver == nil {
		return chain.DepositAddress{}, fmt.Errorf("btc: %s: no deposit xpub configured", a.network)
	}
	if ref == "" {
		return chain.DepositAddress{}, errors.New("btc: deposit ref required")
	}
	var out chain.DepositAddress
	var err error
	for range 3 {
		err = a.db.Tx(ctx, func(tx *store.Tx) error {
			var id, idx int64
			var addr string
			err := tx.QueryRow(ctx, `SELECT id, hd_index, address FROM chain_deposit_addresses WHERE chain = ? AND ref = ?`,
				a.network, ref).Scan(&id, &idx, &addr)
			if err == nil {
				out = chain.DepositAddress{ID: id, Chain: a.network, Ref: ref, Address: addr, Index: uint32(idx)}
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO chain_hd_counters (key_id, next_index) VALUES (?, 0) ON CONFLICT (key_id) DO NOTHING`,
				a.deriver.id); err != nil {
				return err
			}
			for {
				if err := tx.QueryRow(ctx, `UPDATE chain_hd_counters SET next_index = next_index + 1 WHERE key_id = ? RETURNING next_index - 1`,
					a.deriver.id).Scan(&idx); err != nil {
					return err
				}
				if idx >= int64(hdkeychain.HardenedKeyStart) {
					return errors.New("btc: deposit address indexes exhausted for this xpub")
				}
				if addr, err = a.deriver.address(uint32(idx)); err == nil {
					break
				} // else a BIP-32 invalid child: skip the index
			}
			if err := tx.QueryRow(ctx, `INSERT INTO chain_deposit_addresses (chain, ref, key_id, hd_index, address, created_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, a.network, ref, a.deriver.id, idx, addr, a.micros()).Scan(&id); err != nil {
				return err
			}
			out = chain.DepositAddress{ID: id, Chain: a.network, Ref: ref, Address: addr, Index: uint32(idx)}
			return nil
		})
		if !store.IsUniqueViolation(err) {
			break
		}
	}
	return out, err
}

type queryer interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const depositCols = `id, chain, ref, address, asset, token, from_address, amount, tx_hash, log_index, block_number, block_hash, confirmations, status`

func (a *Adapter) queryDeposits(ctx context.Context, q queryer, where string, args ...any) ([]chain.Deposit, error) {
	rows, err := q.Query(ctx, `SELECT `+depositCols+` FROM chain_deposits `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chain.Deposit
	for rows.Next() {
		var d chain.Deposit
		var amount string
		var block, confirmations int64
		if err := rows.Scan(&d.ID, &d.Chain, &d.Ref, &d.Address, &d.Asset, &d.Token, &d.From, &amount, &d.TxHash, &d.LogIndex,
			&block, &d.BlockHash, &confirmations, &d.Status); err != nil {
			return nil, err
		}
		var ok bool
		if d.Amount, ok = new(big.Int).SetString(amount, 10); !ok {
			return nil, fmt.Errorf("btc: deposit %d: bad amount %q", d.ID, amount)
		}
		d.BlockNumber, d.Confirmations = uint64(block), uint64(confirmations)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Deposits lists the deposits seen for operation ref, oldest first.
func (a *Adapter) Deposits(ctx context.Context, ref string) ([]chain.Deposit, error) {
	return a.queryDeposits(ctx, a.db, `WHERE chain = ? AND ref = ? ORDER BY id`, a.network, ref)
}

func (a *Adapter) setDepositStatus(ctx context.Context, tx *store.Tx, d *chain.Deposit, status chain.DepositStatus) error {
	now := a.micros()
	credited := sql.NullInt64{}
	if status == chain.DepositCredited {
		credited = sql.NullInt64{Int64: now, Valid: true}
	}
	if _, err := tx.Exec(ctx, `UPDATE chain_deposits SET status = ?, confirmations = ?, updated_at = ?, credited_at = COALESCE(?, credited_at) WHERE id = ?`,
		string(status), int64(d.Confirmations), now, credited, d.ID); err != nil {
		return err
	}
	d.Status = status
	if a.cfg.OnDeposit != nil {
		return a.cfg.OnDeposit(ctx, tx, *d)
	}
	return nil
}

type cursor struct {
	number int64
	hash   chainhash.Hash
}

func (a *Adapter) loadCursor(ctx context.Context) (cursor, error) {
	var c cursor
	var h string
	if err := a.db.QueryRow(ctx, `SELECT block_number, block_hash FROM chain_cursors WHERE chain = ?`, a.network).Scan(&c.number, &h); err != nil {
		return c, err
	}
	hh, err := chainhash.NewHashFromStr(h)
	if err != nil {
		return c, err
	}
	c.hash = *hh
	return c, nil
}

// canonical reports whether hash is the best chain's block at height.
func (a *Adapter) canonical(ctx context.Context, height int64, hash string) (bool, error) {
	h, err := a.node.BlockHash(ctx, height)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return h.String() == hash, nil
}

// ScanDeposits runs one scan pass: detects a reorg at the cursor (rewinding to the common
// ancestor), reads new blocks up to the tip (at most 1000 a pass), then counts confirmations of
// pending deposits and mined payout transactions.
func (a *Adapter) ScanDeposits(ctx context.Context) error {
	a.scanMu.Lock()
	defer a.scanMu.Unlock()
	for range 1000 {
		head, err := a.node.BlockCount(ctx)
		if err != nil {
			return fmt.Errorf("btc: %s: block count: %w", a.network, err)
		}
		cur, err := a.loadCursor(ctx)
		if err != nil {
			return err
		}
		if ok, err := a.canonical(ctx, cur.number, cur.hash.String()); err != nil {
			return err
		} else if !ok {
			if err := a.rewind(ctx, cur); err != nil {
				return err
			}
			continue
		}
		if cur.number >= head {
			if err := a.confirmDeposits(ctx, head); err != nil {
				return err
			}
			if err := a.confirmPayouts(ctx, head); err != nil {
				return err
			}
			return a.updateGauges(ctx)
		}
		hash, err := a.node.BlockHash(ctx, cur.number+1)
		if err != nil {
			return err
		}
		blk, err := a.node.Block(ctx, hash)
		if err != nil {
			return err
		}
		if blk.Header.PrevBlock != cur.hash {
			continue // the tip moved under us: the next round rewinds
		}
		if err := a.scanBlock(ctx, cur.number+1, hash, blk, head); err != nil {
			return err
		}
	}
	return nil
}

// rewind finds the newest recorded block still on the best chain and undoes everything above it.
func (a *Adapter) rewind(ctx context.Context, cur cursor) error {
	reorgsTotal.WithLabelValues(a.network).Inc()
	rows, err := a.db.Query(ctx, `SELECT block_number, block_hash FROM chain_blocks WHERE chain = ? ORDER BY block_number DESC`, a.network)
	if err != nil {
		return err
	}
	type blk struct {
		n int64
		h string
	}
	var recorded []blk
	for rows.Next() {
		var b blk
		if err := rows.Scan(&b.n, &b.h); err != nil {
			rows.Close()
			return err
		}
		recorded = append(recorded, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ancestor, ancestorHash := int64(-1), ""
	for _, b := range recorded {
		ok, err := a.canonical(ctx, b.n, b.h)
		if err != nil {
			return err
		}
		if ok {
			ancestor, ancestorHash = b.n, b.h
			break
		}
	}
	if ancestor < 0 {
		low := cur.number
		if len(recorded) > 0 {
			low = recorded[len(recorded)-1].n
		}
		ancestor = max(low-1, 0)
		h, err := a.node.BlockHash(ctx, ancestor)
		if err != nil {
			return err
		}
		ancestorHash = h.String()
		a.log.Error("reorg deeper than the reorg window", "window", a.cfg.ReorgWindow, "restart_at", ancestor)
	}
	a.log.Warn("reorg detected", "cursor", cur.number, "ancestor", ancestor)
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		ds, err := a.queryDeposits(ctx, tx, `WHERE chain = ? AND block_number > ? AND status IN ('pending', 'credited')`, a.network, ancestor)
		if err != nil {
			return err
		}
		for i := range ds {
			if ds[i].Status == chain.DepositCredited {
				a.log.Error("credited deposit left the chain", "deposit", ds[i].ID, "tx", ds[i].TxHash, "ref", ds[i].Ref)
			}
			ds[i].Confirmations = 0
			if err := a.setDepositStatus(ctx, tx, &ds[i], chain.DepositReorged); err != nil {
				return err
			}
		}
		now := a.micros()
		// A payout transaction confirmed in an orphaned block (a reorg deeper than
		// Confirmations): its miner fee booking is reversed here, and booked again when it (or
		// a replacement of its family) confirms on the new branch; see the package comment.
		deep, err := a.queryTxs(ctx, tx, `WHERE chain = ? AND status = 'confirmed' AND block_number > ? ORDER BY id`, a.network, ancestor)
		if err != nil {
			return err
		}
		for _, t := range deep {
			a.log.Error("confirmed payout transaction left the chain: fee booking reversed, payouts stay paid while it is mined again",
				"tx", t.TxID, "block", t.BlockNumber, "fee", t.Fee)
			if a.cfg.OnFee != nil {
				if err := a.cfg.OnFee(ctx, tx, Fee{Chain: a.network, TxID: t.TxID, Fee: t.Fee, VSize: t.VSize, Block: t.BlockHash, Reversal: true}); err != nil {
					return err
				}
			}
		}
		stmts := []struct {
			q    string
			args []any
		}{
			// The other members of an orphaned transaction's family may be mined instead now.
			{`UPDATE btc_txs SET status = 'replaced', updated_at = ? WHERE chain = ? AND status = 'dead' AND COALESCE(replaces, id) IN
				(SELECT COALESCE(replaces, id) FROM btc_txs WHERE chain = ? AND status IN ('mined', 'confirmed') AND block_number > ?)`,
				[]any{now, a.network, a.network, ancestor}},
			// Back to the mempool: tracked (re-broadcast, bumped BumpAfter from now) until mined again.
			{`UPDATE btc_txs SET status = 'broadcast', block_number = NULL, block_hash = NULL, broadcast_at = ?, updated_at = ?
				WHERE chain = ? AND status IN ('mined', 'confirmed') AND block_number > ?`, []any{now, now, a.network, ancestor}},
			// Confirmed payouts stay confirmed (their transaction pays them whichever of its
			// family is mined) but show no block until it is mined again.
			{`UPDATE chain_payouts SET block_number = NULL, block_hash = NULL, updated_at = ?
				WHERE chain = ? AND status = 'confirmed' AND btc_tx_id IS NOT NULL AND block_number > ?`, []any{now, a.network, ancestor}},
			// Outputs of orphaned blocks stay known (a reservation must survive the funding
			// transaction being mined again) but are not spendable until seen in a block again.
			{`UPDATE btc_utxos SET block_number = 0, block_hash = '' WHERE chain = ? AND block_number > ?`, []any{a.network, ancestor}},
			{`UPDATE btc_utxos SET spent_block = NULL WHERE chain = ? AND spent_block > ?`, []any{a.network, ancestor}},
			{`UPDATE chain_payouts SET block_number = NULL, block_hash = NULL, confirmations = 0, updated_at = ?
				WHERE chain = ? AND status = 'broadcast' AND block_number > ?`, []any{now, a.network, ancestor}},
			{`DELETE FROM chain_blocks WHERE chain = ? AND block_number > ?`, []any{a.network, ancestor}},
			{`UPDATE chain_cursors SET block_number = ?, block_hash = ?, updated_at = ? WHERE chain = ?`, []any{ancestor, ancestorHash, now, a.network}},
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s.q, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// scanBlock records what block n says about this wallet, in one database transaction with the
// cursor move: hot-wallet outputs and spends, the wallet's own transactions, deposits.
func (a *Adapter) scanBlock(ctx context.Context, n int64, hash chainhash.Hash, blk *wire.MsgBlock, head int64) error {
	// Candidate deposit outputs: P2WPKH outputs (the only kind of deposit address derived).
	type out struct {
		tx   *wire.MsgTx
		txid string
		vout int
		addr string
	}
	var cands []out
	var addrs []string
	for _, tx := range blk.Transactions {
		var txid string
		for i, o := range tx.TxOut {
			if len(o.PkScript) != 22 || o.PkScript[0] != txscript.OP_0 || o.PkScript[1] != 20 {
				continue
			}
			ad, err := btcutil.NewAddressWitnessPubKeyHash(o.PkScript[2:], a.params)
			if err != nil {
				continue
			}
			if txid == "" {
				txid = tx.TxHash().String()
			}
			cands = append(cands, out{tx, txid, i, ad.EncodeAddress()})
			addrs = append(addrs, ad.EncodeAddress())
		}
	}
	matched := map[string]chain.DepositAddress{}
	if a.deriver != nil {
		var err error
		if matched, err = a.matchAddresses(ctx, addrs); err != nil {
			return err
		}
	}
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		now := a.micros()
		if a.hot != nil {
			if err := a.scanWallet(ctx, tx, n, hash, blk); err != nil {
				return err
			}
		}
		for _, c := range cands {
			da, ok := matched[c.addr]
			if !ok {
				continue
			}
			o := c.tx.TxOut[c.vout]
			if err := a.upsertDeposit(ctx, tx, da, c.txid, c.vout, o.Value, sender(c.tx, a.params), n, hash.String(), head, now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO chain_blocks (chain, block_number, block_hash) VALUES (?, ?, ?)
			ON CONFLICT (chain, block_number) DO UPDATE SET block_hash = excluded.block_hash`, a.network, n, hash.String()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM chain_blocks WHERE chain = ? AND block_number < ?`, a.network, n-a.cfg.ReorgWindow); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE chain_cursors SET block_number = ?, block_hash = ?, updated_at = ? WHERE chain = ?`,
			n, hash.String(), now, a.network)
		return err
	})
}

// matchAddresses returns the deposit addresses among addrs.
func (a *Adapter) matchAddresses(ctx context.Context, addrs []string) (map[string]chain.DepositAddress, error) {
	out := map[string]chain.DepositAddress{}
	for len(addrs) > 0 {
		chunk := addrs[:min(len(addrs), 400)]
		addrs = addrs[len(chunk):]
		args := []any{a.network}
		for _, s := range chunk {
			args = append(args, s)
		}
		rows, err := a.db.Query(ctx, `SELECT id, ref, hd_index, address FROM chain_deposit_addresses WHERE chain = ? AND address IN (?`+
			strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var d chain.DepositAddress
			var idx int64
			if err := rows.Scan(&d.ID, &d.Ref, &idx, &d.Address); err != nil {
				rows.Close()
				return nil, err
			}
			d.Chain, d.Index = a.network, uint32(idx)
			out[d.Address] = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sender is the address that signed the first input, when the input reveals it (P2WPKH,
// P2SH-P2WPKH, P2PKH); "" otherwise (a refund then needs an address).
func sender(tx *wire.MsgTx, params *chaincfg.Params) string {
	if len(tx.TxIn) == 0 || blockchainIsCoinbase(tx) {
		return ""
	}
	in := tx.TxIn[0]
	w := in.Witness
	switch {
	case len(w) == 2 && len(w[1]) == 33 && len(in.SignatureScript) == 0:
		if ad, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(w[1]), params); err == nil {
			return ad.EncodeAddress()
		}
	case len(w) == 2 && len(in.SignatureScript) == 23 && in.SignatureScript[0] == 22:
		if ad, err := btcutil.NewAddressScriptHash(in.SignatureScript[1:], params); err == nil {
			return ad.EncodeAddress()
		}
	case len(w) == 0 && len(in.SignatureScript) > 0:
		pushes, err := txscript.PushedData(in.SignatureScript)
		if err == nil && len(pushes) == 2 && (len(pushes[1]) == 33 || len(pushes[1]) == 65) {
			if ad, err := btcutil.NewAddressPubKeyHash(btcutil.Hash160(pushes[1]), params); err == nil {
				return ad.EncodeAddress()
			}
		}
	}
	return ""
}

func blockchainIsCoinbase(tx *wire.MsgTx) bool {
	return len(tx.TxIn) == 1 && tx.TxIn[0].PreviousOutPoint.Index == wire.MaxPrevOutIndex &&
		tx.TxIn[0].PreviousOutPoint.Hash == chainhash.Hash{}
}

func (a *Adapter) upsertDeposit(ctx context.Context, tx *store.Tx, da chain.DepositAddress, txid string, vout int, value int64,
	from string, block int64, blockHash string, head int64, now int64) error {
	existing, err := a.queryDeposits(ctx, tx, `WHERE chain = ? AND tx_hash = ? AND log_index = ?`, a.network, txid, vout)
	if err != nil {
		return err
	}
	n := confs(head, block)
	if len(existing) == 0 {
		d := chain.Deposit{Chain: a.network, Ref: da.Ref, Address: da.Address, Asset: Symbol, From: from,
			Amount: big.NewInt(value), TxHash: txid, LogIndex: int64(vout), BlockNumber: uint64(block), BlockHash: blockHash,
			Confirmations: n, Status: chain.DepositPending}
		if err := tx.QueryRow(ctx, `INSERT INTO chain_deposits (chain, address_id, ref, address, asset, token, from_address, amount, tx_hash,
			log_index, block_number, block_hash, confirmations, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id`,
			a.network, da.ID, da.Ref, da.Address, Symbol, from, d.Amount.String(), txid, int64(vout),
			block, blockHash, int64(n), now, now).Scan(&d.ID); err != nil {
			return err
		}
		if a.cfg.OnDeposit != nil {
			return a.cfg.OnDeposit(ctx, tx, d)
		}
		return nil
	}
	d := existing[0]
	if d.Status != chain.DepositPending && d.Status != chain.DepositReorged {
		return nil // credited or dropped: history
	}
	if d.Status == chain.DepositPending && d.BlockHash == blockHash {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE chain_deposits SET block_number = ?, block_hash = ?, confirmations = ?, status = 'pending', updated_at = ? WHERE id = ?`,
		block, blockHash, int64(n), now, d.ID); err != nil {
		return err
	}
	d.BlockNumber, d.BlockHash, d.Confirmations, d.Status = uint64(block), blockHash, n, chain.DepositPending
	if a.cfg.OnDeposit != nil {
		return a.cfg.OnDeposit(ctx, tx, d)
	}
	return nil
}

// confirmDeposits updates confirmations of pending deposits and credits those that reached the
// configured count while their block is still on the best chain.
func (a *Adapter) confirmDeposits(ctx context.Context, head int64) error {
	pending, err := a.queryDeposits(ctx, a.db, `WHERE chain = ? AND status = 'pending' ORDER BY block_number, id`, a.network)
	if err != nil {
		return err
	}
	for i := range pending {
		d := &pending[i]
		n := confs(head, int64(d.BlockNumber))
		if n < uint64(a.cfg.Confirmations) {
			if n != d.Confirmations {
				if _, err := a.db.Exec(ctx, `UPDATE chain_deposits SET confirmations = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
					int64(n), a.micros(), d.ID); err != nil {
					return err
				}
			}
			continue
		}
		ok, err := a.canonical(ctx, int64(d.BlockNumber), d.BlockHash)
		if err != nil {
			return err
		}
		if !ok {
			continue // the next pass's cursor check rewinds past it
		}
		err = a.db.Tx(ctx, func(tx *store.Tx) error {
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM chain_deposits WHERE id = ?`+tx.ForUpdate(), d.ID).Scan(&status); err != nil {
				return err
			}
			if status != string(chain.DepositPending) {
				return nil
			}
			d.Confirmations = n
			return a.setDepositStatus(ctx, tx, d, chain.DepositCredited)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// DepositAddressAt is the deposit address with index of the BIP-84 account key xpub on params'
// network, as the adapter derives it (key generation and checks).
func DepositAddressAt(xpub string, params *chaincfg.Params, index uint32) (string, error) {
	d, err := newDeriver(xpub, params)
	if err != nil {
		return "", err
	}
	return d.address(index)
}
