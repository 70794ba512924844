package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// StartProcess starts cmd (a real node such as geth or btcd) with its output in dir/name.out,
// kills it when the test ends and logs that output when the test failed.
func StartProcess(t testing.TB, name, dir string, cmd *exec.Cmd) {
	t.Helper()
	path := filepath.Join(dir, name+".out")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(path)
			t.Logf("%s output:\n%s", name, b)
		}
	})
}
