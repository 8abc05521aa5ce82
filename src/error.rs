//! The one error type of the domain, service and store; each API dialect renders it in its own format.

use std::fmt;

use crate::domain::{time, DataType, LeadKey};

/// What went wrong, in terms a dialect can map to its own status codes and envelopes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed at the wire level (shape, types, limits). Maps to 400.
    #[error("{0}")]
    InvalidInput(String),
    /// A referenced record does not exist or is not visible to the caller.
    #[error("{0}")]
    NotFound(Missing),
    /// A value the rules refuse: which field, and why ("must be …, not …"). Dialects show
    /// "{field} {reason}" with the field in their own vocabulary.
    #[error("{} {reason}", field.lsq_name())]
    Invalid { field: Field, reason: String },
    /// A required value is absent; dialects show "{field} is required" (see
    /// [`Field::required_text`]).
    #[error("{}", .0.required_text(Field::lsq_name))]
    Required(Field),
    /// A value given for an activity (one of its fields, or an attribute of a native activity)
    /// that its type or the rules refuse; each dialect words the problem with its field names.
    #[error("{}", problem.text(field, Field::lsq_name))]
    InvalidValue { field: Field, problem: Problem },
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
    /// The score an activity type gives its activities, or one activity its own.
    Score,
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
    LeadFirstName,
    LeadLastName,
    LeadPhone,
    LeadMobile,
    /// A lead attribute besides the named ones (`mx_…`, `Source`, `Company`, `JobTitle`).
    LeadAttribute(String),
    /// The user a new lead is assigned to.
    LeadOwner,
    /// The lead an activity is posted on.
    RelatedLead,
    /// The activity a request edits.
    ActivityId,
    /// The opportunity a Capture request describes.
    Opportunity,
    /// An opportunity's event code.
    OpportunityEventCode,
    /// The lead attribute a Capture request finds the lead by (its `SearchBy`).
    SearchBy(LeadKey),
    /// The email of the user who owns an activity.
    ActivityOwnerEmail,
    /// A custom or system field of an activity, by the SchemaName given (`Status`, `Owner`,
    /// `mx_Custom_1`); both dialects name it so, unquoted (the [`Problem`] sentences quote it).
    ActivityField(String),
    /// The user who owns a native activity, account or opportunity, by GUID.
    OwnerGuid,
    /// A native activity's status.
    Status,
    /// A native activity's tags.
    Tags,
    /// A key of a native activity's `static_data`.
    StaticDataKey(String),
    /// The activities of a native batch.
    Activities,
    /// A native activity's Salesloft type.
    ActivityKind,
    /// What identifies a native activity's type: its Salesloft type or its event code.
    KindOrEventCode,
    /// The record (lead, account or opportunity) a native activity is logged on.
    Resource,
    /// An account's name.
    AccountName,
    /// A record a row of a request refers to, where no one field names it.
    Record,
    /// A field of one row of a request body (`activities[3]`): `inner`, at `place`.
    At {
        place: String,
        inner: Box<Field>,
    },
}

impl Field {
    /// The field as LeadSquared's API names it (Salesloft shares these messages).
    pub fn lsq_name(&self) -> String {
        match self {
            Field::TypeName => "ActivityEventName".into(),
            Field::EventCode => "ActivityEvent".into(),
            Field::Direction => "Direction".into(),
            Field::SalesloftType => "SalesloftType".into(),
            Field::Score => "Score".into(),
            Field::TypeFields => "Fields".into(),
            Field::SchemaName(_) => "SchemaName".into(),
            Field::Options { schema_name, .. } => format!("OptionSet of {schema_name}"),
            Field::LeadIdentity => "One of FirstName, LastName, EmailAddress or Phone".into(),
            Field::LeadEmail => "EmailAddress".into(),
            Field::LeadFirstName => "FirstName".into(),
            Field::LeadLastName => "LastName".into(),
            Field::LeadPhone => "Phone".into(),
            Field::LeadMobile => "Mobile".into(),
            Field::LeadAttribute(name) => name.clone(),
            Field::LeadOwner => "OwnerId".into(),
            Field::RelatedLead => "RelatedProspectId".into(),
            Field::ActivityId => "ProspectActivityId".into(),
            Field::Opportunity => "Opportunity".into(),
            Field::OpportunityEventCode => "OpportunityEventCode".into(),
            Field::SearchBy(key) => key.lsq_name().into(),
            Field::ActivityOwnerEmail => "ActivityOwnerEmail".into(),
            Field::ActivityField(name) => name.clone(),
            Field::OwnerGuid => "Owner".into(),
            Field::Status => "Status".into(),
            Field::Tags => "Tags".into(),
            Field::StaticDataKey(key) => format!("StaticData.{key}"),
            Field::Activities => "Activities".into(),
            Field::ActivityKind => "SalesloftType".into(),
            Field::KindOrEventCode => "SalesloftType or ActivityEvent".into(),
            Field::Resource => "Resource".into(),
            Field::AccountName => "AccountName".into(),
            Field::Record => String::new(),
            Field::At { place, inner } => format!("{place}: {}", inner.lsq_name()),
        }
    }

