//! End to end: edge-agent with simulated sensors → sync-service → InfluxDB, through the
//! failures the issue names. In each case, once the outbox is drained, InfluxDB holds
//! exactly the committed readings (compared point by point: metric, room, sensor, time,
//! value) and PostgreSQL exactly the committed events: none lost, none doubled.

mod common;

use common::{assert_exactly_once, Edge, Farm};
use farm_e2e::cloud::{Cloud, InfluxApi};
use farm_e2e::{FaultProxy, TlsTerminator};
use rustix::process::Signal;

/// Waits until the uplink has acknowledged at least `more` seqs beyond now.
fn progress(edge: &Edge, more: u64) {
    let target = edge.acked() + more;
    edge.wait_for("the uplink makes progress", |e| e.acked() >= target);
}

#[test]
fn the_sync_service_killed_and_restarted_mid_stream() {
    let mut cloud = Cloud::start(InfluxApi::V1);
    let mut edge = Edge::new(&cloud);
    edge.start(&cloud.addr, true, Farm::Running);
    progress(&edge, 200);
    cloud.kill_service();
    edge.wait_for("the agent notices", |e| {
        e.metric("farm_sync_errors_total{kind=\"connect\"}") >= 1
    });
    cloud.start_service();
    progress(&edge, 200);
    edge.drain(&cloud.addr);
    let (readings, events) = assert_exactly_once(&cloud, &edge);
    assert!(
        readings > 400 && events > 0,
        "{readings} readings, {events} events"
    );
}

#[test]
fn influxdb_stopped_for_a_while() {
    let mut cloud = Cloud::start(InfluxApi::V1);
    let mut edge = Edge::new(&cloud);
    edge.start(&cloud.addr, true, Farm::Running);
    progress(&edge, 200);
    cloud.influxd.stop();
    edge.wait_for("503s while InfluxDB is away", |e| {
        e.metric("farm_sync_errors_total{kind=\"server\"}") >= 2
    });
    cloud.influxd.start_again();
    progress(&edge, 200);
    edge.drain(&cloud.addr);
    assert_exactly_once(&cloud, &edge);
}

#[test]
fn successful_responses_lost_so_the_edge_resends() {
    let cloud = Cloud::start(InfluxApi::V1);
    let proxy = FaultProxy::start(&cloud.addr);
    let mut edge = Edge::new(&cloud);
    edge.start(proxy.addr(), true, Farm::Running);
    progress(&edge, 100);
    for lost in 1..=3 {
        proxy.drop_next_response();
        edge.wait_for("a response lost", |_| proxy.dropped() >= lost);
        progress(&edge, 100);
    }
    edge.drain(proxy.addr());
    assert_exactly_once(&cloud, &edge);
    let events = cloud.sql("SELECT count(*) FROM device_events");
    assert!(
        events.parse::<u64>().unwrap_or(0) > 0,
        "the fan's events arrived"
    );
}

#[test]
fn the_agent_killed_mid_batch() {
    let cloud = Cloud::start(InfluxApi::V1);
    let mut edge = Edge::new(&cloud);
    // A backlog first (sync off), then the catch-up is killed while batches are in flight.
    edge.start(&cloud.addr, false, Farm::Running);
    edge.wait_for("a backlog", |e| e.committed() >= 1_500);
    edge.stop(Signal::TERM);
    edge.start(&cloud.addr, true, Farm::Running);
    edge.wait_for("the catch-up under way", |e| e.acked() >= 100);
    edge.stop(Signal::KILL);
    edge.start(&cloud.addr, true, Farm::Running);
    progress(&edge, 300);
    edge.stop(Signal::KILL);
    edge.drain(&cloud.addr);
    assert_exactly_once(&cloud, &edge);
}

#[test]
fn the_v2_api_end_to_end() {
    let cloud = Cloud::start(InfluxApi::V2);
    let mut edge = Edge::new(&cloud);
    edge.start(&cloud.addr, true, Farm::Running);
    progress(&edge, 200);
    edge.drain(&cloud.addr);
    assert_exactly_once(&cloud, &edge);
}

#[test]
fn over_https_the_edge_syncs_only_when_it_trusts_the_certificate() {
    let cloud = Cloud::start(InfluxApi::V1);
    let tls = TlsTerminator::start(&cloud.addr);
    // Without the CA: the built-in roots do not know the self-signed certificate.
    let mut untrusting = Edge::new(&cloud);
    untrusting.start(&tls.url(), true, Farm::Running);
    untrusting.wait_for("TLS refused", |e| {
        e.metric("farm_sync_errors_total{kind=\"connect\"}") >= 2
    });
    assert_eq!(untrusting.acked(), 0);
    untrusting.stop(Signal::TERM);
    assert_eq!(cloud.sql("SELECT acked_seq FROM devices"), "0");
    // With sync.ca_file: synced, and exactly once.
    let mut edge = Edge::new(&cloud);
    edge.sync_extra = format!("ca_file = \"{}\"", tls.ca().display());
    edge.start(&tls.url(), true, Farm::Running);
    progress(&edge, 200);
    edge.drain(&tls.url());
    assert_exactly_once(&cloud, &edge);
}
