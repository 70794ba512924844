package evm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/chain/contracts"
	"github.com/pocketramp/pocketramp/internal/store"
)

// payoutRow is a payout with the columns only the adapter needs.
type payoutRow struct {
	chain.Payout
	raw      []byte
	gasLimit uint64
	maxFee   *big.Int
}

const payoutCols = `id, chain, idempotency_key, asset, token, from_address, to_address, amount, status, reason,
	last_error, nonce, tx_hash, raw_tx, gas_limit, max_fee, block_number, confirmations, attempts, created_at, updated_at`

type queryer interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
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
		var nonce, gasLimit, block sql.NullInt64
		var hash, maxFee sql.NullString
		var created, updated int64
		if err := rows.Scan(&p.ID, &p.Chain, &p.Key, &p.Asset, &p.Token, &p.From, &p.To, &amount, &p.Status, &p.Reason,
			&p.LastError, &nonce, &hash, &p.raw, &gasLimit, &maxFee, &block, &p.Confirmations, &p.Attempts, &created, &updated); err != nil {
			return nil, err
		}
		var ok bool
		if p.Amount, ok = new(big.Int).SetString(amount, 10); !ok {
			return nil, fmt.Errorf("evm: payout %d: bad amount %q", p.ID, amount)
		}
		if nonce.Valid {
			n := uint64(nonce.Int64)
			p.Nonce = &n
		}
		p.TxHash = hash.String
		p.gasLimit = uint64(gasLimit.Int64)
		if maxFee.Valid {
			p.maxFee, _ = new(big.Int).SetString(maxFee.String, 10)
		}
		p.BlockNumber = uint64(block.Int64)
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
	ps, err := a.SubmitPayoutsTx(ctx, tx, []chain.PayoutRequest{req})
	if err != nil {
		return chain.Payout{}, err
	}
	return ps[0], nil
}

// checkedPayout is a payout request's asset, token contract and recipient, validated.
type checkedPayout struct {
	asset, token, to string
}

