//! The admin commands against a real PostgreSQL (farm-e2e's `Postgres`), through the same
//! clap parsing `cloud-api` uses: happy paths, one-time secrets, tenant scoping, and a clear
//! error for each kind of bad input.
#![allow(clippy::unwrap_used)]

use clap::Parser;
use cloud_api::admin::{self, AdminCommand, AdminError, Output, ProductSpec, Revoked, Upserted};
use cloud_api::secrets::secret_hash;
use farm_e2e::Postgres;
use tokio_postgres::{Client, NoTls};

/// The database the tests use.
const DB: &str = "admin";

/// The admin subcommands at the top level, as `cloud-api` has them.
#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: AdminCommand,
}

/// A fresh, migrated database and a client connected to it.
async fn database() -> (Postgres, Client) {
    let postgres = Postgres::start();
    let url = postgres.create_database(DB);
    let (mut client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    cloud_api::db::migrate(&mut client).await.unwrap();
    (postgres, client)
}

/// Parses `args` as the command line after `cloud-api` and runs the command.
async fn run(db: &mut Client, args: &[&str]) -> Result<Output, AdminError> {
    let cli = Cli::try_parse_from(std::iter::once("cloud-api").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    admin::execute(&cli.command, db).await
}

/// [`run`] that must succeed.
async fn ok(db: &mut Client, args: &[&str]) -> Output {
    run(db, args)
        .await
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// [`run`] that must fail; returns the error and its message.
async fn fails(db: &mut Client, args: &[&str]) -> (AdminError, String) {
    match run(db, args).await {
        Ok(output) => panic!("{args:?} succeeded: {output:?}"),
        Err(e) => {
            let message = e.to_string();
            (e, message)
        }
    }
}

/// The field an [`AdminError::Invalid`] names.
fn invalid_field(error: &AdminError) -> Option<&'static str> {
    match error {
        AdminError::Invalid { field, .. } => Some(field),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lines of a table after its header, each split into cells (at runs of 2+ spaces).
fn table_rows(stdout: &str) -> Vec<Vec<&str>> {
    stdout
        .lines()
        .skip(1)
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn tenants_and_farms_are_added_listed_and_not_added_twice() {
    let (_postgres, mut db) = database().await;
    let added = ok(
        &mut db,
        &[
            "tenant",
            "add",
            "--tenant",
            "acme",
            "--name",
            "Acme Mushrooms",
        ],
    )
    .await;
    assert_eq!(added.stdout, "");
    assert_eq!(added.stderr, "tenant \"acme\" added\n");
    ok(&mut db, &["tenant", "add", "--tenant", "globex"]).await;
    let north = ["--farm", "north", "--name", "North barn"];
    ok(
        &mut db,
        &[&["farm", "add", "--tenant", "acme"][..], &north].concat(),
    )
    .await;
    ok(
        &mut db,
        &["farm", "add", "--tenant", "acme", "--farm", "south"],
    )
    .await;
    // Farm slugs are per tenant.
    ok(
        &mut db,
        &["farm", "add", "--tenant", "globex", "--farm", "north"],
    )
    .await;

    let tenants = ok(&mut db, &["tenant", "list"]).await;
    assert!(
        tenants.stdout.starts_with("TENANT  NAME"),
        "{}",
        tenants.stdout
    );
    let rows = table_rows(&tenants.stdout);
    assert_eq!(rows.len(), 2, "{}", tenants.stdout);
    assert_eq!(rows[0][..3], ["acme", "Acme Mushrooms", "2"]);
    assert_eq!(rows[1][..3], ["globex", "globex", "1"]);
    assert!(rows[0][3].ends_with('Z'), "{:?}", rows[0]);

    let farms = ok(&mut db, &["farm", "list", "--tenant", "acme"]).await;
    let rows = table_rows(&farms.stdout);
    assert_eq!(rows.len(), 2, "{}", farms.stdout);
    assert_eq!(rows[0][..3], ["north", "North barn", "0"]);
    assert_eq!(rows[1][..3], ["south", "south", "0"]);
    assert_eq!(admin::list_farms(&db, "globex").await.unwrap().len(), 1);

    let (e, message) = fails(&mut db, &["tenant", "add", "--tenant", "acme"]).await;
    assert!(matches!(e, AdminError::Exists(_)), "{e:?}");
    assert_eq!(message, "tenant \"acme\" exists already");
    let args = ["farm", "add", "--tenant", "acme", "--farm", "north"];
    let (e, message) = fails(&mut db, &args).await;
    assert!(matches!(e, AdminError::Exists(_)), "{e:?}");
    assert_eq!(message, "farm \"north\" of tenant \"acme\" exists already");

    let args = ["farm", "add", "--tenant", "nope", "--farm", "x"];
    let (e, message) = fails(&mut db, &args).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert_eq!(message, "tenant \"nope\" not found");
    let (e, _) = fails(&mut db, &["farm", "list", "--tenant", "nope"]).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");

    let (e, message) = fails(&mut db, &["tenant", "add", "--tenant", "Bad Tenant"]).await;
    assert_eq!(invalid_field(&e), Some("tenant"), "{e:?}");
    assert!(
        message.starts_with("tenant \"Bad Tenant\": use 1-63 lowercase"),
        "{message}"
    );
    let args = ["farm", "add", "--tenant", "acme", "--farm", "_x"];
    let (e, _) = fails(&mut db, &args).await;
    assert_eq!(invalid_field(&e), Some("farm"), "{e:?}");
    let args = ["tenant", "add", "--tenant", "ok", "--name", " "];
    let (e, _) = fails(&mut db, &args).await;
    assert_eq!(invalid_field(&e), Some("name"), "{e:?}");
    // Nothing of the refused commands was stored.
    assert_eq!(admin::list_tenants(&db).await.unwrap().len(), 2);
}

/// `product add` for tenant acme.
fn product_add<'a>(sku: &'a str, name: &'a str, unit: &'a str, days: &'a str) -> Vec<&'a str> {
    vec![
        "product",
        "add",
        "--tenant",
        "acme",
        "--sku",
        sku,
        "--name",
        name,
        "--unit",
        unit,
        "--shelf-life-days",
        days,
    ]
}

#[tokio::test]
async fn products_are_added_then_updated_and_checked_like_the_schema() {
    let (_postgres, mut db) = database().await;
    ok(&mut db, &["tenant", "add", "--tenant", "acme"]).await;
    ok(&mut db, &["tenant", "add", "--tenant", "globex"]).await;
    let mut first = product_add("OYS-500", "Oyster mushrooms", "kg", "7");
    first.extend(["--low-stock-threshold", "2.5"]);
    let out = ok(&mut db, &first).await;
    assert_eq!(out.stderr, "product \"OYS-500\" of tenant \"acme\" added\n");
    ok(&mut db, &product_add("LION-1", "Lion's mane", "each", "5")).await;

    let list = ok(&mut db, &["product", "list", "--tenant", "acme"]).await;
    let rows = table_rows(&list.stdout);
    assert_eq!(rows.len(), 2, "{}", list.stdout);
    assert_eq!(rows[0][..5], ["LION-1", "Lion's mane", "each", "5", "0"]);
    assert_eq!(
        rows[1][..5],
        ["OYS-500", "Oyster mushrooms", "kg", "7", "2.5"]
    );

    // Adding the SKU again updates it; without a threshold the old one stays.
    let again = product_add("OYS-500", "Oyster mushrooms (grey)", "g", "6");
    let out = ok(&mut db, &again).await;
    assert_eq!(
        out.stderr,
        "product \"OYS-500\" of tenant \"acme\" updated\n"
    );
    let products = admin::list_products(&db, "acme").await.unwrap();
    assert_eq!(products.len(), 2);
    let oyster = products.iter().find(|p| p.sku == "OYS-500").unwrap();
    assert_eq!(
        (oyster.name.as_str(), oyster.unit.as_str()),
        ("Oyster mushrooms (grey)", "g")
    );
    assert_eq!(oyster.shelf_life_days, 6);
    assert_eq!(oyster.low_stock_threshold, "2.5");
    let mut threshold = again.clone();
    threshold.extend(["--low-stock-threshold", "0"]);
    ok(&mut db, &threshold).await;
    let products = admin::list_products(&db, "acme").await.unwrap();
    assert_eq!(products[1].low_stock_threshold, "0");

    // Another tenant's catalogue is its own.
    assert!(admin::list_products(&db, "globex")
        .await
        .unwrap()
        .is_empty());
    let spec = ProductSpec {
        sku: "OYS-500".into(),
        name: "Globex oyster".into(),
        unit: "kg".into(),
        shelf_life_days: 3,
        low_stock_threshold: Some("0.125".into()),
    };
    let done = admin::upsert_product(&mut db, "globex", &spec)
        .await
        .unwrap();
    assert_eq!(done, Upserted::Added);
    let acme = admin::list_products(&db, "acme").await.unwrap();
    assert!(acme.iter().all(|p| p.name != "Globex oyster"));
}

#[tokio::test]
async fn bad_products_are_refused_naming_the_field() {
    let (postgres, mut db) = database().await;
    ok(&mut db, &["tenant", "add", "--tenant", "acme"]).await;
    let (e, message) = fails(&mut db, &product_add("OYS-500", "Oyster", "lb", "7")).await;
    assert_eq!(invalid_field(&e), Some("unit"), "{e:?}");
    assert_eq!(message, "unit \"lb\": use kg, g or each");
    let (e, message) = fails(&mut db, &product_add("OYS-500", "Oyster", "kg", "0")).await;
    assert_eq!(invalid_field(&e), Some("shelf_life_days"), "{e:?}");
    assert_eq!(
        message,
        "shelf_life_days 0: use a whole number of days from 1 to 3650"
    );
    for days in ["-3", "3651"] {
        let (e, _) = fails(&mut db, &product_add("OYS-500", "Oyster", "kg", days)).await;
        assert_eq!(invalid_field(&e), Some("shelf_life_days"), "{e:?}");
    }
    let mut negative = product_add("OYS-500", "Oyster", "kg", "7");
    negative.extend(["--low-stock-threshold", "-1"]);
    let (e, message) = fails(&mut db, &negative).await;
    assert_eq!(invalid_field(&e), Some("low_stock_threshold"), "{e:?}");
    assert!(
        message.starts_with("low_stock_threshold \"-1\": use a number ≥ 0"),
        "{message}"
    );
    let (e, _) = fails(&mut db, &product_add("a b", "Oyster", "kg", "7")).await;
    assert_eq!(invalid_field(&e), Some("sku"), "{e:?}");
    let (e, _) = fails(&mut db, &product_add("OYS-500", "", "kg", "7")).await;
    assert_eq!(invalid_field(&e), Some("name"), "{e:?}");
    let mut unknown = product_add("OYS-500", "Oyster", "kg", "7");
    unknown[3] = "nope";
    let (e, message) = fails(&mut db, &unknown).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert_eq!(message, "tenant \"nope\" not found");
    let (e, _) = fails(&mut db, &["product", "list", "--tenant", "nope"]).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert!(admin::list_products(&db, "acme").await.unwrap().is_empty());

    // Once a product has lots, its unit stays (the lots are counted in it).
    ok(&mut db, &product_add("OYS-500", "Oyster", "g", "7")).await;
    let device = ["--farm", "north", "--device", "pi-1"];
    ok(
        &mut db,
        &[&["device", "add", "--tenant", "acme"][..], &device].concat(),
    )
    .await;
    postgres.psql(
        DB,
        "INSERT INTO device_events (event_id, device_id, seq, ts, kind, body)
         VALUES ('00000000-0000-0000-0000-000000000001', 'pi-1', 1, now(), 'harvest', '{}');
         INSERT INTO lots (tenant_id, farm_id, product_id, event_id, lot_code, room, quantity,
                           harvested_at, best_before, remaining)
         SELECT t.id, f.id, p.id, '00000000-0000-0000-0000-000000000001', 'L1', 'r1', 5,
                now(), now() + interval '6 days', 5
         FROM tenants t JOIN farms f ON f.tenant_id = t.id JOIN products p ON p.tenant_id = t.id
         WHERE t.slug = 'acme' AND p.sku = 'OYS-500'",
    );
    let (e, message) = fails(&mut db, &product_add("OYS-500", "Oyster", "kg", "7")).await;
    assert_eq!(invalid_field(&e), Some("unit"), "{e:?}");
    assert!(message.contains("has lots counted in g"), "{message}");
    ok(&mut db, &product_add("OYS-500", "Oyster", "g", "8")).await;
}

#[tokio::test]
async fn a_device_token_is_printed_once_and_only_its_hash_is_stored() {
    let (postgres, mut db) = database().await;
    let add = |tenant, farm, device| {
        let args = ["device", "add", "--tenant", tenant, "--farm", farm];
        [&args[..], &["--device", device]].concat()
    };
    let out = ok(&mut db, &add("acme", "north", "pi-1")).await;
    let token = out.stdout.strip_suffix('\n').unwrap();
    assert!(token.starts_with("fdt_") && token.len() == 68, "{token:?}");
    assert!(
        out.stderr.contains("(tenant and farm created)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot be shown again"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(token));
    let stored = postgres.psql(DB, "SELECT encode(token_sha256, 'hex') FROM devices");
    assert_eq!(stored, hex(&secret_hash(token)));
    let everything = postgres.psql(DB, "SELECT * FROM devices");
    assert!(!everything.contains(&token[4..]), "{everything}");

    // The second device on the farm creates nothing else.
    let out = ok(&mut db, &add("acme", "north", "pi-2")).await;
    assert!(!out.stderr.contains("created)"), "{}", out.stderr);
    let out = ok(&mut db, &add("acme", "south", "pi-3")).await;
    assert!(out.stderr.contains("(farm created)"), "{}", out.stderr);
    let farms = admin::list_farms(&db, "acme").await.unwrap();
    let devices: Vec<i64> = farms.iter().map(|f| f.devices).collect();
    assert_eq!(devices, [2, 1]);

    let list = ok(&mut db, &["device", "list", "--tenant", "acme"]).await;
    assert!(list.stdout.starts_with("DEVICE  FARM"), "{}", list.stdout);
    let rows = table_rows(&list.stdout);
    assert_eq!(rows.len(), 3, "{}", list.stdout);
    assert_eq!(rows[0][..4], ["pi-1", "north", "0", "-"]);
    assert_eq!(rows[2][..2], ["pi-3", "south"]);
    assert!(!list.stdout.contains("fdt_"));

    let (e, message) = fails(&mut db, &add("acme", "north", "pi-1")).await;
    assert!(matches!(e, AdminError::Exists(_)), "{e:?}");
    assert_eq!(message, "device \"pi-1\" exists already");
    // Device ids are global: another tenant cannot take one either, and the refused
    // provisioning leaves no tenant or farm behind.
    let (e, _) = fails(&mut db, &add("globex", "x", "pi-1")).await;
    assert!(matches!(e, AdminError::Exists(_)), "{e:?}");
    assert_eq!(admin::list_tenants(&db).await.unwrap().len(), 1);
    let (e, _) = fails(&mut db, &add("acme", "north", "pi 4")).await;
    assert_eq!(invalid_field(&e), Some("device"), "{e:?}");
    let (e, _) = fails(&mut db, &add("Acme", "north", "pi-4")).await;
    assert_eq!(invalid_field(&e), Some("tenant"), "{e:?}");
    let (e, _) = fails(&mut db, &add("acme", "North", "pi-4")).await;
    assert_eq!(invalid_field(&e), Some("farm"), "{e:?}");
    let (e, _) = fails(&mut db, &["device", "list", "--tenant", "nope"]).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn a_key_is_printed_once_and_only_its_hash_is_stored() {
    let (postgres, mut db) = database().await;
    ok(&mut db, &["tenant", "add", "--tenant", "acme"]).await;
    let out = ok(
        &mut db,
        &["key", "add", "--tenant", "acme", "--name", "webshop"],
    )
    .await;
    let key = out.stdout.strip_suffix('\n').unwrap();
    assert!(key.starts_with("fsk_") && key.len() == 68, "{key:?}");
    assert!(
        out.stderr
            .starts_with("API key 1 (\"webshop\") created for tenant \"acme\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot be shown again"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(key));

    let stored = postgres.psql(
        DB,
        "SELECT id, name, encode(key_sha256, 'hex') FROM api_keys",
    );
    assert_eq!(stored, format!("1|webshop|{}", hex(&secret_hash(key))));
    let everything = postgres.psql(DB, "SELECT *, encode(key_sha256, 'escape') FROM api_keys");
    assert!(!everything.contains(&key[4..]), "{everything}");

    let second = admin::create_key(&mut db, "acme", "pos-1").await.unwrap();
    assert_ne!(second.key, key);
    let list = ok(&mut db, &["key", "list", "--tenant", "acme"]).await;
    assert!(list.stdout.starts_with("ID  NAME"), "{}", list.stdout);
    assert!(!list.stdout.contains("fsk_"), "{}", list.stdout);
    let rows = table_rows(&list.stdout);
    assert_eq!(rows.len(), 2, "{}", list.stdout);
    assert_eq!((rows[0][0], rows[0][1], rows[0][3]), ("1", "webshop", "-"));
    let second_id = second.id.to_string();
    assert_eq!((rows[1][0], rows[1][1]), (second_id.as_str(), "pos-1"));

    let args = ["key", "add", "--tenant", "nope", "--name", "x"];
    let (e, message) = fails(&mut db, &args).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert_eq!(message, "tenant \"nope\" not found");
    let long = "k".repeat(101);
    for name in ["", &long] {
        let args = ["key", "add", "--tenant", "acme", "--name", name];
        let (e, _) = fails(&mut db, &args).await;
        assert_eq!(invalid_field(&e), Some("name"), "{e:?}");
    }
}

#[tokio::test]
async fn a_key_is_revoked_by_its_own_tenant_only() {
    let (postgres, mut db) = database().await;
    ok(&mut db, &["tenant", "add", "--tenant", "acme"]).await;
    ok(&mut db, &["tenant", "add", "--tenant", "globex"]).await;
    let acme_key = admin::create_key(&mut db, "acme", "webshop").await.unwrap();
    let id = acme_key.id.to_string();
    let revoke = |tenant, id| ["key", "revoke", "--tenant", tenant, "--id", id];

    // globex can neither revoke nor see acme's key.
    let (e, message) = fails(&mut db, &revoke("globex", &id)).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert_eq!(
        message,
        format!("API key {id} of tenant \"globex\" not found")
    );
    assert!(admin::list_keys(&db, "globex").await.unwrap().is_empty());
    let revoked = format!("SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = {id}");
    assert_eq!(postgres.psql(DB, &revoked), "f");

    let out = ok(&mut db, &revoke("acme", &id)).await;
    let expected = format!("API key {id} of tenant \"acme\" revoked");
    assert!(out.stderr.starts_with(&expected), "{}", out.stderr);
    assert_eq!(postgres.psql(DB, &revoked), "t");
    let keys = admin::list_keys(&db, "acme").await.unwrap();
    let at = keys[0].revoked_at.clone().unwrap();
    assert!(at.ends_with('Z'), "{at}");
    let list = ok(&mut db, &["key", "list", "--tenant", "acme"]).await;
    assert!(list.stdout.contains(&at), "{}", list.stdout);

    // Again: nothing changes, and it says when it was revoked.
    let again = admin::revoke_key(&mut db, "acme", acme_key.id)
        .await
        .unwrap();
    assert_eq!(again, Revoked::Already(at.clone()));
    let out = ok(&mut db, &revoke("acme", &id)).await;
    let expected = format!("revoked already, at {at}");
    assert!(out.stderr.contains(&expected), "{}", out.stderr);

    let (e, message) = fails(&mut db, &revoke("acme", "999")).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert_eq!(message, "API key 999 of tenant \"acme\" not found");
    let (e, message) = fails(&mut db, &revoke("nope", &id)).await;
    assert!(matches!(e, AdminError::NotFound(_)), "{e:?}");
    assert_eq!(message, "tenant \"nope\" not found");
}

#[test]
fn the_command_line_is_parsed_as_documented() {
    use admin::cli::{KeyCommand, TenantCommand};
    let parse = |args: &[&str]| {
        Cli::try_parse_from(std::iter::once("cloud-api").chain(args.iter().copied()))
            .map(|cli| cli.command)
    };
    assert_eq!(
        parse(&["tenant", "list"]).unwrap(),
        AdminCommand::Tenant(TenantCommand::List)
    );
    assert_eq!(
        parse(&["key", "revoke", "--tenant", "acme", "--id", "7"]).unwrap(),
        AdminCommand::Key(KeyCommand::Revoke {
            tenant: "acme".into(),
            id: 7
        })
    );
    assert!(parse(&["key", "revoke", "--tenant", "acme", "--id", "x"]).is_err());
    assert!(parse(&["farm", "list"]).is_err(), "--tenant is required");
    let incomplete = ["product", "add", "--tenant", "acme", "--sku", "A"];
    assert!(parse(&incomplete).is_err());
}
