package banking

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/bankfile"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/money"
)

// The sandbox bank is the in-process twin of the operator's bank: it writes the camt.054
// notifications a real bank would send for incoming transfers and for the payouts it executed,
// and feeds them through the same Import (parse, de-duplicate, post, match) as real files.

// SandboxEntry is a movement the sandbox bank books.
type SandboxEntry struct {
	Amount           money.Amount // signed: credits positive
	Concept          string
	CounterpartyName string
	CounterpartyIBAN string
	EndToEndID       string
	ReturnReason     string
	BookingDate      time.Time
}

type camtDoc struct {
	XMLName xml.Name `xml:"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08 Document"`
	Ntf     struct {
		GrpHdr struct {
			MsgID   string `xml:"MsgId"`
			CreDtTm string `xml:"CreDtTm"`
		} `xml:"GrpHdr"`
		Ntfctn struct {
			ID      string `xml:"Id"`
			CreDtTm string `xml:"CreDtTm"`
			Acct    struct {
				IBAN string `xml:"Id>IBAN"`
				Ccy  string `xml:"Ccy"`
			} `xml:"Acct"`
			Ntry []camtEntry `xml:"Ntry"`
		} `xml:"Ntfctn"`
	} `xml:"BkToCstmrDbtCdtNtfctn"`
}

type camtAmt struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

type camtParty struct {
	Nm string `xml:"Pty>Nm"`
}

type camtEntry struct {
	NtryRef   string  `xml:"NtryRef"`
	Amt       camtAmt `xml:"Amt"`
	CdtDbtInd string  `xml:"CdtDbtInd"`
	Sts       string  `xml:"Sts>Cd"`
	BookgDt   string  `xml:"BookgDt>Dt"`
	ValDt     string  `xml:"ValDt>Dt"`
	AcctSvcr  string  `xml:"AcctSvcrRef"`
	BkTxCd    struct {
		Domn string `xml:"Domn>Cd"`
		Fmly string `xml:"Domn>Fmly>Cd"`
		Sub  string `xml:"Domn>Fmly>SubFmlyCd"`
	} `xml:"BkTxCd"`
	TxDtls struct {
		Refs struct {
			AcctSvcrRef string `xml:"AcctSvcrRef"`
			EndToEndID  string `xml:"EndToEndId"`
		} `xml:"Refs"`
		Amt      camtAmt    `xml:"Amt"`
		Dbtr     *camtParty `xml:"RltdPties>Dbtr,omitempty"`
		DbtrAcct string     `xml:"RltdPties>DbtrAcct>Id>IBAN,omitempty"`
		Cdtr     *camtParty `xml:"RltdPties>Cdtr,omitempty"`
		CdtrAcct string     `xml:"RltdPties>CdtrAcct>Id>IBAN,omitempty"`
		Ustrd    string     `xml:"RmtInf>Ustrd,omitempty"`
		RtrRsn   string     `xml:"RtrInf>Rsn>Cd,omitempty"`
	} `xml:"NtryDtls>TxDtls"`
}

