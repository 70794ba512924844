package chainset

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/ethereum/go-ethereum/rpc"
)

// rpcMethods are the JSON-RPC methods a sandbox chain answers over HTTP: what a wallet or a
// block explorer needs to read the chain and send signed transactions. Nothing that mines,
// rewinds or administers the node.
var rpcMethods = map[string]bool{
	"eth_chainId": true, "net_version": true, "eth_blockNumber": true, "eth_syncing": true,
	"eth_getBlockByNumber": true, "eth_getBlockByHash": true, "eth_getTransactionByHash": true,
	"eth_getTransactionReceipt": true, "eth_getTransactionCount": true, "eth_getBalance": true,
	"eth_getCode": true, "eth_getStorageAt": true, "eth_call": true, "eth_estimateGas": true,
	"eth_gasPrice": true, "eth_maxPriorityFeePerGas": true, "eth_feeHistory": true, "eth_getLogs": true,
	"eth_sendRawTransaction": true, "eth_getBlockTransactionCountByNumber": true,
	"eth_getTransactionByBlockNumberAndIndex": true,
}

type rpcRequest struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// ServeSandboxRPC answers JSON-RPC (one call or a batch) for the sandbox chain name: the
// allowed methods (rpcMethods) are passed to the chain, wherever it runs (in this process, or
// on the instance that leads when several share a database).
func (s *Set) ServeSandboxRPC(w http.ResponseWriter, r *http.Request, name string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	trimmed := strings.TrimSpace(string(body))
	batch := strings.HasPrefix(trimmed, "[")
	var reqs []rpcRequest
	if batch {
		err = json.Unmarshal(body, &reqs)
	} else {
		var one rpcRequest
		err = json.Unmarshal(body, &one)
		reqs = []rpcRequest{one}
	}
	w.Header().Set("Content-Type", "application/json")
	if err != nil || len(reqs) == 0 || len(reqs) > 100 {
		json.NewEncoder(w).Encode(rpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{-32700, "parse error: want a JSON-RPC request or a batch of at most 100"}})
		return
	}
	sc, err := s.Sandbox(r.Context(), name)
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(rpcResponse{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{-32601, err.Error()}})
		return
	}
	client := sc.chain.RPC()
	out := make([]rpcResponse, len(reqs))
	for i, q := range reqs {
		out[i] = rpcResponse{JSONRPC: "2.0", ID: q.ID}
		if len(q.ID) == 0 {
			out[i].ID = json.RawMessage("null")
		}
		if !rpcMethods[q.Method] || client == nil {
			out[i].Error = &rpcError{-32601, "method " + q.Method + " is not served by the sandbox chain"}
			continue
		}
		args := make([]any, len(q.Params))
		for j, p := range q.Params {
			args[j] = p
		}
		var res json.RawMessage
		if err := client.CallContext(r.Context(), &res, q.Method, args...); err != nil {
			e := &rpcError{-32000, err.Error()}
			var re rpc.Error
			if errors.As(err, &re) {
				e.Code = re.ErrorCode()
			}
			out[i].Error = e
			continue
		}
		if len(res) == 0 {
			res = json.RawMessage("null")
		}
		out[i].Result = res
	}
	if batch {
		json.NewEncoder(w).Encode(out)
		return
	}
	json.NewEncoder(w).Encode(out[0])
}
