package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/audit"
	"github.com/pocketramp/pocketramp/internal/chainset"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/onramp"
	"github.com/pocketramp/pocketramp/internal/webhook"
)

// An operation's timeline: everything that happened to one payment or off-ramp, in time order,
// from the records each part of pocketramp keeps — its events (status changes) with their
// webhook deliveries, ledger transactions, bank statement lines and payouts, chain transactions
// (with a block explorer link on live chains) and the operators' actions from the audit log.

// Kinds of timeline entries.
const (
	tlStatus   = "status"
	tlEvent    = "event"
	tlLedger   = "ledger"
	tlBank     = "bank"
	tlPayout   = "payout"
	tlChain    = "chain"
	tlOperator = "operator"
)

type timelineEntry struct {
	At         time.Time         `json:"-"`
	When       string            `json:"at"`
	Kind       string            `json:"kind"`
	Title      string            `json:"title"`
	Detail     string            `json:"detail,omitempty"`
	Status     string            `json:"status,omitempty"`
	TxHash     string            `json:"tx_hash,omitempty"`
	Explorer   string            `json:"explorer_url,omitempty"` // "" on sandbox chains
	Postings   []postingJSON     `json:"postings,omitempty"`
	Deliveries []deliveryJSON    `json:"webhook_deliveries,omitempty"`
	Audit      *audit.Record     `json:"-"`
	AuditSeq   int64             `json:"audit_seq,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"`
	Changes    []string          `json:"changes,omitempty"` // an operator action's fields before → after
}

// changes lists the top-level fields that differ between two JSON objects, as
// "field: before → after" (the audit record keeps the whole objects).
func changes(before, after string) []string {
	var b, a map[string]json.RawMessage
	if json.Unmarshal([]byte(before), &b) != nil || json.Unmarshal([]byte(after), &a) != nil {
		return nil
	}
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		bv, av := string(b[k]), string(a[k])
		if bv == "" {
			bv = "—"
		}
		if av == "" {
			av = "—"
		}
		if bv != av {
			out = append(out, k+": "+bv+" → "+av)
		}
	}
	return out
}

type postingJSON struct {
	Account string `json:"account"`
	Asset   string `json:"asset"`
	Amount  string `json:"amount"` // signed decimal in the asset's unit (minor units when its decimals are unknown)
}

type deliveryJSON struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Attempts   int    `json:"attempts"`
	URL        string `json:"url"`
	StatusCode *int   `json:"last_status_code,omitempty"`
	LastError  string `json:"last_error,omitempty"`
}

// explorers are the block explorers of the live chains (transaction page prefixes).
var explorers = map[string]string{
	"ethereum": "https://etherscan.io/tx/",
	"polygon":  "https://polygonscan.com/tx/",
	"bsc":      "https://bscscan.com/tx/",
	"arbitrum": "https://arbiscan.io/tx/",
	"base":     "https://basescan.org/tx/",
	"bitcoin":  "https://mempool.space/tx/",
}

// explorerURL links a transaction on a live chain's explorer; sandbox chains have none.
func explorerURL(chainName string, sandbox bool, hash string) string {
	if sandbox || hash == "" {
		return ""
	}
	if p, ok := explorers[chainName]; ok {
		return p + hash
	}
	return ""
}

type timeline []timelineEntry

func (t *timeline) add(e timelineEntry) { *t = append(*t, e) }

// sorted orders the entries by time; entries of the same instant keep the order they were added.
func (t timeline) sorted() timeline {
	sort.SliceStable(t, func(i, j int) bool { return t[i].At.Before(t[j].At) })
	for i := range t {
		t[i].When = api.Timestamp(t[i].At)
	}
	return t
}

// events adds the object's events (each a status change the integration heard of) with their
// webhook deliveries.
func (s *Server) timelineEvents(ctx context.Context, t *timeline, integrationID int64, objectType, id string) error {
	evs, err := event.ForObject(ctx, s.DB, objectType, id)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		var data struct {
			Status        string `json:"status"`
			FailureReason string `json:"failure_reason"`
			HoldReason    string `json:"hold_reason"`
		}
		json.Unmarshal(ev.Data, &data)
		e := timelineEntry{At: ev.CreatedAt, Kind: tlEvent, Title: ev.Type, Status: data.Status, Detail: data.FailureReason}
		if data.HoldReason != "" {
			e.Detail = "held: " + data.HoldReason
		}
		if s.Webhooks != nil {
			ds, _, err := s.Webhooks.Deliveries(ctx, integrationID, webhook.Filter{EventID: ev.ID, PerPage: 20})
			if err != nil {
				return err
			}
			for _, d := range ds {
				dj := deliveryJSON{ID: d.ID, Status: d.Status, Attempts: d.Attempts, URL: d.URL, StatusCode: d.LastStatusCode}
				if d.LastError != nil {
					dj.LastError = *d.LastError
				}
				e.Deliveries = append(e.Deliveries, dj)
			}
		}
		t.add(e)
	}
	return nil
}

