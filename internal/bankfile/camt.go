package bankfile

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/money"
)

const isoNS = "urn:iso:std:iso:20022:tech:xsd:"

// camtFormats maps the supported Document namespaces to their message.
var camtFormats = map[string]struct {
	format, root, report string
	v08                  bool
}{
	isoNS + FormatCAMT053v02: {FormatCAMT053v02, "BkToCstmrStmt", "Stmt", false},
	isoNS + FormatCAMT053v08: {FormatCAMT053v08, "BkToCstmrStmt", "Stmt", true},
	isoNS + FormatCAMT054v02: {FormatCAMT054v02, "BkToCstmrDbtCdtNtfctn", "Ntfctn", false},
	isoNS + FormatCAMT054v08: {FormatCAMT054v08, "BkToCstmrDbtCdtNtfctn", "Ntfctn", true},
}

// The x* types mirror the subset of the camt schemas we read. Every leaf is
// a string so that validation, not encoding/xml, words the error messages.
// Where .02 and .08 differ the struct holds both shapes: Sts is text in .02
// (EntryStatus2Code) and <Cd>/<Prtry> in .08 (EntryStatus1Choice); a party is
// <Dbtr><Nm> in .02 (PartyIdentification32) and <Dbtr><Pty><Nm> in .08
// (Party40Choice); only .08 has TxDtls/Amt and TxDtls/CdtDbtInd.

type xGrpHdr struct {
	MsgID   string `xml:"MsgId"`
	CreDtTm string `xml:"CreDtTm"`
}

type xAmt struct {
	Ccy   *string `xml:"Ccy,attr"`
	Value string  `xml:",chardata"`
}

type xDate struct {
	Dt   string `xml:"Dt"`
	DtTm string `xml:"DtTm"`
}

type xAcct struct {
	Id struct {
		IBAN string `xml:"IBAN"`
	} `xml:"Id"`
	Ccy string `xml:"Ccy"`
}

type xFrToDt struct {
	FrDtTm string `xml:"FrDtTm"`
	ToDtTm string `xml:"ToDtTm"`
}

type xBal struct {
	Tp struct {
		CdOrPrtry struct {
			Cd    string `xml:"Cd"`
			Prtry string `xml:"Prtry"`
		} `xml:"CdOrPrtry"`
	} `xml:"Tp"`
	Amt       *xAmt  `xml:"Amt"`
	CdtDbtInd string `xml:"CdtDbtInd"`
	Dt        *xDate `xml:"Dt"`
}

type xSts struct {
	Text  string `xml:",chardata"`
	Cd    string `xml:"Cd"`
	Prtry string `xml:"Prtry"`
}

type xBkTxCd struct {
	Domn *struct {
		Cd   string `xml:"Cd"`
		Fmly struct {
			Cd        string `xml:"Cd"`
			SubFmlyCd string `xml:"SubFmlyCd"`
		} `xml:"Fmly"`
	} `xml:"Domn"`
	Prtry *struct {
		Cd string `xml:"Cd"`
	} `xml:"Prtry"`
}

type xAmtDtls struct {
	InstdAmt *struct {
		Amt *xAmt `xml:"Amt"`
	} `xml:"InstdAmt"`
	TxAmt *struct {
		Amt *xAmt `xml:"Amt"`
	} `xml:"TxAmt"`
}

type xParty struct {
	Nm  string `xml:"Nm"`
	Pty struct {
		Nm string `xml:"Nm"`
	} `xml:"Pty"`
}

func (p *xParty) name() string {
	if p == nil {
		return ""
	}
	if p.Nm != "" {
		return clean(p.Nm)
	}
	return clean(p.Pty.Nm)
}

type xAcctRef struct {
	Id struct {
		IBAN string `xml:"IBAN"`
	} `xml:"Id"`
}

func (a *xAcctRef) iban() string {
	if a == nil {
		return ""
	}
	return compactIBAN(a.Id.IBAN)
}

