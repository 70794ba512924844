package btc

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// SetAfterSign installs a hook run between recording a signed transaction and broadcasting it
// (an error aborts the pass as a crash would).
func (a *Adapter) SetAfterSign(f func(txid string) error) { a.afterSign = f }

// Gauge reads one of the adapter's metrics by name (payouts_waiting, awaiting_confirmations,
// reorgs_total, fee_rate_sat_per_vbyte) for the label values.
func Gauge(name string, labels ...string) float64 {
	var m dto.Metric
	var c prometheus.Metric
	switch name {
	case "payouts_waiting":
		c = payoutsWaiting.WithLabelValues(labels...)
	case "awaiting_confirmations":
		c = awaitingConfirmations.WithLabelValues(labels...)
	case "reorgs_total":
		c = reorgsTotal.WithLabelValues(labels...)
		if err := c.Write(&m); err != nil {
			panic(err)
		}
		return m.GetCounter().GetValue()
	case "fee_rate_sat_per_vbyte":
		c = feeRate.WithLabelValues(labels...)
	default:
		panic("unknown metric " + name)
	}
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetGauge().GetValue()
}
