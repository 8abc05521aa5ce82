//! Listing the records activities are on (people = leads, accounts, users) for Salesloft's
//! `/v2/people`, `/v2/accounts` and `/v2/users`: one query shape the stores serve from indexes.

use super::{CountMode, Micros, User};

/// Which table a [`DirectoryQuery`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryKind {
    /// Live leads (a deleted lead is listed nowhere).
    People,
    Accounts,
    Users,
}

/// Sort keys; each kind offers the ones an index of its table serves in order (the dialect
/// refuses the others). `UpdatedAt` is unique within a tenant for every kind, so the cursor walk
/// (`updated_at[gt]` ascending) neither skips nor repeats a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectorySort {
    Id,
    CreatedAt,
    UpdatedAt,
    /// Accounts: the name, case-insensitively.
    Name,
    /// Users: the email address, case-insensitively.
    Email,
}

impl DirectorySort {
    pub fn as_str(self) -> &'static str {
        match self {
            DirectorySort::Id => "id",
            DirectorySort::CreatedAt => "created_at",
            DirectorySort::UpdatedAt => "updated_at",
            DirectorySort::Name => "name",
            DirectorySort::Email => "email",
        }
    }
}

/// Filters, order and window of one list; every filter is a conjunct, an empty list means "any".
#[derive(Debug, Clone)]
pub struct DirectoryQuery {
    pub tenant_id: i64,
    pub kind: DirectoryKind,
    /// Only these ids (`None`: any; `Some(empty)`: none).
    pub ids: Option<Vec<i64>>,
    /// People and accounts: only those these users own (`None`: any; `Some(empty)`: none).
    pub owner_ids: Option<Vec<i64>>,
    /// People: a Sales_User's own leads only.
    pub visible_to_owner: Option<i64>,
    /// People (email) and users (email): lower-cased addresses.
    pub emails: Vec<String>,
    /// People: also (or only, with no `emails`) those without an email address.
    pub email_is_null: bool,
    /// Accounts: exact names (case-sensitive).
    pub names: Vec<String>,
    /// Accounts: domains (lower-cased).
    pub domains: Vec<String>,
    /// Users: active or not.
    pub active: Option<bool>,
    /// Users: role names (`Administrator`, …).
    pub roles: Vec<String>,
    /// People: opted out of calls / emails / both, or not.
    pub do_not_call: Option<bool>,
    pub do_not_email: Option<bool>,
    pub do_not_contact: Option<bool>,
    /// People: with a phone or mobile number, or with neither.
    pub has_phone: Option<bool>,
    pub created_from: Option<Micros>,
    pub created_to: Option<Micros>,
    pub updated_from: Option<Micros>,
    pub updated_to: Option<Micros>,
    /// A filter no record can pass (an unknown owner, an attribute no record has).
    pub match_nothing: bool,
    pub sort: DirectorySort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u32,
    pub count: CountMode,
}

impl DirectoryQuery {
    /// Everything of `kind` in the tenant, newest update first, no count.
    pub fn new(tenant_id: i64, kind: DirectoryKind) -> DirectoryQuery {
        DirectoryQuery {
            tenant_id,
            kind,
            ids: None,
            owner_ids: None,
            visible_to_owner: None,
            emails: Vec::new(),
            email_is_null: false,
            names: Vec::new(),
            domains: Vec::new(),
            active: None,
            roles: Vec::new(),
            do_not_call: None,
            do_not_email: None,
            do_not_contact: None,
            has_phone: None,
            created_from: None,
            created_to: None,
            updated_from: None,
            updated_to: None,
            match_nothing: false,
            sort: DirectorySort::UpdatedAt,
            descending: true,
            offset: 0,
            limit: 25,
            count: CountMode::None,
        }
    }
}

/// A user with the times of its record, as `/v2/users` shows it.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub created_at: Micros,
    pub updated_at: Micros,
}
