//! The one error type of the domain, service and store; each API dialect renders it in its own format.

use std::fmt;

use crate::domain::LeadKey;

/// What went wrong, in terms a dialect can map to its own status codes and envelopes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed at the wire level (shape, types, limits). Maps to 400.
    #[error("{0}")]
    InvalidInput(String),
    /// A referenced record does not exist or is not visible to the caller.
    #[error("{0}")]
    NotFound(Missing),
    /// A required top-level attribute is absent.
    #[error("{0}")]
    MandatoryMissing(String),
    /// A custom/system field value failed validation against its activity type.
    #[error("{0}")]
    InvalidFields(String),
    /// A value the rules refuse: which field, and why ("must be …, not …"). Dialects show
    /// "{field} {reason}" with the field in their own vocabulary.
    #[error("{} {reason}", field.lsq_name())]
    Invalid { field: Field, reason: String },
    /// A required value is absent; dialects show "{field} is required".
    #[error("{} is required", .0.lsq_name())]
    Required(Field),
    /// A unique value (lead email, type name, user email…) is already taken.
    #[error("{0}")]
    Duplicate(Unique),
    /// The record's current state does not allow the change (e.g. deleting an opportunity that
    /// still has activities); the message says why.
    #[error("{0}")]
    Conflict(String),
    /// Missing or wrong credentials, or a deactivated user.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The store cannot be reached (connection lost, database locked for too long).
    #[error("store unavailable: {0}")]
    Unavailable(Fault),
    /// A bug or an unexpected store failure; details go to the log, not to the client.
    #[error("internal error: {0}")]
    Internal(Fault),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A field a validation rule names, so that each dialect can name it in its own vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// An activity type's name.
    TypeName,
    /// An activity type's event code.
    EventCode,
    Direction,
    SalesloftType,
    /// An activity type's list of custom field definitions.
    TypeFields,
    /// The schema name of the custom field definition at this index.
    SchemaName(usize),
    /// The options of the custom field definition at this index.
    Options {
        index: usize,
        schema_name: String,
    },
    /// What identifies a lead: at least one of its first name, last name, email or phone.
    LeadIdentity,
    LeadEmail,
    /// The user a new lead is assigned to.
    LeadOwner,
}

impl Field {
    /// The field as LeadSquared's API names it (Salesloft shares these messages).
    pub fn lsq_name(&self) -> String {
        match self {
            Field::TypeName => "ActivityEventName".into(),
            Field::EventCode => "ActivityEvent".into(),
            Field::Direction => "Direction".into(),
            Field::SalesloftType => "SalesloftType".into(),
            Field::TypeFields => "Fields".into(),
            Field::SchemaName(_) => "SchemaName".into(),
            Field::Options { schema_name, .. } => format!("OptionSet of {schema_name}"),
            Field::LeadIdentity => "One of FirstName, LastName, EmailAddress or Phone".into(),
            Field::LeadEmail => "EmailAddress".into(),
            Field::LeadOwner => "OwnerId".into(),
        }
    }

    /// The field as the native API names it, quoted as its messages quote fields.
    pub fn native_name(&self) -> String {
        match self {
            Field::TypeName => "'name'".into(),
            Field::EventCode => "'event_code'".into(),
            Field::Direction => "'direction'".into(),
            Field::SalesloftType => "'salesloft_type'".into(),
            Field::TypeFields => "'fields'".into(),
            Field::SchemaName(i) => format!("'fields[{i}].schema_name'"),
            Field::Options { index, .. } => format!("'fields[{index}].options'"),
            Field::LeadIdentity => "One of 'first_name', 'last_name', 'email' or 'phone'".into(),
            Field::LeadEmail => "'email'".into(),
            Field::LeadOwner => "'owner_guid'".into(),
        }
    }

    /// Whether the field belongs to a lead's values (LeadSquared answers those with its
    /// field-value exception) rather than to an activity type's definition.
    pub fn is_lead_value(&self) -> bool {
        matches!(
            self,
            Field::LeadIdentity | Field::LeadEmail | Field::LeadOwner
        )
    }
}