// timelineLedger adds the ledger transactions whose references start with prefixes.
func (s *Server) timelineLedger(ctx context.Context, t *timeline, prefixes ...string) error {
	recs, err := ledger.TransactionsByPrefix(ctx, s.DB, prefixes...)
	if err != nil {
		return err
	}
	scales := s.assetScales(ctx)
	for _, r := range recs {
		e := timelineEntry{At: r.PostedAt, Kind: tlLedger, Title: r.Reference, Detail: r.Description}
		for _, p := range r.Entries {
			amount := p.Amount.String()
			if sc, ok := scales[p.Asset]; ok {
				amount = money.New(p.Amount, sc).String()
			}
			e.Postings = append(e.Postings, postingJSON{Account: p.AccountKey, Asset: p.Asset, Amount: amount})
		}
		t.add(e)
	}
	return nil
}

// timelineBank adds bank payouts (by reference) and the statement lines matched to the payment
// or booking those payouts; it returns the payouts' ids for their ledger references.
func (s *Server) timelineBank(ctx context.Context, t *timeline, paymentID string, payoutRefs ...string) ([]string, error) {
	var ids []int64
	var ledgerPrefixes []string
	for _, ref := range payoutRefs {
		p, err := s.Banking.PayoutByReference(ctx, ref)
		if err != nil {
			continue // no payout with this reference (yet)
		}
		ids = append(ids, p.ID)
		ledgerPrefixes = append(ledgerPrefixes, fmt.Sprintf("bankpayout:%d:", p.ID))
		detail := fmt.Sprintf("%s %s to %s %s", p.Amount, p.Currency, p.CreditorName, p.CreditorIBAN)
		if p.HoldReason != "" {
			detail += " · held: " + p.HoldReason
		}
		if p.Note != "" {
			detail += " · " + p.Note
		}
		t.add(timelineEntry{At: p.CreatedAt, Kind: tlPayout, Title: fmt.Sprintf("bank payout %d from %s", p.ID, p.IBAN), Status: p.Status, Detail: detail,
			Extra: map[string]string{"payout_id": fmt.Sprint(p.ID), "end_to_end_id": p.EndToEndID}})
	}
	txs, err := s.Banking.LinkedTransactions(ctx, paymentID, ids...)
	if err != nil {
		return nil, err
	}
	for _, tx := range txs {
		sign := ""
		if tx.Direction == "debit" {
			sign = "−"
		}
		t.add(timelineEntry{At: tx.CreatedAt, Kind: tlBank, Title: fmt.Sprintf("statement line %d on %s (booked %s)", tx.ID, tx.IBAN, tx.BookingDate),
			Status: tx.Status, Detail: fmt.Sprintf("%s%s %s · %s · %s %s", sign, tx.Amount, tx.Currency, tx.Concept, tx.CounterpartyName, tx.CounterpartyIBAN)})
	}
	return ledgerPrefixes, nil
}

// timelineChainPayout adds a chain payout (by its key) with its transaction.
func (s *Server) timelineChainPayout(ctx context.Context, t *timeline, sandbox bool, chainName, key, title string) error {
	p, ok, err := chainset.PayoutByKey(ctx, s.DB, sandbox, chainName, key)
	if err != nil || !ok {
		return err
	}
	detail := fmt.Sprintf("%s %s (base units) to %s · %d confirmations", p.Amount, p.Asset, p.To, p.Confirmations)
	if p.Reason != "" {
		detail += " · waiting: " + p.Reason
	}
	if p.LastError != "" {
		detail += " · " + p.LastError
	}
	t.add(timelineEntry{At: p.CreatedAt, Kind: tlChain, Title: title + " on " + chainName, Status: p.Status, Detail: detail, TxHash: p.TxHash,
		Explorer: explorerURL(chainName, sandbox, p.TxHash)})
	return nil
}

