package admin

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ledger"
	"github.com/pocketramp/pocketramp/internal/money"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/operator"
)

// The console's money operations beyond the queues: chains (hot wallets, waiting payouts,
// deposits to sweep), bank accounts and payouts (pain.001 export, held payouts), and the ledger
// (balances, an account's history, verify).

func init() {
	pageNames = append(pageNames, "payments", "payment", "bankaccounts", "payouts")
	funcs["timelineOf"] = func(v *view, t timeline) timelineView { return timelineView{V: v, Items: t} }
	areaPath[operator.AreaPayments] = "/admin/payments"
	for k, v := range opsText {
		text[k] = v
	}
}

type timelineView struct {
	V     *view
	Items timeline
}

func (s *Server) opsPages() {
	s.paymentPages()
	s.mux.Handle("GET /admin/chains", s.page(operator.AreaChains, s.chainsPage))
	s.mux.Handle("GET /admin/bank/accounts", s.page(operator.AreaBank, s.bankAccountsPage))
	s.mux.Handle("POST /admin/bank/accounts/{iban}/export", s.page(operator.AreaBank, s.exportForm))
	s.mux.Handle("GET /admin/bank/payouts", s.page(operator.AreaBank, s.payoutsPage))
	s.mux.Handle("POST /admin/bank/payouts/{id}", s.page(operator.AreaBank, s.payoutForm))
	s.mux.Handle("GET /admin/ledger", s.page(operator.AreaLedger, s.ledgerPage))
}

// walletAsset is one asset of a hot wallet: on chain now, and in the ledger's books.
type walletAsset struct {
	Asset, OnChain, Ledger string
	LedgerID               int64 // the ledger account (0: none yet)
	Differs                bool
}

type walletRow struct {
	Chain, Address, Err string
	Sandbox             bool
	Assets              []walletAsset
}

type chainsData struct {
	Wallets []walletRow
	Payouts []chainPayoutJSON
	Sweeps  []offramp.Deposit
}

func (s *Server) chainsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	var d chainsData
	for _, wj := range s.wallets(r) {
		row := walletRow{Chain: wj.Chain, Address: wj.Address, Err: wj.Error, Sandbox: wj.Sandbox}
		for _, b := range wj.Balances {
			wa := walletAsset{Asset: b.Asset, OnChain: b.Amount}
			key := "hotwallet:" + wj.Chain + ":" + b.Asset
			if wj.Sandbox {
				key = "sb:" + key
			}
			if a, err := ledger.AccountByKey(r.Context(), s.DB, key); err == nil {
				wa.Ledger, wa.LedgerID = money.New(a.Balance, int(b.Decimals)).String(), int64(a.ID)
				wa.Differs = wa.Ledger != wa.OnChain
			}
			row.Assets = append(row.Assets, wa)
		}
		d.Wallets = append(d.Wallets, row)
	}
	var err error
	if d.Payouts, err = s.openChainPayouts(r); err != nil {
		return err
	}
	if d.Sweeps, err = s.Offramp.Sweeps(r.Context(), nil); err != nil {
		return err
	}
	v.Title, v.Data = v.T("chains.title"), d
	s.render(w, http.StatusOK, "chains", v)
	return nil
}

type bankAccountsData struct {
	Accounts []banking.AccountSummary
	Imports  []banking.Import
	Held     []banking.Payout // set aside by the export that just ran
}

func (s *Server) bankAccountsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showBankAccounts(w, r, v, bankAccountsData{}, http.StatusOK)
}

func (s *Server) showBankAccounts(w http.ResponseWriter, r *http.Request, v *view, d bankAccountsData, status int) error {
	var err error
	if d.Accounts, err = s.Banking.Summaries(r.Context()); err != nil {
		return err
	}
	if d.Imports, err = s.Banking.RecentImports(r.Context(), 20); err != nil {
		return err
	}
	v.flash(r)
	v.Title, v.Data = v.T("bankaccounts.title"), d
	s.render(w, status, "bankaccounts", v)
	return nil
}