/// The record that was not found. `Display` gives the sentence every dialect shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// The tenant, by GUID when the caller named one.
    Tenant(Option<String>),
    Lead,
    Opportunity,
    /// The activity, by the id or GUID the caller gave when there is one.
    Activity(Option<String>),
    /// The activity type, by event code when known.
    ActivityType(Option<i64>),
    /// An activity names an event code no type of the tenant has.
    EventCode(i64),
    /// An opportunity names an event code of a type that is not an opportunity type.
    NotAnOpportunityType(i64),
    /// An activity names an opportunity type's event code.
    OpportunityTypeForActivity(i64),
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Tenant(Some(guid)) => write!(f, "tenant '{guid}' does not exist"),
            Missing::Tenant(None) => f.write_str("tenant does not exist"),
            Missing::Lead => f.write_str("Lead does not exist in the system"),
            Missing::Opportunity => f.write_str("Opportunity does not exist in the system"),
            Missing::Activity(Some(id)) => write!(f, "Activity '{id}' does not exist"),
            Missing::Activity(None) => f.write_str("Activity does not exist"),
            Missing::ActivityType(Some(code)) => {
                write!(f, "Activity type with code {code} does not exist")
            }
            Missing::ActivityType(None) => f.write_str("Activity type does not exist"),
            Missing::EventCode(code) => write!(f, "Activity event code {code} does not exist"),
            Missing::NotAnOpportunityType(code) => {
                write!(f, "Event code {code} is not an opportunity type")
            }
            Missing::OpportunityTypeForActivity(code) => write!(
                f,
                "ActivityEvent {code} is an opportunity type; create opportunities with OpportunityManagement.svc/Capture"
            ),
        }
    }
}

/// The unique value that clashed. `Display` gives the LeadSquared wording (which the Salesloft
/// dialect shares); the native API words it with its own field names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unique {
    /// Another live lead has this email, phone or mobile.
    Lead(LeadKey),
    /// The lead a request finds by this key exists but belongs to a user the caller may not see.
    LeadOfAnotherOwner(LeadKey),
    /// A lead with this key was created concurrently and cannot be found again.
    LeadByKey(LeadKey),
    /// An activity type of the tenant already has this name (case-insensitively).
    TypeName,
    /// An activity type of the tenant already has this event code.
    TypeCode,
    /// A user of the tenant already has this email (as given).
    UserEmail(String),
    /// An account of the tenant already has this name (as given).
    AccountName(String),
    /// A unique constraint the store does not name.
    Other,
}

impl fmt::Display for Unique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let same = |f: &mut fmt::Formatter<'_>, field: &str| {
            write!(f, "A record with the same {field} already exists")
        };
        match self {
            Unique::Lead(key) => same(f, key.lsq_name()),
            Unique::LeadOfAnotherOwner(key) => write!(
                f,
                "A lead with this {} already exists and is owned by another user",
                key.lsq_name()
            ),
            Unique::LeadByKey(key) => {
                write!(f, "A lead with this {} already exists", key.lsq_name())
            }
            Unique::TypeName => same(f, "ActivityEventName"),
            Unique::TypeCode => same(f, "ActivityEvent"),
            Unique::UserEmail(email) => {
                write!(
                    f,
                    "A user with email '{email}' already exists in this tenant"
                )
            }
            Unique::AccountName(name) => write!(f, "An account named '{name}' already exists"),
            Unique::Other => same(f, "a unique field"),
        }
    }
}

/// The boxed error an internal or unavailable failure keeps as its cause.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

/// What an internal or unavailable error keeps for the log: what failed and, when an underlying
/// error caused it, that error. Clients never see it (see [`Error::hidden_text`]).
#[derive(Debug)]
pub struct Fault {
    context: String,
    source: Option<Source>,
}

impl Fault {
    /// A failure described by `context` and caused by `source`.
    pub fn new(context: impl Into<String>, source: impl Into<Source>) -> Fault {
        Fault {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// A failure caused by `source` alone.
    pub fn from_source(source: impl Into<Source>) -> Fault {
        Fault {
            context: String::new(),
            source: Some(source.into()),
        }
    }

    /// The underlying error, if there is one.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }
}

impl From<String> for Fault {
    fn from(context: String) -> Fault {
        Fault {
            context,
            source: None,
        }
    }
}

impl From<&str> for Fault {
    fn from(context: &str) -> Fault {
        Fault::from(context.to_string())
    }
}

/// The context, then the source and its causes, separated by ": " (a cause whose text its
/// parent already shows is skipped).
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.context.clone();
        let mut next: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(s) => Some(s.as_ref()),
            None => None,
        };
        while let Some(s) = next {
            let text = s.to_string();
            if !out.contains(&text) {
                if !out.is_empty() {
                    out.push_str(": ");
                }
                out.push_str(&text);
            }
            next = s.source();
        }
        f.write_str(&out)
    }
}

impl Error {
    /// An internal error caused by `e` (an error value or a message).
    pub fn internal(e: impl Into<Source>) -> Self {
        Error::Internal(Fault::from_source(e))
    }

    /// For an internal or unavailable error: logs it with its source and returns the text a
    /// client may see instead; `None` for every other error, which the dialect words itself.
    pub fn hidden_text(&self) -> Option<&'static str> {
        match self {
            Error::Internal(fault) => {
                tracing::error!(error = %fault, "internal error");
                Some("An internal error occurred; it has been logged")
            }
            Error::Unavailable(fault) => {
                tracing::warn!(error = %fault, "store unavailable");
                Some("The service is temporarily unavailable; retry shortly")
            }
            _ => None,
        }
    }
}
