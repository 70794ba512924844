package btc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"
)

// Node is the part of a Bitcoin node the adapter uses. RPC (Bitcoin Core or btcd JSON-RPC) is the
// production implementation; btcsim.Chain the in-process regtest chain of sandbox mode and tests.
type Node interface {
	// BlockCount is the height of the best block.
	BlockCount(ctx context.Context) (int64, error)
	// BlockHash is the hash of the best chain's block at height (ErrNotFound above the tip).
	BlockHash(ctx context.Context, height int64) (chainhash.Hash, error)
	// Block returns a block by hash.
	Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error)
	// SendRawTransaction submits a transaction to the node's mempool.
	SendRawTransaction(ctx context.Context, tx *wire.MsgTx) error
	// InMempool reports whether the node's mempool holds txid.
	InMempool(ctx context.Context, txid chainhash.Hash) (bool, error)
	// EstimateFee is the fee rate (satoshis per 1000 virtual bytes) for confirmation within
	// target blocks; ErrNoEstimate when the node has none (regtest, a fresh node).
	EstimateFee(ctx context.Context, target int) (int64, error)
}

// Node errors.
var (
	ErrNotFound   = errors.New("btc: not found")
	ErrNoEstimate = errors.New("btc: node has no fee estimate")
)

// RPCError is an error answered by the node (as opposed to a transport failure).
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// Codes of Bitcoin Core's (and btcd's) RPC errors the adapter reacts to.
const (
	rpcMethodNotFound   = -32601
	rpcInvalidParameter = -8
	rpcNoTxInfo         = -5  // RPC_INVALID_ADDRESS_OR_KEY: no such transaction / block
	rpcVerifyRejected   = -26 // RPC_VERIFY_REJECTED
	rpcVerifyInChain    = -27 // RPC_VERIFY_ALREADY_IN_CHAIN (btcd uses -27 as well)
	rpcVerifyError      = -25 // RPC_VERIFY_ERROR: missing or spent inputs
)

// RPC is a JSON-RPC client of Bitcoin Core or btcd with failover: calls go to the first URL that
// answers; a transport failure or a non-JSON answer moves on to the next one. An answer from
// the node (a result or an RPC error) is final.
type RPC struct {
	urls   []*url.URL
	client *http.Client
	mu     sync.Mutex
	cur    int // index of the URL that answered last
	id     int64
}

// NewRPC returns a client for one or more node URLs (http://user:pass@host:port).
func NewRPC(urls []string, client *http.Client) (*RPC, error) {
	if len(urls) == 0 {
		return nil, errors.New("btc: at least one node URL required")
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	r := &RPC{client: client}
	for _, s := range urls {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("btc: node URL %q: want http(s)://user:pass@host:port", redact(s))
		}
		r.urls = append(r.urls, u)
	}
	return r, nil
}

// redact hides the password of a node URL in messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// Call invokes method with params and decodes the result into out (nil: ignore it).
func (r *RPC) Call(ctx context.Context, method string, params []any, out any) error {
	if params == nil {
		params = []any{}
	}
	r.mu.Lock()
	r.id++
	id, start := r.id, r.cur
	r.mu.Unlock()
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	var errs []error
	for i := range r.urls {
		n := (start + i) % len(r.urls)
		res, err := r.post(ctx, r.urls[n], body)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s: %w", r.urls[n].Redacted(), err))
			continue
		}
		r.mu.Lock()
		r.cur = n
		r.mu.Unlock()
		if res.Error != nil {
			return res.Error
		}
		if out == nil {
			return nil
		}
		dec := json.NewDecoder(bytes.NewReader(res.Result))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return fmt.Errorf("btc: %s: decode result: %w", method, err)
		}
		return nil
	}
	return fmt.Errorf("btc: %s: no node answered: %w", method, errors.Join(errs...))
}

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *RPCError       `json:"error"`
}

func (r *RPC) post(ctx context.Context, u *url.URL, body []byte) (*rpcResponse, error) {
	plain := *u
	plain.User = nil
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, plain.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if u.User != nil {
		pass, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), pass)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	// Bitcoin Core answers RPC errors with HTTP 500 or 404 and a JSON body; anything without
	// one (401, a proxy's error page) is a failure of this URL.
	var res rpcResponse
	if err := json.Unmarshal(data, &res); err != nil || (res.Result == nil && res.Error == nil) {
		return nil, fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if res.Error != nil && res.Error.Code == 0 && res.Error.Message == "" {
		res.Error = nil
	}
	return &res, nil
}

func rpcCode(err error) int {
	var e *RPCError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// BlockCount implements Node.
func (r *RPC) BlockCount(ctx context.Context) (int64, error) {
	var n int64
	err := r.Call(ctx, "getblockcount", nil, &n)
	return n, err
}

// BlockHash implements Node.
func (r *RPC) BlockHash(ctx context.Context, height int64) (chainhash.Hash, error) {
	var s string
	if err := r.Call(ctx, "getblockhash", []any{height}, &s); err != nil {
		if c := rpcCode(err); c == rpcInvalidParameter || c == -1 {
			return chainhash.Hash{}, fmt.Errorf("%w: block %d: %v", ErrNotFound, height, err)
		}
		return chainhash.Hash{}, err
	}
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		return chainhash.Hash{}, err
	}
	return *h, nil
}