type xTxDtls struct {
	Refs struct {
		AcctSvcrRef string `xml:"AcctSvcrRef"`
		InstrID     string `xml:"InstrId"`
		EndToEndID  string `xml:"EndToEndId"`
		TxID        string `xml:"TxId"`
	} `xml:"Refs"`
	Amt       *xAmt     `xml:"Amt"`
	CdtDbtInd string    `xml:"CdtDbtInd"`
	AmtDtls   *xAmtDtls `xml:"AmtDtls"`
	BkTxCd    *xBkTxCd  `xml:"BkTxCd"`
	RltdPties struct {
		Dbtr     *xParty   `xml:"Dbtr"`
		DbtrAcct *xAcctRef `xml:"DbtrAcct"`
		Cdtr     *xParty   `xml:"Cdtr"`
		CdtrAcct *xAcctRef `xml:"CdtrAcct"`
	} `xml:"RltdPties"`
	RmtInf *struct {
		Ustrd []string `xml:"Ustrd"`
		Strd  []struct {
			CdtrRefInf struct {
				Ref string `xml:"Ref"`
			} `xml:"CdtrRefInf"`
		} `xml:"Strd"`
	} `xml:"RmtInf"`
	RtrInf *struct {
		Rsn struct {
			Cd    string `xml:"Cd"`
			Prtry string `xml:"Prtry"`
		} `xml:"Rsn"`
	} `xml:"RtrInf"`
	AddtlTxInf string `xml:"AddtlTxInf"`
}

type xNtry struct {
	NtryRef     string    `xml:"NtryRef"`
	Amt         *xAmt     `xml:"Amt"`
	CdtDbtInd   string    `xml:"CdtDbtInd"`
	RvslInd     string    `xml:"RvslInd"`
	Sts         *xSts     `xml:"Sts"`
	BookgDt     *xDate    `xml:"BookgDt"`
	ValDt       *xDate    `xml:"ValDt"`
	AcctSvcrRef string    `xml:"AcctSvcrRef"`
	BkTxCd      *xBkTxCd  `xml:"BkTxCd"`
	AmtDtls     *xAmtDtls `xml:"AmtDtls"`
	NtryDtls    []struct {
		TxDtls []xTxDtls `xml:"TxDtls"`
	} `xml:"NtryDtls"`
	AddtlNtryInf string `xml:"AddtlNtryInf"`
}

// ParseCAMT parses a camt.053 (statement) or camt.054 (debit/credit
// notification) file, version .001.02 or .001.08, detected from the Document
// namespace. It returns one Statement per <Stmt> or <Ntfctn>, in file order,
// because one message may report several accounts.
//
// The file is read as a stream: one <Ntry> is decoded at a time, so memory
// stays proportional to the parsed result, not to the XML. Any invalid
// element rejects the whole file with a *FormatError.
func ParseCAMT(r io.Reader) ([]*Statement, error) {
	p := &camtParser{dec: xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))}
	p.dec.CharsetReader = charsetReader
	return p.parse()
}

type camtParser struct {
	dec    *xml.Decoder
	format string
	v08    bool
	hdr    xGrpHdr
}

// next returns the next start element among the children of the current
// element, or nil at its end element.
func (p *camtParser) next(path string) (*xml.StartElement, error) {
	for {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, p.syntaxErr(path, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return &t, nil
		case xml.EndElement:
			return nil, nil
		}
	}
}

func (p *camtParser) syntaxErr(path string, err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &FormatError{Path: path, Line: se.Line, Msg: "malformed XML: " + se.Msg}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FormatError{Path: path, Msg: "file ends before the document is complete"}
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		return fe
	}
	return &FormatError{Path: path, Msg: "cannot read XML: " + err.Error()}
}

func (p *camtParser) decode(v any, start *xml.StartElement, path string) error {
	if err := p.dec.DecodeElement(v, start); err != nil {
		return p.syntaxErr(path, err)
	}
	return nil
}

