package customer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pocketramp/pocketramp/internal/document"
	"github.com/pocketramp/pocketramp/internal/errcode"
	"github.com/pocketramp/pocketramp/internal/ids"
	"github.com/pocketramp/pocketramp/internal/store"
)

// DocumentTypes are the types POST /customers/{id}/documents accepts (REFERENCE §3.6).
var DocumentTypes = []string{"onboarding_form", "bank_statement", "payslip", "employment_contract", "tax_return",
	"tax_certificate", "company_accounts", "dividend_statement", "investment_statement", "crypto_wallet_statement",
	"sale_of_property", "sale_of_vehicle", "sale_of_company_shares", "inheritance_document", "gift_declaration",
	"loan_agreement", "savings_evidence", "invoice", "freelance_income_evidence", "pension_statement",
	"unemployment_benefit_statement", "source_of_funds_declaration", "other"}

// Errors of the document upload, which uses real HTTP statuses.
var (
	ErrNotInIntegration = &errcode.Error{Code: "user_not_in_integration", Status: 403}
	ErrDocNotFound      = &errcode.Error{Code: "user_not_found", Status: 404}
)

// Document is a stored file's metadata.
type Document struct {
	ID          int64  `json:"id"`
	Type        string `json:"type"`
	Source      string `json:"source"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	CreatedAt   string `json:"created_at"`
}

// fileError turns a loader rejection into the upload's 422 invalid_file answer for field.
func fileError(field string, err error) error {
	var inv *document.Invalid
	if errors.As(err, &inv) {
		return &errcode.Error{Code: "invalid_file", Status: 422, Message: inv.Reason, Data: nil,
			Fields: errcode.Fields{field: {inv.Reason}}}
	}
	return err
}

// loadFiles decodes or fetches each named source; a bad one is a 422 on its field.
func (s *Service) loadFiles(ctx context.Context, sources map[string]string) (map[string]document.File, error) {
	out := map[string]document.File{}
	f := errcode.Fields{}
	for field, src := range sources {
		file, err := s.Files.Load(ctx, strings.TrimSpace(src))
		var inv *document.Invalid
		if errors.As(err, &inv) {
			f.Add(field, "%s", inv.Reason)
			continue
		}
		if err != nil {
			return nil, err
		}
		out[field] = file
	}
	return out, f.Err()
}

// storeDocument writes the file to the blob store and its metadata in tx.
func (s *Service) storeDocument(ctx context.Context, tx *store.Tx, customerID int64, typ, source string, file document.File) (int64, error) {
	key := fmt.Sprintf("customers/%d/%s-%s", customerID, file.SHA256[:16], ids.Alnum(8))
	if err := s.Blobs.Put(ctx, key, file.Data); err != nil {
		return 0, fmt.Errorf("store document: %w", err)
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO customer_documents (customer_id, type, source, content_type, size, sha256, blob_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, customerID, typ, source, file.ContentType, file.Size, file.SHA256, key,
		store.Micros(s.Now())).Scan(&id)
	return id, err
}

// AddDocument stores a document for a customer of integrationID (POST /customers/{id}/documents):
// 404 when the customer does not exist, 403 when it belongs to another integration, 422 for an
// unknown type or a bad file.
func (s *Service) AddDocument(ctx context.Context, integrationID, customerID int64, typ, src string) (int64, error) {
	c, err := s.GetAny(ctx, customerID)
	if errors.Is(err, ErrNotFound) {
		return 0, ErrDocNotFound
	}
	if err != nil {
		return 0, err
	}
	if c.IntegrationID != integrationID {
		return 0, ErrNotInIntegration
	}
	f := errcode.Fields{}
	typ = strings.TrimSpace(typ)
	if typ == "" {
		errcode.Required(f, "type")
	} else if !slices.Contains(DocumentTypes, typ) {
		f.Add("type", "The selected type is invalid.")
	}
	if strings.TrimSpace(src) == "" {
		errcode.Required(f, "file")
	}
	if err := f.Err(); err != nil {
		return 0, err
	}
	file, err := s.Files.Load(ctx, strings.TrimSpace(src))
	if err != nil {
		return 0, fileError("file", err)
	}
	var id int64
	err = s.DB.Tx(ctx, func(tx *store.Tx) error {
		id, err = s.storeDocument(ctx, tx, customerID, typ, "api", file)
		return err
	})
	return id, err
}

// Documents lists a customer's documents (operator review).
func (s *Service) Documents(ctx context.Context, customerID int64) ([]Document, error) {
	rows, err := s.DB.Query(ctx, "SELECT id, type, source, content_type, size, sha256, created_at FROM customer_documents WHERE customer_id = ? ORDER BY id", customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Document{}
	for rows.Next() {
		var d Document
		var created int64
		if err := rows.Scan(&d.ID, &d.Type, &d.Source, &d.ContentType, &d.Size, &d.SHA256, &created); err != nil {
			return nil, err
		}
		d.CreatedAt = store.Time(created).Format("2006-01-02T15:04:05.000000Z")
		out = append(out, d)
	}
	return out, rows.Err()
}

// DocumentFile returns a stored document's bytes (operator review).
func (s *Service) DocumentFile(ctx context.Context, customerID, documentID int64) (Document, []byte, error) {
	var d Document
	var key string
	var created int64
	err := s.DB.QueryRow(ctx, "SELECT id, type, source, content_type, size, sha256, blob_key, created_at FROM customer_documents WHERE id = ? AND customer_id = ?",
		documentID, customerID).Scan(&d.ID, &d.Type, &d.Source, &d.ContentType, &d.Size, &d.SHA256, &key, &created)
	if err != nil {
		return Document{}, nil, errcode.NotFound
	}
	data, err := s.Blobs.Get(ctx, key)
	return d, data, err
}
