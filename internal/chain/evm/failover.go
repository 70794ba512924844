package evm

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"sync"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

// Failover is a Backend over several JSON-RPC endpoints of one chain. Calls go to the current
// endpoint; when it cannot be reached (a transport error, not an answer of the node such as a
// JSON-RPC error or "not found") the call is retried on the next one, which becomes current.
// Every endpoint must serve the same chain: DialFailover checks their chain ids agree.
type Failover struct {
	urls    []string
	clients []*ethclient.Client
	mu      sync.Mutex
	current int
}

var _ Backend = (*Failover)(nil)

// DialFailover connects to every URL (the connection is lazy for http: an endpoint that is down
// now is still used later) and checks that those answering report the same chain id.
func DialFailover(ctx context.Context, urls []string) (*Failover, error) {
	if len(urls) == 0 {
		return nil, errors.New("evm: no RPC URL")
	}
	f := &Failover{urls: urls}
	for _, u := range urls {
		c, err := Dial(ctx, u)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.clients = append(f.clients, c)
	}
	var first *big.Int
	for i, c := range f.clients {
		id, err := c.ChainID(ctx)
		if err != nil {
			continue // down now; failover may reach it later
		}
		if first == nil {
			first = id
		} else if id.Cmp(first) != 0 {
			f.Close()
			return nil, fmt.Errorf("evm: %s reports chain id %s, %s reports %s", RedactURL(urls[0]), first, RedactURL(urls[i]), id)
		}
	}
	return f, nil
}

// Close closes every connection.
func (f *Failover) Close() {
	for _, c := range f.clients {
		c.Close()
	}
}

// unreachable reports whether err means the endpoint did not answer (so another may).
func unreachable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil || errors.Is(err, ethereum.NotFound) {
		return false
	}
	var rpcErr rpc.Error
	var httpErr rpc.HTTPError
	if errors.As(err, &rpcErr) {
		return false // the node answered with a JSON-RPC error
	}
	if errors.As(err, &httpErr) {
		return httpErr.StatusCode >= 500 || httpErr.StatusCode == 429
	}
	return true
}

func do[T any](ctx context.Context, f *Failover, call func(*ethclient.Client) (T, error)) (T, error) {
	f.mu.Lock()
	start := f.current
	f.mu.Unlock()
	var (
		v   T
		err error
	)
	for i := range f.clients {
		n := (start + i) % len(f.clients)
		v, err = call(f.clients[n])
		if !unreachable(ctx, err) {
			if i > 0 {
				f.mu.Lock()
				f.current = n
				f.mu.Unlock()
			}
			return v, err
		}
	}
	return v, err
}

func (f *Failover) ChainID(ctx context.Context) (*big.Int, error) {
	return do(ctx, f, func(c *ethclient.Client) (*big.Int, error) { return c.ChainID(ctx) })
}

func (f *Failover) BlockNumber(ctx context.Context) (uint64, error) {
	return do(ctx, f, func(c *ethclient.Client) (uint64, error) { return c.BlockNumber(ctx) })
}

func (f *Failover) HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error) {
	return do(ctx, f, func(c *ethclient.Client) (*types.Header, error) { return c.HeaderByNumber(ctx, number) })
}

func (f *Failover) BlockByNumber(ctx context.Context, number *big.Int) (*types.Block, error) {
	return do(ctx, f, func(c *ethclient.Client) (*types.Block, error) { return c.BlockByNumber(ctx, number) })
}

func (f *Failover) BalanceAt(ctx context.Context, account common.Address, blockNumber *big.Int) (*big.Int, error) {
	return do(ctx, f, func(c *ethclient.Client) (*big.Int, error) { return c.BalanceAt(ctx, account, blockNumber) })
}

func (f *Failover) PendingNonceAt(ctx context.Context, account common.Address) (uint64, error) {
	return do(ctx, f, func(c *ethclient.Client) (uint64, error) { return c.PendingNonceAt(ctx, account) })
}

func (f *Failover) CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error) {
	return do(ctx, f, func(c *ethclient.Client) ([]byte, error) { return c.CallContract(ctx, call, blockNumber) })
}

func (f *Failover) EstimateGas(ctx context.Context, call ethereum.CallMsg) (uint64, error) {
	return do(ctx, f, func(c *ethclient.Client) (uint64, error) { return c.EstimateGas(ctx, call) })
}

func (f *Failover) SuggestGasTipCap(ctx context.Context) (*big.Int, error) {
	return do(ctx, f, func(c *ethclient.Client) (*big.Int, error) { return c.SuggestGasTipCap(ctx) })
}

// SendTransaction may reach several endpoints with the same signed bytes; that is safe (same
// hash, same nonce), and the payout pass finds the transaction by hash either way.
func (f *Failover) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	_, err := do(ctx, f, func(c *ethclient.Client) (struct{}, error) { return struct{}{}, c.SendTransaction(ctx, tx) })
	return err
}

func (f *Failover) TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error) {
	return do(ctx, f, func(c *ethclient.Client) (*types.Receipt, error) { return c.TransactionReceipt(ctx, txHash) })
}

func (f *Failover) FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error) {
	return do(ctx, f, func(c *ethclient.Client) ([]types.Log, error) { return c.FilterLogs(ctx, q) })
}

// RedactURL hides what may carry a provider's API key (path, query, user info) in a node URL
// shown in logs and `config check`.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		out += "/…"
	}
	return out
}
