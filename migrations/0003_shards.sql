-- Several replicas: every row of a work queue carries its conversation's shard, so a
-- replica reads only the shards it leases. The shard is computed by souk
-- (src/store/shards.rs: the first two bytes of SHA-256 of the customer id, modulo 64); the
-- same expression fills the rows written before this migration.

ALTER TABLE inbox ADD COLUMN shard integer NOT NULL DEFAULT 0;
-- The lease epoch under which a replica took the event to step it; NULL until one does.
-- A replica that takes the shard over takes again every row not claimed under its epoch.
ALTER TABLE inbox ADD COLUMN claimed bigint;
ALTER TABLE outbox ADD COLUMN shard integer NOT NULL DEFAULT 0;
ALTER TABLE timers ADD COLUMN shard integer NOT NULL DEFAULT 0;
ALTER TABLE payment_jobs ADD COLUMN shard integer NOT NULL DEFAULT 0;

UPDATE inbox SET shard = (get_byte(sha256(convert_to(customer, 'UTF8')), 0) * 256
    + get_byte(sha256(convert_to(customer, 'UTF8')), 1)) % 64;
UPDATE outbox SET shard = (get_byte(sha256(convert_to(customer, 'UTF8')), 0) * 256
    + get_byte(sha256(convert_to(customer, 'UTF8')), 1)) % 64;
UPDATE timers SET shard = (get_byte(sha256(convert_to(customer, 'UTF8')), 0) * 256
    + get_byte(sha256(convert_to(customer, 'UTF8')), 1)) % 64;
UPDATE payment_jobs p SET shard = (get_byte(sha256(convert_to(o.customer, 'UTF8')), 0) * 256
    + get_byte(sha256(convert_to(o.customer, 'UTF8')), 1)) % 64
    FROM orders o WHERE o.id = p.order_id;

CREATE INDEX inbox_shard ON inbox (shard, seq);
-- A replica taking a new event takes its conversation's earlier untaken ones with it.
CREATE INDEX inbox_untaken ON inbox (customer) WHERE claimed IS NULL;
-- The holder told of new events takes its shards' never-taken rows.
CREATE INDEX inbox_untaken_shard ON inbox (shard, seq) WHERE claimed IS NULL;
CREATE INDEX outbox_shard ON outbox (shard, id);
CREATE INDEX timers_shard_due ON timers (shard, due);

-- Web chat sessions before their first message, so any replica knows them (the embedded
-- store keeps them in memory only). Pruned a day after they were made.
CREATE TABLE pending_sessions (
    digest text PRIMARY KEY,
    locale text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX pending_sessions_created ON pending_sessions (created_at);
