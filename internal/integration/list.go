package integration

import (
	"context"

	"github.com/pocketramp/pocketramp/internal/store"
)

// List returns one page of integrations, newest first, for the operator console.
func (s *Service) List(ctx context.Context, page, perPage int) ([]Integration, int, error) {
	return store.Page(ctx, s.DB, "integrations", columns, store.Where{}, "id DESC", page, perPage,
		func(sc store.Scanner) (Integration, error) { return scan(sc) })
}
