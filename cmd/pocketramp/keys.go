package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/pocketramp/pocketramp/internal/chain/btc"
	"github.com/pocketramp/pocketramp/internal/chain/hd"
)

// keysCmd generates the keys of a new installation: the EVM hot wallet key and deposit account
// (BIP-44 m/44'/60'/0'), and the Bitcoin hot wallet WIF and BIP-84 deposit account
// (m/84'/coin'/0') of a network. Secrets go to files in --out (mode 0600, never overwritten):
// the hot wallet keys the server reads, and the two account private keys, which belong offline
// (sweeping deposits). Stdout gets the configuration lines and the public side: addresses,
// account xpubs and each account's first deposit address, derived as the server derives them.
func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	network := fs.String("network", "mainnet", "Bitcoin network of the keys: mainnet, testnet, signet or regtest")
	out := fs.String("out", "", "directory for the secret files (created; existing files are never overwritten)")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	if *out == "" {
		fmt.Fprintln(stderr, "--out DIR is required: the directory the secret key files are written to")
		return exitError(2)
	}
	params, err := btc.NetworkParams(*network)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	files := map[string]string{}
	write := func(name, content string) error {
		p := filepath.Join(dir, name)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists: keys are never overwritten (choose another --out)", p)
		}
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, content+"\n"); err != nil {
			f.Close()
			return err
		}
		files[name] = p
		return f.Close()
	}

	// EVM: the hot wallet (one address on every EVM chain) and the deposit account.
	evmKey, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	evmSeed, err := hd.NewSeed()
	if err != nil {
		return err
	}
	evmXprv, evmXpub, err := hd.Account(evmSeed, hd.CoinEthereum, 0)
	if err != nil {
		return err
	}
	deriver, err := hd.NewDeriver(evmXpub)
	if err != nil {
		return err
	}
	evmFirst, err := deriver.Address(0)
	if err != nil {
		return err
	}

	// Bitcoin: a P2WPKH hot wallet and the BIP-84 deposit account of the network.
	btcKey, err := btcec.NewPrivateKey()
	if err != nil {
		return err
	}
	wif, err := btcutil.NewWIF(btcKey, params, true)
	if err != nil {
		return err
	}
	hot, err := btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(btcKey.PubKey().SerializeCompressed()), params)
	if err != nil {
		return err
	}
	btcSeed, err := hdkeychain.GenerateSeed(hdkeychain.RecommendedSeedLen)
	if err != nil {
		return err
	}
	acct, err := hdkeychain.NewMaster(btcSeed, params)
	if err != nil {
		return err
	}
	coin := uint32(1) // SLIP-44: test networks share coin type 1
	if params.Net == chaincfg.MainNetParams.Net {
		coin = 0
	}
	for _, i := range []uint32{84, coin, 0} {
		if acct, err = acct.Derive(hdkeychain.HardenedKeyStart + i); err != nil {
			return err
		}
	}
	btcXpub, err := acct.Neuter()
	if err != nil {
		return err
	}
	btcFirst, err := btc.DepositAddressAt(btcXpub.String(), params, 0)
	if err != nil {
		return err
	}

	secrets := []struct{ name, content string }{
		{"hot.key", hex.EncodeToString(crypto.FromECDSA(evmKey))},
		{"evm-deposit.xprv", evmXprv},
		{"btc-hot.wif", wif.String()},
		{"btc-deposit.xprv", acct.String()},
	}
	for _, f := range secrets { // all or nothing: no half-written set
		if _, err := os.Lstat(filepath.Join(dir, f.name)); err == nil {
			return fmt.Errorf("%s exists: keys are never overwritten (choose another --out)", filepath.Join(dir, f.name))
		}
	}
	for _, f := range secrets {
		if err := write(f.name, f.content); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, `# pocketramp keys (Bitcoin %s), secrets in %s (mode 0600).
# Move evm-deposit.xprv and btc-deposit.xprv offline: the server needs only the xpubs below;
# the account private keys sweep the deposit addresses.
hot_wallet_key_file = %q  # EVM hot wallet %s (every EVM chain)
deposit_xpub = %q  # m/44'/60'/0'; first deposit address %s
btc_network = %q
btc_hot_wallet_wif_file = %q  # Bitcoin hot wallet %s
btc_deposit_xpub = %q  # BIP-84 m/84'/%d'/0'; first deposit address %s
`, params.Name, dir, files["hot.key"], crypto.PubkeyToAddress(evmKey.PublicKey).Hex(), evmXpub, evmFirst.Hex(),
		params.Name, files["btc-hot.wif"], hot.EncodeAddress(), btcXpub.String(), coin, btcFirst)
	return nil
}
