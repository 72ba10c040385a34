-- Erased customers: what stays of them (when, who asked, salted digests of their platform
-- ids), one row per customer id the erasure covered.
CREATE TABLE erasures (
    customer text PRIMARY KEY,
    erased_at bigint NOT NULL,
    -- The customer the erasure was asked for (linked chats share it).
    asked_for text NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX erasures_at ON erasures (erased_at);

CREATE TABLE erased_identities (
    digest text PRIMARY KEY,
    erased_at bigint NOT NULL
);

-- The key that salts those digests, made once.
CREATE TABLE privacy_key (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    key bytea NOT NULL
);
