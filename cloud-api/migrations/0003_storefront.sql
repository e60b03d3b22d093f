-- The storefront side of inventory (DESIGN.md §3.5): API keys, holds, sales, adjustments and
-- idempotency records.
--
-- Stock is kept per lot in `lots.remaining` (the harvested quantity less what was sold and
-- adjusted). Availability of a product = Σ remaining of its unexpired lots − Σ quantity of
-- its live holds. Every write that can change availability (a hold, a commit, an adjustment)
-- first locks the product row, so two storefronts reserving the last unit at once are
-- serialized and cannot oversell.

ALTER TABLE products
    ADD COLUMN low_stock_threshold NUMERIC(14, 3) NOT NULL DEFAULT 0
        CHECK (low_stock_threshold >= 0);

ALTER TABLE lots ADD COLUMN remaining NUMERIC(14, 3);
UPDATE lots SET remaining = quantity;
ALTER TABLE lots
    ALTER COLUMN remaining SET NOT NULL,
    ADD CONSTRAINT lots_remaining_not_negative CHECK (remaining >= 0);
-- First-expired-first-out: the lots of a product with stock left, in consumption order.
CREATE INDEX lots_fefo ON lots (product_id, best_before, harvested_at, id) WHERE remaining > 0;
CREATE INDEX lots_by_farm ON lots (farm_id, product_id) WHERE remaining > 0;

-- A storefront's key: only its SHA-256 is stored. A revoked key stays for the record.
CREATE TABLE api_keys (
    id         BIGSERIAL PRIMARY KEY,
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    key_sha256 BYTEA NOT NULL UNIQUE CHECK (length(key_sha256) = 32),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);

-- A hold on stock. `held` until committed (sold), released, or past `expires_at`, after
-- which it no longer counts (a sweeper later marks it `expired`).
CREATE TABLE reservations (
    id           UUID PRIMARY KEY,
    tenant_id    BIGINT NOT NULL REFERENCES tenants (id),
    status       TEXT NOT NULL CHECK (status IN ('held', 'committed', 'released', 'expired')),
    expires_at   TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at    TIMESTAMPTZ
);
CREATE INDEX reservations_held ON reservations (expires_at) WHERE status = 'held';

-- What a reservation holds. `held_until` is the reservation's expiry while it is held and
-- NULL once it is closed, so availability reads one index of live holds per product.
CREATE TABLE reservation_items (
    reservation_id UUID NOT NULL REFERENCES reservations (id),
    product_id     BIGINT NOT NULL REFERENCES products (id),
    quantity       NUMERIC(14, 3) NOT NULL CHECK (quantity > 0),
    held_until     TIMESTAMPTZ,
    PRIMARY KEY (reservation_id, product_id)
);
CREATE INDEX reservation_items_live ON reservation_items (product_id, held_until)
    WHERE held_until IS NOT NULL;

-- What a committed reservation took from which lot (first expired, first out).
CREATE TABLE sales (
    id             BIGSERIAL PRIMARY KEY,
    reservation_id UUID NOT NULL REFERENCES reservations (id),
    lot_id         BIGINT NOT NULL REFERENCES lots (id),
    quantity       NUMERIC(14, 3) NOT NULL CHECK (quantity > 0),
    sold_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sales_by_reservation ON sales (reservation_id);

-- A change to a lot's stock that is not a sale, with its reason.
CREATE TABLE inventory_adjustments (
    id         BIGSERIAL PRIMARY KEY,
    tenant_id  BIGINT NOT NULL REFERENCES tenants (id),
    lot_id     BIGINT NOT NULL REFERENCES lots (id),
    delta      NUMERIC(14, 3) NOT NULL CHECK (delta <> 0),
    reason     TEXT NOT NULL CHECK (reason IN ('spoilage', 'damage', 'correction')),
    note       TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The answer to a POST that carried an Idempotency-Key, replayed for a retry of the same
-- request; the same key with a different request is refused. Kept for a day.
CREATE TABLE idempotency_keys (
    tenant_id      BIGINT NOT NULL REFERENCES tenants (id),
    key            TEXT NOT NULL,
    request_sha256 BYTEA NOT NULL,
    status         SMALLINT NOT NULL,
    body           TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
