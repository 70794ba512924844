package chainset

import (
	"context"
	"database/sql"
	"errors"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/chain"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Wallet is the hot wallet of a running chain with what it holds on chain now.
type Wallet struct {
	Chain    string // chain name ("polygon", "bitcoin")
	Sandbox  bool
	Address  string
	Balances []chain.Balance
	Err      string // the balance could not be read (node down, ...)
}

type balancer interface {
	Balances(ctx context.Context) ([]chain.Balance, error)
}

// Wallets reads the hot wallet balances of the live chains and of the sandbox chains started so
// far (a sandbox chain is not started just to be looked at), in chain-name order.
func (s *Set) Wallets(ctx context.Context) []Wallet {
	type entry struct {
		name    string
		sandbox bool
		address string
		b       balancer
	}
	var list []entry
	s.mu.Lock()
	for name, a := range s.live {
		list = append(list, entry{name, false, a.HotWallet().Hex(), a})
	}
	for name, sc := range s.sim {
		list = append(list, entry{name, true, sc.adapter.HotWallet().Hex(), sc.adapter})
	}
	if s.btcLive != nil {
		list = append(list, entry{Bitcoin, false, s.btcLive.HotWallet(), s.btcLive})
	}
	if s.btcSim != nil {
		list = append(list, entry{Bitcoin, true, s.btcSim.adapter.HotWallet(), s.btcSim.adapter})
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool {
		if list[i].sandbox != list[j].sandbox {
			return !list[i].sandbox
		}
		return list[i].name < list[j].name
	})
	out := make([]Wallet, len(list))
	for i, e := range list {
		w := Wallet{Chain: e.name, Sandbox: e.sandbox, Address: e.address}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		bs, err := e.b.Balances(cctx)
		cancel()
		w.Balances = bs
		if err != nil {
			w.Err = err.Error()
		}
		out[i] = w
	}
	return out
}

// OpenPayout is a chain payout not yet final: queued, waiting (Reason says why), signed or
// broadcast and waiting for confirmations.
type OpenPayout struct {
	ID            int64
	Chain         string
	Sandbox       bool
	Key           string // whose payout: "onramp:<payment id>", "offramp-refund:<deposit id>", ...
	Asset         string
	To            string
	Amount        *big.Int
	Status        string
	Reason        string
	LastError     string
	TxHash        string
	Confirmations int64
	Attempts      int
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const payoutColumns = `id, chain, idempotency_key, asset, to_address, amount, status, reason, last_error, tx_hash,
	confirmations, attempts, created_at, updated_at`

func scanPayout(row store.Scanner) (OpenPayout, error) {
	var p OpenPayout
	var amount string
	var hash *string
	var created, updated int64
	if err := row.Scan(&p.ID, &p.Chain, &p.Key, &p.Asset, &p.To, &amount, &p.Status, &p.Reason, &p.LastError, &hash,
		&p.Confirmations, &p.Attempts, &created, &updated); err != nil {
		return OpenPayout{}, err
	}
	p.Chain, p.Sandbox = strings.CutPrefix(p.Chain, "sandbox:")
	p.Amount, _ = new(big.Int).SetString(amount, 10)
	if hash != nil {
		p.TxHash = *hash
	}
	p.CreatedAt, p.UpdatedAt = store.Time(created), store.Time(updated)
	return p, nil
}

// OpenPayouts lists the chain payouts that are not final, oldest first (at most limit).
func OpenPayouts(ctx context.Context, db *store.DB, limit int) ([]OpenPayout, error) {
	rows, err := db.Query(ctx, "SELECT "+payoutColumns+` FROM chain_payouts
		WHERE status IN ('queued', 'waiting', 'signed', 'broadcast') ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OpenPayout
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PayoutByKey reads a chain's payout by its idempotency key ("onramp:<id>"); found is false
// when there is none.
func PayoutByKey(ctx context.Context, db *store.DB, sandbox bool, chainName, key string) (p OpenPayout, found bool, err error) {
	network := chainName
	if sandbox {
		network = "sandbox:" + chainName
	}
	p, err = scanPayout(db.QueryRow(ctx, "SELECT "+payoutColumns+" FROM chain_payouts WHERE chain = ? AND idempotency_key = ?", network, key))
	if errors.Is(err, sql.ErrNoRows) {
		return OpenPayout{}, false, nil
	}
	return p, err == nil, err
}
