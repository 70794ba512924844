package chain_test

import (
	"errors"
	"testing"

	"github.com/pocketramp/pocketramp/internal/chain"
)

func TestValidateAddress(t *testing.T) {
	cases := []struct {
		chain, addr, want string
		err               error
	}{
		{"ethereum", "0xdac17f958d2ee523a2206206994597c13d831ec7", "0xdAC17F958D2ee523a2206206994597C13D831ec7", nil},
		{"bsc", "0x55d398326f99059fF775485246999027B3197955", "0x55d398326f99059fF775485246999027B3197955", nil},
		{"base", "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", nil},
		{"polygon", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02912", "", chain.ErrInvalidAddress},
		{"tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", nil},
		{"tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T", "", chain.ErrInvalidAddress},
		{"bitcoin", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", nil},
		{"solana", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", nil},
		{"solana", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1vv", "", chain.ErrInvalidAddress},
		{"solana", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt0v", "", chain.ErrInvalidAddress},
		{"litecoin", "ltc1...", "", chain.ErrUnknownChain},
	}
	for _, c := range cases {
		got, err := chain.ValidateAddress(c.chain, c.addr)
		if got != c.want || (c.err == nil) != (err == nil) || (c.err != nil && !errors.Is(err, c.err)) {
			t.Errorf("ValidateAddress(%s, %s) = %q, %v; want %q, %v", c.chain, c.addr, got, err, c.want, c.err)
		}
	}
}
