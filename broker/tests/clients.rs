//! Real MQTT clients (rumqttc over TCP) and in-process links against a broker on 127.0.0.1:0.

mod common;

use common::{
    assert_closed_by_broker, next_message, start, subscribed, MqttClient, PASSWORD, USER,
};
use farm_broker::{Broker, BrokerConfig, BrokerError, PACKET_HEADROOM};
use rumqttc::{ConnectReturnCode, Event, Incoming, Outgoing, QoS};

const TOPIC: &str = "farm/r1/n1/telemetry";

#[test]
fn logged_in_client_publishes_qos0_and_qos1_to_a_link() {
    let broker = start();
    let mut link = subscribed(&broker, "ingest", "farm/#");
    let mut node = MqttClient::logged_in(broker.local_addr(), "esp32-r1-n1");

    let qos0 = br#"{"readings":{"temperature":21.4}}"#;
    node.client
        .publish(TOPIC, QoS::AtMostOnce, false, qos0.to_vec())
        .expect("queue qos0");
    node.poll_until(|e| matches!(e, Event::Outgoing(Outgoing::Publish(_))))
        .expect("qos0 sent");
    let qos1 = br#"{"ts":1700000000000,"readings":{"humidity":91.0,"co2":850}}"#;
    node.client
        .publish(TOPIC, QoS::AtLeastOnce, false, qos1.to_vec())
        .expect("queue qos1");
    node.poll_until(|e| matches!(e, Event::Incoming(Incoming::PubAck(_))))
        .expect("qos1 acknowledged by the broker");

    for expected in [&qos0[..], &qos1[..]] {
        let message = next_message(&mut link);
        assert_eq!(message.topic, TOPIC);
        assert_eq!(message.payload, expected);
        assert!(!message.retain);
    }
}

#[test]
fn wrong_password_and_missing_credentials_are_refused_without_connack() {
    let broker = start();
    let addr = broker.local_addr();

    let mut wrong = MqttClient::new(addr, "wrong", Some((USER, "not-the-password")));
    let refused = wrong.connack().expect_err("wrong password refused");
    // rumqttd 0.20 sends no CONNACK on a failed login: it closes the connection.
    assert_closed_by_broker(&refused);

    let mut unknown = MqttClient::new(addr, "unknown", Some(("nobody", PASSWORD)));
    unknown.connack().expect_err("unknown user refused");

    let mut anonymous = MqttClient::new(addr, "anonymous", None);
    assert_closed_by_broker(
        &anonymous
            .connack()
            .expect_err("anonymous refused by default"),
    );

    // The good password still works on the same broker.
    MqttClient::logged_in(addr, "good");
}

#[test]
fn anonymous_clients_connect_when_allowed() {
    let broker = Broker::start(BrokerConfig {
        users: Vec::new(),
        allow_anonymous: true,
        ..common::config()
    })
    .expect("start");
    let mut link = subscribed(&broker, "ingest", "farm/#");
    let mut anonymous = MqttClient::new(broker.local_addr(), "anon", None);
    assert_eq!(anonymous.connack(), Ok(ConnectReturnCode::Success));
    anonymous
        .client
        .publish("farm/r1/n2/co2", QoS::AtLeastOnce, false, b"850".to_vec())
        .expect("queue");
    anonymous
        .poll_until(|e| matches!(e, Event::Incoming(Incoming::PubAck(_))))
        .expect("acknowledged");
    assert_eq!(next_message(&mut link).payload, b"850");
}

#[test]
fn oversized_publish_closes_the_connection_and_is_not_delivered() {
    let max = 1024;
    let broker = Broker::start(BrokerConfig {
        max_payload_bytes: max,
        ..common::config()
    })
    .expect("start");
    let mut link = subscribed(&broker, "ingest", "farm/#");
    let addr = broker.local_addr();

    // Exactly the limit is accepted.
    let mut node = MqttClient::logged_in(addr, "node-a");
    node.client
        .publish(TOPIC, QoS::AtLeastOnce, false, vec![b'a'; max])
        .expect("queue");
    node.poll_until(|e| matches!(e, Event::Incoming(Incoming::PubAck(_))))
        .expect("limit-sized payload acknowledged");
    assert_eq!(next_message(&mut link).payload.len(), max);

    // Over the limit (and its topic headroom): the broker closes the connection, no PUBACK.
    node.client
        .publish(
            TOPIC,
            QoS::AtLeastOnce,
            false,
            vec![b'b'; max + PACKET_HEADROOM + 1],
        )
        .expect("queue");
    let dropped = node
        .poll_until(|e| matches!(e, Event::Incoming(Incoming::PubAck(_))))
        .expect_err("connection closed instead of a PUBACK");
    assert_closed_by_broker(&dropped);

    // A new connection works, and the link's next message is that one, not the oversized.
    let mut again = MqttClient::logged_in(addr, "node-b");
    again
        .client
        .publish(TOPIC, QoS::AtLeastOnce, false, b"after".to_vec())
        .expect("queue");
    again
        .poll_until(|e| matches!(e, Event::Incoming(Incoming::PubAck(_))))
        .expect("acknowledged");
    assert_eq!(next_message(&mut link).payload, b"after");
}

