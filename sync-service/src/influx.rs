//! Writing telemetry to InfluxDB through the v1 (`/write`) or the v2 (`/api/v2/write`, with
//! the influxdb2 crate) API, in line protocol encoded by influxdb2's `DataPoint`.
//!
//! The schema (README "InfluxDB schema"): one measurement per metric (`temperature`,
//! `humidity`, …), tags `tenant, farm, device, room, sensor, source` (`sensor` is the sensor's
//! or room node's name, `source` says which of the two), one float field `value`, the
//! device's timestamp in ms. A resent reading has the same measurement, tags and timestamp,
//! so it overwrites itself: writing twice stores it once.

use std::time::Duration;

use farm_protocol::{Reading, Source};
use influxdb2::models::{DataPoint, WriteDataPoint};

use crate::config::{InfluxApi, InfluxConfig};
use crate::devices::Device;

/// Why a write did not happen. Either way the batch is not acknowledged and the edge
/// retries it later.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// InfluxDB could not be reached, timed out or failed (5xx).
    #[error("InfluxDB unavailable: {0}")]
    Unavailable(String),
    /// InfluxDB refused the write (4xx: no such database, a field type conflict …); an
    /// operator must act.
    #[error("InfluxDB refused the write ({status}): {text}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// What InfluxDB said.
        text: String,
    },
}

/// Why the writer could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A secret file could not be read.
    #[error("{key}: {path}: {source}")]
    Secret {
        /// The config key naming the file.
        key: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("InfluxDB client: {0}")]
    Client(String),
}

/// The configured InfluxDB.
pub struct Influx {
    http: reqwest::Client,
    timeout: Duration,
    api: Api,
}

enum Api {
    V1 {
        write: reqwest::Url,
        ping: reqwest::Url,
        auth: Option<(String, String)>,
    },
    V2 {
        client: influxdb2::Client,
        org: String,
        bucket: String,
        health: reqwest::Url,
    },
}

fn read_secret(key: &'static str, path: &std::path::Path) -> Result<String, SetupError> {
    let text = std::fs::read_to_string(path).map_err(|source| SetupError::Secret {
        key,
        path: path.to_owned(),
        source,
    })?;
    Ok(text.trim().to_owned())
}

impl Influx {
    /// A writer for `config` (checked by [`crate::config::Config::parse`]); reads the
    /// secret files.
    pub fn new(config: &InfluxConfig) -> Result<Influx, SetupError> {
        let client_error = |e: &dyn std::fmt::Display| SetupError::Client(e.to_string());
        let base = reqwest::Url::parse(&config.url).map_err(|e| client_error(&e))?;
        let join = |path: &str| base.join(path).map_err(|e| client_error(&e));
        let api = match config.api {
            InfluxApi::V1 => {
                let mut write = join("write")?;
                {
                    let mut query = write.query_pairs_mut();
                    query.append_pair("db", config.database.as_deref().unwrap_or_default());
                    if let Some(rp) = &config.retention_policy {
                        query.append_pair("rp", rp);
                    }
                    query.append_pair("precision", "ms");
                }
                let auth = match (&config.username, &config.password_file) {
                    (Some(user), Some(file)) => {
                        Some((user.clone(), read_secret("influxdb.password_file", file)?))
                    }
                    _ => None,
                };
                Api::V1 {
                    write,
                    ping: join("ping")?,
                    auth,
                }
            }
            InfluxApi::V2 => {
                let token = match &config.token_file {
                    Some(file) => read_secret("influxdb.token_file", file)?,
                    None => String::new(),
                };
                let org = config.org.clone().unwrap_or_default();
                let client = influxdb2::ClientBuilder::new(base.as_str(), &org, token)
                    .build()
                    .map_err(|e| client_error(&e))?;
                Api::V2 {
                    client,
                    org,
                    bucket: config.bucket.clone().unwrap_or_default(),
                    health: join("health")?,
                }
            }
        };
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| client_error(&e))?;
        Ok(Influx {
            http,
            timeout: config.timeout,
            api,
        })
    }

    /// Writes line-protocol `body` (from [`encode`]); Ok once InfluxDB has accepted it.
    pub async fn write(&self, body: Vec<u8>) -> Result<(), WriteError> {
        match &self.api {
            Api::V1 { write, auth, .. } => {
                let mut request = self.http.post(write.clone()).body(body);
                if let Some((user, password)) = auth {
                    request = request.basic_auth(user, Some(password));
                }
                let response = request.send().await.map_err(unavailable)?;
                let status = response.status();
                if status.is_success() {
                    return Ok(());
                }
                let text = response.text().await.unwrap_or_default();
                Err(classify(status.as_u16(), text))
            }
            Api::V2 {
                client,
                org,
                bucket,
                ..
            } => {
                let precision = influxdb2::api::write::TimestampPrecision::Milliseconds;
                let write = client.write_line_protocol_with_precision(org, bucket, body, precision);
                match tokio::time::timeout(self.timeout, write).await {
                    Err(_) => Err(WriteError::Unavailable(format!(
                        "no answer within {}",
                        humantime::format_duration(self.timeout)
                    ))),
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(influxdb2::RequestError::Http { status, text })) => {
                        Err(classify(status.as_u16(), text))
                    }
                    Ok(Err(e)) => Err(WriteError::Unavailable(e.to_string())),
                }
            }
        }
    }

    /// Whether InfluxDB answers its health check (`/ping` for v1, `/health` for v2).
    pub async fn ready(&self) -> Result<(), String> {
        let url = match &self.api {
            Api::V1 { ping, .. } => ping,
            Api::V2 { health, .. } => health,
        };
        let response = self.http.get(url.clone()).send().await;
        match response {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("{url} answered {}", r.status())),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn unavailable(e: reqwest::Error) -> WriteError {
    WriteError::Unavailable(e.to_string())
}

fn classify(status: u16, text: String) -> WriteError {
    if (400..500).contains(&status) {
        WriteError::Refused { status, text }
    } else {
        WriteError::Unavailable(format!("{status}: {text}"))
    }
}

/// The readings of `device` as line protocol, one line each.
pub fn encode(device: &Device, readings: &[Reading]) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::with_capacity(readings.len() * 128);
    for reading in readings {
        let (source, name) = match &reading.source {
            Source::Sensor(name) => ("sensor", name),
            Source::Node(name) => ("node", name),
        };
        let point = DataPoint::builder(reading.metric.name())
            .tag("tenant", device.tenant.as_str())
            .tag("farm", device.farm.as_str())
            .tag("device", device.id.as_str())
            .tag("room", reading.room.as_str())
            .tag("sensor", name.as_str())
            .tag("source", source)
            .field("value", reading.value)
            .timestamp(reading.ts)
            .build()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        point.write_data_point_to(&mut body)?;
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use farm_protocol::Metric;

    #[test]
    fn a_reading_is_one_line_with_the_schemas_tags_escaped() {
        let device = Device {
            id: "pi 1".into(),
            tenant: "acme".into(),
            farm: "north".into(),
        };
        let reading = Reading {
            seq: 7,
            ts: 1_700_000_000_123,
            room: "fruiting,1".into(),
            source: Source::Node("esp32=a".into()),
            metric: Metric::Humidity,
            value: 91.5,
        };
        let body = encode(&device, &[reading]).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "humidity,device=pi\\ 1,farm=north,room=fruiting\\,1,sensor=esp32\\=a,\
             source=node,tenant=acme value=91.5 1700000000123\n"
        );
    }
}
