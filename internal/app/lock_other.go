//go:build !unix

package app

// ServeLockFile is held by the `serve` process of a SQLite data dir (unix only).
const ServeLockFile = "serve.lock"

// LockDataDir does nothing where flock is not available.
func LockDataDir(dataDir string) (release func(), err error) { return func() {}, nil }