func (p *camtParser) parse() ([]*Statement, error) {
	var root *xml.StartElement
	for root == nil {
		tok, err := p.dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &FormatError{Msg: "empty file: no XML document"}
			}
			return nil, p.syntaxErr("", err)
		}
		if t, ok := tok.(xml.StartElement); ok {
			root = &t
		}
	}
	if root.Name.Local != "Document" {
		return nil, pathErr(root.Name.Local, "root element must be Document")
	}
	f, ok := camtFormats[root.Name.Space]
	if !ok {
		if root.Name.Space == "" {
			return nil, pathErr("Document", "no namespace: cannot tell the camt message and version")
		}
		return nil, pathErr("Document", "unsupported namespace %q (supported: camt.053.001.02, camt.053.001.08, camt.054.001.02, camt.054.001.08)", root.Name.Space)
	}
	p.format, p.v08 = f.format, f.v08

	msg, err := p.next("Document")
	if err != nil {
		return nil, err
	}
	if msg == nil || msg.Name.Local != f.root {
		return nil, pathErr("Document", "%s must contain %s", f.format, f.root)
	}
	base := "Document/" + f.root
	var out []*Statement
	haveHdr := false
	for {
		el, err := p.next(base)
		if err != nil {
			return nil, err
		}
		if el == nil {
			break
		}
		switch el.Name.Local {
		case "GrpHdr":
			if err := p.decode(&p.hdr, el, base+"/GrpHdr"); err != nil {
				return nil, err
			}
			haveHdr = true
		case f.report:
			if !haveHdr {
				return nil, pathErr(base, "GrpHdr must come before %s", f.report)
			}
			path := fmt.Sprintf("%s/%s[%d]", base, f.report, len(out)+1)
			st, err := p.parseReport(el, path)
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		default:
			if err := p.dec.Skip(); err != nil {
				return nil, p.syntaxErr(base+"/"+el.Name.Local, err)
			}
		}
	}
	// Trailing garbage after </Document> is still a broken file.
	for {
		tok, err := p.dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, p.syntaxErr("", err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			return nil, pathErr("", "content after the end of Document")
		}
	}
	if !haveHdr {
		return nil, pathErr(base, "required element GrpHdr is missing")
	}
	if p.hdr.MsgID = clean(p.hdr.MsgID); p.hdr.MsgID == "" {
		return nil, pathErr(base+"/GrpHdr", "required element MsgId is missing")
	}
	hdrTime, err := parseDateTime(p.hdr.CreDtTm, base+"/GrpHdr/CreDtTm", true)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, pathErr(base, "required element %s is missing", f.report)
	}
	for _, st := range out {
		st.MessageID = p.hdr.MsgID
		if st.CreatedAt.IsZero() {
			st.CreatedAt = hdrTime
		}
	}
	return out, nil
}

