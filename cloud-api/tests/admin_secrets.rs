//! The admin commands that make secrets (device tokens, storefront API keys) against a real
//! PostgreSQL: printed once, only the hash stored, revoked by their own tenant only; and the
//! command line as documented.
#![allow(clippy::unwrap_used)]

mod support;

use clap::Parser;
use cloud_api::admin::{self, AdminCommand, AdminError, Revoked};
use cloud_api::secrets::secret_hash;
use support::*;
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