// SandboxNotification writes a camt.054.001.08 notification for the entries on account acct.
func SandboxNotification(acct Account, entries []SandboxEntry, now time.Time) ([]byte, error) {
	var d camtDoc
	d.Ntf.GrpHdr.MsgID = "SBX" + ids.Alnum(20)
	d.Ntf.GrpHdr.CreDtTm = now.UTC().Format("2006-01-02T15:04:05Z")
	d.Ntf.Ntfctn.ID = d.Ntf.GrpHdr.MsgID
	d.Ntf.Ntfctn.CreDtTm = d.Ntf.GrpHdr.CreDtTm
	d.Ntf.Ntfctn.Acct.IBAN, d.Ntf.Ntfctn.Acct.Ccy = acct.IBAN, acct.Currency
	for _, e := range entries {
		ref := "SBX" + ids.Alnum(16)
		day := e.BookingDate
		if day.IsZero() {
			day = now
		}
		var n camtEntry
		n.NtryRef, n.AcctSvcr = ref, ref
		amt := camtAmt{Ccy: acct.Currency, Value: e.Amount.Abs().String()}
		n.Amt, n.TxDtls.Amt = amt, amt
		n.CdtDbtInd = "CRDT"
		n.BkTxCd.Domn, n.BkTxCd.Fmly, n.BkTxCd.Sub = "PMNT", "RCDT", "ESCT"
		if e.Amount.Sign() < 0 {
			n.CdtDbtInd = "DBIT"
			n.BkTxCd.Fmly = "ICDT"
		}
		n.Sts = "BOOK"
		n.BookgDt, n.ValDt = day.UTC().Format("2006-01-02"), day.UTC().Format("2006-01-02")
		n.TxDtls.Refs.AcctSvcrRef = ref
		n.TxDtls.Refs.EndToEndID = e.EndToEndID
		if n.TxDtls.Refs.EndToEndID == "" {
			n.TxDtls.Refs.EndToEndID = "NOTPROVIDED"
		}
		party := &camtParty{Nm: e.CounterpartyName}
		if e.Amount.Sign() < 0 {
			n.TxDtls.Cdtr, n.TxDtls.CdtrAcct = party, e.CounterpartyIBAN
		} else {
			n.TxDtls.Dbtr, n.TxDtls.DbtrAcct = party, e.CounterpartyIBAN
		}
		n.TxDtls.Ustrd = e.Concept
		n.TxDtls.RtrRsn = e.ReturnReason
		if e.ReturnReason != "" {
			n.BkTxCd.Sub = "RRTN"
		}
		d.Ntf.Ntfctn.Ntry = append(d.Ntf.Ntfctn.Ntry, n)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SandboxBook makes the sandbox bank book entries on a sandbox account and imports its
// notification like any statement.
func (s *Service) SandboxBook(ctx context.Context, iban string, entries []SandboxEntry) (ImportResult, error) {
	acct, err := s.account(ctx, iban)
	if err != nil {
		return ImportResult{}, err
	}
	if !acct.Sandbox {
		return ImportResult{}, ErrAccountNotFound
	}
	raw, err := SandboxNotification(acct, entries, s.Now())
	if err != nil {
		return ImportResult{}, err
	}
	stmts, err := bankfile.ParseCAMT(bytes.NewReader(raw))
	if err != nil {
		return ImportResult{}, fmt.Errorf("sandbox bank wrote a file it cannot read: %w", err)
	}
	return s.Import(ctx, acct.IBAN, "sandbox", raw, stmts)
}

// SandboxTransferIn is an incoming transfer (POST /sandbox/bank/transactions and the sandbox
// payment of a bank-transfer payment).
type SandboxTransferIn struct {
	IBAN             string
	Amount           string
	Currency         string
	Concept          string
	CounterpartyName string
	CounterpartyIBAN string
	BookingDate      string
}

// SandboxTransfer validates and books one sandbox movement on an account of the integration,
// returning the imported transaction.
func (s *Service) SandboxTransfer(ctx context.Context, integrationID int64, in SandboxTransferIn) (Transaction, error) {
	f := errcode.Fields{}
	acct, err := s.Accounts.Get(ctx, integrationID, in.IBAN)
	if err != nil || !acct.Sandbox {
		return Transaction{}, ErrAccountNotFound
	}
	currency := strings.ToUpper(strings.TrimSpace(in.Currency))
	if currency == "" {
		currency = acct.Currency
	}
	if currency != acct.Currency {
		f.Add("currency", "The account is in %s.", acct.Currency)
	}
	scale, _ := money.FiatScale(acct.Currency)
	amount, err := money.Parse(strings.TrimSpace(in.Amount), scale, money.ParseOptions{AllowNegative: true})
	if err != nil {
		f.Add("amount", "%s", err.Error())
	} else if amount.IsZero() {
		f.Add("amount", "The amount must not be zero.")
	}
	cp := strings.TrimSpace(in.CounterpartyIBAN)
	if cp != "" {
		if cp, err = bankacct.IBAN(cp); err != nil {
			f.Add("counterparty_iban", "%s", err.Error())
		}
	}
	var day time.Time
	if in.BookingDate != "" {
		if day, err = time.Parse("2006-01-02", in.BookingDate); err != nil {
			f.Add("booking_date", "The booking date must be YYYY-MM-DD.")
		}
	}
	if len(in.Concept) > 140 {
		f.Add("concept", "The concept must not be greater than 140 characters.")
	}
	if err := f.Err(); err != nil {
		return Transaction{}, err
	}
	name := strings.TrimSpace(in.CounterpartyName)
	if name == "" {
		name = "Sandbox Payer"
	}
	res, err := s.SandboxBook(ctx, acct.IBAN, []SandboxEntry{{Amount: amount, Concept: in.Concept, CounterpartyName: name,
		CounterpartyIBAN: cp, BookingDate: day}})
	if err != nil {
		return Transaction{}, err
	}
	return scanTransaction(s.DB.QueryRow(ctx, "SELECT "+txColumns+" FROM bank_transactions WHERE import_id = ? ORDER BY id DESC LIMIT 1", res.ImportID))
}

// RunSandboxBank executes exported and pending payouts of sandbox accounts every interval: it
// exports them to pain.001, reads the file back like a bank would, and books their debits —
// or, for a creditor IBAN on the sandbox's failing list, the debit and a return.
func (s *Service) RunSandboxBank(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.sandboxBankPass(ctx); err != nil && ctx.Err() == nil {
				log.Error("sandbox bank", "err", err)
			}
		}
	}
}

