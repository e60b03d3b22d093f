//! Carrying out a control change for the JSON API and the panel alike: the control thread
//! applies it and saves it (it survives a restart), then its events are committed to the
//! outbox, and only then does the caller answer. One path, so a change made on the panel is
//! validated, persisted and logged exactly as one made through the API.

use farm_protocol::EventKind;

use crate::control::{ControlError, ControlHandle, Request, RequestError};
use crate::outbox::{NewEvent, Outbox, OutboxError};

/// Why a change was not (fully) carried out.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The request is wrong (unknown name, value out of range…): nothing changed.
    #[error(transparent)]
    Refused(#[from] ControlError),
    /// It could not be saved, so it was not applied.
    #[error("could not save the change; it was not applied")]
    NotSaved,
    /// The control thread has stopped: nothing changed.
    #[error("the control loop is not running")]
    Stopped,
    /// It was applied and saved, but its event could not be committed.
    #[error("the change was applied but could not be logged")]
    NotLogged(#[source] OutboxError),
}

impl From<RequestError> for ChangeError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Refused(e) => ChangeError::Refused(e),
            RequestError::NotSaved(e) => {
                tracing::error!(error = %e, "Control change not saved.");
                ChangeError::NotSaved
            }
            RequestError::Stopped => ChangeError::Stopped,
        }
    }
}

/// Applies `request` and commits its events (durably) before returning them.
pub async fn apply(
    control: &ControlHandle,
    outbox: &Outbox,
    request: Request,
) -> Result<Vec<EventKind>, ChangeError> {
    let events = control.request(request).await?;
    let now = crate::now_ms();
    for kind in &events {
        tracing::info!(event = %kind.name(), ?kind, "Control change.");
        let event = NewEvent {
            id: uuid::Uuid::new_v4(),
            ts: now,
            kind: kind.clone(),
        };
        if let Err(e) = outbox.append_event(event).await {
            tracing::error!(error = %e, "Control change applied but its event was not recorded.");
            return Err(ChangeError::NotLogged(e));
        }
    }
    Ok(events)
}
