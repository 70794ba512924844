package evm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/contracts"
	"github.com/pocketramp/pocketramp/internal/store"
)

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// DepositAddress returns the deposit address of operation ref on this chain, deriving the next
// child of the configured xpub on first use.
func (a *Adapter) DepositAddress(ctx context.Context, ref string) (chain.DepositAddress, error) {
	if a.deriver == nil {
		return chain.DepositAddress{}, fmt.Errorf("evm: %s: no deposit xpub configured", a.network)
	}
	if ref == "" {
		return chain.DepositAddress{}, errors.New("evm: deposit ref required")
	}
	var out chain.DepositAddress
	var err error
	for attempt := 0; attempt < 3; attempt++ {
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
				a.deriver.ID()); err != nil {
				return err
			}
			for {
				if err := tx.QueryRow(ctx, `UPDATE chain_hd_counters SET next_index = next_index + 1 WHERE key_id = ? RETURNING next_index - 1`,
					a.deriver.ID()).Scan(&idx); err != nil {
					return err
				}
				if idx >= 1<<31 {
					return errors.New("evm: deposit address indexes exhausted for this xpub")
				}
				derived, err := a.deriver.Address(uint32(idx))
				if err != nil {
					continue // BIP-32 invalid child: skip the index
				}
				addr = derived.Hex()
				break
			}
			if err := tx.QueryRow(ctx, `INSERT INTO chain_deposit_addresses (chain, ref, key_id, hd_index, address, created_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, a.network, ref, a.deriver.ID(), idx, addr, a.micros()).Scan(&id); err != nil {
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
			return nil, fmt.Errorf("evm: deposit %d: bad amount %q", d.ID, amount)
		}
		d.BlockNumber, d.Confirmations = uint64(block), uint64(confirmations)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Deposits lists the deposits seen for operation ref on this chain, oldest first.
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
	return a.notifyDeposit(ctx, tx, *d)
}

func (a *Adapter) notifyDeposit(ctx context.Context, tx *store.Tx, d chain.Deposit) error {
	tx.AfterCommit(func() { depositsTotal.WithLabelValues(a.network, string(d.Status)).Inc() })
	if a.onDeposit != nil {
		return a.onDeposit(ctx, tx, d)
	}
	return nil
}

type cursor struct {
	number uint64
	hash   common.Hash
	stored string // block_hash as stored, for compare-and-set
}

func (a *Adapter) loadCursor(ctx context.Context) (cursor, error) {
	var n int64
	var h string
	err := a.db.QueryRow(ctx, `SELECT block_number, block_hash FROM chain_cursors WHERE chain = ?`, a.network).Scan(&n, &h)
	return cursor{uint64(n), common.HexToHash(h), h}, err
}

// errMoved aborts a scan whose blocks changed while it read them; the next pass rewinds.
var errMoved = errors.New("evm: chain reorganised during the scan; will rewind on the next pass")

// errCursorMoved aborts a scan or rewind whose cursor another scanner (another instance, for
// the moment two believe they lead) moved meanwhile: its writes are rolled back and the pass
// goes on from the new cursor.
var errCursorMoved = errors.New("evm: the scan cursor moved under this scan")

// moveCursor moves the cursor from cur to (n, h) only if it is still at cur (compare-and-set),
// so two scanners never overwrite each other's progress.
func (a *Adapter) moveCursor(ctx context.Context, tx *store.Tx, cur cursor, n int64, h common.Hash, now int64) error {
	res, err := tx.Exec(ctx, `UPDATE chain_cursors SET block_number = ?, block_hash = ?, updated_at = ? WHERE chain = ? AND block_number = ? AND block_hash = ?`,
		n, h.Hex(), now, a.network, int64(cur.number), cur.stored)
	if err != nil {
		return err
	}
	if k, err := res.RowsAffected(); err != nil {
		return err
	} else if k != 1 {
		return errCursorMoved
	}
	return nil
}

// ScanDeposits runs one deposit pass: detects a reorg at the cursor (rewinding to the common
// ancestor), reads new blocks up to the head, and updates confirmations, crediting deposits that
// reached the configured count on the canonical chain.
func (a *Adapter) ScanDeposits(ctx context.Context) error {
	a.scanMu.Lock()
	defer a.scanMu.Unlock()
	for range 50 { // bounded catch-up per pass
		head, err := a.be.BlockNumber(ctx)
		if err != nil {
			return fmt.Errorf("evm: %s: head: %w", a.network, err)
		}
		cur, err := a.loadCursor(ctx)
		if err != nil {
			return err
		}
		if cur.number > 0 {
			h, err := a.be.HeaderByNumber(ctx, new(big.Int).SetUint64(cur.number))
			if err != nil && !isNotFound(err) {
				return err
			}
			if h == nil || h.Hash() != cur.hash {
				if err := a.rewind(ctx, cur); err != nil && !errors.Is(err, errCursorMoved) {
					return err
				}
				continue
			}
		}
		if cur.number >= head {
			return a.confirmPending(ctx, head)
		}
		to := min(head, cur.number+a.cfg.ScanBatch)
		if err := a.scanRange(ctx, cur, to, head); err != nil {
			if errors.Is(err, errCursorMoved) {
				continue
			}
			if errors.Is(err, errMoved) {
				a.log.Info("chain moved during scan", "from", cur.number+1, "to", to)
				continue
			}
			return err
		}
	}
	return nil
}

// rewind finds the newest recorded block still canonical, marks deposits above it reorged and
// moves the cursor there.
func (a *Adapter) rewind(ctx context.Context, cur cursor) error {
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
	ancestor, ancestorHash := int64(-1), common.Hash{}
	for _, b := range recorded {
		h, err := a.be.HeaderByNumber(ctx, big.NewInt(b.n))
		if err != nil && !isNotFound(err) {
			return err
		}
		if h != nil && h.Hash().Hex() == b.h {
			ancestor, ancestorHash = b.n, h.Hash()
			break
		}
	}
	if ancestor < 0 {
		// Deeper than the window: restart below the oldest recorded block.
		low := int64(cur.number)
		if len(recorded) > 0 {
			low = recorded[len(recorded)-1].n
		}
		ancestor = max(low-1, 0)
		h, err := a.be.HeaderByNumber(ctx, big.NewInt(ancestor))
		if err != nil {
			return err
		}
		ancestorHash = h.Hash()
		a.log.Error("reorg deeper than the reorg window", "window", a.cfg.ReorgWindow, "restart_at", ancestor)
	}
	a.log.Warn("reorg detected", "cursor", cur.number, "ancestor", ancestor)
	reorgsTotal.WithLabelValues(a.network).Inc()
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
		if _, err := tx.Exec(ctx, `DELETE FROM chain_blocks WHERE chain = ? AND block_number > ?`, a.network, ancestor); err != nil {
			return err
		}
		return a.moveCursor(ctx, tx, cur, ancestor, ancestorHash, a.micros())
	})
}

// candidate is a transfer into some address, before matching against deposit addresses.
type candidate struct {
	asset, token string
	from, to     common.Address
	value        *big.Int
	tx           common.Hash
	logIndex     int64
	block        uint64
	blockHash    common.Hash
}

func (a *Adapter) scanRange(ctx context.Context, cur cursor, to, head uint64) error {
	from := cur.number + 1
	// Block hashes first: the cursor block and the reorg window.
	hashes := map[uint64]common.Hash{}
	var cands []candidate
	winLow := from
	if head > a.cfg.ReorgWindow && head-a.cfg.ReorgWindow+1 > winLow {
		winLow = head - a.cfg.ReorgWindow + 1
	}
	if a.cfg.WatchNative {
		for n := from; n <= to; n++ {
			b, err := a.be.BlockByNumber(ctx, new(big.Int).SetUint64(n))
			if err != nil {
				return fmt.Errorf("block %d: %w", n, err)
			}
			hashes[n] = b.Hash()
			signer := types.LatestSignerForChainID(a.chainID)
			for _, tx := range b.Transactions() {
				if tx.To() == nil || tx.Value().Sign() <= 0 {
					continue
				}
				sender, err := types.Sender(signer, tx)
				if err != nil {
					continue
				}
				cands = append(cands, candidate{asset: strings.ToUpper(a.cfg.NativeSymbol), from: sender, to: *tx.To(),
					value: tx.Value(), tx: tx.Hash(), logIndex: -1, block: n, blockHash: b.Hash()})
			}
		}
	} else {
		for n := winLow; n <= to; n++ {
			h, err := a.be.HeaderByNumber(ctx, new(big.Int).SetUint64(n))
			if err != nil {
				return fmt.Errorf("header %d: %w", n, err)
			}
			hashes[n] = h.Hash()
		}
		if _, ok := hashes[to]; !ok {
			h, err := a.be.HeaderByNumber(ctx, new(big.Int).SetUint64(to))
			if err != nil {
				return fmt.Errorf("header %d: %w", to, err)
			}
			hashes[to] = h.Hash()
		}
	}
	if len(a.byAddr) > 0 {
		addrs := make([]common.Address, 0, len(a.byAddr))
		for ad := range a.byAddr {
			addrs = append(addrs, ad)
		}
		logs, err := a.be.FilterLogs(ctx, ethereum.FilterQuery{
			FromBlock: new(big.Int).SetUint64(from), ToBlock: new(big.Int).SetUint64(to),
			Addresses: addrs, Topics: [][]common.Hash{{contracts.TransferTopic}},
		})
		if err != nil {
			return fmt.Errorf("filter logs %d-%d: %w", from, to, err)
		}
		for i := range logs {
			l := &logs[i]
			if l.Removed {
				continue
			}
			if h, ok := hashes[l.BlockNumber]; ok && h != l.BlockHash {
				return errMoved
			}
			t, err := contracts.ParseTransfer(l)
			if err != nil {
				continue
			}
			tok := a.byAddr[l.Address]
			cands = append(cands, candidate{asset: tok.Symbol, token: tok.Address.Hex(), from: t.From, to: t.To, value: t.Value,
				tx: l.TxHash, logIndex: int64(l.Index), block: l.BlockNumber, blockHash: l.BlockHash})
		}
	}
	// Match against deposit addresses.
	matched, err := a.matchAddresses(ctx, cands)
	if err != nil {
		return err
	}
	var found []candidate
	for _, c := range cands {
		if _, ok := matched[c.to]; !ok || c.value.Sign() <= 0 {
			continue
		}
		if c.logIndex < 0 { // native: only successful transactions moved value
			r, err := a.be.TransactionReceipt(ctx, c.tx)
			if err != nil {
				return fmt.Errorf("receipt %s: %w", c.tx.Hex(), err)
			}
			if r.Status != types.ReceiptStatusSuccessful {
				continue
			}
			if r.BlockHash != c.blockHash {
				return errMoved
			}
		}
		found = append(found, c)
	}
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		now := a.micros()
		for _, c := range found {
			da := matched[c.to]
			if err := a.upsertDeposit(ctx, tx, da, c, head, now); err != nil {
				return err
			}
		}
		for n, h := range hashes {
			if n < winLow {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO chain_blocks (chain, block_number, block_hash) VALUES (?, ?, ?)
				ON CONFLICT (chain, block_number) DO UPDATE SET block_hash = excluded.block_hash`, a.network, int64(n), h.Hex()); err != nil {
				return err
			}
		}
		if head > a.cfg.ReorgWindow {
			if _, err := tx.Exec(ctx, `DELETE FROM chain_blocks WHERE chain = ? AND block_number < ?`, a.network, int64(head-a.cfg.ReorgWindow)); err != nil {
				return err
			}
		}
		if err := a.moveCursor(ctx, tx, cur, int64(to), hashes[to], now); err != nil {
			return err
		}
		scannedBlock.WithLabelValues(a.network).Set(float64(to))
		return nil
	})
}

