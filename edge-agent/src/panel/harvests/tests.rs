use std::collections::{BTreeSet, HashMap};

use farm_protocol::Harvest;
use uuid::Uuid;

use super::*;
use crate::config::ProductConfig;

fn catalogue(rooms: &[&str], products: &[(&str, &str, Unit)]) -> Catalogue {
    Catalogue {
        rooms: rooms
            .iter()
            .map(|r| (*r).to_owned())
            .collect::<BTreeSet<_>>(),
        products: products
            .iter()
            .map(|(sku, name, unit)| {
                let p = ProductConfig {
                    sku: (*sku).to_owned(),
                    name: (*name).to_owned(),
                    unit: *unit,
                };
                (p.sku.clone(), p)
            })
            .collect::<HashMap<_, _>>(),
        timezone: jiff::tz::TimeZone::UTC,
    }
}

fn entered(quantity: &str, lot: &str) -> Entered {
    Entered {
        room: "fruiting-1".into(),
        product: "OYS-BLUE".into(),
        quantity: quantity.into(),
        unit: "kg".into(),
        lot: lot.into(),
    }
}

#[test]
fn form_values_become_the_api_request() {
    let request = entered(" 4.5 ", "").request().unwrap();
    assert_eq!(request.quantity, 4.5);
    assert_eq!(request.lot, None, "an empty lot is made up by the agent");
    assert_eq!(request.room, "fruiting-1");
    assert_eq!(request.product, "OYS-BLUE");
    assert_eq!(request.unit, "kg");
    assert_eq!(entered("4,5", "").request().unwrap().quantity, 4.5);
    assert_eq!(entered("-1", "").request().unwrap().quantity, -1.0);
    let lot = entered("1", "  A-1 ").request().unwrap().lot;
    assert_eq!(lot.as_deref(), Some("A-1"));
    for bad in ["", "four", "1,000.5", "4.5kg"] {
        let error = entered(bad, "").request().unwrap_err();
        assert!(
            error.starts_with("quantity must be a number"),
            "{bad}: {error}"
        );
    }
}

#[test]
fn fields_are_read_from_the_form() {
    let form =
        FormFields::parse(b"csrf=t&room=fruiting-1&product=OYS-BLUE&quantity=2&unit=g&lot=x+y");
    let got = Entered::from_form(&form);
    assert_eq!(got.unit, "g");
    assert_eq!(got.lot, "x y");
    assert_eq!(
        Entered::from_form(&FormFields::parse(b"")),
        Entered::default()
    );
}

#[test]
fn the_form_labels_every_control_keeps_the_values_and_escapes_them() {
    let catalogue = catalogue(
        &["fruiting-1", "<b>"],
        &[
            ("OYS-BLUE", "Blue & oyster", Unit::Kg),
            ("LION-EA", "Lion's mane", Unit::Each),
        ],
    );
    let mut entered = entered("\"><script>", "lot\"x");
    entered.unit = "each".into();
    entered.product = "LION-EA".into();
    let mut out = String::new();
    form(&mut out, &catalogue, "tok\"en", &entered, Some("<bad>"));
    for id in [
        "harvest-room",
        "harvest-product",
        "harvest-quantity",
        "harvest-unit",
        "harvest-lot",
    ] {
        assert!(
            out.contains(&format!("<label for=\"{id}\">")),
            "{id} label in {out}"
        );
        assert!(out.contains(&format!("id=\"{id}\"")), "{id} in {out}");
    }
    for part in [
        "name=\"csrf\" value=\"tok&quot;en\"",
        "<select id=\"harvest-room\" name=\"room\" required>",
        "<option value=\"&lt;b&gt;\">&lt;b&gt;</option>",
        "<option value=\"fruiting-1\" selected>fruiting-1</option>",
        "<option value=\"\">Choose a product</option>",
        "<option value=\"LION-EA\" selected>LION-EA — Lion&#39;s mane</option>",
        "<option value=\"OYS-BLUE\">OYS-BLUE — Blue &amp; oyster</option>",
        "inputmode=\"decimal\"",
        "value=\"&quot;&gt;&lt;script&gt;\"",
        "<option value=\"each\" selected>each</option>",
        "value=\"lot&quot;x\"",
        "<p class=\"error\" role=\"alert\" id=\"harvest-error\">&lt;bad&gt;</p>",
        "aria-describedby=\"harvest-error\"",
    ] {
        assert!(out.contains(part), "{part} in {out}");
    }
    assert!(!out.contains("<script"), "{out}");
    // LION-EA sorts before OYS-BLUE.
    assert!(out.find("LION-EA").unwrap() < out.find("OYS-BLUE").unwrap());
}

#[test]
fn without_rooms_or_products_the_form_takes_text() {
    let mut out = String::new();
    form(
        &mut out,
        &catalogue(&[], &[]),
        "t",
        &Entered::default(),
        None,
    );
    assert!(
        out.contains("<input id=\"harvest-room\" name=\"room\" type=\"text\""),
        "{out}"
    );
    assert!(
        out.contains("<input id=\"harvest-product\" name=\"product\" type=\"text\""),
        "{out}"
    );
    assert!(!out.contains("role=\"alert\""), "{out}");
}

#[test]
fn the_list_shows_each_harvest_newest_first_with_its_status() {
    let catalogue = catalogue(&["r"], &[("OYS-BLUE", "Blue oyster", Unit::Kg)]);
    let harvest = |seq, product: &str, synced| Listed {
        id: Uuid::nil(),
        seq,
        ts: 1_700_000_000_000,
        harvest: Harvest {
            room: "r".into(),
            product: product.into(),
            quantity: 4.5,
            unit: "kg".into(),
            lot: "<lot>".into(),
        },
        synced,
    };
    let recent = [harvest(9, "OYS-BLUE", false), harvest(3, "OTHER", true)];
    let mut out = String::new();
    recent_list(&mut out, &catalogue, Some(&recent));
    let newer = out.find("id=\"harvest-9\"").unwrap();
    let older = out.find("id=\"harvest-3\"").unwrap();
    assert!(newer < older, "{out}");
    for part in [
        "<strong>4.5 kg</strong> OYS-BLUE — Blue oyster",
        "<span class=\"status status-pending\">pending</span>",
        "<span class=\"status status-synced\">synced</span>",
        "r · lot &lt;lot&gt; · <time datetime=\"2023-11-14T22:13:20+00:00\">2023-11-14 22:13</time>",
    ] {
        assert!(out.contains(part), "{part} in {out}");
    }
    let mut empty = String::new();
    recent_list(&mut empty, &catalogue, Some(&[]));
    assert!(empty.contains("No harvests recorded yet."));
    let mut failed = String::new();
    recent_list(&mut failed, &catalogue, None);
    assert!(failed.contains("could not be read"));
}
