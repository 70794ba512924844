package admin

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pocketramp/pocketramp/internal/api"
	"github.com/pocketramp/pocketramp/internal/banking"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/offramp"
	"github.com/pocketramp/pocketramp/internal/operator"
	"github.com/pocketramp/pocketramp/internal/ramp"
)

func (s *Server) moneyPages() {
	s.mux.Handle("GET /admin/rampoffs", s.page(operator.AreaPayments, s.rampoffList))
	s.mux.Handle("GET /admin/rampoffs/{id}", s.page(operator.AreaPayments, s.rampoffPage))
	s.mux.Handle("POST /admin/rampoffs/{id}", s.page(operator.AreaPayments, s.rampoffAction))
	s.mux.Handle("GET /admin/bank", s.page(operator.AreaBank, s.bankPage))
	s.mux.Handle("POST /admin/bank/transactions/{id}", s.page(operator.AreaBank, s.bankTxAction))
	s.mux.Handle("POST /admin/bank/statements", s.page(operator.AreaBank, s.statementUpload))
	s.opsPages()
}

type rampoffsData struct {
	Status, Kind string
	Statuses     []string
	Items        []offramp.Rampoff
}

func (s *Server) rampoffList(w http.ResponseWriter, r *http.Request, v *view) error {
	page, perPage := pageParams(r)
	q := r.URL.Query()
	d := rampoffsData{Status: q.Get("status"), Kind: q.Get("kind"), Statuses: ramp.Names(offramp.Statuses()...)}
	if !offramp.Status(d.Status).Valid() {
		d.Status = ""
	}
	f := offramp.Filter{Filter: ramp.Filter[offramp.Status]{Status: offramp.Status(d.Status)}}
	if d.Kind == offramp.PayoutLocal {
		f.PayoutKind = offramp.PayoutLocal
	}
	items, total, err := s.Offramp.List(r.Context(), 0, f, page, perPage)
	if err != nil {
		return err
	}
	d.Items = items
	v.Title, v.Data, v.Page = v.T("rampoffs.title"), d, newPager(r, page, perPage, total)
	s.render(w, http.StatusOK, "rampoffs", v)
	return nil
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

type rampoffData struct {
	O        offramp.Rampoff
	Deposits []offramp.Deposit
	Held     bool
	Local    bool
	Timeline timeline
}

func (s *Server) rampoffPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showRampoff(w, r, v, http.StatusOK)
}

func (s *Server) showRampoff(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	o, err := s.Offramp.GetAny(r.Context(), r.PathValue("id"))
	if err != nil {
		return errPageNotFound
	}
	ds, err := s.Offramp.Deposits(r.Context(), o.ID)
	if err != nil {
		return err
	}
	d := rampoffData{O: o, Deposits: ds, Local: o.PayoutKind == offramp.PayoutLocal && o.Status == offramp.StatusProcessing && o.ConfirmedBy == ""}
	if d.Timeline, err = s.rampoffTimelineOf(r, o, ds); err != nil {
		return err
	}
	for _, dep := range ds {
		if dep.Status == "held" {
			d.Held = true
		}
	}
	v.flash(r)
	v.Title, v.Data = v.T("rampoff.title", o.ID), d
	s.render(w, status, "rampoff", v)
	return nil
}

// rampoffAction releases, refunds or confirms the payout of an off-ramp, through the same
// domain calls and audit as the JSON API.
func (s *Server) rampoffAction(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	do := r.PostFormValue("do")
	actions := map[string]func(r *http.Request) (any, error){
		"release": func(r *http.Request) (any, error) {
			return s.Offramp.Release(r.Context(), id, r.PostFormValue("reprice") == "on")
		},
		"refund": func(r *http.Request) (any, error) {
			return s.Offramp.Refund(r.Context(), id, strings.TrimSpace(r.PostFormValue("address")))
		},
		"confirm_payout": func(r *http.Request) (any, error) {
			return s.Offramp.ConfirmPayout(r.Context(), id, strings.TrimSpace(r.PostFormValue("reference")))
		},
	}
	act, ok := actions[do]
	if !ok {
		return errcode.Field("do", "Unknown action.")
	}
	if before, err := s.Offramp.GetAny(r.Context(), id); err == nil {
		_, err = s.audited(r, operator.AreaPayments, "rampoff."+do, "rampoff:"+id, func(r *http.Request) (any, error) {
			noteBefore(r, "rampoff:"+id, operatorRampoffView(before, nil))
			o, err := act(r)
			if err != nil {
				return nil, err
			}
			return operatorRampoffView(o.(offramp.Rampoff), nil), nil
		})
		if err != nil {
			if msg, ok := v.errorText(err); ok {
				v.Error = msg
				return s.showRampoff(w, r, v, http.StatusUnprocessableEntity)
			}
			return err
		}
		return done(w, r, "/admin/rampoffs/"+id, "done")
	}
	return errPageNotFound
}