// parseReport reads one <Stmt> or <Ntfctn>.
func (p *camtParser) parseReport(start *xml.StartElement, path string) (*Statement, error) {
	st := &Statement{Format: p.format}
	var (
		bankRefs           []string
		nNtry, nBal        int
		haveAcct, haveID   bool
		creDtTm            string
		frToDt             *xFrToDt
		acctCcy, firstCcy  string
		acctPath           = path + "/Acct"
		opening, closing   *money.Amount
		openCcy, closCcy   string
		openPath, closPath string
	)
	for {
		el, err := p.next(path)
		if err != nil {
			return nil, err
		}
		if el == nil {
			break
		}
		switch name := el.Name.Local; name {
		case "Id":
			var s string
			if err := p.decode(&s, el, path+"/Id"); err != nil {
				return nil, err
			}
			st.StatementID, haveID = clean(s), true
		case "CreDtTm":
			if err := p.decode(&creDtTm, el, path+"/CreDtTm"); err != nil {
				return nil, err
			}
		case "FrToDt":
			frToDt = &xFrToDt{}
			if err := p.decode(frToDt, el, path+"/FrToDt"); err != nil {
				return nil, err
			}
		case "Acct":
			var a xAcct
			if err := p.decode(&a, el, acctPath); err != nil {
				return nil, err
			}
			haveAcct = true
			iban := compactIBAN(a.Id.IBAN)
			if iban == "" {
				return nil, pathErr(acctPath+"/Id", "required element IBAN is missing (only IBAN accounts are supported)")
			}
			if _, err := bankacct.IBAN(iban); err != nil {
				return nil, pathErr(acctPath+"/Id/IBAN", "%q is not a valid IBAN: %v", iban, err)
			}
			st.AccountIBAN = iban
			if a.Ccy = strings.TrimSpace(a.Ccy); a.Ccy != "" {
				if _, ok := money.FiatScale(a.Ccy); !ok || a.Ccy != strings.ToUpper(a.Ccy) {
					return nil, pathErr(acctPath+"/Ccy", "currency %q is not supported", a.Ccy)
				}
				acctCcy = a.Ccy
			}
		case "Bal":
			nBal++
			bp := fmt.Sprintf("%s/Bal[%d]", path, nBal)
			var b xBal
			if err := p.decode(&b, el, bp); err != nil {
				return nil, err
			}
			amt, ccy, err := parseBalance(&b, bp)
			if err != nil {
				return nil, err
			}
			switch b.Tp.CdOrPrtry.Cd {
			case "OPBD":
				opening, openCcy, openPath = &amt, ccy, bp
			case "CLBD":
				closing, closCcy, closPath = &amt, ccy, bp
			}
		case "Ntry":
			nNtry++
			np := fmt.Sprintf("%s/Ntry[%d]", path, nNtry)
			if !haveAcct {
				return nil, pathErr(path, "Acct must come before Ntry")
			}
			var n xNtry
			if err := p.decode(&n, el, np); err != nil {
				return nil, err
			}
			entries, refs, err := p.convertEntry(&n, np, st.AccountIBAN, acctCcy)
			if err != nil {
				return nil, err
			}
			if firstCcy == "" {
				firstCcy = entries[0].Currency
			}
			st.Entries = append(st.Entries, entries...)
			bankRefs = append(bankRefs, refs...)
		default:
			if err := p.dec.Skip(); err != nil {
				return nil, p.syntaxErr(path+"/"+name, err)
			}
		}
	}
	if !haveID {
		return nil, pathErr(path, "required element Id is missing")
	}
	if !haveAcct {
		return nil, pathErr(path, "required element Acct is missing")
	}
	if creDtTm != "" || !p.v08 && strings.HasPrefix(p.format, "camt.053") {
		// CreDtTm is mandatory in camt.053.001.02 and optional elsewhere.
		t, err := parseDateTime(creDtTm, path+"/CreDtTm", true)
		if err != nil {
			return nil, err
		}
		st.CreatedAt = t
	}
	if frToDt != nil {
		var err error
		if st.From, err = parseDateTime(frToDt.FrDtTm, path+"/FrToDt/FrDtTm", true); err != nil {
			return nil, err
		}
		if st.To, err = parseDateTime(frToDt.ToDtTm, path+"/FrToDt/ToDtTm", true); err != nil {
			return nil, err
		}
		if st.To.Before(st.From) {
			return nil, pathErr(path+"/FrToDt", "ToDtTm is before FrDtTm")
		}
	}
	st.Currency = acctCcy
	if st.Currency == "" {
		st.Currency = firstCcy
	}
	for _, b := range []struct{ ccy, path string }{{openCcy, openPath}, {closCcy, closPath}} {
		if b.ccy != "" && st.Currency != "" && b.ccy != st.Currency {
			return nil, pathErr(b.path+"/Amt", "balance currency %s differs from the account currency %s", b.ccy, st.Currency)
		}
	}
	st.OpeningBalance, st.ClosingBalance = opening, closing
	if st.Entries == nil {
		st.Entries = []Entry{}
	}
	fingerprint(st, bankRefs)
	return st, nil
}

