package bankfile

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/pocketramp/pocketramp/internal/bankacct"
	"github.com/pocketramp/pocketramp/internal/money"
)

// GenerateCAMT053 writes a valid camt.053.001.08 EUR statement for iban with
// n entries, for benchmarks, load tests and the sandbox bank. entry(i) gives
// the signed amount of entry i (EUR, scale 2; positive = credit) and its
// remittance text. Entries are booked 1000 per day on consecutive days
// from 2024-01-01, each with a unique AcctSvcrRef and end-to-end id, and
// the OPBD/CLBD balances add up.
func GenerateCAMT053(w io.Writer, iban string, n int, entry func(i int) (amount money.Amount, remittance string)) error {
	acct, err := bankacct.IBAN(iban)
	if err != nil {
		return fmt.Errorf("generate camt.053: %w", err)
	}
	if n < 0 {
		return fmt.Errorf("generate camt.053: negative entry count %d", n)
	}
	const perDay = 1000
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, (n-1)/perDay+1)

	// The closing balance comes first in the file, so amounts are drawn
	// twice; entry must therefore be deterministic.
	opening := money.MustParse("1000.00", 2)
	closing := opening
	for i := 0; i < n; i++ {
		a, _ := entry(i)
		if a.Scale() != 2 {
			return fmt.Errorf("generate camt.053: entry %d amount %s is not EUR scale 2", i, a)
		}
		closing = closing.Add(a)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	esc := func(s string) {
		xml.EscapeText(bw, []byte(s))
	}
	bal := func(code string, a money.Amount, d time.Time) {
		ind := "CRDT"
		if a.Sign() < 0 {
			ind, a = "DBIT", a.Neg()
		}
		fmt.Fprintf(bw, "<Bal><Tp><CdOrPrtry><Cd>%s</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">%s</Amt><CdtDbtInd>%s</CdtDbtInd><Dt><Dt>%s</Dt></Dt></Bal>\n",
			code, a, ind, d.Format(time.DateOnly))
	}
	bw.WriteString(xml.Header)
	fmt.Fprintf(bw, "<Document xmlns=\"%s%s\">\n<BkToCstmrStmt>\n", isoNS, FormatCAMT053v08)
	fmt.Fprintf(bw, "<GrpHdr><MsgId>GEN-%d</MsgId><CreDtTm>%s</CreDtTm></GrpHdr>\n<Stmt>\n", n, end.Format("2006-01-02T15:04:05Z"))
	fmt.Fprintf(bw, "<Id>GEN-STMT-%d</Id><CreDtTm>%s</CreDtTm>", n, end.Format("2006-01-02T15:04:05Z"))
	fmt.Fprintf(bw, "<FrToDt><FrDtTm>%s</FrDtTm><ToDtTm>%s</ToDtTm></FrToDt>\n", start.Format("2006-01-02T15:04:05Z"), end.Add(-time.Second).Format("2006-01-02T15:04:05Z"))
	fmt.Fprintf(bw, "<Acct><Id><IBAN>%s</IBAN></Id><Ccy>EUR</Ccy></Acct>\n", acct)
	bal("OPBD", opening, start)
	bal("CLBD", closing, end.AddDate(0, 0, -1))
	var num [20]byte
	for i := 0; i < n; i++ {
		a, rmt := entry(i)
		ind, dbtCdt := "CRDT", "Dbtr"
		if a.Sign() < 0 {
			ind, dbtCdt, a = "DBIT", "Cdtr", a.Neg()
		}
		d := start.AddDate(0, 0, i/perDay).Format(time.DateOnly)
		id := strconv.AppendInt(num[:0], int64(i+1), 10)
		bw.WriteString("<Ntry><Amt Ccy=\"EUR\">")
		bw.WriteString(a.String())
		bw.WriteString("</Amt><CdtDbtInd>")
		bw.WriteString(ind)
		bw.WriteString("</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>")
		bw.WriteString(d)
		bw.WriteString("</Dt></BookgDt><ValDt><Dt>")
		bw.WriteString(d)
		bw.WriteString("</Dt></ValDt><AcctSvcrRef>GEN")
		bw.Write(id)
		bw.WriteString("</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>")
		bw.WriteString("<NtryDtls><TxDtls><Refs><EndToEndId>E2E")
		bw.Write(id)
		bw.WriteString("</EndToEndId></Refs><RltdPties><")
		bw.WriteString(dbtCdt)
		bw.WriteString("><Pty><Nm>Counterparty ")
		bw.Write(id)
		bw.WriteString("</Nm></Pty></")
		bw.WriteString(dbtCdt)
		bw.WriteString("></RltdPties>")
		if rmt != "" {
			bw.WriteString("<RmtInf><Ustrd>")
			esc(rmt)
			bw.WriteString("</Ustrd></RmtInf>")
		}
		bw.WriteString("</TxDtls></NtryDtls></Ntry>\n")
	}
	bw.WriteString("</Stmt>\n</BkToCstmrStmt>\n</Document>\n")
	return bw.Flush()
}
