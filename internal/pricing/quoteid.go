package pricing

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/store"
)

// A firm quote is not stored when it is given: its id carries its terms, authenticated with a
// key derived from the master key, so quoting takes no database write and every instance of a
// deployment (they share the master key) can honour a quote another one gave. The quote is
// stored when a payment or sale uses it (RecordTx).
//
// The id is "q_" + base64url(payload ‖ tag): payload is a version byte and the terms as
// varints and length-prefixed strings, tag the first 16 bytes of the keyed hash of the payload.

// Signer authenticates quote ids: the master key's keyed hash (secret.Box).
type Signer interface {
	LookupHash(namespace, value string) []byte
}

const (
	quoteIDPrefix  = "q_"
	quoteIDVersion = 1
	quoteTagLen    = 16
	quoteNamespace = "pricing/quote-id"
)

var errBadQuoteID = errors.New("pricing: not a signed quote id")

func (p *Pricer) tag(payload []byte) []byte {
	return p.Keys.LookupHash(quoteNamespace, string(payload))[:quoteTagLen]
}

// signedID is q's self-verifying id.
func (p *Pricer) signedID(q Quote) string {
	b := []byte{quoteIDVersion}
	b = binary.AppendVarint(b, q.IntegrationID)
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	str(q.Direction)
	str(q.Fiat)
	b = binary.AppendUvarint(b, uint64(q.FiatAmount.Scale()))
	str(q.FiatAmount.UnitsString())
	str(q.Coin)
	str(q.Chain)
	b = binary.AppendUvarint(b, uint64(q.CoinAmount.Scale()))
	str(q.CoinAmount.UnitsString())
	str(q.Price.String())
	for _, f := range []money.Amount{q.Fees.Processing, q.Fees.Network, q.Fees.Partner, q.Fees.Total} {
		str(f.UnitsString()) // at the fiat amount's scale, as fees always are
	}
	str(q.PaymentType)
	str(q.Source)
	b = binary.AppendVarint(b, store.Micros(q.CreatedAt))
	b = binary.AppendVarint(b, store.Micros(q.ExpiresAt))
	return quoteIDPrefix + base64.RawURLEncoding.EncodeToString(append(b, p.tag(b)...))
}

// parseSignedID returns the quote an id carries, if the id is one this deployment signed.
func (p *Pricer) parseSignedID(id string) (Quote, error) {
	// Strict: the unused bits of the last character must be zero, so one quote has one id.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimPrefix(id, quoteIDPrefix))
	if err != nil || !strings.HasPrefix(id, quoteIDPrefix) || len(raw) <= quoteTagLen+1 {
		return Quote{}, errBadQuoteID
	}
	payload, tag := raw[:len(raw)-quoteTagLen], raw[len(raw)-quoteTagLen:]
	if !hmac.Equal(tag, p.tag(payload)) || payload[0] != quoteIDVersion {
		return Quote{}, errBadQuoteID
	}
	d := decoder{b: payload[1:]}
	q := Quote{ID: id, IntegrationID: d.varint(), Direction: d.str(), Fiat: d.str()}
	fiatScale := d.scale()
	q.FiatAmount = d.amount(fiatScale)
	q.Coin, q.Chain = d.str(), d.str()
	q.CoinAmount = d.amount(d.scale())
	priceS := d.str()
	q.Fees = Fees{Processing: d.amount(fiatScale), Network: d.amount(fiatScale), Partner: d.amount(fiatScale), Total: d.amount(fiatScale)}
	q.PaymentType, q.Source = d.str(), d.str()
	q.CreatedAt, q.ExpiresAt = store.Time(d.varint()), store.Time(d.varint())
	if d.err != nil || len(d.b) != 0 {
		return Quote{}, errBadQuoteID
	}
	if q.Price, err = money.ParseRate(priceS); err != nil {
		return Quote{}, errBadQuoteID
	}
	return q, nil
}

// decoder reads a signed payload; the first malformed field sets err and zeroes the rest.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errBadQuoteID, nil }

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// scale reads an amount's scale (ParseUnits refuses one out of range).
func (d *decoder) scale() int {
	s := d.uvarint()
	if s > money.MaxScale {
		d.fail()
		return 0
	}
	return int(s)
}

func (d *decoder) amount(scale int) money.Amount {
	units := d.str()
	if d.err != nil {
		return money.Amount{}
	}
	a, err := money.ParseUnits(units, scale, money.ParseOptions{})
	if err != nil {
		d.fail()
	}
	return a
}
