-- +goose Up
-- A payment's hosted-page token is unique where it has one. Payments made through the API
-- alone (most bank transfers) have none, and the index held an entry for each such NULL that no
-- lookup reads: one index insert per payment for nothing. The partial index keeps the same
-- uniqueness (NULLs never conflicted) and serves the lookup (`page_token_hash = ?` implies IS
-- NOT NULL).
DROP INDEX payments_page_token;
CREATE UNIQUE INDEX payments_page_token ON payments(page_token_hash) WHERE page_token_hash IS NOT NULL;

-- +goose Down
DROP INDEX payments_page_token;
CREATE UNIQUE INDEX payments_page_token ON payments(page_token_hash);
