package bankfile

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/money"
)

const isoNS = "urn:iso:std:iso:20022:tech:xsd:"

// camtMessages are the three camt cash-management reports, by the local
// name of their message element. Version .001.01 suffixed the element with
// "V01"; later versions do not.
var camtMessages = map[string]struct {
	msg, report, kind string
}{
	"BkToCstmrAcctRpt":      {"camt.052", "Rpt", KindReport},
	"BkToCstmrStmt":         {"camt.053", "Stmt", KindStatement},
	"BkToCstmrDbtCdtNtfctn": {"camt.054", "Ntfctn", KindNotification},
}

// camtVersion finds "camt.05x.001.NN" in a Document namespace: the ISO
// namespace of any version, and national variants that embed it (Austria's
// "APC:STUZZA:payments:ISO:camt.053.001.02:APC:STUZZA", Swiss and German
// usage guides keep the ISO one).
var camtVersion = regexp.MustCompile(`camt\.05[234]\.001\.(\d\d)`)

// otherISOMessage recognises other ISO 20022 messages, to name them when
// they are sent where a statement was expected.
var otherISOMessage = regexp.MustCompile(`[a-z]{4}\.\d{3}\.\d{3}\.\d{2}`)

// CAMTFormat returns the message and version a camt Document namespace
// declares ("camt.053.001.04"), or "" when it names none.
func CAMTFormat(namespace string) string {
	return camtVersion.FindString(namespace)
}

// The x* types mirror the subset of the camt schemas we read. encoding/xml
// matches them on local names, so one set serves every version and national
// variant; where versions differ the struct holds every shape: Sts is text
// up to .06 (EntryStatus2Code) and <Cd>/<Prtry> from .07 on; a party is
// <Dbtr><Nm> up to .07 and <Dbtr><Pty><Nm> from .08 on; a balance type is
// <Tp><Cd> in .01 and <Tp><CdOrPrtry><Cd> later; an account is IBAN, BBAN,
// UPIC or PrtryAcct in .01 and IBAN or Othr later. Every leaf is a string so
// that validation, not encoding/xml, words the error messages.

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

type xCodeOrPrtry struct {
	Cd    string `xml:"Cd"`
	Prtry string `xml:"Prtry"`
}

type xAcctID struct {
	IBAN      string `xml:"IBAN"`
	BBAN      string `xml:"BBAN"`
	UPIC      string `xml:"UPIC"`
	PrtryAcct *struct {
		ID string `xml:"Id"`
	} `xml:"PrtryAcct"`
	Othr *struct {
		ID      string       `xml:"Id"`
		SchmeNm xCodeOrPrtry `xml:"SchmeNm"`
	} `xml:"Othr"`
}

// account returns the IBAN, or the other identifier and its scheme.
func (a *xAcctID) account() (iban, other, scheme string) {
	switch {
	case strings.TrimSpace(a.IBAN) != "":
		return compactIBAN(a.IBAN), "", ""
	case a.Othr != nil && strings.TrimSpace(a.Othr.ID) != "":
		scheme = clean(a.Othr.SchmeNm.Cd)
		if scheme == "" {
			scheme = clean(a.Othr.SchmeNm.Prtry)
		}
		return "", compactID(a.Othr.ID), scheme
	case strings.TrimSpace(a.BBAN) != "":
		return "", compactID(a.BBAN), "BBAN"
	case strings.TrimSpace(a.UPIC) != "":
		return "", compactID(a.UPIC), "UPIC"
	case a.PrtryAcct != nil && strings.TrimSpace(a.PrtryAcct.ID) != "":
		return "", compactID(a.PrtryAcct.ID), ""
	}
	return "", "", ""
}

type xFinInstn struct {
	FinInstnID struct {
		BIC   string `xml:"BIC"`
		BICFI string `xml:"BICFI"`
	} `xml:"FinInstnId"`
}

