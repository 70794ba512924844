package banking

import (
	"github.com/prometheus/client_golang/prometheus"
)

var payoutsHeldTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "pocketramp", Subsystem: "bank", Name: "payouts_held_total",
	Help: "Bank payouts set aside because they cannot be exported as they are, by reason (name, iban, bic, currency, ...).",
}, []string{"reason"})

var statementWarningsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "pocketramp", Subsystem: "bank", Name: "statement_warnings_total",
	Help: "Statements imported with a warning, by kind (balance_mismatch, sequence_gap).",
}, []string{"kind"})

// Collectors returns the banking Prometheus collectors; register them once (e.g. on the
// /metrics registry). The values are maintained whether registered or not.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{payoutsHeldTotal, statementWarningsTotal}
}
