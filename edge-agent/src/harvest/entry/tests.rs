//! The checks of a harvest entry, one refusal each, and the generated lot code.
#![allow(clippy::unwrap_used)]

use super::*;

const ID: Uuid = Uuid::from_u128(0x3f9a_2c71_0000_4000_8000_0000_0000_0001);

fn today() -> Date {
    jiff::civil::date(2026, 11, 22)
}

fn catalogue(rooms: &[&str], products: &[(&str, Unit)]) -> Catalogue {
    Catalogue {
        rooms: rooms.iter().map(|r| (*r).to_owned()).collect(),
        products: products
            .iter()
            .map(|(sku, unit)| {
                let product = ProductConfig {
                    sku: (*sku).to_owned(),
                    name: format!("{sku} name"),
                    unit: *unit,
                };
                ((*sku).to_owned(), product)
            })
            .collect(),
        timezone: jiff::tz::TimeZone::UTC,
    }
}

fn farm() -> Catalogue {
    catalogue(
        &["fruiting-1", "fruiting-2"],
        &[
            ("OYS-BLUE", Unit::Kg),
            ("MICRO", Unit::G),
            ("LION", Unit::Each),
        ],
    )
}

fn request(room: &str, product: &str, quantity: f64, unit: &str) -> HarvestRequest {
    HarvestRequest {
        room: room.into(),
        product: product.into(),
        quantity,
        unit: unit.into(),
        lot: None,
    }
}

fn refused(request: HarvestRequest, catalogue: &Catalogue) -> EntryError {
    check(request, catalogue, ID, today()).unwrap_err()
}

#[test]
fn a_good_harvest_keeps_its_fields_and_gets_a_lot_code() {
    let harvest = check(
        request("fruiting-1", "OYS-BLUE", 4.5, "kg"),
        &farm(),
        ID,
        today(),
    );
    let expected = Harvest {
        room: "fruiting-1".into(),
        product: "OYS-BLUE".into(),
        quantity: 4.5,
        unit: "kg".into(),
        lot: "fruiting-1-20261122-3F9A2C".into(),
    };
    assert_eq!(harvest, Ok(expected));
}

#[test]
fn a_given_lot_code_is_kept_and_a_bad_one_refused() {
    let mut given = request("fruiting-1", "OYS-BLUE", 1.0, "kg");
    given.lot = Some("2026-11-22 A/7".into());
    let harvest = check(given.clone(), &farm(), ID, today()).unwrap();
    assert_eq!(harvest.lot, "2026-11-22 A/7");
    for (lot, says) in [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("a\nb", "control character"),
        (" A", "whitespace"),
        (&"L".repeat(65), "at most 64"),
    ] {
        given.lot = Some(lot.into());
        let error = refused(given.clone(), &farm()).to_string();
        assert!(
            error.starts_with("lot: ") && error.contains(says),
            "{lot:?}: {error}"
        );
    }
    given.lot = Some("é".repeat(64));
    assert!(check(given, &farm(), ID, today()).is_ok(), "64 characters");
}

#[test]
fn a_room_must_be_configured() {
    let error = refused(request("fruiting-3", "OYS-BLUE", 1.0, "kg"), &farm());
    assert_eq!(
        error.to_string(),
        "unknown room \"fruiting-3\"; the rooms are: fruiting-1, fruiting-2"
    );
}

#[test]
fn without_configured_rooms_any_printable_name_will_do() {
    let open = catalogue(&[], &[]);
    assert!(check(
        request("Room 7 (north)", "X", 1.0, "kg"),
        &open,
        ID,
        today()
    )
    .is_ok());
    for room in ["", "a\tb", &"r".repeat(65)] {
        let error = refused(request(room, "X", 1.0, "kg"), &open);
        assert!(
            matches!(error, EntryError::BadText { key: "room", .. }),
            "{error}"
        );
    }
}

#[test]
fn a_product_must_be_configured_unless_none_are() {
    let error = refused(request("fruiting-1", "SHIITAKE", 1.0, "kg"), &farm());
    assert_eq!(error, EntryError::UnknownProduct("SHIITAKE".into()));
    let open = catalogue(&["fruiting-1"], &[]);
    assert!(check(
        request("fruiting-1", "SHIITAKE", 1.0, "kg"),
        &open,
        ID,
        today()
    )
    .is_ok());
    let error = refused(request("fruiting-1", "SHII TAKE", 1.0, "kg"), &open);
    assert!(matches!(error, EntryError::BadSku(_)), "{error}");
}

#[test]
fn quantities_must_be_positive_finite_and_at_most_a_million() {
    for quantity in [0.0, -1.0, -0.0, f64::NAN, f64::INFINITY, 1e6 + 1.0] {
        let error = refused(request("fruiting-1", "OYS-BLUE", quantity, "kg"), &farm());
        assert!(
            matches!(error, EntryError::BadQuantity(_)),
            "{quantity}: {error}"
        );
    }
    assert!(check(
        request("fruiting-1", "MICRO", 1e6, "g"),
        &farm(),
        ID,
        today()
    )
    .is_ok());
}

#[test]
fn units_convert_between_kg_and_g_and_each_stays_each() {
    let ok = [
        ("OYS-BLUE", "kg"),
        ("OYS-BLUE", "g"),
        ("MICRO", "kg"),
        ("LION", "each"),
    ];
    for (product, unit) in ok {
        let harvest = check(
            request("fruiting-1", product, 2.0, unit),
            &farm(),
            ID,
            today(),
        );
        assert_eq!(harvest.unwrap().unit, unit);
    }
    for (product, unit) in [("OYS-BLUE", "each"), ("LION", "kg"), ("LION", "g")] {
        let error = refused(request("fruiting-1", product, 2.0, unit), &farm());
        assert!(matches!(error, EntryError::UnitMismatch { .. }), "{error}");
    }
    let error = refused(request("fruiting-1", "OYS-BLUE", 2.0, "lb"), &farm());
    assert_eq!(
        error.to_string(),
        "unit: unknown unit \"lb\"; expected \"kg\", \"g\" or \"each\""
    );
}

#[test]
fn pieces_are_whole_and_amounts_do_not_round_to_nothing() {
    let error = refused(request("fruiting-1", "LION", 2.5, "each"), &farm());
    assert_eq!(error, EntryError::NotWhole(2.5));
    let open = catalogue(&["fruiting-1"], &[]);
    assert!(check(request("fruiting-1", "X", 2.5, "each"), &open, ID, today()).is_err());
    let error = refused(request("fruiting-1", "OYS-BLUE", 0.4, "g"), &farm());
    assert!(matches!(error, EntryError::TooSmall { .. }), "{error}");
    assert!(check(
        request("fruiting-1", "OYS-BLUE", 1.0, "g"),
        &farm(),
        ID,
        today()
    )
    .is_ok());
}

#[test]
fn a_generated_lot_code_has_at_most_64_characters() {
    let room = "r".repeat(64);
    let lot = generated_lot(&room, today(), ID);
    assert_eq!(lot.chars().count(), 64, "{lot}");
    assert!(lot.ends_with("-20261122-3F9A2C"), "{lot}");
}

#[test]
fn the_lot_date_is_the_farm_s_local_date() {
    let mut farm = farm();
    // 2026-11-22 23:30 UTC is already the 23rd at UTC+9.
    let ts = 1_795_390_200_000;
    assert_eq!(farm.date_at(ts), jiff::civil::date(2026, 11, 22));
    farm.timezone = jiff::tz::TimeZone::fixed(jiff::tz::offset(9));
    assert_eq!(farm.date_at(ts), jiff::civil::date(2026, 11, 23));
}
