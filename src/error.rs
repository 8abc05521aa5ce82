//! The one error type of the domain, service and store; each API dialect renders it in its own format.

/// What went wrong, in terms a dialect can map to its own status codes and envelopes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed at the wire level (shape, types, limits). Maps to 400.
    #[error("{0}")]
    InvalidInput(String),
    /// A referenced record does not exist or is not visible to the caller.
    #[error("{0}")]
    NotFound(String),
    /// A required top-level attribute is absent.
    #[error("{0}")]
    MandatoryMissing(String),
    /// A custom/system field value failed validation against its activity type.
    #[error("{0}")]
    InvalidFields(String),
    /// A unique value (lead email, type name, user email…) is already taken.
    #[error("{0}")]
    Duplicate(String),
    /// Missing or wrong credentials, or a deactivated user.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The store cannot be reached (connection lost, database locked for too long).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected store failure; details go to the log, not to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }
}
