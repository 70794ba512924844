package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/price"
)

// assetJSON is an asset as the contract shows it: native coins have a null contract.
type assetJSON struct {
	Symbol   string  `json:"symbol"`
	Name     string  `json:"name"`
	Chain    string  `json:"chain"`
	Decimals int     `json:"decimals"`
	Contract *string `json:"contract"`
	OnRamp   bool    `json:"onramp"`
	OffRamp  bool    `json:"offramp"`
}

func (s *Server) availableAssets(r *http.Request) (any, error) {
	list, err := s.Assets.List(r.Context())
	if err != nil {
		return nil, err
	}
	// Only what this server can settle for the caller: the sandbox chains, or the configured live
	// chains with their tokens (a testnet's token contract, not the catalogue's mainnet one).
	out := []assetJSON{}
	for i, a := range list {
		contract, ok := s.Onramp.Chains.Settles(caller(r).Sandbox, a.Chain, a.Symbol)
		if !ok {
			continue
		}
		j := assetJSON{Symbol: a.Symbol, Name: a.Name, Chain: a.Chain, Decimals: a.Decimals, OnRamp: a.OnRamp, OffRamp: a.OffRamp}
		if !a.Native() {
			j.Contract = &list[i].Contract
			if contract != "" {
				j.Contract = &contract
			}
		}
		out = append(out, j)
	}
	return out, nil
}

type tokenPriceResponse struct {
	Symbol     string `json:"symbol"`
	FiatSymbol string `json:"fiat_symbol"`
	Price      string `json:"price"`
	UpdatedAt  string `json:"updated_at"`
	Source     string `json:"source"`
}

func (s *Server) tokenPrice(r *http.Request) (any, error) {
	q := r.URL.Query()
	symbol := strings.ToUpper(strings.TrimSpace(q.Get("symbol")))
	fiat := strings.ToUpper(strings.TrimSpace(q.Get("fiat_symbol")))
	if fiat == "" {
		fiat = "EUR"
	}
	f := errcode.Fields{}
	if symbol == "" {
		errcode.Required(f, "symbol")
	}
	if _, ok := money.FiatScale(fiat); !ok {
		f.Add("fiat_symbol", "The fiat symbol must be one of %s.", strings.Join(money.FiatCodes(), ", "))
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if chain := q.Get("chain"); chain != "" {
		a, err := s.Assets.Get(r.Context(), symbol, chain)
		if err != nil {
			return nil, err
		}
		if !a.OnRamp && !a.OffRamp {
			return nil, errcode.CoinNotSupported
		}
	} else if ok, err := s.Assets.HasSymbol(r.Context(), symbol); err != nil {
		return nil, err
	} else if !ok {
		return nil, errcode.CoinNotSupported
	}
	quote, err := s.prices(r).Price(r.Context(), symbol, fiat)
	if err != nil {
		return nil, priceError(err)
	}
	return tokenPriceResponse{Symbol: symbol, FiatSymbol: fiat, Price: quote.Price.String(),
		UpdatedAt: timestamp(quote.UpdatedAt), Source: quote.Source}, nil
}

// prices picks the feed for the caller: sandbox integrations never see live prices.
func (s *Server) prices(r *http.Request) price.Provider {
	if caller(r).Sandbox {
		return s.SandboxPrices
	}
	return s.LivePrices
}

// priceError maps a feed failure to price_unavailable with its reason; never a zero price.
func priceError(err error) error {
	if errors.Is(err, price.ErrUnavailable) || errors.Is(err, price.ErrUnsupported) {
		return errcode.PriceUnavailable.With(err.Error(), nil)
	}
	return err
}