// SubmitPayoutsTx is SubmitPayoutTx for many requests (chain.BatchPayouter): one insert per few
// thousand payouts, and one lookup of the keys that were recorded before.
func (a *Adapter) SubmitPayoutsTx(ctx context.Context, tx *store.Tx, reqs []chain.PayoutRequest) ([]chain.Payout, error) {
	if a.key == nil {
		return nil, fmt.Errorf("evm: %s: no hot wallet configured", a.network)
	}
	cs := make([]checkedPayout, len(reqs))
	for i, req := range reqs {
		if req.Key == "" {
			return nil, errors.New("evm: payout key required")
		}
		if req.Amount == nil || req.Amount.Sign() <= 0 {
			return nil, errors.New("evm: payout amount must be positive")
		}
		to, err := a.ValidateAddress(req.To)
		if err != nil {
			return nil, err
		}
		tok, err := a.asset(req.Asset)
		if err != nil {
			return nil, err
		}
		cs[i] = checkedPayout{asset: strings.ToUpper(a.cfg.NativeSymbol), to: to}
		if tok != nil {
			cs[i].asset, cs[i].token = tok.Symbol, tok.Address.Hex()
		}
	}
	// The new keys are inserted first and the keys the table already has (a retried request:
	// rare) are read afterwards. Reading every key first made PostgreSQL scan all payouts of the
	// chain per batch inside a large import, whose rows the planner's statistics do not show yet.
	out := make([]chain.Payout, len(reqs))
	var fresh []int           // indexes of requests to insert
	first := map[string]int{} // a key's first request
	repeats := map[int]int{}  // a repeated key's request → its first
	for i, req := range reqs {
		if j, again := first[req.Key]; again {
			if cs[j].asset != cs[i].asset || cs[j].to != cs[i].to || reqs[j].Amount.Cmp(req.Amount) != 0 {
				return nil, fmt.Errorf("%w: payout %q", chain.ErrConflict, req.Key)
			}
			repeats[i] = j
			continue
		}
		first[req.Key] = i
		fresh = append(fresh, i)
	}
	now := a.micros()
	var inserted, known []int // requests whose payout is new, and those whose key was recorded before
	queued := func(i int, id int64) {
		inserted = append(inserted, i)
		out[i] = chain.Payout{ID: id, Chain: a.network, Key: reqs[i].Key, Asset: cs[i].asset, Token: cs[i].token,
			From: a.from.Hex(), To: cs[i].to, Amount: new(big.Int).Set(reqs[i].Amount), Status: chain.PayoutQueued,
			CreatedAt: fromMicros(now), UpdatedAt: fromMicros(now)}
	}
	insert := func() error {
		return store.Chunks(len(fresh), store.RowsPerStatement(9), func(from, to int) error {
			args := make([]any, 0, 9*(to-from))
			for _, i := range fresh[from:to] {
				args = append(args, a.network, reqs[i].Key, cs[i].asset, cs[i].token, a.from.Hex(), cs[i].to, reqs[i].Amount.String(), now, now)
			}
			vals := strings.ReplaceAll(store.Placeholders(to-from, 9), "?, ?, ?, ?, ?, ?, ?, ?, ?", "?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?")
			rows, err := tx.Query(ctx, `INSERT INTO chain_payouts (chain, idempotency_key, asset, token, from_address, to_address, amount,
			status, created_at, updated_at) VALUES `+vals+` ON CONFLICT (chain, idempotency_key) DO NOTHING RETURNING id, idempotency_key`, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			ids := map[string]int64{}
			for rows.Next() {
				var id int64
				var key string
				if err := rows.Scan(&id, &key); err != nil {
					return err
				}
				ids[key] = id
			}
			if err := rows.Err(); err != nil {
				return err
			}
			for _, i := range fresh[from:to] {
				id, ok := ids[reqs[i].Key]
				if !ok {
					known = append(known, i)
					continue
				}
				queued(i, id)
			}
			return nil
		})
	}
	var err error
	if tx.CanCopy() && len(fresh) >= store.CopyMinRows {
		err = a.copyPayouts(ctx, tx, reqs, cs, fresh, now, queued, insert)
	} else {
		err = insert()
	}
	if err != nil {
		return nil, err
	}
	existing := map[string]chain.Payout{}
	err = store.Chunks(len(known), store.RowsPerStatement(1)-1, func(from, to int) error {
		keys := []any{a.network}
		for _, i := range known[from:to] {
			keys = append(keys, reqs[i].Key)
		}
		rows, err := a.queryPayouts(ctx, tx, `WHERE chain = ? AND idempotency_key IN (`+store.In(to-from)+`)`, keys...)
		for _, r := range rows {
			existing[r.Key] = r.Payout
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, i := range known {
		p, ok := existing[reqs[i].Key]
		if !ok {
			return nil, fmt.Errorf("evm: payout %q neither inserted nor found", reqs[i].Key)
		}
		if p.Asset != cs[i].asset || p.To != cs[i].to || p.Amount.Cmp(reqs[i].Amount) != 0 {
			return nil, fmt.Errorf("%w: payout %q", chain.ErrConflict, reqs[i].Key)
		}
		out[i] = p
	}
	for i, j := range repeats {
		out[i] = out[j]
	}
	// One counter update for the batch: a closure per payout would keep every payout of a
	// large import (a statement of 100,000 lines) in memory until the commit.
	if n := len(inserted); n > 0 {
		tx.AfterCommit(func() { payoutsTotal.WithLabelValues(a.network, string(chain.PayoutQueued)).Add(float64(n)) })
	}
	for _, i := range inserted {
		if a.onPayout != nil {
			if err := a.onPayout(ctx, tx, out[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// copyPayouts records the fresh requests' payouts by COPY (PostgreSQL), with ids taken from
// the sequence first, and calls queued for each. A key recorded before (a retried request)
// undoes the copy and takes insert, which skips and reads back such keys.
func (a *Adapter) copyPayouts(ctx context.Context, tx *store.Tx, reqs []chain.PayoutRequest, cs []checkedPayout, fresh []int,
	now int64, queued func(i int, id int64), insert func() error) error {
	ids, err := tx.NextIDs(ctx, "chain_payouts", len(fresh))
	if err != nil {
		return err
	}
	rows := make([][]any, len(fresh))
	for k, i := range fresh {
		rows[k] = []any{ids[k], a.network, reqs[i].Key, cs[i].asset, cs[i].token, a.from.Hex(), cs[i].to, store.Numeric(reqs[i].Amount), string(chain.PayoutQueued), now, now}
	}
	copied, err := tx.CopyOrInsert(ctx, "chain_payouts", []string{"id", "chain", "idempotency_key", "asset", "token", "from_address", "to_address",
		"amount", "status", "created_at", "updated_at"}, rows, insert)
	if err != nil || !copied {
		return err
	}
	for k, i := range fresh {
		queued(i, ids[k])
	}
	return nil
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

// errClaimLost aborts a signing transaction whose payout another worker signed first.
var errClaimLost = errors.New("evm: payout claimed by another worker")

// passState is what one payout pass knows about the hot wallet.
type passState struct {
	head      *types.Header
	native    *big.Int            // latest native balance
	tokens    map[string]*big.Int // latest token balances, by symbol
	resNative *big.Int            // reserved by recorded, unmined payouts
	resTokens map[string]*big.Int
	tip       *big.Int
}

// ProcessPayouts runs one pass over the open payouts of the hot wallet: recorded transactions
// are (re-)broadcast or checked for receipts, then unsigned payouts are funded-checked, signed,
// recorded and broadcast in id order.
func (a *Adapter) ProcessPayouts(ctx context.Context) error {
	if a.key == nil {
		return fmt.Errorf("evm: %s: no hot wallet configured", a.network)
	}
	a.payoutMu.Lock()
	defer a.payoutMu.Unlock()
	defer a.updateWaitingGauge(ctx)

	head, err := a.be.HeaderByNumber(ctx, nil)
	if err != nil {
		return fmt.Errorf("evm: %s: head: %w", a.network, err)
	}
	open, err := a.queryPayouts(ctx, a.db, `WHERE chain = ? AND from_address = ? AND status IN ('queued', 'waiting', 'signed', 'broadcast')
		ORDER BY CASE WHEN nonce IS NULL THEN 1 ELSE 0 END, nonce, id`, a.network, a.from.Hex())
	if err != nil {
		return err
	}
	st := &passState{head: head, resNative: new(big.Int), resTokens: map[string]*big.Int{}, tokens: map[string]*big.Int{}}
	var errs []error
	var unsigned []payoutRow
	for i := range open {
		p := &open[i]
		if p.raw == nil {
			unsigned = append(unsigned, *p)
			continue
		}
		if p.BlockNumber == 0 {
			st.reserve(p)
		}
		var err error
		if p.Status == chain.PayoutBroadcast {
			err = a.checkReceipt(ctx, p, head.Number.Uint64())
		} else {
			err = a.broadcast(ctx, p)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("payout %d: %w", p.ID, err))
		}
	}
	if len(unsigned) == 0 {
		return errors.Join(errs...)
	}
	if st.native, err = a.be.BalanceAt(ctx, a.from, nil); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if st.tip, err = a.tipCap(ctx); err != nil {
		return errors.Join(append(errs, err)...)
	}
	for i := range unsigned {
		if err := a.signAndSend(ctx, st, &unsigned[i]); err != nil {
			if errors.Is(err, errCrash) {
				return err
			}
			errs = append(errs, fmt.Errorf("payout %d: %w", unsigned[i].ID, err))
		}
	}
	return errors.Join(errs...)
}

// errCrash is returned by the afterSign test hook to simulate a process dying.
var errCrash = errors.New("evm: simulated crash")

func (st *passState) reserve(p *payoutRow) {
	if p.maxFee != nil {
		st.resNative.Add(st.resNative, new(big.Int).Mul(p.maxFee, new(big.Int).SetUint64(p.gasLimit)))
	}
	if p.Token == "" {
		st.resNative.Add(st.resNative, p.Amount)
		return
	}
	r := st.resTokens[p.Asset]
	if r == nil {
		r = new(big.Int)
		st.resTokens[p.Asset] = r
	}
	r.Add(r, p.Amount)
}

func (a *Adapter) tipCap(ctx context.Context) (*big.Int, error) {
	tip, err := a.be.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, fmt.Errorf("evm: %s: tip: %w", a.network, err)
	}
	g := a.cfg.Gas
	if g.MinTipPerGas != nil && tip.Cmp(g.MinTipPerGas) < 0 {
		tip = new(big.Int).Set(g.MinTipPerGas)
	}
	if g.MaxTipPerGas != nil && tip.Cmp(g.MaxTipPerGas) > 0 {
		tip = new(big.Int).Set(g.MaxTipPerGas)
	}
	return tip, nil
}

func (a *Adapter) tokenBalance(ctx context.Context, st *passState, tok *Token) (*big.Int, error) {
	if b, ok := st.tokens[tok.Symbol]; ok {
		return b, nil
	}
	out, err := a.be.CallContract(ctx, ethereum.CallMsg{To: &tok.Address, Data: contracts.PackBalanceOf(a.from)}, nil)
	if err != nil {
		return nil, fmt.Errorf("balanceOf: %w", err)
	}
	b, err := contracts.UnpackUint256(out)
	if err != nil {
		return nil, err
	}
	st.tokens[tok.Symbol] = b
	return b, nil
}

func available(bal, reserved *big.Int) *big.Int {
	if reserved == nil {
		return bal
	}
	return new(big.Int).Sub(bal, reserved)
}

// signAndSend prices, funds-checks, signs, records and broadcasts one unsigned payout.
func (a *Adapter) signAndSend(ctx context.Context, st *passState, p *payoutRow) error {
	tok, err := a.asset(p.Asset)
	if err != nil {
		return err
	}
	to := common.HexToAddress(p.To)
	callTo, value, data := to, new(big.Int), []byte(nil)
	if tok != nil {
		callTo, data = tok.Address, contracts.PackTransfer(to, p.Amount)
		bal, err := a.tokenBalance(ctx, st, tok)
		if err != nil {
			return err
		}
		if avail := available(bal, st.resTokens[tok.Symbol]); avail.Cmp(p.Amount) < 0 {
			return a.hold(ctx, p, chain.ReasonInsufficientFunds,
				fmt.Sprintf("hot wallet %s has %s %s available, payout needs %s", a.from.Hex(), avail, tok.Symbol, p.Amount))
		}
	} else {
		value.Set(p.Amount)
	}

	baseFee := st.head.BaseFee
	if baseFee == nil {
		baseFee = new(big.Int)
	}
	g := a.cfg.Gas
	if g.MaxFeePerGas != nil && new(big.Int).Add(baseFee, st.tip).Cmp(g.MaxFeePerGas) > 0 {
		return a.hold(ctx, p, chain.ReasonFeeCapExceeded,
			fmt.Sprintf("base fee %s + tip %s wei exceeds the policy cap %s", baseFee, st.tip, g.MaxFeePerGas))
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(baseFee, big.NewInt(g.BaseFeeMultiplier)), st.tip)
	if g.MaxFeePerGas != nil && feeCap.Cmp(g.MaxFeePerGas) > 0 {
		feeCap.Set(g.MaxFeePerGas)
	}

	est, err := a.be.EstimateGas(ctx, ethereum.CallMsg{From: a.from, To: &callTo, Value: value, Data: data})
	if err != nil {
		if strings.Contains(err.Error(), "insufficient funds") {
			return a.hold(ctx, p, chain.ReasonInsufficientFunds, "estimate gas: "+err.Error())
		}
		return a.hold(ctx, p, chain.ReasonEstimateFailed, "estimate gas: "+err.Error())
	}
	gasLimit := est + est*g.GasLimitMarginPercent/100
	need := new(big.Int).Mul(feeCap, new(big.Int).SetUint64(gasLimit))
	need.Add(need, value)
	if avail := available(st.native, st.resNative); avail.Cmp(need) < 0 {
		return a.hold(ctx, p, chain.ReasonInsufficientFunds,
			fmt.Sprintf("hot wallet %s has %s wei available, payout needs %s wei (value + gas)", a.from.Hex(), avail, need))
	}
	pending, err := a.be.PendingNonceAt(ctx, a.from)
	if err != nil {
		return err
	}

	err = a.db.Tx(ctx, func(tx *store.Tx) error {
		now := a.micros()
		if _, err := tx.Exec(ctx, `INSERT INTO chain_nonces (chain, address, next_nonce, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (chain, address) DO NOTHING`, a.network, a.from.Hex(), int64(pending), now); err != nil {
			return err
		}
		var next int64
		if err := tx.QueryRow(ctx, `SELECT next_nonce FROM chain_nonces WHERE chain = ? AND address = ?`+tx.ForUpdate(),
			a.network, a.from.Hex()).Scan(&next); err != nil {
			return err
		}
		nonce := max(uint64(next), pending)
		stx, err := types.SignNewTx(a.key, a.signer, &types.DynamicFeeTx{
			ChainID: a.chainID, Nonce: nonce, GasTipCap: st.tip, GasFeeCap: feeCap, Gas: gasLimit,
			To: &callTo, Value: value, Data: data,
		})
		if err != nil {
			return err
		}
		raw, err := stx.MarshalBinary()
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE chain_payouts SET status = 'signed', reason = '', last_error = '', nonce = ?, tx_hash = ?,
			raw_tx = ?, gas_limit = ?, max_fee = ?, max_tip = ?, updated_at = ? WHERE id = ? AND status IN ('queued', 'waiting') AND raw_tx IS NULL`,
			int64(nonce), stx.Hash().Hex(), raw, int64(gasLimit), feeCap.String(), st.tip.String(), now, p.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errClaimLost
		}
		if _, err := tx.Exec(ctx, `UPDATE chain_nonces SET next_nonce = ?, updated_at = ? WHERE chain = ? AND address = ?`,
			int64(nonce+1), now, a.network, a.from.Hex()); err != nil {
			return err
		}
		p.Status, p.Reason, p.LastError, p.TxHash, p.raw = chain.PayoutSigned, "", "", stx.Hash().Hex(), raw
		p.Nonce, p.gasLimit, p.maxFee = &nonce, gasLimit, feeCap
		return a.notifyPayout(ctx, tx, p.Payout)
	})
	if errors.Is(err, errClaimLost) {
		return nil
	}
	if err != nil {
		return err
	}
	st.reserve(p)
	if a.afterSign != nil {
		if err := a.afterSign(p.Payout); err != nil {
			return errors.Join(errCrash, err)
		}
	}
	return a.broadcast(ctx, p)
}

// hold parks a payout as waiting with a reason (a signed one keeps its transaction); the next
// pass retries it.
func (a *Adapter) hold(ctx context.Context, p *payoutRow, reason, detail string) error {
	changed := p.Status != chain.PayoutWaiting || p.Reason != reason
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE chain_payouts SET status = 'waiting', reason = ?, last_error = ?, updated_at = ?
			WHERE id = ? AND status IN ('queued', 'waiting', 'signed')`, reason, detail, a.micros(), p.ID); err != nil {
			return err
		}
		if !changed {
			return nil
		}
		if p.Status != chain.PayoutWaiting {
			a.log.Warn("payout waiting", "payout", p.ID, "reason", reason, "detail", detail)
		}
		p.Status, p.Reason, p.LastError = chain.PayoutWaiting, reason, detail
		return a.notifyPayout(ctx, tx, p.Payout)
	})
}

func (a *Adapter) notifyPayout(ctx context.Context, tx *store.Tx, p chain.Payout) error {
	status := string(p.Status)
	tx.AfterCommit(func() { payoutsTotal.WithLabelValues(a.network, status).Inc() })
	if a.onPayout != nil {
		return a.onPayout(ctx, tx, p)
	}
	return nil
}

// broadcast sends a recorded transaction (again). Errors meaning "the node already has it" count
// as success; a funding shortfall parks the payout as waiting, keeping its signed transaction.
func (a *Adapter) broadcast(ctx context.Context, p *payoutRow) error {
	var stx types.Transaction
	if err := stx.UnmarshalBinary(p.raw); err != nil {
		return fmt.Errorf("decode recorded tx: %w", err)
	}
	if stx.Hash().Hex() != p.TxHash {
		return fmt.Errorf("recorded tx hash %s does not match raw %s", p.TxHash, stx.Hash().Hex())
	}
	sendErr := a.be.SendTransaction(ctx, &stx)
	msg := ""
	if sendErr != nil {
		msg = strings.ToLower(sendErr.Error())
	}
	switch {
	case sendErr == nil, strings.Contains(msg, "already known"), strings.Contains(msg, "already imported"):
		return a.markBroadcast(ctx, p)
	case strings.Contains(msg, "nonce too low"):
		// Our nonce is used: either by this very transaction (mined) or by another one.
		if _, err := a.be.TransactionReceipt(ctx, stx.Hash()); err == nil {
			return a.markBroadcast(ctx, p)
		}
		return a.hold(ctx, p, chain.ReasonNonceConflict, sendErr.Error())
	case strings.Contains(msg, "insufficient funds"):
		return a.hold(ctx, p, chain.ReasonInsufficientFunds, sendErr.Error())
	}
	_, err := a.db.Exec(ctx, `UPDATE chain_payouts SET last_error = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?`,
		"broadcast: "+sendErr.Error(), a.micros(), p.ID)
	return errors.Join(fmt.Errorf("broadcast: %w", sendErr), err)
}

func (a *Adapter) markBroadcast(ctx context.Context, p *payoutRow) error {
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		now := a.micros()
		res, err := tx.Exec(ctx, `UPDATE chain_payouts SET status = 'broadcast', reason = '', last_error = '', attempts = attempts + 1,
			broadcast_at = COALESCE(broadcast_at, ?), updated_at = ? WHERE id = ? AND status IN ('signed', 'waiting')`, now, now, p.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		p.Status, p.Reason, p.LastError = chain.PayoutBroadcast, "", ""
		return a.notifyPayout(ctx, tx, p.Payout)
	})
}

// checkReceipt follows a broadcast payout: records its block and confirmations, finishes it once
// confirmed, and re-broadcasts it if it is not (or no longer, after a reorg) mined.
func (a *Adapter) checkReceipt(ctx context.Context, p *payoutRow, head uint64) error {
	r, err := a.be.TransactionReceipt(ctx, common.HexToHash(p.TxHash))
	if err != nil {
		if !isNotFound(err) {
			return err
		}
		if p.BlockNumber != 0 {
			a.log.Warn("payout transaction left the chain (reorg); re-broadcasting", "payout", p.ID, "tx", p.TxHash)
			if _, err := a.db.Exec(ctx, `UPDATE chain_payouts SET block_number = NULL, block_hash = NULL, confirmations = 0, updated_at = ? WHERE id = ?`,
				a.micros(), p.ID); err != nil {
				return err
			}
		}
		var stx types.Transaction
		if err := stx.UnmarshalBinary(p.raw); err != nil {
			return err
		}
		if err := a.be.SendTransaction(ctx, &stx); err != nil {
			msg := strings.ToLower(err.Error())
			if !strings.Contains(msg, "already known") && !strings.Contains(msg, "nonce too low") {
				_, _ = a.db.Exec(ctx, `UPDATE chain_payouts SET last_error = ?, updated_at = ? WHERE id = ?`, "re-broadcast: "+err.Error(), a.micros(), p.ID)
			}
		}
		return nil
	}
	block := r.BlockNumber.Uint64()
	n := confs(head, block)
	return a.db.Tx(ctx, func(tx *store.Tx) error {
		now := a.micros()
		if n < a.cfg.Confirmations {
			_, err := tx.Exec(ctx, `UPDATE chain_payouts SET block_number = ?, block_hash = ?, confirmations = ?, updated_at = ? WHERE id = ?`,
				int64(block), r.BlockHash.Hex(), int64(n), now, p.ID)
			return err
		}
		status, reason := chain.PayoutConfirmed, ""
		if r.Status != types.ReceiptStatusSuccessful {
			status, reason = chain.PayoutFailed, chain.ReasonReverted
		}
		res, err := tx.Exec(ctx, `UPDATE chain_payouts SET status = ?, reason = ?, block_number = ?, block_hash = ?, confirmations = ?,
			confirmed_at = ?, updated_at = ? WHERE id = ? AND status = 'broadcast'`,
			string(status), reason, int64(block), r.BlockHash.Hex(), int64(n), now, now, p.ID)
		if err != nil {
			return err
		}
		if c, _ := res.RowsAffected(); c == 0 {
			return nil
		}
		if status == chain.PayoutFailed {
			a.log.Error("payout transaction reverted", "payout", p.ID, "tx", p.TxHash)
		}
		p.Status, p.Reason, p.BlockNumber, p.Confirmations = status, reason, block, n
		return a.notifyPayout(ctx, tx, p.Payout)
	})
}

// updateWaitingGauge sets pocketramp_chain_payouts_waiting for this chain from the database.
func (a *Adapter) updateWaitingGauge(ctx context.Context) {
	counts := map[string]float64{
		chain.ReasonInsufficientFunds: 0, chain.ReasonFeeCapExceeded: 0,
		chain.ReasonEstimateFailed: 0, chain.ReasonNonceConflict: 0,
	}
	rows, err := a.db.Query(ctx, `SELECT reason, COUNT(*) FROM chain_payouts WHERE chain = ? AND status = 'waiting' GROUP BY reason`, a.network)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var reason string
		var n int64
		if rows.Scan(&reason, &n) == nil {
			counts[reason] = float64(n)
		}
	}
	for reason, n := range counts {
		payoutsWaiting.WithLabelValues(a.network, reason).Set(n)
	}
}