    /// The field as the native API names it, quoted as its messages quote fields.
    pub fn native_name(&self) -> String {
        match self {
            Field::TypeName => "'name'".into(),
            Field::EventCode => "'event_code'".into(),
            Field::Direction => "'direction'".into(),
            Field::SalesloftType => "'salesloft_type'".into(),
            Field::Score => "'score'".into(),
            Field::TypeFields => "'fields'".into(),
            Field::SchemaName(i) => format!("'fields[{i}].schema_name'"),
            Field::Options { index, .. } => format!("'fields[{index}].options'"),
            Field::LeadIdentity => "One of 'first_name', 'last_name', 'email' or 'phone'".into(),
            Field::LeadEmail => "'email'".into(),
            Field::LeadFirstName => "'first_name'".into(),
            Field::LeadLastName => "'last_name'".into(),
            Field::LeadPhone => "'phone'".into(),
            Field::LeadMobile => "'mobile'".into(),
            Field::LeadAttribute(name) => format!("'attributes.{name}'"),
            Field::LeadOwner | Field::OwnerGuid => "'owner_guid'".into(),
            Field::RelatedLead => "'lead_guid'".into(),
            Field::ActivityId => "'id'".into(),
            Field::Opportunity => "'opportunity'".into(),
            Field::OpportunityEventCode => "'event_code'".into(),
            Field::SearchBy(key) => format!("'{}'", key.native_name()),
            Field::ActivityOwnerEmail => "'owner_email'".into(),
            Field::ActivityField(name) => name.clone(),
            Field::Status => "'status'".into(),
            Field::Tags => "'tags'".into(),
            Field::StaticDataKey(key) => format!("'static_data.{key}'"),
            Field::Activities => "'activities'".into(),
            Field::ActivityKind => "'type'".into(),
            Field::KindOrEventCode => "'type' or 'event_code'".into(),
            Field::Resource => "'resource'".into(),
            Field::AccountName => "'name'".into(),
            Field::Record => String::new(),
            Field::At { place, inner } => format!("{place}: {}", inner.native_name()),
        }
    }

    /// The sentence saying this field is missing, with fields named by `name` (a dialect's
    /// [`Field::lsq_name`] or [`Field::native_name`]).
    pub fn required_text(&self, name: fn(&Field) -> String) -> String {
        match self {
            Field::SearchBy(_) => format!(
                "LeadDetails must contain {} (the SearchBy attribute)",
                name(self)
            ),
            _ => format!("{} is required", name(self)),
        }
    }

    /// Whether the field belongs to a lead's values (LeadSquared answers those with its
    /// field-value exception) rather than to an activity type's definition.
    pub fn is_lead_value(&self) -> bool {
        matches!(
            self,
            Field::LeadIdentity
                | Field::LeadEmail
                | Field::LeadFirstName
                | Field::LeadLastName
                | Field::LeadPhone
                | Field::LeadMobile
                | Field::LeadAttribute(_)
                | Field::LeadOwner
        )
    }
}

/// Why a value of an [`Error::InvalidValue`] was refused, with what the sentence shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The value is longer than the longest a field holds.
    TooLong { max: usize },
    /// The value is not one of the allowed ones (an activity's `Status` field).
    NotAnOption {
        value: String,
        allowed: &'static [&'static str],
    },
    /// The activity type has no field of this name.
    NotOfType { event_code: i64, type_name: String },
    /// A mandatory field of the type has no value.
    MandatoryEmpty { display_name: String },
    /// The value does not parse as the field's data type (or is not one of its options).
    WrongType {
        value: String,
        data_type: DataType,
        options: Vec<String>,
    },
    /// No active user has this id (the `Owner` field of an activity).
    NoActiveUserWithId { value: String },
    /// The email is not an active user's of the caller's account (LeadSquared).
    NotActiveUserOfAccount { value: String },
    /// The GUID is not an active user's of the caller's tenant (native).
    NotActiveUserOfTenant { value: String },
    /// An edit names another event code than the activity's own.
    TypeMismatch { given: i64, actual: i64 },
    /// More tags than an activity may carry.
    TooManyTags { max: usize, got: usize },
    /// A tag is empty or too long.
    TagLength { max: usize, tag: String },
    /// The key is one the Salesloft dialect fills itself (`keys`).
    Reserved { keys: &'static [&'static str] },
    /// The value is not one of the allowed ones (a native activity's status).
    NotOneOf {
        value: String,
        allowed: &'static [&'static str],
    },
    /// A batch is empty or larger than the largest allowed.
    BatchSize { max: usize, got: usize },
    /// No activity type has this event code.
    NoSuchType { event_code: i64 },
    /// The event code's type has another Salesloft type than the one given with it.
    KindMismatch {
        event_code: i64,
        has: String,
        given: String,
    },
    /// No system type has this Salesloft type.
    NotAnActivityKind { value: String },
    /// The event code is an opportunity type's where an activity was expected.
    OpportunityType { event_code: i64 },
    /// The event code is not an opportunity type's where an opportunity was expected.
    NotAnOpportunityType { event_code: i64 },
    /// The referenced record (`what`: person, account, lead…) does not exist.
    Gone { what: &'static str, id: String },
    /// The text is empty or longer than `max` characters.
    Length { max: usize },
    /// The record a row refers to was not found.
    Missing(Missing),
}

