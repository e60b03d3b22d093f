-- Tenants own farms; farms own devices (edge agents). A device authenticates with a token
-- of which only the SHA-256 is stored. sync-service keeps each device's acked_seq watermark,
-- the gaps it saw and every event it applied (once per event id).
CREATE TABLE tenants (
    id         BIGSERIAL PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE farms (
    id         BIGSERIAL PRIMARY KEY,
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id),
    slug       TEXT NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, slug)
);

CREATE TABLE devices (
    id            TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    farm_id       BIGINT NOT NULL REFERENCES farms (id),
    token_sha256  BYTEA NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    acked_seq     BIGINT NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
    last_batch_at TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Sequence numbers a device never delivered (evicted on the edge before they were synced).
CREATE TABLE sync_gaps (
    device_id   TEXT NOT NULL REFERENCES devices (id),
    from_seq    BIGINT NOT NULL,
    to_seq      BIGINT NOT NULL CHECK (to_seq >= from_seq),
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, from_seq)
);

-- Every event a device sent (harvests, alarms, actuator changes …), applied once per id.
CREATE TABLE device_events (
    event_id    UUID PRIMARY KEY,
    device_id   TEXT NOT NULL REFERENCES devices (id),
    seq         BIGINT NOT NULL,
    ts          TIMESTAMPTZ NOT NULL,
    kind        TEXT NOT NULL,
    body        JSONB NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX device_events_by_device ON device_events (device_id, seq);
