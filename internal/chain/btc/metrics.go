package btc

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	payoutsWaiting = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "pocketramp", Subsystem: "btc", Name: "payouts_waiting",
		Help: "Bitcoin payouts held back, by chain and reason (insufficient_funds, ...).",
	}, []string{"chain", "reason"})
	awaitingConfirmations = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "pocketramp", Subsystem: "btc", Name: "awaiting_confirmations",
		Help: "Broadcast payouts (kind payout) and seen deposits (kind deposit) not yet at the configured confirmations, and confirmed payouts whose transaction a deep reorg orphaned (kind reorged_payout), by chain.",
	}, []string{"chain", "kind"})
	reorgsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pocketramp", Subsystem: "btc", Name: "reorgs_total",
		Help: "Reorgs detected while scanning Bitcoin blocks, by chain.",
	}, []string{"chain"})
	feeRate = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "pocketramp", Subsystem: "btc", Name: "fee_rate_sat_per_vbyte",
		Help: "Fee rate of the last payout pass (the node's estimate within the operator's caps), sat/vB, by chain.",
	}, []string{"chain"})
	scannedBlock = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "pocketramp", Subsystem: "btc", Name: "scanned_block",
		Help: "Last Bitcoin block scanned, by chain.",
	}, []string{"chain"})
	hotWalletSats = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "pocketramp", Subsystem: "btc", Name: "hot_wallet_spendable_satoshis",
		Help: "Confirmed, unreserved outputs of the hot wallet, satoshis, by chain.",
	}, []string{"chain"})
)

// Collectors returns the Bitcoin adapter's Prometheus collectors; register them once (the app
// registers them on /metrics). The values are maintained whether registered or not.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{payoutsWaiting, awaitingConfirmations, reorgsTotal, feeRate, scannedBlock, hotWalletSats}
}

// updateGauges recounts the gauges from the store after a pass (counting, not tracking
// transitions, keeps them right across restarts and several processes).
func (a *Adapter) updateGauges(ctx context.Context) error {
	rows, err := a.db.Query(ctx, `SELECT reason, COUNT(*) FROM chain_payouts WHERE chain = ? AND status = 'waiting' GROUP BY reason`, a.network)
	if err != nil {
		return err
	}
	waiting := map[string]float64{}
	for rows.Next() {
		var reason string
		var n int64
		if err := rows.Scan(&reason, &n); err != nil {
			rows.Close()
			return err
		}
		waiting[reason] = float64(n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	payoutsWaiting.DeletePartialMatch(prometheus.Labels{"chain": a.network})
	for reason, n := range waiting {
		payoutsWaiting.WithLabelValues(a.network, reason).Set(n)
	}
	for kind, q := range map[string]string{
		"payout":  `SELECT COUNT(*) FROM chain_payouts WHERE chain = ? AND status IN ('signed', 'broadcast')`,
		"deposit": `SELECT COUNT(*) FROM chain_deposits WHERE chain = ? AND status = 'pending'`,
		// Confirmed payouts whose transaction a deep reorg orphaned, until it is mined again.
		"reorged_payout": `SELECT COUNT(*) FROM chain_payouts WHERE chain = ? AND status = 'confirmed' AND btc_tx_id IS NOT NULL AND block_hash IS NULL`,
	} {
		var n int64
		if err := a.db.QueryRow(ctx, q, a.network).Scan(&n); err != nil {
			return err
		}
		awaitingConfirmations.WithLabelValues(a.network, kind).Set(float64(n))
	}
	if cur, err := a.loadCursor(ctx); err == nil {
		scannedBlock.WithLabelValues(a.network).Set(float64(cur.number))
	}
	if a.key != nil {
		if bal, err := a.Balance(ctx); err == nil {
			hotWalletSats.WithLabelValues(a.network).Set(float64(bal))
		}
	}
	return nil
}