// exportForm writes the account's pending payouts into a pain.001 and answers it as a download,
// audited like the JSON API's export. Payouts that cannot be exported are set aside and listed.
func (s *Server) exportForm(w http.ResponseWriter, r *http.Request, v *view) error {
	iban := r.PathValue("iban")
	var b banking.Batch
	var ok bool
	_, err := s.audited(r, operator.AreaBank, "bank.payouts.export", "bank-account:"+iban, func(r *http.Request) (any, error) {
		var err error
		b, ok, err = s.Banking.ExportBatch(r.Context(), iban)
		if err != nil || !ok {
			return nil, err
		}
		return map[string]any{"message_id": b.MessageID, "payments": b.Payments, "total": b.Total.String(), "held": len(b.Held)}, nil
	})
	if err != nil {
		if msg, isForm := v.errorText(err); isForm {
			v.Error = msg
			return s.showBankAccounts(w, r, v, bankAccountsData{}, http.StatusUnprocessableEntity)
		}
		return err
	}
	if !ok {
		if len(b.Held) > 0 {
			v.Error = v.T("bank.export.all_held", len(b.Held))
			return s.showBankAccounts(w, r, v, bankAccountsData{Held: b.Held}, http.StatusConflict)
		}
		return done(w, r, "/admin/bank/accounts", "nothing_to_export")
	}
	if len(b.Held) > 0 {
		w.Header().Set("X-Payouts-Held", strconv.Itoa(len(b.Held)))
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Disposition", `attachment; filename="`+b.MessageID+`.xml"`)
	w.Write(b.File)
	return nil
}

var payoutStatuses = []string{banking.PayoutHeld, banking.PayoutPending, banking.PayoutExported, banking.PayoutConfirmed, banking.PayoutReturned, banking.PayoutCancelled}

type payoutsData struct {
	Status, Account string
	Statuses        []string
	Items           []banking.Payout
	Open            map[int64]bool // the payout whose form failed stays open
}

func (s *Server) payoutsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showPayouts(w, r, v, 0, http.StatusOK)
}

func (s *Server) showPayouts(w http.ResponseWriter, r *http.Request, v *view, open int64, status int) error {
	page, perPage := pageParams(r)
	q := r.URL.Query()
	d := payoutsData{Status: q.Get("status"), Account: strings.TrimSpace(q.Get("account")), Statuses: payoutStatuses, Open: map[int64]bool{open: true}}
	if _, set := q["status"]; !set {
		d.Status = banking.PayoutHeld // the queue that needs the operator
	}
	if d.Status != "" && !containsString(payoutStatuses, d.Status) {
		d.Status = banking.PayoutHeld
	}
	items, total, err := s.Banking.ListPayouts(r.Context(), banking.PayoutFilter{Account: d.Account, Status: d.Status}, page, perPage)
	if err != nil {
		return err
	}
	d.Items = items
	v.flash(r)
	v.Title, v.Data, v.Page = v.T("payouts.title"), d, newPager(r, page, perPage, total)
	s.render(w, status, "payouts", v)
	return nil
}

