//go:build unix

package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ServeLockFile is held by the `serve` process of a SQLite data dir.
const ServeLockFile = "serve.lock"

// LockDataDir takes the data dir's serve lock (an flock, released by the kernel when the process
// dies, even by SIGKILL). A second server on the same SQLite data dir would run the same chain
// scans, payouts and expiry beside the first and fight over them; it gets an error naming the
// holder instead. Several instances need PostgreSQL.
func LockDataDir(dataDir string) (release func(), err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dataDir, ServeLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "unknown"
			}
			return nil, fmt.Errorf("another pocketramp server (pid %s) is using the data dir %s (it holds %s): stop it first; "+
				"to run several instances, use PostgreSQL (database_url)", pid, dataDir, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}