#[test]
fn network_clients_cannot_take_a_links_client_id() {
    let broker = start();
    let mut link = subscribed(&broker, "agent", "farm/#");
    let mut intruder = MqttClient::new(broker.local_addr(), "link:agent", Some((USER, PASSWORD)));
    intruder.connack().expect_err("reserved client id refused");
    // The link is untouched: it still receives.
    let mut node = MqttClient::logged_in(broker.local_addr(), "node");
    node.client
        .publish(TOPIC, QoS::AtLeastOnce, false, b"1".to_vec())
        .expect("queue");
    node.poll_until(|e| matches!(e, Event::Incoming(Incoming::PubAck(_))))
        .expect("acknowledged");
    assert_eq!(next_message(&mut link).payload, b"1");
}

#[test]
fn link_receives_bursts_larger_than_rumqttds_outgoing_buffer() {
    // rumqttd pauses a link after 200 undelivered notifications; the link must resume it.
    let broker = start();
    let mut link = subscribed(&broker, "ingest", "farm/#");
    let (sender, _receiver) = broker.link("publisher").expect("link").split();
    let count = 1000;
    for i in 0..count {
        sender
            .publish(TOPIC, i.to_string().as_bytes(), false)
            .expect("publish");
    }
    for i in 0..count {
        assert_eq!(next_message(&mut link).payload, i.to_string().as_bytes());
    }
}

#[test]
fn split_link_receives_on_one_thread_while_publishing_on_another() {
    let broker = start();
    let (sender, mut receiver) = subscribed(&broker, "agent", "farm/+/state").split();
    let publisher = std::thread::spawn(move || {
        sender
            .publish("farm/r1/state", b"{}", false)
            .expect("publish");
        sender
    });
    let message = receiver.recv().expect("message");
    assert_eq!(
        (message.topic.as_str(), &message.payload[..]),
        ("farm/r1/state", &b"{}"[..])
    );
    drop(publisher.join().expect("publisher thread"));
}

#[test]
fn reusing_a_link_id_closes_the_older_link() {
    let broker = start();
    let mut first = subscribed(&broker, "dup", "farm/#");
    let _second = subscribed(&broker, "dup", "farm/#");
    match first.recv_timeout(common::DEADLINE) {
        Err(BrokerError::LinkClosed { client_id }) => assert_eq!(client_id, "dup"),
        other => panic!("expected LinkClosed, got {other:?}"),
    }
}

#[test]
fn dropping_a_link_frees_its_connection_slot() {
    let broker = Broker::start(BrokerConfig {
        max_connections: 2,
        ..common::config()
    })
    .expect("start");
    let a = broker.link("a").expect("first link");
    let _b = broker.link("b").expect("second link");
    let refused = broker
        .link("c")
        .err()
        .expect("third link over max_connections");
    assert!(matches!(refused, BrokerError::Link { .. }), "{refused}");
    drop(a);
    broker.link("c").expect("slot freed by dropping a link");
}

#[test]
fn link_topics_are_checked() {
    let broker = start();
    let mut link = broker.link("checker").expect("link");
    assert!(matches!(
        link.publish("farm/+/x", b"1", false),
        Err(BrokerError::Topic { .. })
    ));
    assert!(matches!(
        link.subscribe("farm/#/x"),
        Err(BrokerError::Topic { .. })
    ));
    assert!(matches!(
        broker.link("bad/id"),
        Err(BrokerError::Link { .. })
    ));
}

#[test]
fn retained_messages_reach_later_links_and_an_empty_payload_clears_them() {
    let broker = start();
    let mut agent = broker.link("agent").expect("link");
    agent
        .publish("farm/agent/status", b"online", true)
        .expect("retain status");
    agent
        .publish("farm/r1/state", b"{\"co2\":850}", true)
        .expect("retain state");
    agent
        .publish("farm/r1/state", b"", true)
        .expect("clear state");

    let mut later = subscribed(&broker, "panel", "farm/#");
    let first = next_message(&mut later);
    assert_eq!(
        (first.topic.as_str(), &first.payload[..], first.retain),
        ("farm/agent/status", &b"online"[..], true)
    );
    // Nothing else was retained: the next message is a live one.
    agent
        .publish("farm/r1/n1/co2", b"900", false)
        .expect("live");
    let live = next_message(&mut later);
    assert_eq!(
        (live.topic.as_str(), live.retain),
        ("farm/r1/n1/co2", false)
    );
}
