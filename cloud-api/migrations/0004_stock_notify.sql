-- Every change to a product's stock or holds (and to the product itself) sends a
-- notification on channel `farm_stock` with the product's id, after commit; cloud-api drops
-- its cached availability of that product when it hears it (see cloud-api/src/cache.rs).
-- PostgreSQL folds identical notifications of one transaction into one.
CREATE FUNCTION notify_stock_of_product_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('farm_stock', OLD.product_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('farm_stock', NEW.product_id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION notify_stock_of_product() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('farm_stock', NEW.id::text);
    RETURN NULL;
END $$;

CREATE TRIGGER lots_notify_stock AFTER INSERT OR UPDATE OR DELETE ON lots
    FOR EACH ROW EXECUTE FUNCTION notify_stock_of_product_id();
CREATE TRIGGER reservation_items_notify_stock AFTER INSERT OR UPDATE OR DELETE
    ON reservation_items FOR EACH ROW EXECUTE FUNCTION notify_stock_of_product_id();
CREATE TRIGGER products_notify_stock AFTER UPDATE ON products
    FOR EACH ROW EXECUTE FUNCTION notify_stock_of_product();
