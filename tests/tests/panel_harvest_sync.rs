//! A harvest recorded on the panel in a real browser (headless Chromium over WebDriver)
//! turns synced against a running sync-service: recorded while the cloud is down it is
//! listed pending, and once the service is back the uplink delivers it and the page shows
//! it synced; the storefront then has the stock. Real edge-agent, sync-service, cloud-api,
//! PostgreSQL and InfluxDB.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (`scripts/test.sh` installs them).

mod common;

use common::{hash, storefront_selling_blue_oyster, Edge, Farm, WAIT};
use farm_e2e::browser::Browser;
use farm_e2e::cloud::{Cloud, InfluxApi};

const USER: &str = "manager";
const PASSWORD: &str = "panel password";
/// The newest harvest's status on `/harvests`.
const NEWEST: &str = "ol.harvests li:first-child .status";

#[test]
fn a_harvest_recorded_on_the_panel_turns_synced_when_the_cloud_has_it() {
    let mut cloud = Cloud::start(InfluxApi::V1);
    let (storefront, key) = storefront_selling_blue_oyster(&cloud);
    // The cloud is unreachable when the harvest is recorded.
    cloud.kill_service();
    let mut edge = Edge::new(&cloud);
    edge.extra = format!(
        "[[products]]\nsku = \"OYS-BLUE\"\nname = \"Blue oyster\"\nunit = \"kg\"\n\n\
         [[panel.users]]\nname = \"{USER}\"\npassword_hash = \"{}\"\n",
        hash(PASSWORD)
    );
    edge.start(&cloud.addr, true, Farm::Running);
    let base = format!("http://{}", edge.http);

    let browser = Browser::start();
    browser.sign_in(&base, USER, PASSWORD, WAIT);
    browser.find("a[href=\"/harvests\"]").click();
    browser.wait_for_text("#page-title", "Harvests", WAIT);
    browser
        .find("#harvest-room option[value=\"fruiting-1\"]")
        .click();
    browser
        .find("#harvest-product option[value=\"OYS-BLUE\"]")
        .click();
    // A decimal comma, as typed on a phone set to many locales.
    browser.find("#harvest-quantity").send_keys("1,5");
    browser.find("#harvest-unit option[value=\"kg\"]").click();
    browser.find("#harvest-lot").send_keys("panel-lot-1");
    browser.find("form.stacked button[type=submit]").click();
    browser.wait_for_text("ol.harvests li:first-child", "panel-lot-1", WAIT);
    assert_eq!(browser.path_on(&base), "/harvests");
    let first = browser.find("ol.harvests li:first-child").text();
    assert!(
        first.contains("1.5 kg") && first.contains("Blue oyster"),
        "{first}"
    );
    assert_eq!(browser.find(NEWEST).text(), "pending");

    cloud.start_service();
    // The page is not live: the manager reloads it, as the test does until it says synced.
    browser.wait_until("the harvest is shown synced", WAIT, |b| {
        b.goto(&format!("{base}/harvests"));
        b.try_text(NEWEST).as_deref() == Some("synced")
    });
    assert!(browser
        .find("ol.harvests li:first-child")
        .text()
        .contains("panel-lot-1"));
    let lot = cloud.sql("SELECT lot_code, quantity FROM lots");
    assert_eq!(lot, "panel-lot-1|1.500");
    let (status, product) = storefront.get("/v1/products/OYS-BLUE", &key);
    assert_eq!((status, product["available"].as_f64()), (200, Some(1.5)));
}
