package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/pocketramp/pocketramp/internal/document"
	"github.com/pocketramp/pocketramp/internal/event"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/integration"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Delivery statuses.
const (
	StatusPending   = "pending"   // queued, not attempted yet (or queued again by retry/replay)
	StatusRetrying  = "retrying"  // failed at least once; River will try again
	StatusSucceeded = "succeeded" // a 2xx answered
	StatusFailed    = "failed"    // gave up: attempts exhausted, endpoint disabled or unsubscribed
)

// Payload is the body of a delivery (REFERENCE §7).
type Payload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	Sequence  int64           `json:"sequence"`
	Data      json.RawMessage `json:"data"`
}

// Timestamp is the contract's time format.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// Body returns the exact bytes delivered for ev.
func Body(ev event.Event) []byte {
	b, _ := json.Marshal(Payload{ID: ev.ID, Type: ev.Type, CreatedAt: Timestamp(ev.CreatedAt), Sequence: ev.Sequence, Data: ev.Data})
	return b
}

// Enqueue is the event.Log hook: inside the transaction recording ev it creates a delivery and
// inserts its River job when the integration has an enabled subscription for ev's type.
// Events without one are not delivered (they stay in GET /events).
func (s *Service) Enqueue(ctx context.Context, tx *store.Tx, ev event.Event) error {
	var subID int64
	err := tx.QueryRow(ctx, "SELECT id FROM webhook_subscriptions WHERE integration_id = ? AND type = ? AND disabled_at IS NULL",
		ev.IntegrationID, ev.Type).Scan(&subID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.createDeliveryTx(ctx, tx, ev)
	return err
}

// EnqueueMany is Enqueue for the events of one event.Log.RecordMany (a statement import's
// PAY_INs): one lookup of the enabled subscriptions, then the River jobs and deliveries of the
// subscribed events in one insert each.
func (s *Service) EnqueueMany(ctx context.Context, tx *store.Tx, evs []event.Event) error {
	type sub struct {
		integration int64
		typ         string
	}
	var args []any // the integrations
	seen := map[int64]bool{}
	for _, ev := range evs {
		if !seen[ev.IntegrationID] {
			seen[ev.IntegrationID] = true
			args = append(args, ev.IntegrationID)
		}
	}
	rows, err := tx.Query(ctx, "SELECT integration_id, type FROM webhook_subscriptions WHERE disabled_at IS NULL AND integration_id IN ("+
		store.In(len(args))+")", args...)
	if err != nil {
		return err
	}
	subscribed := map[sub]bool{}
	for rows.Next() {
		var k sub
		if err := rows.Scan(&k.integration, &k.typ); err != nil {
			rows.Close()
			return err
		}
		subscribed[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var todo []event.Event
	for _, ev := range evs {
		if subscribed[sub{ev.IntegrationID, ev.Type}] {
			todo = append(todo, ev)
		}
	}
	now := store.Micros(s.cfg.Now())
	return store.Chunks(len(todo), store.RowsPerStatement(11), func(from, to int) error {
		batch := todo[from:to]
		deliveries := make([]string, len(batch))
		params := make([]river.InsertManyParams, len(batch))
		for i := range batch {
			deliveries[i] = newDeliveryID()
			params[i] = river.InsertManyParams{Args: deliverArgs{DeliveryID: deliveries[i]}}
		}
		jobs, err := s.river.InsertManyTx(ctx, tx.SQL(), params)
		if err != nil {
			return fmt.Errorf("insert webhook jobs: %w", err)
		}
		// Each job names its delivery: pair them by that, whatever order River answers in.
		jobOf := make(map[string]int64, len(jobs))
		for _, j := range jobs {
			var a deliverArgs
			if err := json.Unmarshal(j.Job.EncodedArgs, &a); err != nil {
				return fmt.Errorf("webhook job %d: %w", j.Job.ID, err)
			}
			jobOf[a.DeliveryID] = j.Job.ID
		}
		args := make([]any, 0, 11*len(batch))
		for i, ev := range batch {
			args = append(args, deliveries[i], ev.IntegrationID, ev.ID, ev.Type, ev.Sequence, string(Body(ev)), false,
				StatusPending, jobOf[deliveries[i]], now, now)
		}
		_, err = tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, integration_id, event_id, type, seq, body, test, status, job_id, created_at, updated_at)
			VALUES `+store.Placeholders(len(batch), 11), args...)
		if err != nil {
			return fmt.Errorf("insert webhook deliveries: %w", err)
		}
		return nil
	})
}

func newDeliveryID() string { return "whd_" + ids.Alnum(24) }

func (s *Service) createDeliveryTx(ctx context.Context, tx *store.Tx, ev event.Event) (string, error) {
	id := newDeliveryID()
	res, err := s.river.InsertTx(ctx, tx.SQL(), deliverArgs{DeliveryID: id}, nil)
	if err != nil {
		return "", fmt.Errorf("insert webhook job: %w", err)
	}
	now := store.Micros(s.cfg.Now())
	_, err = tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, integration_id, event_id, type, seq, body, test, status, job_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, ev.IntegrationID, ev.ID, ev.Type, ev.Sequence, string(Body(ev)), false,
		StatusPending, res.Job.ID, now, now)
	if err != nil {
		return "", fmt.Errorf("insert webhook delivery: %w", err)
	}
	return id, nil
}

// requeueTx gives an existing delivery a fresh River job; the job it had, if still queued,
// finds itself superseded and completes without sending.
func (s *Service) requeueTx(ctx context.Context, tx *store.Tx, id string) error {
	res, err := s.river.InsertTx(ctx, tx.SQL(), deliverArgs{DeliveryID: id}, nil)
	if err != nil {
		return fmt.Errorf("insert webhook job: %w", err)
	}
	_, err = tx.Exec(ctx, "UPDATE webhook_deliveries SET status = ?, job_id = ?, updated_at = ? WHERE id = ?",
		StatusPending, res.Job.ID, store.Micros(s.cfg.Now()), id)
	return err
}

// delivery is a row of webhook_deliveries.
type delivery struct {
	ID            string
	IntegrationID int64
	EventID       string
	Type          string
	Seq           int64
	Body          string
	Test          bool
	Status        string
	JobID         sql.NullInt64
	Attempts      int
	CreatedAt     time.Time
}

func (s *Service) loadDelivery(ctx context.Context, id string) (delivery, error) {
	var d delivery
	var created int64
	err := s.cfg.DB.QueryRow(ctx, `SELECT id, integration_id, event_id, type, seq, body, test, status, job_id, attempts, created_at
		FROM webhook_deliveries WHERE id = ?`, id).Scan(&d.ID, &d.IntegrationID, &d.EventID, &d.Type, &d.Seq, &d.Body, &d.Test,
		&d.Status, &d.JobID, &d.Attempts, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrDeliveryNotFound
	}
	d.CreatedAt = store.Time(created)
	return d, err
}

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	s *Service
}

// NextRetry is the retry schedule: see backoff and MaxAttempts.
func (w *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	return time.Now().Add(backoff(w.s.cfg.RetryBase, len(job.Errors)+1))
}

func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration {
	return w.s.cfg.Timeout + 15*time.Second
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.s
	// The delivery and its subscription are read with the other deliveries starting now, in one
	// statement.
	l, err := s.loads.do(ctx, job.Args.DeliveryID)
	if err == nil {
		err = l.err
	}
	if errors.Is(err, ErrDeliveryNotFound) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err
	}
	d := l.d
	if !d.JobID.Valid || d.JobID.Int64 != job.ID || d.Status == StatusSucceeded {
		return nil // superseded by a retry/replay, or already delivered before a crash
	}
	if l.sub == nil {
		return s.giveUp(ctx, d, "no subscription for this event type any more")
	}
	if l.sub.DisabledAt != nil {
		return s.giveUp(ctx, d, "the endpoint is disabled")
	}
	k, err := s.keys(ctx, d.IntegrationID)
	if err != nil {
		return err
	}
	private, err := s.privatePolicy(k.in, func() (int, error) {
		if l.production >= 0 {
			return l.production, nil
		}
		return s.countProduction(ctx)
	})
	if err != nil {
		return err
	}
	res := s.post(ctx, k, private, l.sub.URL, d.EventID, []byte(d.Body))
	// Recorded with the other attempts finishing now, in one transaction. River completes the
	// job after Work returns: a crash in between leaves a succeeded delivery whose rescued job
	// sees the status above and sends nothing.
	rec, err := s.records.do(context.WithoutCancel(ctx), attemptRecord{d: d, sub: l.sub, res: res, final: job.Attempt >= job.MaxAttempts})
	if err == nil {
		err = rec.err
	}
	if err != nil {
		return err
	}
	switch {
	case res.Success:
		return nil
	case rec.disabled:
		return river.JobCancel(fmt.Errorf("webhook endpoint disabled: %s", res.Error))
	}
	return fmt.Errorf("webhook delivery %s: %s", d.ID, res.Error)
}

func (s *Service) giveUp(ctx context.Context, d delivery, why string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := s.cfg.DB.Exec(ctx, "UPDATE webhook_deliveries SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
		StatusFailed, why, store.Micros(s.cfg.Now()), d.ID)
	if err != nil {
		return err
	}
	return river.JobCancel(errors.New(why))
}

// Result is the outcome of one attempt.
type Result struct {
	DeliveryID string
	Attempt    int
	URL        string
	At         time.Time
	Success    bool
	StatusCode int // 0: no HTTP answer
	Latency    time.Duration
	Error      string
	Excerpt    string // the first ≤ 1 KB of the answer; always empty for a loopback or private target
}

// attempt signs and posts d once to sub's URL.
func (s *Service) attempt(ctx context.Context, d delivery, sub *Subscription) (Result, error) {
	k, err := s.keys(ctx, d.IntegrationID)
	if err != nil {
		return Result{}, err
	}
	private, err := s.privateAllowed(ctx, k.in)
	if err != nil {
		return Result{}, err
	}
	return s.post(ctx, k, private, sub.URL, d.EventID, []byte(d.Body)), nil
}

// signingKeys are what signing needs of an integration, cached briefly: deliveries come in
// bursts per integration, and these three look-ups (two decryptions) would otherwise be half
// the database work of a delivery. A changed api_secret is picked up within keysTTL.
type signingKeys struct {
	in        integration.Integration
	apiSecret string
	whsec     string
	loaded    time.Time
}

const keysTTL = 30 * time.Second

func (s *Service) keys(ctx context.Context, integrationID int64) (signingKeys, error) {
	for {
		s.keysMu.Lock()
		k, ok := s.keyCache[integrationID]
		if ok && time.Since(k.loaded) < keysTTL {
			s.keysMu.Unlock()
			return k, nil
		}
		// One caller loads; the workers starting on the same integration meanwhile wait for it
		// rather than each reading the same three rows.
		wait, loading := s.keysLoading[integrationID]
		if !loading {
			wait = make(chan struct{})
			s.keysLoading[integrationID] = wait
		}
		s.keysMu.Unlock()
		if loading {
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return k, ctx.Err()
			}
		}
		k, err := s.loadKeys(ctx, integrationID)
		s.keysMu.Lock()
		if err == nil {
			s.keyCache[integrationID] = k
		}
		delete(s.keysLoading, integrationID)
		close(wait)
		s.keysMu.Unlock()
		return k, err
	}
}

func (s *Service) loadKeys(ctx context.Context, integrationID int64) (signingKeys, error) {
	var k signingKeys
	var err error
	if k.in, err = s.cfg.Integrations.Get(ctx, integrationID); err != nil {
		return k, err
	}
	if k.apiSecret, err = s.cfg.Integrations.Secret(ctx, integrationID); err != nil {
		return k, err
	}
	if k.whsec, err = s.SigningSecret(ctx, integrationID); err != nil {
		return k, err
	}
	k.loaded = time.Now()
	return k, nil
}

// SignCryptoPocket is X-Signature: lowercase hex HMAC-SHA256 keyed with the api_secret over the
// body bytes followed by the timestamp string.
func SignCryptoPocket(apiSecret string, body []byte, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(apiSecret))
	mac.Write(body)
	mac.Write([]byte(timestamp))
	return hex.EncodeToString(mac.Sum(nil))
}

// SignStandard is webhook-signature: "v1," + base64 HMAC-SHA256 over "id.timestamp.body" keyed
// with the decoded whsec_ secret.
func SignStandard(whsec, msgID string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whsec, "whsec_"))
	if err != nil {
		return "", fmt.Errorf("webhook signing secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// httpClient is a delivery client: the guarded dialer with an address policy (public only, or
// also private when private) (checked at connect time, so DNS rebinding after the
// subscription was validated gets nowhere), no proxy, no redirects.
func (s *Service) httpClient(private bool) *http.Client {
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            document.GuardedDialer(s.cfg.Resolver, allowFor(private)),
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    s.cfg.Timeout,
		ResponseHeaderTimeout:  s.cfg.Timeout,
		MaxIdleConns:           max(256, 2*s.cfg.Workers),
		MaxIdleConnsPerHost:    max(64, s.cfg.Workers),
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// post makes one signed attempt with the integration's keys k; private says whether the
// address policy lets it reach loopback and private addresses. Every failure is described in
// Result, never returned.
func (s *Service) post(ctx context.Context, k signingKeys, private bool, rawURL, msgID string, body []byte) Result {
	in, apiSecret, whsec := k.in, k.apiSecret, k.whsec
	res := Result{URL: rawURL, At: s.cfg.Now()}
	u, why := checkURL(in.Sandbox, rawURL)
	if why != "" {
		res.Error = why
		return res
	}
	now := time.Now() // the wall clock: receivers compare it with theirs
	ts := strconv.FormatInt(now.Unix(), 10)
	stdSig, err := SignStandard(whsec, msgID, now.Unix(), body)
	if err != nil {
		res.Error = "signing failed"
		return res
	}
	tctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodPost, u.String(), strings.NewReader(string(body)))
	if err != nil {
		res.Error = "invalid url"
		return res
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "pocketramp-webhooks/1")
	h.Set("X-API-Key", in.APIKey)
	h.Set("X-Timestamp", ts)
	h.Set("X-Signature", SignCryptoPocket(apiSecret, body, ts))
	h["webhook-id"] = []string{msgID}
	h["webhook-timestamp"] = []string{ts}
	h["webhook-signature"] = []string{stdSig}
	// The address actually connected to decides whether the answer's body may be kept: a
	// loopback or private target's answer is never stored or shown (status and latency only),
	// so a sandbox key cannot read the internal network through the delivery log.
	var remote netip.Addr
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) {
			if ap, err := netip.ParseAddrPort(ci.Conn.RemoteAddr().String()); err == nil {
				remote = ap.Addr()
			}
		},
	}))
	start := time.Now()
	resp, err := s.clients[private].Do(req)
	if err != nil {
		res.Latency = time.Since(start)
		res.Error = describe(err, tctx, s.cfg.Timeout)
		return res
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, ExcerptLimit))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	resp.Body.Close()
	res.Latency = time.Since(start)
	res.StatusCode = resp.StatusCode
	res.Excerpt = excerptFor(remote, excerpt)
	res.Success = resp.StatusCode >= 200 && resp.StatusCode <= 299
	if !res.Success {
		res.Error = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return res
}

// excerptFor is what the log keeps of an answer from remote: nothing when the address is
// unknown, loopback or private, else the cleaned first bytes.
func excerptFor(remote netip.Addr, body []byte) string {
	if !remote.IsValid() || isPrivate(remote) {
		return ""
	}
	return clean(body)
}

func clean(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	for len(s) > ExcerptLimit {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

func describe(err error, tctx context.Context, timeout time.Duration) string {
	var ne net.Error
	switch {
	case document.IsBlocked(err):
		return "refused: the url resolves to an address this integration may not reach"
	case errors.Is(tctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "timeout after " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "cancelled (server shutting down)"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "the host name could not be resolved"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "connection refused"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return "connection failed: " + opErr.Err.Error()
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

// lastSuccessGranularity is how stale a healthy subscription's last_success_at may be.
const lastSuccessGranularity = time.Second

// record logs one attempt: recordMany for one attempt. It reports whether the failure disabled
// the endpoint.
func (s *Service) record(ctx context.Context, d delivery, sub *Subscription, res Result, final bool) (disabled bool, err error) {
	recs, err := s.recordMany([]attemptRecord{{d: d, sub: sub, res: res, final: final}})
	if err != nil {
		return false, err
	}
	return recs[0].disabled, recs[0].err
}

// TestResult is what a test ping answers.
type TestResult struct {
	Result
	EventID string
}

// SendTest posts a signed test delivery of typ to the subscribed URL now and returns the
// result. It is logged like any delivery (test = true) but never affects the endpoint's health.
func (s *Service) SendTest(ctx context.Context, in integration.Integration, typ string) (TestResult, error) {
	typ, err := validateType(typ)
	if err != nil {
		return TestResult{}, err
	}
	sub, err := s.subscription(ctx, in.ID, typ)
	if err != nil {
		return TestResult{}, err
	}
	data, _ := json.Marshal(map[string]any{"test": true, "message": "This is a test delivery from pocketramp."})
	ev := event.Event{ID: event.NewID(), IntegrationID: in.ID, Type: typ, CreatedAt: s.cfg.Now().UTC(), Data: data}
	d := delivery{ID: newDeliveryID(), IntegrationID: in.ID, EventID: ev.ID, Type: typ, Body: string(Body(ev)), Test: true, CreatedAt: ev.CreatedAt}
	now := store.Micros(s.cfg.Now())
	_, err = s.cfg.DB.Exec(ctx, `INSERT INTO webhook_deliveries (id, integration_id, event_id, type, seq, body, test, status, url, created_at, updated_at)
		VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`, d.ID, in.ID, ev.ID, typ, d.Body, true, StatusPending, sub.URL, now, now)
	if err != nil {
		return TestResult{}, err
	}
	res, err := s.attempt(ctx, d, &sub)
	if err != nil {
		return TestResult{}, err
	}
	res.DeliveryID = d.ID
	if _, err := s.record(ctx, d, &sub, res, true); err != nil {
		return TestResult{}, err
	}
	res.Attempt = 1
	return TestResult{Result: res, EventID: ev.ID}, nil
}

func quietLogger(s *Service) *slog.Logger {
	return slog.New(levelHandler{min: slog.LevelWarn, Handler: s.cfg.Log.Handler()})
}

// levelHandler drops records below min (River is chatty at info).
type levelHandler struct {
	min slog.Level
	slog.Handler
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{h.min, h.Handler.WithAttrs(a)}
}

func (h levelHandler) WithGroup(n string) slog.Handler {
	return levelHandler{h.min, h.Handler.WithGroup(n)}
}
