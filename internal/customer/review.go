package customer

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/store"
)

// ReviewItem is a customer awaiting the operator, with what they submitted.
type ReviewItem struct {
	Customer    Customer
	Documents   []Document
	Submissions []Submission
}

// Submission is one decrypted form submission.
type Submission struct {
	Kind      string          `json:"kind"`
	Data      json.RawMessage `json:"data"`
	CreatedAt string          `json:"created_at"`
}

// ReviewQueue lists customers whose KYC is processing or whose enhanced verification was
// submitted, oldest first.
func (s *Service) ReviewQueue(ctx context.Context, page, perPage int) (_ []ReviewItem, _ int, err error) {
	defer errcode.Op("customer.ReviewQueue", &err)
	var w store.Where
	w.Add("(kyc_status = 'processing' OR onboarding_status = 'submitted')")
	list, total, err := store.Page(ctx, s.DB, "customers", columns, w, "updated_at, id", page, perPage, s.scan)
	if err != nil {
		return nil, 0, err
	}
	out := make([]ReviewItem, 0, len(list))
	for _, c := range list {
		item, err := s.reviewItem(ctx, c)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, item)
	}
	return out, total, nil
}

// Review returns one customer with documents and submissions (operator).
func (s *Service) Review(ctx context.Context, id int64) (_ ReviewItem, err error) {
	defer errcode.Op("customer.Review", &err)
	c, err := s.GetAny(ctx, id)
	if err != nil {
		return ReviewItem{}, err
	}
	return s.reviewItem(ctx, c)
}

func (s *Service) reviewItem(ctx context.Context, c Customer) (ReviewItem, error) {
	docs, err := s.Documents(ctx, c.ID)
	if err != nil {
		return ReviewItem{}, err
	}
	rows, err := s.DB.Query(ctx, "SELECT kind, data_enc, created_at FROM customer_submissions WHERE customer_id = ? ORDER BY id", c.ID)
	if err != nil {
		return ReviewItem{}, err
	}
	defer rows.Close()
	subs := []Submission{}
	for rows.Next() {
		var sub Submission
		var sealed []byte
		var created int64
		if err := rows.Scan(&sub.Kind, &sealed, &created); err != nil {
			return ReviewItem{}, err
		}
		plain, err := s.Box.Open(sealed)
		if err != nil {
			return ReviewItem{}, err
		}
		sub.Data, sub.CreatedAt = plain, store.Time(created).Format("2006-01-02T15:04:05.000000Z")
		subs = append(subs, sub)
	}
	return ReviewItem{Customer: c, Documents: docs, Submissions: subs}, rows.Err()
}

// Decision is an operator's review action.
type Decision string

const (
	Approve           Decision = "approve"
	Reject            Decision = "reject"
	ApproveOnboarding Decision = "approve_onboarding"
	RejectOnboarding  Decision = "reject_onboarding"
	Ban               Decision = "ban"
	Unban             Decision = "unban"
)

// Decide applies an operator decision to a customer, recording who did it and why. KYC changes
// record KYC_STATUS_CHANGED events; approving the enhanced verification raises the level.
func (s *Service) Decide(ctx context.Context, id int64, d Decision, reason, actor string) (_ Customer, err error) {
	defer errcode.Op("customer.Decide", &err)
	reason = strings.TrimSpace(reason)
	if (d == Reject || d == RejectOnboarding || d == Ban) && reason == "" {
		return Customer{}, errcode.Field("reason", "A reason is required to %s.", strings.ReplaceAll(string(d), "_", " "))
	}
	if len(reason) > 1000 {
		return Customer{}, errcode.Field("reason", "The reason must not be greater than 1000 characters.")
	}
	var c Customer
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		c, err = s.getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		switch d {
		case Approve:
			return s.setStatus(ctx, tx, &c, StatusValid, "", "", actor)
		case Reject:
			return s.setStatus(ctx, tx, &c, StatusFail, "", reason, actor)
		case ApproveOnboarding, RejectOnboarding:
			if c.OnboardingStatus != OnboardingSubmitted {
				return ErrTransition.With("no enhanced verification is awaiting review", nil)
			}
			status := OnboardingRejected
			if d == ApproveOnboarding {
				status = OnboardingApproved
			}
			if _, err := tx.Exec(ctx, "UPDATE customers SET onboarding_status = ?, updated_at = ? WHERE id = ?", status, store.Micros(s.Now()), c.ID); err != nil {
				return err
			}
			c.OnboardingStatus = status
			if err := s.logReview(ctx, tx, c.ID, string(d), reason, actor); err != nil {
				return err
			}
			if d == ApproveOnboarding {
				return s.setStatus(ctx, tx, &c, c.KYCStatus, LevelReinforced, c.KYCReason, actor)
			}
			return nil
		case Ban, Unban:
			c.Banned = d == Ban
			if !c.Banned {
				reason = ""
			}
			c.BanReason = reason
			if _, err := tx.Exec(ctx, "UPDATE customers SET banned = ?, ban_reason = ?, updated_at = ? WHERE id = ?", c.Banned, reason, store.Micros(s.Now()), c.ID); err != nil {
				return err
			}
			return s.logReview(ctx, tx, c.ID, string(d), reason, actor)
		}
		return errcode.Field("decision", "Unknown decision %q.", d)
	})
	return c, err
}

func (s *Service) logReview(ctx context.Context, tx *store.Tx, id int64, action, reason, actor string) error {
	_, err := tx.Exec(ctx, "INSERT INTO customer_reviews (customer_id, action, reason, actor, created_at) VALUES (?, ?, ?, ?, ?)",
		id, action, reason, actor, store.Micros(s.Now()))
	return err
}

// SandboxSetKYC sets a sandbox customer's KYC status and level directly, through the same state
// change (and event) as a review. Any status may be set from any other.
func (s *Service) SandboxSetKYC(ctx context.Context, integrationID, id int64, status, level, reason string) (_ Check, err error) {
	defer errcode.Op("customer.SandboxSetKYC", &err)
	f := errcode.Fields{}
	if !slices.Contains([]string{StatusUnused, StatusProcessing, StatusValid, StatusFail}, status) {
		f.Add("status", "The status must be one of unused, processing, valid, fail.")
	}
	if level != "" && level != LevelBasic && level != LevelReinforced {
		f.Add("level", "The level must be basic or reinforced.")
	}
	if err := f.Err(); err != nil {
		return Check{}, err
	}
	if status == StatusFail && reason == "" {
		reason = "Rejected in the sandbox."
	}
	var out Check
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		c, err := s.getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.IntegrationID != integrationID {
			return ErrNotFound
		}
		if err := s.changeStatus(ctx, tx, &c, status, level, reason, "sandbox", false); err != nil {
			return err
		}
		out, err = s.check(ctx, tx, c)
		return err
	})
	return out, err
}
