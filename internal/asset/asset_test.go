package asset_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pocketramp/pocketramp/internal/asset"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/store"
	"github.com/pocketramp/pocketramp/internal/store/storetest"
)

func TestCatalogue(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := asset.Catalogue{DB: db}
		for i := 0; i < 2; i++ { // seeding twice must not duplicate
			if err := c.Seed(ctx); err != nil {
				t.Fatal(err)
			}
		}
		active := 0
		for _, a := range asset.Default {
			if a.OnRamp || a.OffRamp {
				active++
			}
		}
		list, err := c.List(ctx)
		if err != nil || len(list) != active {
			t.Fatalf("list: %d assets, %v", len(list), err)
		}
		a, err := c.Get(ctx, "usdc", "BSC")
		if err != nil || a.Decimals != 18 || a.Contract != "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d" {
			t.Fatalf("USDC on bsc: %+v %v", a, err)
		}
		pol, err := c.Get(ctx, "POL", "polygon")
		if err != nil || !pol.Native() || pol.Contract != "" {
			t.Fatalf("POL: %+v %v", pol, err)
		}
		// ETH on polygon is the bridged ERC-20; BUSD is known but never active (discontinued).
		if eth, err := c.Get(ctx, "ETH", "polygon"); err != nil || eth.Native() || eth.Decimals != 18 || !eth.OnRamp {
			t.Fatalf("ETH on polygon: %+v %v", eth, err)
		}
		if busd, err := c.Get(ctx, "BUSD", "bsc"); err != nil || busd.OnRamp || busd.OffRamp {
			t.Fatalf("BUSD: %+v %v", busd, err)
		}
		if ok, _ := c.HasSymbol(ctx, "BUSD"); ok {
			t.Fatal("BUSD is active")
		}
		if _, err := c.Get(ctx, "USDT", "base"); !errors.Is(err, errcode.CoinNotSupported) {
			t.Fatalf("USDT on base must be unsupported, got %v", err)
		}
		if b, err := c.Get(ctx, "USDC", "base"); err != nil || !b.OnRamp { // now cached
			t.Fatalf("USDC on base: %+v %v", b, err)
		}
		if ok, _ := c.HasSymbol(ctx, "BNB"); !ok {
			t.Fatal("HasSymbol(BNB) false")
		}
		if err := c.SetFlags(ctx, "USDC", "base", false, false); err != nil {
			t.Fatal(err)
		}
		if b, _ := c.Get(ctx, "USDC", "base"); b.OnRamp { // the cached row is dropped by the change
			t.Fatal("Get served the asset as it was before SetFlags")
		}
		if err := c.SetFlags(ctx, "BNB", "bsc", false, false); err != nil {
			t.Fatal(err)
		}
		if ok, _ := c.HasSymbol(ctx, "BNB"); ok {
			t.Fatal("HasSymbol served the catalogue as it was before SetFlags")
		}
		c.SetFlags(ctx, "BNB", "bsc", true, false)
		list, _ = c.List(ctx)
		if len(list) != active-1 {
			t.Fatalf("disabled asset still listed")
		}
		if err := c.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		if b, _ := c.Get(ctx, "USDC", "base"); b.OnRamp {
			t.Fatal("seed overwrote the operator's change")
		}
		if err := c.SetFlags(ctx, "DOGE", "base", true, true); !errors.Is(err, errcode.CoinNotSupported) {
			t.Fatalf("unknown asset flags: %v", err)
		}
		if ok, _ := c.HasSymbol(ctx, "usdt"); !ok {
			t.Fatal("HasSymbol(usdt) false")
		}
	})
}

func TestDefaultChainFor(t *testing.T) {
	for sym, want := range map[string]string{"USDC": "polygon", "btc": "bitcoin", "ETH": "polygon", "BNB": "bsc", "DOGE": "polygon"} {
		if got := asset.DefaultChainFor(sym); got != want {
			t.Errorf("DefaultChainFor(%s) = %s, want %s", sym, got, want)
		}
	}
}