// Block implements Node: getblock with verbosity 0 returns the serialized block, so amounts are
// read as satoshis from the wire format and never pass through a float.
func (r *RPC) Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	var s string
	if err := r.Call(ctx, "getblock", []any{hash.String(), 0}, &s); err != nil {
		if rpcCode(err) == rpcNoTxInfo {
			return nil, fmt.Errorf("%w: block %s", ErrNotFound, hash)
		}
		return nil, err
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("btc: block %s: %w", hash, err)
	}
	var b wire.MsgBlock
	if err := b.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("btc: block %s: %w", hash, err)
	}
	return &b, nil
}

// SendRawTransaction implements Node.
func (r *RPC) SendRawTransaction(ctx context.Context, tx *wire.MsgTx) error {
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return err
	}
	return r.Call(ctx, "sendrawtransaction", []any{hex.EncodeToString(buf.Bytes())}, nil)
}

// InMempool implements Node with getrawmempool (served by Bitcoin Core and btcd alike).
func (r *RPC) InMempool(ctx context.Context, txid chainhash.Hash) (bool, error) {
	var ids []string
	if err := r.Call(ctx, "getrawmempool", []any{false}, &ids); err != nil {
		return false, err
	}
	want := txid.String()
	for _, id := range ids {
		if id == want {
			return true, nil
		}
	}
	return false, nil
}

// EstimateFee implements Node: estimatesmartfee (Bitcoin Core), else estimatefee (btcd). Both
// answer BTC per 1000 virtual bytes as a JSON number, converted exactly.
func (r *RPC) EstimateFee(ctx context.Context, target int) (int64, error) {
	var smart struct {
		FeeRate json.Number `json:"feerate"`
		Errors  []string    `json:"errors"`
	}
	err := r.Call(ctx, "estimatesmartfee", []any{target}, &smart)
	if err == nil {
		if smart.FeeRate == "" {
			return 0, fmt.Errorf("%w: %s", ErrNoEstimate, strings.Join(smart.Errors, "; "))
		}
		return feeRateFromBTC(smart.FeeRate)
	}
	if rpcCode(err) != rpcMethodNotFound {
		return 0, err
	}
	var n json.Number
	if err := r.Call(ctx, "estimatefee", []any{target}, &n); err != nil {
		if rpcCode(err) != 0 {
			return 0, fmt.Errorf("%w: %v", ErrNoEstimate, err)
		}
		return 0, err
	}
	return feeRateFromBTC(n)
}

// Chain returns the node's network name from getblockchaininfo ("main", "test", "signet",
// "regtest"; btcd says "mainnet", "testnet3").
func (r *RPC) Chain(ctx context.Context) (string, error) {
	var info struct {
		Chain string `json:"chain"`
	}
	err := r.Call(ctx, "getblockchaininfo", nil, &info)
	return info.Chain, err
}

// feeRateFromBTC converts a fee rate in BTC/kvB, as the node writes it, to sat/kvB, rounding up
// to a whole satoshi. A negative rate (estimatefee's "no estimate") is ErrNoEstimate.
func feeRateFromBTC(n json.Number) (int64, error) {
	sat, err := parseBTC(string(n), true)
	if err != nil {
		return 0, err
	}
	if sat <= 0 {
		return 0, ErrNoEstimate
	}
	return sat, nil
}

var satPerBTC = big.NewRat(100_000_000, 1)

// parseBTC converts a decimal BTC amount as written in JSON ("0.00012", "1e-05", "-1") to
// satoshis exactly. More than 8 decimals is an error unless roundUp is set (fee rates).
func parseBTC(s string, roundUp bool) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return 0, fmt.Errorf("btc: amount %q: not a number", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("btc: amount %q: not a number", s)
	}
	r.Mul(r, satPerBTC)
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() != 0 {
		if !roundUp {
			return 0, fmt.Errorf("btc: amount %q has more than 8 decimals", s)
		}
		if r.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() || q.Int64() > 21_000_000*100_000_000 || q.Int64() < -21_000_000*100_000_000 {
		return 0, fmt.Errorf("btc: amount %q out of range", s)
	}
	return q.Int64(), nil
}

// CheckNode asks the node at url (one of the configured ones) for its genesis block and height:
// the genesis must be params' network's (regtest's differ per node and are not checked).
func CheckNode(ctx context.Context, url string, params *chaincfg.Params) (height int64, err error) {
	r, err := NewRPC([]string{url}, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		return 0, err
	}
	g, err := r.BlockHash(ctx, 0)
	if err != nil {
		return 0, err
	}
	if params.Net != chaincfg.RegressionNetParams.Net && g != *params.GenesisHash {
		return 0, fmt.Errorf("genesis %s is not %s's (wrong network?)", g, params.Name)
	}
	return r.BlockCount(ctx)
}

// NodeHost is url without its credentials and path: what logs and checks may show of it.
func NodeHost(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return u.Host
}
