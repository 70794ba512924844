// Package bankfiletest validates generated bank files against the official ISO 20022 schemas
// in tests. The schemas are not part of the repository: tests pass the folder that holds them
// (the shared sample data) and are skipped when it is absent, or when xmllint is (except under
// CI=true, where .ci/run installs it).
package bankfiletest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Pain001Schemas are the schema files a pain.001 of each version must satisfy: the ISO schema,
// and for .03 also the German banking industry's SEPA subset (character set and lengths), whose
// namespace is pain.001.003.03.
var Pain001Schemas = map[string][]string{
	"pain.001.001.03": {"pain.001.001.03.iso.xsd", "pain.001.003.03.dk.xsd"},
	"pain.001.001.09": {"pain.001.001.09.xsd"},
}

// ValidatePain001 checks doc, a pain.001 of version, against every schema of Pain001Schemas
// found in dir with xmllint, failing t with xmllint's messages.
func ValidatePain001(t testing.TB, dir string, doc []byte, version string) {
	t.Helper()
	lint, err := exec.LookPath("xmllint")
	if err != nil {
		skipOrFail(t, "xmllint (Debian package libxml2-utils) is not installed: pain.001 not validated against the XSD")
	}
	schemas := Pain001Schemas[version]
	if len(schemas) == 0 {
		t.Fatalf("no schema known for %s", version)
	}
	for _, name := range schemas {
		xsd := filepath.Join(dir, name)
		if _, err := os.Stat(xsd); err != nil {
			t.Skip("official schema " + xsd + " is absent: pain.001 not validated against the XSD")
		}
		in := doc
		if strings.Contains(name, ".003.") {
			in = bytes.Replace(doc, []byte("urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"), []byte("urn:iso:std:iso:20022:tech:xsd:pain.001.003.03"), 1)
		}
		f := filepath.Join(t.TempDir(), "pain.xml")
		if err := os.WriteFile(f, in, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(lint, "--noout", "--nonet", "--schema", xsd, f).CombinedOutput()
		if err != nil {
			t.Fatalf("pain.001 does not validate against %s: %v\n%s\n%s", name, err, out, doc)
		}
	}
}

func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
