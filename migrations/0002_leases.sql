-- Several replicas on one database: conversations fall into shards, each leased to one live
-- replica at a time. Times are the database's clock (`now()`), the one clock every replica
-- shares, so a replica's clock running fast or slow cannot make two holders.

CREATE TABLE replicas (
    id text PRIMARY KEY,
    seen_at timestamptz NOT NULL
);

CREATE TABLE leases (
    shard integer PRIMARY KEY,
    owner text,
    -- Grows at every change of holder: the fencing token a commit carries.
    epoch bigint NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leases_owner ON leases (owner);
