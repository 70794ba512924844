package evm

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var (
	payoutsWaiting = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "pocketramp", Subsystem: "chain", Name: "payouts_waiting",
		Help: "Payouts held back, by chain and reason (insufficient_funds, fee_cap_exceeded, ...).",
	}, []string{"chain", "reason"})
	payoutsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pocketramp", Subsystem: "chain", Name: "payout_transitions_total",
		Help: "Payout status transitions, by chain and new status.",
	}, []string{"chain", "status"})
	depositsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pocketramp", Subsystem: "chain", Name: "deposit_transitions_total",
		Help: "Deposit status transitions, by chain and new status.",
	}, []string{"chain", "status"})
	scannedBlock = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "pocketramp", Subsystem: "chain", Name: "scanned_block",
		Help: "Last block scanned for deposits, by chain.",
	}, []string{"chain"})
	reorgsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pocketramp", Subsystem: "chain", Name: "reorgs_total",
		Help: "Reorgs detected while scanning, by chain.",
	}, []string{"chain"})
)

// Collectors returns the adapter's Prometheus collectors; register them once (e.g. on the
// /metrics registry). The values are maintained whether registered or not.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{payoutsWaiting, payoutsTotal, depositsTotal, scannedBlock, reorgsTotal}
}

// WaitingPayouts reads the payouts_waiting gauge (tests, health checks).
func WaitingPayouts(chain, reason string) float64 {
	var m dto.Metric
	g, err := payoutsWaiting.GetMetricWithLabelValues(chain, reason)
	if err != nil {
		return 0
	}
	if err := g.Write(&m); err != nil {
		return 0
	}
	return m.GetGauge().GetValue()
}
