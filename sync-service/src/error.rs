//! The service's error answers: cloud-api's, `{"error": {"code", "message"}}` with the
//! right status (one format for the whole cloud side).

pub use cloud_api::error::ApiError;
