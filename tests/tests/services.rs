//! Self-tests of the service helpers: each starts the real service and checks what the
//! cloud-sync tests rely on.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use farm_e2e::{http_request, try_http_request, FaultProxy, InfluxV2Gateway, Influxd, Postgres};

/// Two points of one series, 1 s apart, in line protocol with millisecond timestamps.
const TWO_POINTS_MS: &str = "climate,room=r1,sensor=s1 value=21.5 1700000000000\n\
                             climate,room=r1,sensor=s1 value=21.7 1700000001000";

/// The `[time, value]` rows of `SELECT value FROM climate` (times in unix ms).
fn climate_rows(influx: &Influxd, db: &str) -> Vec<(i64, f64)> {
    let answer = influx.query(db, "SELECT value FROM climate");
    answer["results"][0]["series"][0]["values"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    let time = row[0].as_i64().expect("time in ms");
                    (time, row[1].as_f64().expect("a float value"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn influxd_stores_points_and_keeps_them_across_a_restart() {
    let mut influx = Influxd::start();
    assert_eq!(influx.url(), format!("http://{}", influx.addr()));
    influx.create_database("farm");
    let (status, body) = http_request(
        influx.addr(),
        "POST",
        "/write?db=farm&precision=ms",
        &[],
        Some(TWO_POINTS_MS),
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        climate_rows(&influx, "farm"),
        [(1_700_000_000_000, 21.5), (1_700_000_001_000, 21.7)]
    );
    assert_eq!(influx.count("farm", "climate"), 2);
    assert_eq!(influx.count("farm", "no_such_measurement"), 0);

    // `count` counts points, not field values: another series at the same time and a point
    // with two fields are one point each.
    let (status, body) = http_request(
        influx.addr(),
        "POST",
        "/write?db=farm&precision=ms",
        &[],
        Some("mixed,room=a x=1 1700000000000\nmixed,room=b y=2 1700000000000\nmixed,room=a x=3,y=4 1700000001000"),
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(influx.count("farm", "mixed"), 3);

    influx.stop();
    assert!(try_http_request(influx.addr(), "GET", "/ping", &[], None).is_err());
    influx.start_again();
    assert_eq!(influx.count("farm", "climate"), 2);
    assert_eq!(climate_rows(&influx, "farm")[1], (1_700_000_001_000, 21.7));
}

#[test]
fn influxd_query_panics_on_an_error_in_the_answer() {
    let influx = Influxd::start();
    let bad_syntax =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| influx.query("", "SELEC 1")));
    assert!(bad_syntax.is_err());
    let no_database = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        influx.query("missing", "SELECT * FROM climate")
    }));
    assert!(no_database.is_err());
}

#[test]
fn postgres_runs_sql_in_several_databases_and_keeps_data_across_a_restart() {
    let mut pg = Postgres::start();
    assert_eq!(
        pg.url("postgres"),
        format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port())
    );
    assert_eq!(pg.psql("postgres", "SELECT 1"), "1");
    pg.psql(
        "postgres",
        "CREATE TABLE product (id int PRIMARY KEY, sku text NOT NULL);
         INSERT INTO product VALUES (1, 'tomato'), (2, 'basil');",
    );
    assert_eq!(
        pg.psql("postgres", "SELECT id, sku FROM product ORDER BY id"),
        "1|tomato\n2|basil"
    );

    let url = pg.create_database("inventory");
    assert_eq!(url, pg.url("inventory"));
    pg.psql("inventory", "CREATE TABLE lot (quantity int)");
    assert_eq!(pg.psql("inventory", "SELECT count(*) FROM lot"), "0");
    assert_eq!(
        pg.psql(
            "postgres",
            "SELECT datname FROM pg_database WHERE datname = 'inventory'"
        ),
        "inventory"
    );

    // A failing statement stops the script and panics with psql's message.
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pg.psql(
            "postgres",
            "INSERT INTO product VALUES (3, 'chard'); SELECT * FROM missing; INSERT INTO product VALUES (4, 'kale');",
        )
    }));
    let message = failed.expect_err("psql must fail");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("missing"), "{message}");
    assert_eq!(pg.psql("postgres", "SELECT count(*) FROM product"), "3");

    pg.stop();
    assert!(TcpStream::connect(("127.0.0.1", pg.port())).is_err());
    pg.start_again();
    assert_eq!(pg.psql("postgres", "SELECT count(*) FROM product"), "3");
    assert_eq!(pg.psql("inventory", "SELECT count(*) FROM lot"), "0");
}

