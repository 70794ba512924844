package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/store"
)

// Idempotency keys are kept this long; an unfinished claim older than idempotencyAbandoned is
// taken to be from a request that died with its server and may be claimed again.
const (
	idempotencyTTL       = 24 * time.Hour
	idempotencyAbandoned = 5 * time.Minute
	maxIdempotencyKey    = 255
)

var (
	errKeyReused  = &errcode.Error{Code: "idempotency_key_reused", Kind: errcode.KindConflict, Message: "This Idempotency-Key was used with another request body."}
	errInProgress = &errcode.Error{Code: "idempotency_request_in_progress", Kind: errcode.KindConflict, Message: "A request with this Idempotency-Key is still being processed."}
)

// idempotent replays the stored final answer of a POST that carries an Idempotency-Key already
// used with the same body (scoped to the integration and path). 5xx answers are not stored, so
// the client may retry them.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > maxIdempotencyKey {
			s.renderError(w, r, errcode.Field("Idempotency-Key", "The Idempotency-Key header must be at most %d characters.", maxIdempotencyKey))
			return
		}
		body, err := readBody(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		r.Body = http.NoBody
		if len(body) > 0 {
			r.Body = readCloser{bytes.NewReader(body)}
		}
		in := caller(r)
		claim, err := s.claimIdempotencyKey(r, in.ID, key, bodyHash(body))
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if claim.replay != nil {
			w.Header().Set("Idempotency-Replayed", "true")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(claim.status)
			w.Write(claim.replay)
			return
		}
		rec := &captureWriter{ResponseWriter: w, status: http.StatusOK}
		finished := false
		defer func() {
			ctx := r.Context()
			if finished && rec.status < 500 {
				_, err := s.DB.Exec(ctx, "UPDATE idempotency_keys SET status_code = ?, response = ? WHERE integration_id = ? AND path = ? AND key = ?",
					rec.status, rec.body.Bytes(), in.ID, r.URL.Path, key)
				if err != nil {
					s.log.ErrorContext(ctx, "store idempotent response", "err", err)
				}
				return
			}
			// A 5xx or a panic: forget the key so the client can retry.
			if _, err := s.DB.Exec(ctx, "DELETE FROM idempotency_keys WHERE integration_id = ? AND path = ? AND key = ?", in.ID, r.URL.Path, key); err != nil {
				s.log.ErrorContext(ctx, "release idempotency key", "err", err)
			}
		}()
		next.ServeHTTP(rec, r)
		finished = true
	})
}

type idempotencyClaim struct {
	status int
	replay []byte // non-nil: answer with this stored body
}

func (s *Server) claimIdempotencyKey(r *http.Request, integrationID int64, key string, hash []byte) (idempotencyClaim, error) {
	ctx := r.Context()
	var claim idempotencyClaim
	attempt := func() error {
		return s.DB.Tx(ctx, func(tx *store.Tx) error {
			now := s.Now()
			var (
				storedHash []byte
				status     sql.NullInt64
				response   []byte
				created    int64
			)
			err := tx.QueryRow(ctx, "SELECT body_hash, status_code, response, created_at FROM idempotency_keys WHERE integration_id = ? AND path = ? AND key = ?"+tx.ForUpdate(),
				integrationID, r.URL.Path, key).Scan(&storedHash, &status, &response, &created)
			if errors.Is(err, sql.ErrNoRows) {
				_, err = tx.Exec(ctx, "INSERT INTO idempotency_keys (integration_id, path, key, body_hash, created_at) VALUES (?, ?, ?, ?, ?)",
					integrationID, r.URL.Path, key, hash, store.Micros(now))
				return err
			}
			if err != nil {
				return err
			}
			age := now.Sub(store.Time(created))
			if age >= idempotencyTTL || (!status.Valid && age >= idempotencyAbandoned) {
				_, err = tx.Exec(ctx, "UPDATE idempotency_keys SET body_hash = ?, status_code = NULL, response = NULL, created_at = ? WHERE integration_id = ? AND path = ? AND key = ?",
					hash, store.Micros(now), integrationID, r.URL.Path, key)
				return err
			}
			switch {
			case !bytes.Equal(storedHash, hash):
				return errKeyReused
			case !status.Valid:
				return errInProgress
			}
			claim = idempotencyClaim{status: int(status.Int64), replay: response}
			if claim.replay == nil {
				claim.replay = []byte{}
			}
			return nil
		})
	}
	err := attempt()
	if store.IsUniqueViolation(err) { // lost a race to insert the same key: read the winner's row
		err = attempt()
	}
	return claim, err
}

// bodyHash identifies a request body. JSON bodies are canonicalised (keys sorted, whitespace
// dropped, numbers kept verbatim) so that the same JSON sent with another layout still matches.
func bodyHash(body []byte) []byte {
	canonical := body
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if b, err := json.Marshal(v); err == nil {
			canonical = b
		}
	}
	h := sha256.Sum256(canonical)
	return h[:]
}

// PurgeIdempotencyKeys deletes keys older than the retention window.
func (s *Server) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	res, err := s.DB.Exec(ctx, "DELETE FROM idempotency_keys WHERE created_at < ?", store.Micros(s.Now().Add(-idempotencyTTL)))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	wrote  bool
}

func (c *captureWriter) WriteHeader(code int) {
	if !c.wrote {
		c.status, c.wrote = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.wrote = true
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}