func parseBalance(b *xBal, path string) (money.Amount, string, error) {
	if b.Tp.CdOrPrtry.Cd == "" && b.Tp.CdOrPrtry.Prtry == "" {
		return money.Amount{}, "", pathErr(path, "required element Tp/CdOrPrtry is missing")
	}
	if b.Amt == nil {
		return money.Amount{}, "", pathErr(path, "required element Amt is missing")
	}
	amt, ccy, err := parseAmount(b.Amt, path+"/Amt")
	if err != nil {
		return money.Amount{}, "", err
	}
	neg, err := parseCdtDbt(b.CdtDbtInd, path)
	if err != nil {
		return money.Amount{}, "", err
	}
	if b.Dt == nil {
		return money.Amount{}, "", pathErr(path, "required element Dt is missing")
	}
	if _, err := parseDateChoice(b.Dt, path+"/Dt"); err != nil {
		return money.Amount{}, "", err
	}
	if neg {
		amt = amt.Neg()
	}
	return amt, ccy, nil
}

// convertEntry validates one <Ntry> and splits it into Entries, one per
// transaction detail. It also returns each Entry's bank reference key for the
// fingerprint.
func (p *camtParser) convertEntry(n *xNtry, path, acctIBAN, acctCcy string) ([]Entry, []string, error) {
	if n.Amt == nil {
		return nil, nil, pathErr(path, "required element Amt is missing")
	}
	amt, ccy, err := parseAmount(n.Amt, path+"/Amt")
	if err != nil {
		return nil, nil, err
	}
	if acctCcy != "" && ccy != acctCcy {
		return nil, nil, pathErr(path+"/Amt", "entry currency %s differs from the account currency %s", ccy, acctCcy)
	}
	neg, err := parseCdtDbt(n.CdtDbtInd, path)
	if err != nil {
		return nil, nil, err
	}
	reversal := false
	switch strings.TrimSpace(n.RvslInd) {
	case "", "false", "0":
	case "true", "1":
		reversal = true
	default:
		return nil, nil, pathErr(path+"/RvslInd", "%q is not true or false", n.RvslInd)
	}
	status, err := p.status(n.Sts, path)
	if err != nil {
		return nil, nil, err
	}
	if n.BookgDt == nil {
		return nil, nil, pathErr(path, "required element BookgDt is missing")
	}
	booking, err := parseDateChoice(n.BookgDt, path+"/BookgDt")
	if err != nil {
		return nil, nil, err
	}
	var value time.Time
	if n.ValDt != nil {
		if value, err = parseDateChoice(n.ValDt, path+"/ValDt"); err != nil {
			return nil, nil, err
		}
	}
	if n.AmtDtls != nil {
		if err := checkAmtDtls(n.AmtDtls, path+"/AmtDtls"); err != nil {
			return nil, nil, err
		}
	}

	base := Entry{
		EntryRef:    clean(n.AcctSvcrRef),
		BookingDate: booking,
		ValueDate:   value,
		Currency:    ccy,
		Reversal:    reversal,
		Status:      status,
		BankTxCode:  bankTxCode(n.BkTxCd),
		Remittance:  clean(n.AddtlNtryInf),
	}
	bankRef := base.EntryRef
	if base.EntryRef == "" {
		base.EntryRef = clean(n.NtryRef)
	}

	type detail struct {
		tx   *xTxDtls
		path string
	}
	var details []detail
	for i := range n.NtryDtls {
		for j := range n.NtryDtls[i].TxDtls {
			details = append(details, detail{&n.NtryDtls[i].TxDtls[j],
				fmt.Sprintf("%s/NtryDtls[%d]/TxDtls[%d]", path, i+1, j+1)})
		}
	}
	signed := func(a money.Amount, neg bool) money.Amount {
		if neg {
			return a.Neg()
		}
		return a
	}
	if len(details) == 0 {
		e := base
		e.Amount, e.Direction = signed(amt, neg), direction(neg)
		return []Entry{e}, []string{bankRef}, nil
	}

	entries := make([]Entry, 0, len(details))
	refs := make([]string, 0, len(details))
	sum := money.Zero(amt.Scale())
	for k, d := range details {
		tx := d.tx
		e := base
		txNeg := neg
		if tx.CdtDbtInd != "" {
			if txNeg, err = parseCdtDbt(tx.CdtDbtInd, d.path); err != nil {
				return nil, nil, err
			}
		}
		txAmt, found, err := p.detailAmount(tx, d.path, ccy)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case len(details) == 1:
			// The entry amount is what was booked; a single detail's
			// instructed or transaction amount may predate charges.
			e.Amount = signed(amt, neg)
			txNeg = neg
		case !found:
			return nil, nil, pathErr(d.path, "batch entry with %d transactions: this transaction has no amount in %s (Amt or AmtDtls/TxAmt/Amt)", len(details), ccy)
		default:
			e.Amount = signed(txAmt, txNeg)
		}
		e.Direction = direction(txNeg)
		sum = sum.Add(e.Amount)

		e.InstructionID = clean(tx.Refs.InstrID)
		e.TxID = clean(tx.Refs.TxID)
		if e2e := clean(tx.Refs.EndToEndID); e2e != "NOTPROVIDED" {
			e.EndToEndID = e2e
		}
		if rmt := remittance(tx); rmt != "" {
			e.Remittance = rmt
		} else if add := clean(tx.AddtlTxInf); add != "" {
			e.Remittance = add
		}
		e.CounterpartyName, e.CounterpartyIBAN = counterparty(tx, txNeg, reversal, acctIBAN)
		if tx.RtrInf != nil {
			e.ReturnReason = clean(tx.RtrInf.Rsn.Cd)
			if e.ReturnReason == "" {
				e.ReturnReason = clean(tx.RtrInf.Rsn.Prtry)
			}
		}
		if code := bankTxCode(tx.BkTxCd); code != "" {
			e.BankTxCode = code
		}
		ref := bankRef
		if r := clean(tx.Refs.AcctSvcrRef); r != "" {
			e.EntryRef, ref = r, r
		} else if ref != "" && len(details) > 1 {
			ref = ref + "#" + strconv.Itoa(k+1)
		}
		entries = append(entries, e)
		refs = append(refs, ref)
	}
	if want := signed(amt, neg); len(details) > 1 && !sum.Equal(want) {
		return nil, nil, pathErr(path, "transaction amounts sum to %s but the entry amount is %s", sum, want)
	}
	return entries, refs, nil
}

