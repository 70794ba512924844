package banking

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// counterValue reads one counter of a vector.
func counterValue(v *prometheus.CounterVec, labels ...string) float64 {
	var m dto.Metric
	c, err := v.GetMetricWithLabelValues(labels...)
	if err != nil || c.Write(&m) != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
