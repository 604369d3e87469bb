//! The `log` channel: one log line per notification.

use super::SendError;
use crate::alert::Notification;

pub fn send(notification: &Notification) -> Result<(), SendError> {
    tracing::warn!(incident = notification.incident_id, "{}", notification.headline());
    Ok(())
}