// detailAmount validates every amount of a transaction detail and returns the
// one that states its share of the entry: TxDtls/Amt (.08), else
// AmtDtls/TxAmt/Amt, else AmtDtls/InstdAmt/Amt, each only when in the entry
// currency.
func (p *camtParser) detailAmount(tx *xTxDtls, path, ccy string) (money.Amount, bool, error) {
	if tx.Amt != nil {
		if !p.v08 {
			return money.Amount{}, false, pathErr(path+"/Amt", "TxDtls/Amt does not exist in %s", p.format)
		}
		a, c, err := parseAmount(tx.Amt, path+"/Amt")
		if err != nil {
			return money.Amount{}, false, err
		}
		if c != ccy {
			return money.Amount{}, false, pathErr(path+"/Amt", "transaction currency %s differs from the entry currency %s", c, ccy)
		}
		if tx.AmtDtls != nil {
			if err := checkAmtDtls(tx.AmtDtls, path+"/AmtDtls"); err != nil {
				return money.Amount{}, false, err
			}
		}
		return a, true, nil
	}
	if tx.AmtDtls == nil {
		return money.Amount{}, false, nil
	}
	if err := checkAmtDtls(tx.AmtDtls, path+"/AmtDtls"); err != nil {
		return money.Amount{}, false, err
	}
	for _, x := range []*xAmt{amtOf(tx.AmtDtls.TxAmt), amtOf(tx.AmtDtls.InstdAmt)} {
		if x != nil && x.Ccy != nil && strings.TrimSpace(*x.Ccy) == ccy {
			a, _, _ := parseAmount(x, "")
			return a, true, nil
		}
	}
	return money.Amount{}, false, nil
}

func amtOf(d *struct {
	Amt *xAmt `xml:"Amt"`
}) *xAmt {
	if d == nil {
		return nil
	}
	return d.Amt
}