func (f *xFinInstn) bic() string {
	if f == nil {
		return ""
	}
	if b := clean(f.FinInstnID.BICFI); b != "" {
		return b
	}
	return clean(f.FinInstnID.BIC)
}

type xAcct struct {
	ID   xAcctID    `xml:"Id"`
	Ccy  string     `xml:"Ccy"`
	Nm   string     `xml:"Nm"`
	Svcr *xFinInstn `xml:"Svcr"`
}

type xFrToDt struct {
	FrDtTm string `xml:"FrDtTm"`
	ToDtTm string `xml:"ToDtTm"`
}

type xBal struct {
	Tp struct {
		CdOrPrtry xCodeOrPrtry `xml:"CdOrPrtry"`
		Cd        string       `xml:"Cd"`    // .01
		Prtry     string       `xml:"Prtry"` // .01
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

type xAmtHolder struct {
	Amt *xAmt `xml:"Amt"`
}

type xAmtDtls struct {
	InstdAmt *xAmtHolder `xml:"InstdAmt"`
	TxAmt    *xAmtHolder `xml:"TxAmt"`
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
	ID xAcctID `xml:"Id"`
}

func (a *xAcctRef) ids() (iban, other string) {
	if a == nil {
		return "", ""
	}
	iban, other, _ = a.ID.account()
	return iban, other
}

// iban is the account's IBAN ("" when identified otherwise).
func (a *xAcctRef) iban() string {
	iban, _ := a.ids()
	return iban
}

type xTxDtls struct {
	Refs struct {
		MsgID       string `xml:"MsgId"`
		AcctSvcrRef string `xml:"AcctSvcrRef"`
		PmtInfID    string `xml:"PmtInfId"`
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
	RltdAgts struct {
		DbtrAgt *xFinInstn `xml:"DbtrAgt"`
		CdtrAgt *xFinInstn `xml:"CdtrAgt"`
	} `xml:"RltdAgts"`
	RmtInf *struct {
		Ustrd []string `xml:"Ustrd"`
		Strd  []struct {
			CdtrRefInf struct {
				Ref string `xml:"Ref"`
			} `xml:"CdtrRefInf"`
		} `xml:"Strd"`
	} `xml:"RmtInf"`
	RtrInf *struct {
		Rsn xCodeOrPrtry `xml:"Rsn"`
	} `xml:"RtrInf"`
	AddtlTxInf string `xml:"AddtlTxInf"`
}

type xBtch struct {
	MsgID     string `xml:"MsgId"`
	PmtInfID  string `xml:"PmtInfId"`
	NbOfTxs   string `xml:"NbOfTxs"`
	TtlAmt    *xAmt  `xml:"TtlAmt"`
	CdtDbtInd string `xml:"CdtDbtInd"`
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
		Btch   *xBtch    `xml:"Btch"`
		TxDtls []xTxDtls `xml:"TxDtls"`
	} `xml:"NtryDtls"`
	AddtlNtryInf string `xml:"AddtlNtryInf"`
}

// ParseCAMT parses a camt.052 (intraday account report), camt.053
// (statement) or camt.054 (debit/credit notification) file of any version
// (.001.01 to .001.13) or national variant of the namespace. The message is
// recognised by its element names and the version read from the namespace
// when it declares one. It returns one Statement per <Rpt>, <Stmt> or
// <Ntfctn>, in file order: one message may report several accounts.
//
// The file is read as a stream: one <Ntry> is decoded at a time, so memory
// stays proportional to the parsed result, not to the XML. Any invalid
// element rejects the whole file with a *FormatError naming it.
func ParseCAMT(r io.Reader) ([]*Statement, error) {
	return newCAMTParser(newXMLScanner(r, charsetReader), nil).parse()
}

func newCAMTParser(src xmlSource, sink CAMTHandler) *camtParser {
	return &camtParser{dec: src, seen: map[string]int{}, sink: sink}
}

// ErrOutOfOrder is StreamCAMT's answer to a statement that names its account, id, sequence
// numbers or dates after some of its entries: the entries handed over already could have been
// dated or fingerprinted differently. The schema puts all of them before the first Ntry, so
// only unusual files get it; read those whole with ParseCAMT.
var ErrOutOfOrder = errors.New("bankfile: statement header after its entries; read the file whole")

// CAMTHandler receives what StreamCAMT reads.
type CAMTHandler interface {
	// Entry is called with each entry (booked or not) as soon as its Ntry is read, in file
	// order; st is its statement as read so far: everything but balances, entries and the
	// elements that follow the entries.
	Entry(st *Statement, e *Entry) error
	// End is called when a statement is complete, without its entries.
	End(st *Statement) error
}

// StreamCAMT parses a camt file as ParseCAMT does, but keeps no entries: each is handed to h
// as soon as it is read, so memory stays flat whatever the size of the file. The entries,
// their fingerprints and fallback dates are those ParseCAMT gives, and so are the statements
// passed to End, less their entries. An error of h stops the parse and is returned as is; so
// are the parse errors ParseCAMT returns, possibly after some entries were handed over (the
// caller discards them, as ParseCAMT would have rejected the file). A statement whose header
// elements follow its entries is ErrOutOfOrder.
func StreamCAMT(r io.Reader, h CAMTHandler) error {
	_, err := newCAMTParser(newXMLScanner(r, charsetReader), h).parse()
	return err
}

type camtParser struct {
	seen    map[string]int // fingerprint ordinals of the file
	sink    CAMTHandler    // StreamCAMT: where entries go instead of Statement.Entries
	dec     xmlSource
	format  string
	kind    string
	hdr     xGrpHdr
	hdrTime time.Time
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
	nsVersion := CAMTFormat(root.Name.Space)
	if root.Name.Local != "Document" {
		return nil, pathErr(root.Name.Local, "not a camt file: the root element is %s, not Document", root.Name.Local)
	}
	if nsVersion == "" {
		if other := otherISOMessage.FindString(root.Name.Space); other != "" {
			return nil, pathErr("Document", "not a camt.052/053/054 file: the namespace %q is a %s message", root.Name.Space, other)
		}
	}

	msg, err := p.next("Document")
	if err != nil {
		return nil, err
	}
	if msg == nil {
		return nil, pathErr("Document", "empty Document: expected BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn")
	}
	m, ok := camtMessages[strings.TrimSuffix(msg.Name.Local, "V01")]
	if !ok {
		return nil, pathErr("Document/"+msg.Name.Local, "not a camt statement: expected BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn")
	}
	switch {
	case nsVersion != "" && !strings.HasPrefix(nsVersion, m.msg):
		return nil, pathErr("Document/"+msg.Name.Local, "the namespace declares %s but the message is a %s", nsVersion, m.msg)
	case nsVersion != "":
		p.format = nsVersion
	default:
		// No version in the namespace (an unqualified document or a
		// proprietary namespace): the message is still unambiguous.
		p.format = m.msg
	}
	p.kind = m.kind

	base := "Document/" + msg.Name.Local
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
			if p.hdr.MsgID = clean(p.hdr.MsgID); p.hdr.MsgID == "" {
				return nil, pathErr(base+"/GrpHdr", "required element MsgId is missing")
			}
			if p.hdrTime, err = parseDateTime(p.hdr.CreDtTm, base+"/GrpHdr/CreDtTm", true); err != nil {
				return nil, err
			}
			haveHdr = true
		case m.report:
			if !haveHdr {
				return nil, pathErr(base, "GrpHdr must come before %s", m.report)
			}
			path := fmt.Sprintf("%s/%s[%d]", base, m.report, len(out)+1)
			st, err := p.parseReport(el, path)
			if err != nil {
				return nil, err
			}
			if p.sink != nil {
				if err := p.sink.End(st); err != nil {
					return nil, err
				}
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
	if len(out) == 0 {
		return nil, pathErr(base, "required element %s is missing", m.report)
	}
	return out, nil
}

// parseReport reads one <Rpt>, <Stmt> or <Ntfctn>.
func (p *camtParser) parseReport(start *xml.StartElement, path string) (*Statement, error) {
	st := &Statement{Format: p.format, Kind: p.kind, MessageID: p.hdr.MsgID}
	var (
		bankRefs         []string
		nNtry, nBal      int
		haveAcct, haveID bool
		acctPath         = path + "/Acct"
		firstCcy         string
		prcd             *Balance
	)
	seq := func(el *xml.StartElement, name string, dst *int64) error {
		var s string
		if err := p.decode(&s, el, path+"/"+name); err != nil {
			return err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < 0 {
			return pathErr(path+"/"+name, "%s is not a sequence number", quote(s))
		}
		*dst = n
		return nil
	}
	for {
		el, err := p.next(path)
		if err != nil {
			return nil, err
		}
		if el == nil {
			break
		}
		name := el.Name.Local
		switch name {
		case "Id", "ElctrncSeqNb", "LglSeqNb", "CreDtTm", "FrToDt", "Acct":
			if p.sink != nil && nNtry > 0 {
				return nil, ErrOutOfOrder
			}
		}
		switch name {
		case "Id":
			var s string
			if err := p.decode(&s, el, path+"/Id"); err != nil {
				return nil, err
			}
			st.StatementID, haveID = clean(s), true
		case "ElctrncSeqNb":
			if err := seq(el, name, &st.ElectronicSequence); err != nil {
				return nil, err
			}
		case "LglSeqNb":
			if err := seq(el, name, &st.SequenceNumber); err != nil {
				return nil, err
			}
		case "StmtPgntn", "RptPgntn", "NtfctnPgntn":
			var pg struct {
				PgNb string `xml:"PgNb"`
			}
			if err := p.decode(&pg, el, path+"/"+name); err != nil {
				return nil, err
			}
			n, err := strconv.ParseInt(strings.TrimSpace(pg.PgNb), 10, 64)
			if err != nil || n < 0 {
				return nil, pathErr(path+"/"+name+"/PgNb", "%s is not a page number", quote(pg.PgNb))
			}
			st.Page = n
		case "CreDtTm":
			var s string
			if err := p.decode(&s, el, path+"/CreDtTm"); err != nil {
				return nil, err
			}
			if st.CreatedAt, err = parseDateTime(s, path+"/CreDtTm", true); err != nil {
				return nil, err
			}
		case "FrToDt":
			var d xFrToDt
			if err := p.decode(&d, el, path+"/FrToDt"); err != nil {
				return nil, err
			}
			if st.From, err = parseDateTime(d.FrDtTm, path+"/FrToDt/FrDtTm", true); err != nil {
				return nil, err
			}
			if st.To, err = parseDateTime(d.ToDtTm, path+"/FrToDt/ToDtTm", true); err != nil {
				return nil, err
			}
			if st.To.Before(st.From) {
				return nil, pathErr(path+"/FrToDt", "ToDtTm is before FrDtTm")
			}
		case "Acct":
			var a xAcct
			if err := p.decode(&a, el, acctPath); err != nil {
				return nil, err
			}
			haveAcct = true
			if st.Account, err = camtAccount(&a, acctPath); err != nil {
				return nil, err
			}
			st.AccountIBAN = st.Account.IBAN
		case "Bal":
			nBal++
			bp := fmt.Sprintf("%s/Bal[%d]", path, nBal)
			var b xBal
			if err := p.decode(&b, el, bp); err != nil {
				return nil, err
			}
			bal, err := parseBalance(&b, bp)
			if err != nil {
				return nil, err
			}
			st.Balances = append(st.Balances, bal)
			last := &st.Balances[len(st.Balances)-1]
			switch bal.Type {
			case "OPBD":
				st.OpeningBalance = last
			case "PRCD":
				prcd = last
			case "CLBD":
				st.ClosingBalance = last
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
			entries, refs, err := convertEntry(&n, np, st.Account.ID())
			if err != nil {
				return nil, err
			}
			if firstCcy == "" {
				firstCcy = entries[0].Currency
			}
			if p.sink != nil {
				if err := p.hand(st, entries, refs); err != nil {
					return nil, err
				}
				continue
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
	if st.CreatedAt.IsZero() {
		st.CreatedAt = p.hdrTime
	}
	// Balances were appended to a growing slice: re-point the shortcuts.
	if len(st.Balances) > 0 {
		st.Balances = append([]Balance(nil), st.Balances...)
		st.OpeningBalance, st.ClosingBalance = nil, nil
		for i := range st.Balances {
			switch st.Balances[i].Type {
			case "OPBD":
				st.OpeningBalance = &st.Balances[i]
			case "CLBD":
				st.ClosingBalance = &st.Balances[i]
			}
		}
		if st.OpeningBalance == nil && prcd != nil {
			for i := range st.Balances {
				if st.Balances[i].Type == "PRCD" {
					st.OpeningBalance = &st.Balances[i]
					break
				}
			}
		}
	}
	st.Currency = st.Account.Currency
	for _, b := range []*Balance{st.ClosingBalance, st.OpeningBalance} {
		if st.Currency == "" && b != nil {
			st.Currency = b.Currency
		}
	}
	if st.Currency == "" {
		st.Currency = firstCcy
	}
	if st.Entries == nil {
		st.Entries = []Entry{}
	}
	fallbackDates(st)
	fingerprint(st, bankRefs, p.seen)
	return st, nil
}

// hand gives the entries of one Ntry to the sink, dated and fingerprinted as fallbackDates and
// fingerprint do once the statement is complete (its header is: see ErrOutOfOrder).
func (p *camtParser) hand(st *Statement, entries []Entry, refs []string) error {
	d := st.To
	if d.IsZero() {
		d = st.CreatedAt
	}
	if d.IsZero() {
		d = p.hdrTime
	}
	y, m, dd := d.Date()
	day := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	for i := range entries {
		e := &entries[i]
		if e.BookingDate.IsZero() {
			e.BookingDate, e.BookingDateSource = day, DateFromStatement
		}
		ref := ""
		if i < len(refs) {
			ref = refs[i]
		}
		fingerprintEntry(e, st.AccountID(), ref, p.seen)
		if err := p.sink.Entry(st, e); err != nil {
			return err
		}
	}
	return nil
}

// fallbackDates gives entries without a booking date the statement's date:
// the end of the reported period, else its creation date.
func fallbackDates(st *Statement) {
	d := st.To
	if d.IsZero() {
		d = st.CreatedAt
	}
	y, m, dd := d.Date()
	day := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	for i := range st.Entries {
		if e := &st.Entries[i]; e.BookingDate.IsZero() {
			e.BookingDate, e.BookingDateSource = day, DateFromStatement
		}
	}
}

func camtAccount(a *xAcct, path string) (Account, error) {
	var acct Account
	acct.IBAN, acct.Other, acct.Scheme = a.ID.account()
	switch {
	case acct.IBAN != "":
		if _, err := bankacct.IBAN(acct.IBAN); err != nil {
			return acct, pathErr(path+"/Id/IBAN", "%q is not a valid IBAN: %v", acct.IBAN, err)
		}
	case acct.Other == "":
		return acct, pathErr(path+"/Id", "required element IBAN or Othr/Id is missing")
	}
	if ccy := strings.TrimSpace(a.Ccy); ccy != "" {
		if _, ok := money.CurrencyScale(ccy); !ok {
			return acct, pathErr(path+"/Ccy", "%s is not an ISO 4217 currency code", quote(ccy))
		}
		acct.Currency = ccy
	}
	acct.Name = clean(a.Nm)
	acct.ServicerBIC = a.Svcr.bic()
	return acct, nil
}

func parseBalance(b *xBal, path string) (Balance, error) {
	var bal Balance
	for _, c := range []string{b.Tp.CdOrPrtry.Cd, b.Tp.CdOrPrtry.Prtry, b.Tp.Cd, b.Tp.Prtry} {
		if bal.Type = clean(c); bal.Type != "" {
			break
		}
	}
	if bal.Type == "" {
		return bal, pathErr(path, "required element Tp/CdOrPrtry is missing")
	}
	if b.Amt == nil {
		return bal, pathErr(path, "required element Amt is missing")
	}
	amt, ccy, err := parseAmount(b.Amt, path+"/Amt")
	if err != nil {
		return bal, err
	}
	neg, err := parseCdtDbt(b.CdtDbtInd, path)
	if err != nil {
		return bal, err
	}
	if b.Dt == nil {
		return bal, pathErr(path, "required element Dt is missing")
	}
	if bal.Date, err = parseDateChoice(b.Dt, path+"/Dt"); err != nil {
		return bal, err
	}
	if neg {
		amt = amt.Neg()
	}
	bal.Amount, bal.Currency, bal.Direction = amt, ccy, direction(neg)
	return bal, nil
}

// convertEntry validates one <Ntry> and splits it into Entries, one per
// transaction detail. It also returns each Entry's bank reference key for the
// fingerprint.
func convertEntry(n *xNtry, path, acctID string) ([]Entry, []string, error) {
	if n.Amt == nil {
		return nil, nil, pathErr(path, "required element Amt is missing")
	}
	amt, ccy, err := parseAmount(n.Amt, path+"/Amt")
	if err != nil {
		return nil, nil, err
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
	status, err := entryStatus(n.Sts, path)
	if err != nil {
		return nil, nil, err
	}
	var booking, value time.Time
	if n.ValDt != nil {
		if value, err = parseDateChoice(n.ValDt, path+"/ValDt"); err != nil {
			return nil, nil, err
		}
	}
	// BookgDt is optional in every version (pending entries often lack it):
	// fall back to the value date, then (in parseReport) the statement's.
	source := DateFromBooking
	switch {
	case n.BookgDt != nil:
		if booking, err = parseDateChoice(n.BookgDt, path+"/BookgDt"); err != nil {
			return nil, nil, err
		}
	case !value.IsZero():
		booking, source = value, DateFromValue
	default:
		source = DateFromStatement
	}
	if n.AmtDtls != nil {
		if err := checkAmtDtls(n.AmtDtls, path+"/AmtDtls"); err != nil {
			return nil, nil, err
		}
	}

	base := Entry{
		EntryRef:          clean(n.AcctSvcrRef),
		BookingDate:       booking,
		BookingDateSource: source,
		ValueDate:         value,
		Currency:          ccy,
		Reversal:          reversal,
		Status:            status,
		BankTxCode:        bankTxCode(n.BkTxCd),
		Remittance:        clean(n.AddtlNtryInf),
	}
	bankRef := base.EntryRef
	if base.EntryRef == "" {
		base.EntryRef = clean(n.NtryRef)
	}

	type detail struct {
		tx    *xTxDtls
		batch *BatchInfo
		path  string
	}
	var (
		details []detail
		batches []*BatchInfo
	)
	for i := range n.NtryDtls {
		var b *BatchInfo
		if x := n.NtryDtls[i].Btch; x != nil {
			if b, err = parseBatch(x, fmt.Sprintf("%s/NtryDtls[%d]/Btch", path, i+1), ccy, neg); err != nil {
				return nil, nil, err
			}
			batches = append(batches, b)
		}
		for j := range n.NtryDtls[i].TxDtls {
			details = append(details, detail{&n.NtryDtls[i].TxDtls[j], b,
				fmt.Sprintf("%s/NtryDtls[%d]/TxDtls[%d]", path, i+1, j+1)})
		}
	}
	if len(batches) == 1 {
		base.Batch = batches[0]
	}
	signed := func(a money.Amount, neg bool) money.Amount {
		if neg {
			return a.Neg()
		}
		return a
	}
	whole := func() ([]Entry, []string, error) {
		e := base
		e.Amount, e.Direction = signed(amt, neg), direction(neg)
		if e.Batch == nil && len(details) > 1 {
			e.Batch = &BatchInfo{Transactions: len(details)}
		}
		return []Entry{e}, []string{bankRef}, nil
	}
	if len(details) == 0 {
		return whole()
	}

	entries := make([]Entry, 0, len(details))
	refs := make([]string, 0, len(details))
	sum := money.Zero(amt.Scale())
	for k, d := range details {
		tx := d.tx
		e := base
		if d.batch != nil {
			e.Batch = d.batch
		}
		txNeg := neg
		if tx.CdtDbtInd != "" {
			if txNeg, err = parseCdtDbt(tx.CdtDbtInd, d.path); err != nil {
				return nil, nil, err
			}
		}
		txAmt, found, err := detailAmount(tx, d.path, ccy)
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
			// A batch whose transactions do not state their share in the
			// entry currency cannot be split: it stays one entry, and its
			// Batch says how many transactions it covers.
			return whole()
		default:
			e.Amount = signed(txAmt, txNeg)
		}
		e.Direction = direction(txNeg)
		sum = sum.Add(e.Amount)

		e.InstructionID = clean(tx.Refs.InstrID)
		e.TxID = clean(tx.Refs.TxID)
		e.PaymentInfoID = clean(tx.Refs.PmtInfID)
		if e2e := clean(tx.Refs.EndToEndID); e2e != "NOTPROVIDED" {
			e.EndToEndID = e2e
		}
		if rmt := remittance(tx); rmt != "" {
			e.Remittance = rmt
		} else if add := clean(tx.AddtlTxInf); add != "" {
			e.Remittance = add
		}
		e.CounterpartyName, e.CounterpartyIBAN, e.CounterpartyAccount, e.CounterpartyBIC = counterparty(tx, txNeg, reversal, acctID)
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

// parseBatch reads NtryDtls/Btch. Its total is signed by its own CdtDbtInd,
// else the entry's direction. The total may be in another currency than the
// entry (the transfers' currency, converted by the bank).
func parseBatch(x *xBtch, path, ccy string, entryNeg bool) (*BatchInfo, error) {
	b := &BatchInfo{MessageID: clean(x.MsgID), PaymentInfoID: clean(x.PmtInfID)}
	if s := strings.TrimSpace(x.NbOfTxs); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, pathErr(path+"/NbOfTxs", "%s is not a number of transactions", quote(s))
		}
		b.Transactions = n
	}
	if x.TtlAmt != nil {
		if x.TtlAmt.Ccy == nil {
			// TtlAmt is a plain decimal in most versions (no currency):
			// it is in the entry's currency.
			c := ccy
			x.TtlAmt.Ccy = &c
		}
		a, c, err := parseAmount(x.TtlAmt, path+"/TtlAmt")
		if err != nil {
			return nil, err
		}
		neg := entryNeg
		if x.CdtDbtInd != "" {
			if neg, err = parseCdtDbt(x.CdtDbtInd, path); err != nil {
				return nil, err
			}
		}
		if neg {
			a = a.Neg()
		}
		b.Total, b.TotalCurrency = &a, c
	}
	return b, nil
}

// detailAmount validates every amount of a transaction detail and returns the
// one that states its share of the entry: TxDtls/Amt (.04 on), else
// AmtDtls/TxAmt/Amt, else AmtDtls/InstdAmt/Amt, each only when in the entry
// currency.
func detailAmount(tx *xTxDtls, path, ccy string) (money.Amount, bool, error) {
	if tx.AmtDtls != nil {
		if err := checkAmtDtls(tx.AmtDtls, path+"/AmtDtls"); err != nil {
			return money.Amount{}, false, err
		}
	}
	if tx.Amt != nil {
		a, c, err := parseAmount(tx.Amt, path+"/Amt")
		if err != nil {
			return money.Amount{}, false, err
		}
		if c == ccy {
			return a, true, nil
		}
	}
	if tx.AmtDtls == nil {
		return money.Amount{}, false, nil
	}
	for _, h := range []*xAmtHolder{tx.AmtDtls.TxAmt, tx.AmtDtls.InstdAmt} {
		if h != nil && h.Amt != nil && h.Amt.Ccy != nil && strings.TrimSpace(*h.Amt.Ccy) == ccy {
			a, _, _ := parseAmount(h.Amt, "")
			return a, true, nil
		}
	}
	return money.Amount{}, false, nil
}

// checkAmtDtls validates the amounts we may read from an AmtDtls block.
func checkAmtDtls(d *xAmtDtls, path string) error {
	for _, c := range []struct {
		name string
		v    *xAmtHolder
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

// entryStatus reads Sts as text (.01–.06) or Cd/Prtry (.07 on).
func entryStatus(s *xSts, path string) (string, error) {
	if s == nil {
		return "", pathErr(path, "required element Sts is missing")
	}
	v := clean(s.Cd)
	if v == "" {
		v = clean(s.Prtry)
	}
	if v == "" {
		v = clean(s.Text)
	}
	switch v {
	case "":
		return "", pathErr(path+"/Sts", "status is empty")
	case "FUTR":
		return StatusPending, nil
	}
	return v, nil
}

// counterparty picks the other party of a transaction: the debtor of a
// credit, the creditor of a debit. A reversal undoes an operation of the
// opposite direction and keeps that operation's parties, so the sides swap.
// Banks fill RltdPties unevenly (returns especially), so when the expected
// side is empty, or is our own account, the other side is used unless it is
// our own account.
func counterparty(tx *xTxDtls, debit, reversal bool, own string) (name, iban, other, bic string) {
	rp := &tx.RltdPties
	type side struct{ name, iban, other, bic string }
	var cdtr, dbtr side
	cdtr.name, dbtr.name = rp.Cdtr.name(), rp.Dbtr.name()
	cdtr.iban, cdtr.other = rp.CdtrAcct.ids()
	dbtr.iban, dbtr.other = rp.DbtrAcct.ids()
	cdtr.bic, dbtr.bic = tx.RltdAgts.CdtrAgt.bic(), tx.RltdAgts.DbtrAgt.bic()
	if debit != reversal {
		cdtr, dbtr = dbtr, cdtr
	}
	// Now dbtr is the expected side. It is never our own account: some
	// banks swap the roles (a debit listing us as creditor).
	isOwn := func(s side) bool { return own != "" && (s.iban == own || s.other == own) }
	empty := dbtr.name == "" && dbtr.iban == "" && dbtr.other == ""
	if (empty || isOwn(dbtr)) && !isOwn(cdtr) && (cdtr.name != "" || cdtr.iban != "" || cdtr.other != "") {
		dbtr = cdtr
	}
	return dbtr.name, dbtr.iban, dbtr.other, dbtr.bic
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
	scale, ok := money.CurrencyScale(ccy)
	if !ok {
		return money.Amount{}, "", pathErr(path, "currency %s is not an ISO 4217 currency code", quote(ccy))
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
	if isClean(s) {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// isClean reports whether clean would return s unchanged: ASCII, no leading, trailing or
// repeated spaces, no other white space. Most values are; they need no copy.
func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf, c == '\t', c == '\n', c == '\v', c == '\f', c == '\r':
			return false
		case c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' '):
			return false
		}
	}
	return true
}

func compactIBAN(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// compactID removes the spaces banks put in account numbers for display.
func compactID(s string) string {
	return strings.Join(strings.Fields(s), "")
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
