package document

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

var (
	samplePDF  = []byte("%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	sampleJPEG = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{1}, 20)...)
	samplePNG  = append([]byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, []byte("\x00\x00\x00\x0dIHDR")...)
	sampleGIF  = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04")
	sampleHTML = []byte("<!DOCTYPE html><html><body>%PDF-</body></html>")
)

func dataURL(mime string, b []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b)
}

// wantInvalid fails unless err is an *Invalid with exactly reason.
func wantInvalid(t *testing.T, err error, reason string) {
	t.Helper()
	var inv *Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("error = %v (%T), want *Invalid %q", err, err, reason)
	}
	if inv.Reason != reason {
		t.Fatalf("reason = %q, want %q", inv.Reason, reason)
	}
}

func TestLoadDataURL(t *testing.T) {
	pdf17 := append([]byte("%PDF-"), bytes.Repeat([]byte("x"), 12)...) // 17 bytes
	tests := []struct {
		name   string
		limits Limits
		src    string
		want   string // content type on success
		data   []byte // expected bytes on success
		reason string // expected *Invalid reason
	}{
		{name: "pdf", src: dataURL("application/pdf", samplePDF), want: TypePDF, data: samplePDF},
		{name: "jpeg", src: dataURL("image/jpeg", sampleJPEG), want: TypeJPEG, data: sampleJPEG},
		{name: "png", src: dataURL("image/png", samplePNG), want: TypePNG, data: samplePNG},
		{name: "pdf declared as png is a pdf", src: dataURL("image/png", samplePDF), want: TypePDF, data: samplePDF},
		{name: "no mime", src: "data:;base64," + base64.StdEncoding.EncodeToString(samplePNG), want: TypePNG, data: samplePNG},
		{name: "upper case scheme and param", src: "DATA:application/pdf;BASE64," + base64.StdEncoding.EncodeToString(samplePDF), want: TypePDF, data: samplePDF},
		{name: "extra params", src: "data:application/pdf;name=a.pdf;base64," + base64.StdEncoding.EncodeToString(samplePDF), want: TypePDF, data: samplePDF},
		{name: "line-wrapped base64", src: "data:application/pdf;base64," + wrap(base64.StdEncoding.EncodeToString(samplePDF), 10), want: TypePDF, data: samplePDF},
		{name: "unpadded base64", src: "data:application/pdf;base64," + base64.RawStdEncoding.EncodeToString(samplePDF), want: TypePDF, data: samplePDF},
		{name: "surrounding spaces", src: "  " + dataURL("image/jpeg", sampleJPEG) + "\n", want: TypeJPEG, data: sampleJPEG},
		{name: "exactly the limit", limits: Limits{MaxBytes: 17}, src: dataURL("application/pdf", pdf17), want: TypePDF, data: pdf17},

		{name: "invalid base64", src: "data:application/pdf;base64,JVBERi0x!!!", reason: reasonBase64},
		{name: "url-encoded not base64", src: "data:application/pdf,%PDF-1.4", reason: reasonBase64},
		{name: "no comma", src: "data:application/pdf;base64", reason: reasonBase64},
		{name: "base64 not last param", src: "data:application/pdf;base64;x=y,JVBERi0=", reason: reasonBase64},
		{name: "truncated quantum", src: "data:application/pdf;base64,JVBERi0xL", reason: reasonBase64},
		{name: "empty payload", src: "data:application/pdf;base64,", reason: reasonEmpty},
		{name: "whitespace payload", src: "data:application/pdf;base64, \n ", reason: reasonEmpty},
		{name: "empty source", src: "   ", reason: reasonEmpty},
		{name: "gif", src: dataURL("image/gif", sampleGIF), reason: reasonType},
		{name: "gif declared as png", src: dataURL("image/png", sampleGIF), reason: reasonType},
		{name: "html declared as pdf", src: dataURL("application/pdf", sampleHTML), reason: reasonType},
		{name: "one byte over the limit", limits: Limits{MaxBytes: 16}, src: dataURL("application/pdf", pdf17), reason: "The file is larger than 16 bytes."},
		{name: "far over the limit, refused before decoding", limits: Limits{MaxBytes: 16}, src: "data:application/pdf;base64," + strings.Repeat("!", 1000), reason: "The file is larger than 16 bytes."},
		{name: "over the default 10 MiB", src: dataURL("application/pdf", append([]byte("%PDF-"), make([]byte, 10<<20)...)), reason: "The file is larger than 10 MB."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &Loader{Limits: tc.limits}
			f, err := l.Load(context.Background(), tc.src)
			if tc.reason != "" {
				wantInvalid(t, err, tc.reason)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			sum := sha256.Sum256(tc.data)
			if f.ContentType != tc.want || !bytes.Equal(f.Data, tc.data) ||
				f.Size != int64(len(tc.data)) || f.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("got {%s size=%d sha=%s}, want {%s size=%d sha=%x}",
					f.ContentType, f.Size, f.SHA256, tc.want, len(tc.data), sum)
			}
		})
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestSniff(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{samplePDF, TypePDF},
		{sampleJPEG, TypeJPEG},
		{samplePNG, TypePNG},
		{[]byte("%PDF"), ""},             // prefix cut short
		{[]byte{0xFF, 0xD8}, ""},         // JPEG SOI without the marker byte
		{samplePNG[:7], ""},              // PNG signature cut short
		{[]byte(" %PDF-1.4"), ""},        // must be at offset 0
		{[]byte("PK\x03\x04"), ""},       // zip / docx
		{[]byte("RIFF\x00\x00WEBP"), ""}, // webp
		{sampleGIF, ""},
		{nil, ""},
	}
	for _, tc := range tests {
		if got := sniff(tc.in); got != tc.want {
			t.Errorf("sniff(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSizeText(t *testing.T) {
	for n, want := range map[int64]string{10 << 20: "10 MB", 5 << 10: "5 KB", 1500: "1500 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
}

func FuzzDecodeDataURL(f *testing.F) {
	for _, s := range []string{
		dataURL("application/pdf", samplePDF),
		"data:,", "data:;base64,", "data:a;b;base64,====", "data:;base64,QQ", "DATA:;BASE64,\n\t",
		"data:application/pdf;base64," + strings.Repeat("A", 200), "data:", "",
	} {
		f.Add(s, int64(64))
	}
	f.Fuzz(func(t *testing.T, s string, max int64) {
		if max <= 0 || max > 1<<20 {
			max = 64
		}
		data, err := decodeDataURL(s, max)
		if err != nil {
			var inv *Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("error %v is not *Invalid", err)
			}
			return
		}
		if len(data) == 0 || int64(len(data)) > max {
			t.Fatalf("accepted %d bytes with max %d", len(data), max)
		}
	})
}
