-- The tenant's catalogue and the stock harvests create. A harvest event becomes one lot in
-- the transaction that records the event (lots.event_id is unique), so a resent harvest
-- never adds stock twice. A harvest that cannot become a lot (unknown SKU, a unit that does
-- not convert, a quantity that is not positive) is kept with the reason, for an operator.
CREATE TABLE products (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       BIGINT NOT NULL REFERENCES tenants (id),
    sku             TEXT NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    unit            TEXT NOT NULL CHECK (unit IN ('kg', 'g', 'each')),
    shelf_life_days INTEGER NOT NULL CHECK (shelf_life_days BETWEEN 1 AND 3650),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, sku)
);

CREATE TABLE lots (
    id           BIGSERIAL PRIMARY KEY,
    tenant_id    BIGINT NOT NULL REFERENCES tenants (id),
    farm_id      BIGINT NOT NULL REFERENCES farms (id),
    product_id   BIGINT NOT NULL REFERENCES products (id),
    event_id     UUID NOT NULL UNIQUE REFERENCES device_events (event_id),
    lot_code     TEXT NOT NULL,
    room         TEXT NOT NULL,
    -- In the product's unit.
    quantity     NUMERIC(14, 3) NOT NULL CHECK (quantity > 0),
    harvested_at TIMESTAMPTZ NOT NULL,
    best_before  TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX lots_by_product ON lots (tenant_id, product_id, best_before);

CREATE TABLE harvest_issues (
    event_id    UUID PRIMARY KEY REFERENCES device_events (event_id),
    reason      TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