// checkAmtDtls validates the amounts we may read from an AmtDtls block.
func checkAmtDtls(d *xAmtDtls, path string) error {
	for _, c := range []struct {
		name string
		v    *struct {
			Amt *xAmt `xml:"Amt"`
		}
	}{{"InstdAmt", d.InstdAmt}, {"TxAmt", d.TxAmt}} {
		if c.v == nil {
			continue
		}
		if c.v.Amt == nil {
			return pathErr(path+"/"+c.name, "required element Amt is missing")
		}
		if _, _, err := parseAmount(c.v.Amt, path+"/"+c.name+"/Amt"); err != nil {
			return err
		}
	}
	return nil
}

func (p *camtParser) status(s *xSts, path string) (string, error) {
	if s == nil {
		return "", pathErr(path, "required element Sts is missing")
	}
	var v string
	if p.v08 {
		v = clean(s.Cd)
		if v == "" {
			v = clean(s.Prtry)
		}
	} else {
		v = clean(s.Text)
	}
	if v == "" {
		if p.v08 {
			return "", pathErr(path+"/Sts", "required element Cd is missing")
		}
		return "", pathErr(path+"/Sts", "status is empty")
	}
	if !p.v08 && v != StatusBooked && v != StatusPending && v != StatusInfo {
		return "", pathErr(path+"/Sts", "%q is not BOOK, PDNG or INFO", v)
	}
	return v, nil
}

// counterparty picks the other party of a transaction: the debtor of a
// credit, the creditor of a debit. A reversal undoes an operation of the
// opposite direction and keeps that operation's parties, so the sides swap.
// Banks fill RltdPties unevenly (returns especially), so when the expected
// side is empty the other side is used unless it is our own account.
func counterparty(tx *xTxDtls, debit, reversal bool, own string) (string, string) {
	rp := &tx.RltdPties
	cdtrName, cdtrIBAN := rp.Cdtr.name(), rp.CdtrAcct.iban()
	dbtrName, dbtrIBAN := rp.Dbtr.name(), rp.DbtrAcct.iban()
	if debit != reversal {
		cdtrName, cdtrIBAN, dbtrName, dbtrIBAN = dbtrName, dbtrIBAN, cdtrName, cdtrIBAN
	}
	// Now dbtr* is the expected side.
	if dbtrName == "" && dbtrIBAN == "" && cdtrIBAN != own {
		return cdtrName, cdtrIBAN
	}
	return dbtrName, dbtrIBAN
}

func remittance(tx *xTxDtls) string {
	if tx.RmtInf == nil {
		return ""
	}
	var parts []string
	for _, u := range tx.RmtInf.Ustrd {
		if u = clean(u); u != "" {
			parts = append(parts, u)
		}
	}
	for _, s := range tx.RmtInf.Strd {
		if r := clean(s.CdtrRefInf.Ref); r != "" {
			parts = append(parts, r)
		}
	}
	return strings.Join(parts, " ")
}

func bankTxCode(b *xBkTxCd) string {
	if b == nil {
		return ""
	}
	if b.Domn != nil && clean(b.Domn.Cd) != "" {
		return clean(b.Domn.Cd) + "/" + clean(b.Domn.Fmly.Cd) + "/" + clean(b.Domn.Fmly.SubFmlyCd)
	}
	if b.Prtry != nil {
		return clean(b.Prtry.Cd)
	}
	return ""
}

func direction(neg bool) string {
	if neg {
		return Debit
	}
	return Credit
}

func parseCdtDbt(s, path string) (neg bool, err error) {
	switch strings.TrimSpace(s) {
	case "CRDT":
		return false, nil
	case "DBIT":
		return true, nil
	case "":
		return false, pathErr(path, "required element CdtDbtInd is missing")
	}
	return false, pathErr(path+"/CdtDbtInd", "%q is not CRDT or DBIT", s)
}