type bankData struct {
	Items   []banking.Transaction
	Report  *banking.ImportResult
	IBAN    string
	Actions []string
}

func (s *Server) bankPage(w http.ResponseWriter, r *http.Request, v *view) error {
	return s.showBank(w, r, v, bankData{}, http.StatusOK)
}

func (s *Server) showBank(w http.ResponseWriter, r *http.Request, v *view, d bankData, status int) error {
	page, perPage := pageParams(r)
	items, total, err := s.Banking.Exceptions(r.Context(), page, perPage)
	if err != nil {
		return err
	}
	d.Items, d.Actions = items, []string{"return", "ignore"}
	v.flash(r)
	v.Title, v.Data, v.Page = v.T("bank.title"), d, newPager(r, page, perPage, total)
	s.render(w, status, "bank", v)
	return nil
}

// bankTxAction resolves an exception (return or ignore, with a note) or matches it to a payment.
func (s *Server) bankTxAction(w http.ResponseWriter, r *http.Request, v *view) error {
	idText := r.PathValue("id")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return errPageNotFound
	}
	target := "bank-transaction:" + idText
	if pid := strings.TrimSpace(r.PostFormValue("payment_id")); r.PostFormValue("do") == "match" {
		_, err = s.audited(r, operator.AreaBank, "bank.transaction.match", target, func(r *http.Request) (any, error) {
			status, err := s.Banking.OperatorMatch(r.Context(), pid, idText)
			return map[string]string{"payment_id": pid, "payment_status": status}, err
		})
	} else {
		_, err = s.audited(r, operator.AreaBank, "bank.transaction.resolve", target, func(r *http.Request) (any, error) {
			t, err := s.Banking.Resolve(r.Context(), id, r.PostFormValue("action"), r.PostFormValue("note"))
			if err != nil {
				return nil, err
			}
			return bankExceptionJSON{api.BankTxView(t), t.Exception}, nil
		})
	}
	if err != nil {
		if msg, ok := v.errorText(err); ok {
			v.Error = msg
			return s.showBank(w, r, v, bankData{}, http.StatusUnprocessableEntity)
		}
		return err
	}
	return done(w, r, "/admin/bank", "done")
}

// statementUpload imports a statement file (camt or CSV with the default mapping) and shows the
// import report.
func (s *Server) statementUpload(w http.ResponseWriter, r *http.Request, v *view) error {
	iban := strings.ToUpper(strings.ReplaceAll(r.PostFormValue("iban"), " ", ""))
	f, hdr, err := r.FormFile("file")
	if err != nil {
		v.Error = v.T("bank.no_file")
		return s.showBank(w, r, v, bankData{IBAN: iban}, http.StatusUnprocessableEntity)
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	var res banking.ImportResult
	_, err = s.audited(r, operator.AreaBank, "bank.statement.upload", "bank-account:"+iban, func(r *http.Request) (any, error) {
		res, err = s.Banking.ImportFile(r.Context(), iban, "console:"+hdr.Filename, raw, nil)
		return res, err
	})
	if err != nil {
		if msg, ok := v.errorText(err); ok {
			v.Error = msg
			return s.showBank(w, r, v, bankData{IBAN: iban}, http.StatusUnprocessableEntity)
		}
		return err
	}
	return s.showBank(w, r, v, bankData{IBAN: iban, Report: &res}, http.StatusOK)
}
