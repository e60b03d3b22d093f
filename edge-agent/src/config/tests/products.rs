//! `[[products]]`: optional, every key required in an entry, each bad value with its key, and
//! the commented example in `example.toml` parses once uncommented.

use super::super::{ProductConfig, Unit, EXAMPLE};
use super::{only_problem, parse_ok, problems};

fn product(sku: &str, name: &str, unit: Unit) -> ProductConfig {
    ProductConfig {
        sku: sku.into(),
        name: name.into(),
        unit,
    }
}

#[test]
fn products_are_optional() {
    assert_eq!(parse_ok("").products, []);
    assert_eq!(parse_ok(EXAMPLE).products, []);
}

#[test]
fn products_are_read_in_file_order() {
    let text = "[[products]]\nsku = \"OYS-BLUE-250\"\nname = \"Blue oyster\"\nunit = \"kg\"\n\
                [[products]]\nsku = \"micro.1_g\"\nname = \"Pea shoots\"\nunit = \"g\"\n\
                [[products]]\nsku = \"9\"\nname = \"Lion's mane\"\nunit = \"each\"\n";
    assert_eq!(
        parse_ok(text).products,
        [
            product("OYS-BLUE-250", "Blue oyster", Unit::Kg),
            product("micro.1_g", "Pea shoots", Unit::G),
            product("9", "Lion's mane", Unit::Each),
        ]
    );
}

#[test]
fn the_commented_example_is_valid_once_uncommented() {
    let start = EXAMPLE
        .find("# [[products]]")
        .expect("an example [[products]] block");
    let block: String = EXAMPLE[start..]
        .lines()
        .map(|line| {
            line.strip_prefix("# ")
                .unwrap_or(line.trim_start_matches('#'))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let products = parse_ok(&block).products;
    assert_eq!(
        products,
        [
            product("OYS-BLUE-250", "Blue oyster mushrooms", Unit::Kg),
            product("LIONS-MANE-EA", "Lion's mane, whole heads", Unit::Each),
        ]
    );
}

#[test]
fn a_duplicate_sku_names_both_entries() {
    let text = "[[products]]\nsku = \"A\"\nname = \"a\"\nunit = \"kg\"\n\
                [[products]]\nsku = \"B\"\nname = \"b\"\nunit = \"kg\"\n\
                [[products]]\nsku = \"A\"\nname = \"a again\"\nunit = \"g\"\n";
    let message = only_problem(text, "products[2].sku");
    assert_eq!(message, "duplicate sku \"A\" (also products[0])");
}

#[test]
fn a_bad_unit_lists_the_good_ones() {
    let text = "[[products]]\nsku = \"A\"\nname = \"a\"\nunit = \"lb\"\n";
    let message = only_problem(text, "products[0].unit");
    assert_eq!(
        message,
        "unknown unit \"lb\"; expected \"kg\", \"g\" or \"each\""
    );
}

#[test]
fn a_bad_sku_says_what_is_wrong() {
    for (sku, says) in [
        ("", "must not be empty"),
        ("-A", "starts with '-'"),
        ("A B", "contains ' '"),
        ("a/b", "contains '/'"),
        (&"x".repeat(65), "at most 64 are allowed"),
    ] {
        let text = format!("[[products]]\nsku = {sku:?}\nname = \"a\"\nunit = \"kg\"\n");
        let message = only_problem(&text, "products[0].sku");
        assert!(message.contains(says), "{sku:?}: {message}");
    }
}

#[test]
fn a_bad_name_says_what_is_wrong() {
    for (name, says) in [
        ("", "must not be empty"),
        ("  ", "must not be empty"),
        ("a\tb", "control character"),
        (&"n".repeat(129), "at most 128 are allowed"),
    ] {
        let text = format!("[[products]]\nsku = \"A\"\nname = {name:?}\nunit = \"kg\"\n");
        let message = only_problem(&text, "products[0].name");
        assert!(message.contains(says), "{name:?}: {message}");
    }
}

#[test]
fn every_missing_key_is_reported_and_unknown_keys_too() {
    let found = problems("[[products]]\nprice = 3\n");
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "products[0].price",
            "products[0].sku",
            "products[0].name",
            "products[0].unit"
        ]
    );
    assert!(found[0].message.starts_with("unknown key"), "{found:?}");
    assert_eq!(found[1].message, "required key is missing");
}

#[test]
fn a_wrong_type_names_its_key() {
    let message = only_problem(
        "[[products]]\nsku = 12\nname = \"a\"\nunit = \"kg\"\n",
        "products[0].sku",
    );
    assert!(message.contains("invalid type"), "{message}");
    let message = only_problem("products = 3\n", "products");
    assert!(message.contains("expected an array of tables"), "{message}");
}