// timelineAudit adds what operators did to target.
func (s *Server) timelineAudit(ctx context.Context, t *timeline, target string) error {
	if s.Audit == nil {
		return nil
	}
	recs, _, err := s.Audit.List(ctx, audit.Filter{Target: target}, 1, 100)
	if err != nil {
		return err
	}
	for i := range recs {
		r := recs[i]
		t.add(timelineEntry{At: r.At, Kind: tlOperator, Title: r.Action, Detail: r.Actor + " (" + r.Role + ", " + r.Via + ")", Audit: &r, AuditSeq: r.Seq,
			Changes: changes(r.Before, r.After)})
	}
	return nil
}

// paymentTimeline is an on-ramp payment's timeline.
func (s *Server) paymentTimeline(ctx context.Context, p onramp.Payment) (timeline, error) {
	var t timeline
	t.add(timelineEntry{At: p.CreatedAt, Kind: tlStatus, Title: "created", Status: string(onramp.StatusStarted),
		Detail: fmt.Sprintf("%s %s by %s for %s %s on %s", p.FiatAmount, p.Fiat, p.PaymentType, p.CoinAmount, p.Coin, p.Chain)})
	if err := s.timelineEvents(ctx, &t, p.IntegrationID, "payment", p.ID); err != nil {
		return nil, err
	}
	prefixes, err := s.timelineBank(ctx, &t, p.ID, onramp.RefundPrefix+p.ID)
	if err != nil {
		return nil, err
	}
	if err := s.timelineLedger(ctx, &t, append([]string{"onramp:" + p.ID + ":"}, prefixes...)...); err != nil {
		return nil, err
	}
	if err := s.timelineChainPayout(ctx, &t, p.Sandbox, p.Chain, "onramp:"+p.ID, "crypto payout"); err != nil {
		return nil, err
	}
	if err := s.timelineAudit(ctx, &t, "payment:"+p.ID); err != nil {
		return nil, err
	}
	return t.sorted(), nil
}

// rampoffTimeline is an off-ramp's timeline.
func (s *Server) rampoffTimeline(ctx context.Context, o offramp.Rampoff, deposits []offramp.Deposit) (timeline, error) {
	var t timeline
	t.add(timelineEntry{At: o.CreatedAt, Kind: tlStatus, Title: "created", Status: string(offramp.StatusPending),
		Detail: fmt.Sprintf("%s %s on %s for %s %s · deposit address %s", o.Amount, o.Coin, o.Chain, o.FiatAmount, o.Fiat, o.DepositAddress)})
	if err := s.timelineEvents(ctx, &t, o.IntegrationID, "rampoff", o.ID); err != nil {
		return nil, err
	}
	prefixes, err := s.timelineBank(ctx, &t, "", offramp.RefPrefix+o.ID)
	if err != nil {
		return nil, err
	}
	prefixes = append(prefixes, "offramp:"+o.ID+":")
	for _, d := range deposits {
		prefixes = append(prefixes, fmt.Sprintf("offramp:deposit:%d:", d.ID), fmt.Sprintf("offramp:sweep:%d", d.ID))
		detail := fmt.Sprintf("%s %s from %s", d.Amount, d.Asset, d.From)
		if d.Reason != "" {
			detail += " · " + d.Reason
		}
		if d.Reorged {
			detail += " · reorged"
		}
		t.add(timelineEntry{At: d.CreatedAt, Kind: tlChain, Title: "deposit on " + d.Chain, Status: d.Status, Detail: detail,
			TxHash: d.TxHash, Explorer: explorerURL(d.Chain, d.Sandbox, d.TxHash)})
		if d.SweepTxID != "" {
			t.add(timelineEntry{At: d.CreatedAt, Kind: tlChain, Title: "sweep to the hot wallet on " + d.Chain, Status: d.SweepStatus, Detail: d.SweepError,
				TxHash: d.SweepTxID, Explorer: explorerURL(d.Chain, d.Sandbox, d.SweepTxID)})
		}
		if err := s.timelineChainPayout(ctx, &t, d.Sandbox, d.Chain, fmt.Sprintf("offramp-refund:%d", d.ID), "refund of deposit "+fmt.Sprint(d.ID)); err != nil {
			return nil, err
		}
	}
	if err := s.timelineLedger(ctx, &t, prefixes...); err != nil {
		return nil, err
	}
	if err := s.timelineAudit(ctx, &t, "rampoff:"+o.ID); err != nil {
		return nil, err
	}
	return t.sorted(), nil
}