// SandboxFailingIBAN is a creditor account the sandbox bank returns every payout from (AC04:
// account closed), so integrators can test a failed payout. Bank code 9999 is not a real bank.
const SandboxFailingIBAN = "ES8999990000150000000001"

func (s *Service) sandboxBankPass(ctx context.Context) error {
	rows, err := s.DB.Query(ctx, "SELECT DISTINCT iban FROM bank_payouts WHERE sandbox AND status = 'pending'")
	if err != nil {
		return err
	}
	var ibans []string
	for rows.Next() {
		var iban string
		if err := rows.Scan(&iban); err != nil {
			rows.Close()
			return err
		}
		ibans = append(ibans, iban)
	}
	rows.Close()
	var errs []error
	for _, iban := range ibans {
		// One account's trouble must not stop the others' payouts.
		if err := s.sandboxExecute(ctx, iban); err != nil {
			errs = append(errs, fmt.Errorf("account %s: %w", iban, err))
		}
	}
	return errors.Join(errs...)
}

// sandboxExecute exports an account's pending payouts and books their debits (and returns).
func (s *Service) sandboxExecute(ctx context.Context, iban string) error {
	b, ok, err := s.ExportBatch(ctx, iban)
	if err != nil || !ok {
		return err
	}
	batch, err := bankfile.ParsePain001(bytes.NewReader(b.File))
	if err != nil {
		return fmt.Errorf("sandbox bank cannot read its pain.001: %w", err)
	}
	var entries, returns []SandboxEntry
	for _, p := range batch.Payments {
		entries = append(entries, SandboxEntry{Amount: p.Amount.Neg(), Concept: p.Remittance, CounterpartyName: p.CreditorName,
			CounterpartyIBAN: p.CreditorIBAN, EndToEndID: p.EndToEndID})
		if p.CreditorIBAN == SandboxFailingIBAN {
			returns = append(returns, SandboxEntry{Amount: p.Amount, Concept: "RETURN " + p.Remittance, CounterpartyName: p.CreditorName,
				CounterpartyIBAN: p.CreditorIBAN, EndToEndID: p.EndToEndID, ReturnReason: "AC04"})
		}
	}
	if _, err := s.SandboxBook(ctx, iban, entries); err != nil {
		return err
	}
	if len(returns) > 0 {
		_, err = s.SandboxBook(ctx, iban, returns)
	}
	return err
}