// payoutForm corrects, retries or cancels a payout through the JSON API's domain calls and audit.
func (s *Server) payoutForm(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errPageNotFound
	}
	before, err := s.Banking.PayoutByID(r.Context(), id)
	if err != nil {
		return errPageNotFound
	}
	do := r.PostFormValue("do")
	note := strings.TrimSpace(r.PostFormValue("note"))
	var act func(ctx context.Context) (banking.Payout, error)
	switch do {
	case "correct":
		c := banking.Beneficiary{Name: strings.TrimSpace(r.PostFormValue("name")), IBAN: strings.TrimSpace(r.PostFormValue("iban")),
			BIC: strings.TrimSpace(r.PostFormValue("bic")), Note: note}
		if c.Name == "" && c.IBAN == "" && c.BIC == "" {
			act = func(context.Context) (banking.Payout, error) {
				return banking.Payout{}, errcode.Field("name", "Give the corrected name, iban or bic.")
			}
		} else {
			act = func(ctx context.Context) (banking.Payout, error) { return s.Banking.CorrectPayout(ctx, id, c) }
		}
	case "retry":
		act = func(ctx context.Context) (banking.Payout, error) { return s.Banking.RetryPayout(ctx, id, note) }
	case "cancel":
		act = func(ctx context.Context) (banking.Payout, error) { return s.Banking.CancelPayout(ctx, id, note) }
	default:
		return errcode.Field("do", "Unknown action.")
	}
	target := fmt.Sprintf("bank-payout:%d", id)
	_, err = s.audited(r, operator.AreaBank, "bank.payout."+do, target, func(r *http.Request) (any, error) {
		noteBefore(r, target, payoutViews([]banking.Payout{before})[0])
		p, err := act(r.Context()) // the joined transaction's context
		if err != nil {
			return nil, err
		}
		return payoutViews([]banking.Payout{p})[0], nil
	})
	if err != nil {
		if msg, ok := v.errorText(err); ok {
			v.Error = msg
			return s.showPayouts(w, r, v, id, http.StatusUnprocessableEntity)
		}
		return err
	}
	back := "/admin/bank/payouts"
	if ret := r.PostFormValue("return"); strings.HasPrefix(ret, "/admin/bank/payouts") {
		back = ret
	}
	return done(w, r, back, "done")
}

type ledgerData struct {
	Report   ledger.Report
	Verified bool
	Prefix   string
	Totals   []ledger.Total
	Accounts []ledger.Account
	Account  *ledger.Account
	History  ledger.HistoryPage
	scales   map[string]int
}

// Fmt shows minor units of asset as a decimal when its scale is known (fiat, catalogue tokens).
func (d ledgerData) Fmt(units *big.Int, asset string) string {
	if sc, ok := d.scales[asset]; ok {
		return money.New(units, sc).String()
	}
	return units.String()
}

// assetScales maps ledger asset codes to their decimals: fiat codes and catalogue tokens.
func (s *Server) assetScales(ctx context.Context) map[string]int {
	out := map[string]int{}
	for _, code := range money.FiatCodes() {
		out[code], _ = money.FiatScale(code)
	}
	if s.Onramp != nil {
		if list, err := s.Onramp.Assets.List(ctx); err == nil {
			for _, a := range list {
				out[a.Code()] = int(a.Decimals)
			}
		}
	}
	return out
}

func (s *Server) ledgerPage(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	d := ledgerData{Prefix: strings.TrimSpace(q.Get("prefix")), scales: s.assetScales(r.Context())}
	var err error
	if q.Get("verify") == "1" {
		if d.Report, err = ledger.Verify(r.Context(), s.DB); err != nil {
			return err
		}
		d.Verified = true
	}
	page, perPage := pageParams(r)
	if id, perr := strconv.ParseInt(q.Get("account"), 10, 64); perr == nil {
		a, err := ledger.AccountByID(r.Context(), s.DB, ledger.AccountID(id))
		if err != nil {
			return errPageNotFound
		}
		if d.History, err = ledger.History(r.Context(), s.DB, a.ID, page, perPage); err != nil {
			return err
		}
		d.Account = &a
		v.Page = newPager(r, page, perPage, int(d.History.Total))
	} else {
		if d.Totals, err = ledger.Totals(r.Context(), s.DB); err != nil {
			return err
		}
		var total int
		if d.Accounts, total, err = ledger.AccountsPage(r.Context(), s.DB, d.Prefix, page, perPage); err != nil {
			return err
		}
		v.Page = newPager(r, page, perPage, total)
	}
	v.Title, v.Data = v.T("ledger.title"), d
	s.render(w, http.StatusOK, "ledger", v)
	return nil
}
