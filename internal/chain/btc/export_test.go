package btc

// SetAfterSign installs a hook run between recording a signed transaction and broadcasting it
// (an error aborts the pass as a crash would).
func (a *Adapter) SetAfterSign(f func(txid string) error) { a.afterSign = f }
