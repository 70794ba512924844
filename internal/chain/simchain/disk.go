package simchain

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/ethdb"
	gethlog "github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/rpc"
)

// miner is what a chain needs from its consensus: seal a block, rewind the head, empty the pool.
// go-ethereum's simulated backend (in memory) and diskNode (persistent) both provide it.
type miner interface {
	Commit() common.Hash
	Fork(parent common.Hash) error
	Rollback()
	Close() error
}

// diskNode is a dev chain kept in a go-ethereum database in a directory: the node and eth service
// the simulated backend assembles, with the simulated beacon as consensus, but on a pebble
// database, with every block's state written through (archive, hash scheme), and without the
// simulated backend's rewind to genesis, so a reopened chain continues from its head. Commit
// flushes the database's write-ahead log (go-ethereum writes it without syncing, buffering up
// to a block of it in memory), so a mined block is on disk once Commit returns and a killed
// process loses at most its transaction pool, as a real node does.
type diskNode struct {
	stack  *node.Node
	beacon *catalyst.SimulatedBeacon
	client *ethclient.Client
	db     ethdb.Database
}

func (d *diskNode) Commit() common.Hash {
	h := d.beacon.Commit()
	if err := d.db.SyncKeyValue(); err != nil {
		gethlog.Error("simchain: flush the chain database", "err", err)
	}
	return h
}

func (d *diskNode) Fork(parent common.Hash) error { return d.beacon.Fork(parent) }
func (d *diskNode) Rollback()                     { d.beacon.Rollback() }

func (d *diskNode) Close() error {
	d.client.Close()
	return errors.Join(d.beacon.Stop(), d.stack.Close())
}

// generationFile keeps the genesis's random tag, so a reopened directory has the same genesis
// and a new directory (a deleted chain) gets a new one.
const generationFile = "generation"

// loadGeneration reads dir's genesis tag, or draws and saves a new one for a new directory.
func loadGeneration(dir string, draw func() []byte) ([]byte, error) {
	path := filepath.Join(dir, generationFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return hex.DecodeString(strings.TrimSpace(string(b)))
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	g := draw()
	if err := os.WriteFile(path, []byte(hex.EncodeToString(g)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return g, nil
}

// openDisk opens (or creates) the chain in dir with this genesis. A directory another process
// has open is refused (go-ethereum locks it).
func openDisk(dir string, genesis *core.Genesis, networkID uint64) (*diskNode, error) {
	nodeConf := node.DefaultConfig
	nodeConf.Name = "geth"
	nodeConf.DataDir = dir
	nodeConf.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0}
	nodeConf.IPCPath = ""
	nodeConf.HTTPHost, nodeConf.WSHost = "", ""
	ethConf := ethconfig.Defaults
	ethConf.Genesis = genesis
	ethConf.NetworkId = networkID
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true
	ethConf.TxPool.Journal = ""
	ethConf.LogNoHistory = true
	ethConf.TransactionHistory = 0 // every transaction stays findable by hash
	ethConf.StateScheme = rawdb.HashScheme
	ethConf.NoPruning = true // state written with each block: nothing to lose in memory
	ethConf.SnapshotCache = 0
	ethConf.DatabaseCache, ethConf.DatabaseHandles = 16, 64
	ethConf.TrieCleanCache, ethConf.TrieDirtyCache = 16, 0
	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("simchain: open %s: %w", dir, err)
	}
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("simchain: open %s: %w", dir, err)
	}
	fs := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(fs)}})
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("simchain: start %s: %w", dir, err)
	}
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("simchain: beacon %s: %w", dir, err)
	}
	return &diskNode{stack: stack, beacon: beacon, client: ethclient.NewClient(stack.Attach()), db: backend.ChainDb()}, nil
}

// remoteMiner stands for a chain another process runs and mines: Commit is left to it.
type remoteMiner struct{ c *rpc.Client }

func (r remoteMiner) Commit() common.Hash { return common.Hash{} }
func (r remoteMiner) Fork(common.Hash) error {
	return errors.New("simchain: the chain runs in another process")
}
func (r remoteMiner) Rollback()    {}
func (r remoteMiner) Close() error { r.c.Close(); return nil }