#[test]
fn the_v2_gateway_writes_into_influxd_and_reports_its_health() {
    let mut influx = Influxd::start();
    influx.create_database("farm");
    let gateway = InfluxV2Gateway::start(influx.addr());
    let write = |query: &str, body: &str| {
        http_request(
            gateway.addr(),
            "POST",
            &format!("/api/v2/write?{query}"),
            &[
                ("Authorization", "Token edge-token"),
                ("Content-Type", "text/plain; charset=utf-8"),
            ],
            Some(body),
        )
    };
    let (status, body) = write("org=acme&bucket=farm&precision=ms", TWO_POINTS_MS);
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        climate_rows(&influx, "farm"),
        [(1_700_000_000_000, 21.5), (1_700_000_001_000, 21.7)]
    );
    // `us` is the v2 name of v1's `u`; a bucket `db/rp` (as sent, URL-encoded) names the
    // retention policy.
    let (status, body) = write(
        "org=acme&bucket=farm%2Fautogen&precision=us",
        "climate,room=r1,sensor=s1 value=22.0 1700000002000000",
    );
    assert_eq!(status, 204, "{body}");
    assert_eq!(climate_rows(&influx, "farm")[2], (1_700_000_002_000, 22.0));
    let (status, body) = write("org=acme&bucket=farm/nope&precision=ms", TWO_POINTS_MS);
    assert!(
        body.contains("retention policy not found"),
        "{status} {body}"
    );

    let (status, body) = http_request(gateway.addr(), "GET", "/health", &[], None);
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).expect("JSON health");
    assert_eq!(health["status"], "pass");

    for path in ["/", "/write?db=farm", "/api/v2/query?org=acme", "/ping"] {
        let (status, _) = http_request(gateway.addr(), "GET", path, &[], None);
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = http_request(
        gateway.addr(),
        "GET",
        "/api/v2/write?bucket=farm",
        &[],
        None,
    );
    assert_eq!(status, 405);

    influx.stop();
    let (status, body) = http_request(gateway.addr(), "GET", "/health", &[], None);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""status":"fail""#), "{body}");
    influx.start_again();
    let (status, _) = http_request(gateway.addr(), "GET", "/health", &[], None);
    assert_eq!(status, 200);
    assert_eq!(influx.count("farm", "climate"), 3);
}

/// Sends `GET /ping` twice on one keep-alive connection and returns both status lines.
fn two_pings_on_one_connection(addr: &str) -> Vec<String> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a read timeout");
    let mut status_lines = Vec::new();
    for _ in 0..2 {
        write!(stream, "GET /ping HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("send");
        // A 204 has no body: the answer ends with its head.
        let mut head = Vec::new();
        let mut byte = [0];
        while !head.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut byte).expect("read the answer");
            assert_eq!(n, 1, "connection closed after {head:?}");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).expect("an ASCII head");
        status_lines.push(head.lines().next().unwrap_or_default().to_owned());
    }
    status_lines
}

#[test]
fn the_fault_proxy_forwards_loses_a_response_and_refuses() {
    let influx = Influxd::start();
    influx.create_database("farm");
    let proxy = FaultProxy::start(influx.addr());
    assert_eq!(
        two_pings_on_one_connection(proxy.addr()),
        ["HTTP/1.1 204 No Content", "HTTP/1.1 204 No Content"]
    );
    let write = |line: &str| {
        try_http_request(
            proxy.addr(),
            "POST",
            "/write?db=farm&precision=ms",
            &[],
            Some(line),
        )
    };

    // Armed: influxd stores the point, the client gets no answer.
    proxy.drop_next_response();
    assert!(proxy.is_armed());
    let lost = write("climate,room=r1,sensor=s1 value=1 1700000000000");
    let error = lost.expect_err("the answer must be lost");
    assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof, "{error}");
    assert_eq!(proxy.dropped(), 1);
    assert!(!proxy.is_armed());
    assert_eq!(influx.count("farm", "climate"), 1);

    // Disarmed again: the next answer arrives.
    let (status, body) = write("climate,room=r1,sensor=s1 value=2 1700000001000").expect("answer");
    assert_eq!(status, 204, "{body}");
    assert_eq!(influx.count("farm", "climate"), 2);
    assert_eq!(proxy.dropped(), 1);

    // Refusing: connections are closed at once, nothing reaches influxd.
    proxy.set_refusing(true);
    let refused = write("climate,room=r1,sensor=s1 value=3 1700000002000");
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(influx.count("farm", "climate"), 2);
    proxy.set_refusing(false);
    let (status, _) = write("climate,room=r1,sensor=s1 value=3 1700000002000").expect("answer");
    assert_eq!(status, 204);
    assert_eq!(influx.count("farm", "climate"), 3);

    let addr = proxy.addr().to_owned();
    drop(proxy);
    assert!(TcpStream::connect(&addr).is_err(), "the listener must stop");
}