// matchAddresses returns the deposit addresses (by address) among the candidates' recipients.
func (a *Adapter) matchAddresses(ctx context.Context, cands []candidate) (map[common.Address]chain.DepositAddress, error) {
	out := map[common.Address]chain.DepositAddress{}
	seen := map[common.Address]bool{}
	var list []any
	for _, c := range cands {
		if !seen[c.to] {
			seen[c.to] = true
			list = append(list, c.to.Hex())
		}
	}
	for len(list) > 0 {
		chunk := list[:min(len(list), 400)]
		list = list[len(chunk):]
		args := append([]any{a.network}, chunk...)
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
			out[common.HexToAddress(d.Address)] = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (a *Adapter) upsertDeposit(ctx context.Context, tx *store.Tx, da chain.DepositAddress, c candidate, head uint64, now int64) error {
	existing, err := a.queryDeposits(ctx, tx, `WHERE chain = ? AND tx_hash = ? AND log_index = ?`, a.network, c.tx.Hex(), c.logIndex)
	if err != nil {
		return err
	}
	n := confs(head, c.block)
	if len(existing) == 0 {
		d := chain.Deposit{Chain: a.network, Ref: da.Ref, Address: da.Address, Asset: c.asset, Token: c.token, From: c.from.Hex(),
			Amount: c.value, TxHash: c.tx.Hex(), LogIndex: c.logIndex, BlockNumber: c.block, BlockHash: c.blockHash.Hex(),
			Confirmations: n, Status: chain.DepositPending}
		if err := tx.QueryRow(ctx, `INSERT INTO chain_deposits (chain, address_id, ref, address, asset, token, from_address, amount, tx_hash,
			log_index, block_number, block_hash, confirmations, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id`,
			a.network, da.ID, da.Ref, da.Address, d.Asset, d.Token, d.From, d.Amount.String(), d.TxHash, d.LogIndex,
			int64(d.BlockNumber), d.BlockHash, int64(n), now, now).Scan(&d.ID); err != nil {
			return err
		}
		return a.notifyDeposit(ctx, tx, d)
	}
	d := existing[0]
	if d.Status != chain.DepositPending && d.Status != chain.DepositReorged {
		return nil // credited or dropped: history
	}
	if d.Status == chain.DepositPending && d.BlockHash == c.blockHash.Hex() {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE chain_deposits SET block_number = ?, block_hash = ?, confirmations = ?, status = 'pending', updated_at = ? WHERE id = ?`,
		int64(c.block), c.blockHash.Hex(), int64(n), now, d.ID); err != nil {
		return err
	}
	d.BlockNumber, d.BlockHash, d.Confirmations, d.Status = c.block, c.blockHash.Hex(), n, chain.DepositPending
	return a.notifyDeposit(ctx, tx, d)
}

// confirmPending updates confirmations of pending deposits and credits those that reached the
// configured count while their block is still canonical.
func (a *Adapter) confirmPending(ctx context.Context, head uint64) error {
	pending, err := a.queryDeposits(ctx, a.db, `WHERE chain = ? AND status = 'pending' ORDER BY block_number, id`, a.network)
	if err != nil {
		return err
	}
	for i := range pending {
		d := &pending[i]
		n := confs(head, d.BlockNumber)
		if n < a.cfg.Confirmations {
			if n != d.Confirmations {
				if _, err := a.db.Exec(ctx, `UPDATE chain_deposits SET confirmations = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
					int64(n), a.micros(), d.ID); err != nil {
					return err
				}
			}
			continue
		}
		h, err := a.be.HeaderByNumber(ctx, new(big.Int).SetUint64(d.BlockNumber))
		if err != nil && !isNotFound(err) {
			return err
		}
		canonical := h != nil && h.Hash().Hex() == d.BlockHash
		err = a.db.Tx(ctx, func(tx *store.Tx) error {
			var status string
			if err := tx.QueryRow(ctx, `SELECT status FROM chain_deposits WHERE id = ?`+tx.ForUpdate(), d.ID).Scan(&status); err != nil {
				return err
			}
			if status != string(chain.DepositPending) {
				return nil
			}
			d.Confirmations = n
			if canonical {
				return a.setDepositStatus(ctx, tx, d, chain.DepositCredited)
			}
			// Its block left the chain without the cursor noticing: un-credit and rescan from there.
			d.Confirmations = 0
			if err := a.setDepositStatus(ctx, tx, d, chain.DepositReorged); err != nil {
				return err
			}
			back := int64(d.BlockNumber) - 1
			var bh string
			if err := tx.QueryRow(ctx, `SELECT block_hash FROM chain_blocks WHERE chain = ? AND block_number = ?`, a.network, back).Scan(&bh); err != nil {
				if !errors.Is(err, sql.ErrNoRows) {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM chain_blocks WHERE chain = ? AND block_number > ?`, a.network, back); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE chain_cursors SET block_number = ?, block_hash = ?, updated_at = ? WHERE chain = ? AND block_number > ?`,
				back, bh, a.micros(), a.network, back)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