impl Problem {
    /// The sentence saying what is wrong with `field`, each field named by `name` (a dialect's
    /// [`Field::lsq_name`] or [`Field::native_name`]). A field at a place in the body is
    /// prefixed with it: "activities[3]: …".
    pub fn text(&self, field: &Field, name: fn(&Field) -> String) -> String {
        if let Field::At { place, inner } = field {
            return format!("{place}: {}", self.text(inner, name));
        }
        let n = name(field);
        match self {
            Problem::TooLong { max } => {
                format!("Value of field '{n}' is longer than {max} characters")
            }
            Problem::NotAnOption { value, allowed } => format!(
                "Invalid value '{value}' for field '{n}': expected one of {}",
                allowed.join(", ")
            ),
            Problem::NotOfType {
                event_code,
                type_name,
            } => format!(
                "Invalid field: '{n}' is not a field of activity type {event_code} ({type_name})"
            ),
            Problem::MandatoryEmpty { display_name } => {
                format!("Mandatory field '{n}' ({display_name}) is missing or empty")
            }
            Problem::WrongType {
                value,
                data_type,
                options,
            } => format!(
                "Invalid value '{value}' for field '{n}' of type {}: expected {}",
                data_type.as_str(),
                expected(*data_type, options)
            ),
            Problem::NoActiveUserWithId { value } => {
                format!("Invalid value '{value}' for field '{n}': no active user with this id")
            }
            Problem::NotActiveUserOfAccount { value } => {
                format!("{n} '{value}' is not an active user of this account")
            }
            Problem::NotActiveUserOfTenant { value } => {
                format!("{n}: '{value}' is not an active user of this tenant")
            }
            Problem::TypeMismatch { given, actual } => {
                format!("{n} {given} does not match the activity's type {actual}")
            }
            Problem::TooManyTags { max, got } => {
                format!("{n}: an activity has at most {max} tags, got {got}")
            }
            Problem::TagLength { max, tag } => {
                format!("{n}: each tag must be 1 to {max} characters long, not '{tag}'")
            }
            Problem::Reserved { keys } => format!(
                "{n} is reserved: the Salesloft dialect fills {} from the activity",
                keys.join(", ")
            ),
            Problem::NotOneOf { value, allowed } => {
                format!("{n} must be one of {}, not '{value}'", allowed.join(", "))
            }
            Problem::BatchSize { max, got } => format!("{n} takes 1 to {max} activities, got {got}"),
            Problem::NoSuchType { event_code } => {
                format!("{n}: activity type {event_code} does not exist")
            }
            Problem::KindMismatch {
                event_code,
                has,
                given,
            } => format!(
                "{n}: type {event_code} has Salesloft type '{has}', not '{given}' (the 'type' given)"
            ),
            Problem::NotAnActivityKind { value } => {
                format!("{n}: '{value}' is not one of the 25 Salesloft activity types")
            }
            Problem::OpportunityType { event_code } => format!(
                "{n}: {event_code} is an opportunity type; create opportunities with POST /api/v1/opportunities"
            ),
            Problem::NotAnOpportunityType { event_code } => {
                format!("{n}: {event_code} is not an opportunity type of this tenant")
            }
            Problem::Gone { what, id } => format!("{n}: {what} '{id}' does not exist"),
            Problem::Length { max } => format!("{n} must be 1 to {max} characters long"),
            Problem::Missing(missing) => missing.to_string(),
        }
    }
}

