-- The audit log: who looked at or changed a customer's data, and when.
CREATE TABLE audit (
    id bigserial PRIMARY KEY,
    at bigint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    customer text,
    record bytea NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_customer ON audit (customer, at);
