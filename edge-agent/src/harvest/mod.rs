//! Harvest entry at the edge (DESIGN.md §3.2, §3.5): the farm manager records a harvest on
//! the agent (the panel's form at `/harvests`, or the HTTP API); it becomes a durable
//! `harvest` event in the outbox, which the uplink sends to the cloud, where it becomes an
//! inventory lot.
//!
//! - `POST /api/harvests` `{"room", "product", "quantity", "unit", "lot"?}`: needs the API
//!   bearer token, like every change. The room must be one of the config's rooms (of its
//!   sensors and actuators; any 1–64 printable characters when it names none), the product
//!   one of `[[products]]` (any well-formed SKU when there are none), the quantity above 0
//!   and at most 1e6, the unit `kg`, `g` or `each` and convertible to the product's (whole
//!   numbers for `each`). Without a lot code one is made: `<room>-<YYYYMMDD>-<6 hex>`, with
//!   the farm's local date. The event is committed durably before the answer,
//!   `201 {"id", "seq", "lot", "status": "pending"}`; a refused harvest writes nothing.
//! - `GET /api/harvests?limit=N` (default 50, at most 500; no token, like `/api/control`):
//!   the newest harvests still in the outbox, newest first, each `synced` once the uplink's
//!   acknowledged watermark covers its seq, else `pending`. Synced events are deleted after
//!   `outbox.retain_local`, so the list does not go back further.
//!
//! # Layout
//! - `entry`: the request body and its checks, as pure logic ([`check`]).
//! - `record`: checking and committing a harvest, and the recent ones, for the API and the
//!   panel alike ([`HarvestState::record`], [`HarvestState::recent`]).
//! - `routes`: the handlers and [`router`].

mod entry;
mod record;
mod routes;

pub use entry::{check, Catalogue, EntryError, HarvestRequest, MAX_QUANTITY, MAX_TEXT_LEN};
pub use record::{Listed, RecordError, Recorded};
pub use routes::{router, HarvestState, DEFAULT_LIMIT, MAX_LIMIT};