/// What a value of this data type must look like.
fn expected(data_type: DataType, options: &[String]) -> String {
    match data_type {
        DataType::Number => "a number".into(),
        DataType::Date => format!("a date as yyyy-MM-dd with {}", time::YEAR_RANGE),
        DataType::DateTime => format!(
            "a date and time as yyyy-MM-dd HH:mm:ss with {}",
            time::YEAR_RANGE
        ),
        DataType::Boolean => "true, false, 1 or 0".into(),
        DataType::Dropdown | DataType::SearchableDropdown | DataType::LargeOptionSet => {
            format!("one of the options [{}]", options.join(", "))
        }
        DataType::MultiSelect => {
            format!("options from [{}] separated by ';'", options.join(", "))
        }
        DataType::Email => "an email address".into(),
        DataType::Phone => "a phone number".into(),
        DataType::String | DataType::Website | DataType::Text => "text".into(),
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
    /// A webhook subscription.
    Webhook,
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
            Missing::Webhook => f.write_str("Webhook subscription does not exist"),
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
            Unique::Other => {
                f.write_str("A record with the same value of a unique field already exists")
            }
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

/// Gates the "store unavailable" line: the first, then at most one per 10 s with the count left
/// out (`suppressed`).
static UNAVAILABLE_LOG: crate::ratelog::RateLimitedLog =
    crate::ratelog::RateLimitedLog::new(std::time::Duration::from_secs(10));

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
                // A full disk fails every write: one line per failure would flood the log.
                if let Some(suppressed) = UNAVAILABLE_LOG.admit() {
                    tracing::warn!(error = %fault, suppressed, "store unavailable");
                }
                Some("The service is temporarily unavailable; retry shortly")
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(place: &str, inner: Field) -> Field {
        Field::At {
            place: place.into(),
            inner: Box::new(inner),
        }
    }

    fn value(field: Field, problem: Problem) -> Error {
        Error::InvalidValue { field, problem }
    }

    #[test]
    fn required_values_are_worded_in_each_vocabulary() {
        let lsq = |f: Field| Error::Required(f).to_string();
        assert_eq!(lsq(Field::RelatedLead), "RelatedProspectId is required");
        assert_eq!(
            lsq(Field::OpportunityEventCode),
            "OpportunityEventCode is required"
        );
        assert_eq!(
            lsq(Field::SearchBy(LeadKey::Phone)),
            "LeadDetails must contain Phone (the SearchBy attribute)"
        );
        let native = at("activities[2]", Field::KindOrEventCode);
        assert_eq!(
            native.required_text(Field::native_name),
            "activities[2]: 'type' or 'event_code' is required"
        );
    }

    #[test]
    fn field_values_are_worded_with_the_schema_name_and_the_place() {
        let custom = || Field::ActivityField("mx_Custom_1".into());
        let wrong = Problem::WrongType {
            value: "c".into(),
            data_type: DataType::Dropdown,
            options: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            value(custom(), wrong.clone()).to_string(),
            "Invalid value 'c' for field 'mx_Custom_1' of type Dropdown: expected one of the options [a, b]"
        );
        assert_eq!(
            wrong.text(&at("activities[3]", custom()), Field::native_name),
            "activities[3]: Invalid value 'c' for field 'mx_Custom_1' of type Dropdown: expected one of the options [a, b]"
        );
        assert_eq!(
            value(
                Field::ActivityField("Status".into()),
                Problem::NotAnOption {
                    value: "x".into(),
                    allowed: &["Active", "Inactive"],
                },
            )
            .to_string(),
            "Invalid value 'x' for field 'Status': expected one of Active, Inactive"
        );
        assert_eq!(
            value(
                Field::EventCode,
                Problem::TypeMismatch {
                    given: 205,
                    actual: 204
                }
            )
            .to_string(),
            "ActivityEvent 205 does not match the activity's type 204"
        );
    }

    #[test]
    fn native_values_are_worded_with_native_names() {
        let native = |field: &Field, problem: Problem| problem.text(field, Field::native_name);
        assert_eq!(
            native(
                &Field::Status,
                Problem::NotOneOf {
                    value: "Done".into(),
                    allowed: &["Active", "Inactive"],
                },
            ),
            "'status' must be one of Active, Inactive, not 'Done'"
        );
        assert_eq!(
            native(
                &at("activities[0]", Field::Resource),
                Problem::Gone {
                    what: "person",
                    id: "g".into(),
                },
            ),
            "activities[0]: 'resource': person 'g' does not exist"
        );
        assert_eq!(
            native(
                &at("activities[1]", Field::Record),
                Problem::Missing(Missing::Lead)
            ),
            "activities[1]: Lead does not exist in the system"
        );
    }
}