// parseAmount parses an ActiveOrHistoricCurrencyAndAmount: a non-negative
// decimal with at most the currency's ISO 4217 decimals. The sign of a camt
// amount lives in CdtDbtInd, so a '-' is a malformed file, not a debit.
func parseAmount(a *xAmt, path string) (money.Amount, string, error) {
	if a.Ccy == nil {
		return money.Amount{}, "", pathErr(path, "required attribute Ccy is missing")
	}
	ccy := strings.TrimSpace(*a.Ccy)
	scale, ok := money.FiatScale(ccy)
	if !ok || ccy != strings.ToUpper(ccy) {
		return money.Amount{}, "", pathErr(path, "currency %q is not supported", ccy)
	}
	v := strings.TrimSpace(a.Value)
	amt, err := money.Parse(v, scale, money.ParseOptions{})
	switch {
	case err == nil:
		return amt, ccy, nil
	case errors.Is(err, money.ErrNegative):
		return money.Amount{}, "", pathErr(path, "%s is negative; the direction belongs in CdtDbtInd", quote(v))
	case errors.Is(err, money.ErrTooManyDecimals):
		return money.Amount{}, "", pathErr(path, "%s has more than the %d decimals of %s", quote(v), scale, ccy)
	case errors.Is(err, money.ErrEmpty):
		return money.Amount{}, "", pathErr(path, "amount is empty")
	default:
		return money.Amount{}, "", pathErr(path, "%s is not a decimal amount", quote(v))
	}
}

// parseDateChoice reads a DateAndDateTime(2)Choice as a calendar date.
func parseDateChoice(d *xDate, path string) (time.Time, error) {
	dt, dtm := strings.TrimSpace(d.Dt), strings.TrimSpace(d.DtTm)
	switch {
	case dt != "" && dtm != "":
		return time.Time{}, pathErr(path, "only one of Dt and DtTm may be given")
	case dt != "":
		return parseDate(dt, path+"/Dt")
	case dtm != "":
		t, err := parseDateTime(dtm, path+"/DtTm", true)
		if err != nil {
			return time.Time{}, err
		}
		y, m, dd := t.Date()
		return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC), nil
	}
	return time.Time{}, pathErr(path, "required element Dt or DtTm is missing")
}

// parseDate reads an xs:date (ISODate), which may carry a zone suffix.
func parseDate(s, path string) (time.Time, error) {
	for _, layout := range []string{time.DateOnly, "2006-01-02Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			y, m, d := t.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, pathErr(path, "%s is not a valid date (YYYY-MM-DD)", quote(s))
}

// parseDateTime reads an xs:dateTime (ISODateTime). Without a zone it is
// taken as UTC: ISO 20022 leaves it to the bank's local time, which we do not
// know, and UTC keeps the result stable across servers.
func parseDateTime(s, path string, required bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return time.Time{}, pathErr(path, "date-time is missing")
		}
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Location() != time.UTC {
				if _, off := t.Zone(); off == 0 {
					t = t.UTC()
				}
			}
			return t, nil
		}
	}
	return time.Time{}, pathErr(path, "%s is not a valid date-time (YYYY-MM-DDThh:mm:ss)", quote(s))
}

func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// clean trims and collapses internal whitespace (line breaks inside long
// XML text nodes are formatting, not content).
func clean(s string) string {
	if s == "" {
		return ""
	}
	return strings.Join(strings.Fields(s), " ")
}

func compactIBAN(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// charsetReader accepts the Latin-1 declarations some banks still emit;
// anything else but UTF-8 is refused rather than misread.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "iso_8859-1":
		return &latin1Reader{r: bufio.NewReader(in)}, nil
	}
	return nil, fmt.Errorf("unsupported XML encoding %q (use UTF-8 or ISO-8859-1)", label)
}

// latin1Reader transcodes ISO-8859-1 to UTF-8: every byte is the code point
// of the same value.
type latin1Reader struct {
	r    *bufio.Reader
	in   [4096]byte
	out  []byte
	done error
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		if l.done != nil {
			return 0, l.done
		}
		n, err := l.r.Read(l.in[:])
		l.out = l.out[:0]
		for _, b := range l.in[:n] {
			if b < 0x80 {
				l.out = append(l.out, b)
			} else {
				l.out = append(l.out, 0xC0|b>>6, 0x80|b&0x3F)
			}
		}
		l.done = err
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}
