-- +goose Up
CREATE TABLE event_sequences (
    integration_id BIGINT PRIMARY KEY REFERENCES integrations(id),
    last_seq       BIGINT NOT NULL
);

CREATE TABLE events (
    id             TEXT    PRIMARY KEY,
    integration_id BIGINT NOT NULL REFERENCES integrations(id),
    seq            BIGINT NOT NULL,
    type           TEXT    NOT NULL,
    object_type    TEXT    NOT NULL,
    object_id      TEXT    NOT NULL,
    data           TEXT    NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (integration_id, seq)
);

ALTER TABLE integrations ADD COLUMN trusted_kyc BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE customers (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid                  TEXT    NOT NULL UNIQUE,
    integration_id        BIGINT NOT NULL REFERENCES integrations(id),
    type                  TEXT    NOT NULL CHECK (type IN ('individual', 'company')),
    email                 TEXT    NOT NULL,
    name                  TEXT    NOT NULL DEFAULT '',
    last_name             TEXT    NOT NULL DEFAULT '',
    last_name2            TEXT    NOT NULL DEFAULT '',
    company_name          TEXT    NOT NULL DEFAULT '',
    phone                 TEXT    NOT NULL DEFAULT '',
    country               TEXT    NOT NULL DEFAULT '',
    country_code          TEXT    NOT NULL DEFAULT '',
    city                  TEXT    NOT NULL DEFAULT '',
    address_state         TEXT    NOT NULL DEFAULT '',
    zipcode               TEXT    NOT NULL DEFAULT '',
    professional_activity TEXT    NOT NULL DEFAULT '',
    identification_type   TEXT    NOT NULL DEFAULT '',
    pii_enc               BYTEA,
    identification_hash   BYTEA,
    password_hash         TEXT    NOT NULL DEFAULT '',
    iban                  TEXT    NOT NULL DEFAULT '',
    bank_name             TEXT    NOT NULL DEFAULT '',
    callback_url          TEXT    NOT NULL DEFAULT '',
    kyc_status            TEXT    NOT NULL CHECK (kyc_status IN ('unused', 'processing', 'valid', 'fail')),
    kyc_level             TEXT    NOT NULL CHECK (kyc_level IN ('basic', 'reinforced')),
    kyc_reason            TEXT    NOT NULL DEFAULT '',
    kyc_reference         TEXT    NOT NULL DEFAULT '',
    onboarding_status     TEXT    NOT NULL DEFAULT 'none',
    banned                BOOLEAN NOT NULL DEFAULT FALSE,
    ban_reason            TEXT    NOT NULL DEFAULT '',
    kyb_password_hash     TEXT    NOT NULL DEFAULT '',
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    UNIQUE (integration_id, email)
);
CREATE INDEX customers_integration ON customers(integration_id, id);
CREATE INDEX customers_identification ON customers(integration_id, identification_hash);
CREATE INDEX customers_review ON customers(kyc_status, onboarding_status);

CREATE TABLE customer_links (
    token_hash  BYTEA    PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    purpose     TEXT    NOT NULL CHECK (purpose IN ('kyc', 'kyb', 'onboarding')),
    token_enc   BYTEA    NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX customer_links_customer ON customer_links(customer_id, purpose);

CREATE TABLE customer_documents (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  BIGINT NOT NULL REFERENCES customers(id),
    type         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT    NOT NULL,
    blob_key     TEXT    NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX customer_documents_customer ON customer_documents(customer_id);

CREATE TABLE customer_submissions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('kyc', 'kyb', 'onboarding', 'delegated')),
    data_enc    BYTEA    NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX customer_submissions_customer ON customer_submissions(customer_id, kind);

CREATE TABLE customer_reviews (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    action      TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',
    actor       TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX customer_reviews_customer ON customer_reviews(customer_id);

-- +goose Down
DROP TABLE customer_reviews;
DROP TABLE customer_submissions;
DROP TABLE customer_documents;
DROP TABLE customer_links;
DROP TABLE customers;
DROP TABLE events;
DROP TABLE event_sequences;
