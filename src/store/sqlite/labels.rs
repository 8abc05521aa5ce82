//! Labelling SQLite's activity rows: the users and types from the shared directories
//! (`store::labels`), the leads read once per page.

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

use super::rows::{query_users, type_by_id, uuid_col, SqlResult};
use crate::domain::ActivityView;
use crate::error::Result;
use crate::store::labels::{distinct, fill, ActivityRow, Found, Labels, Seen, UserLabel};

/// What an activity shows of its lead.
struct LeadLabel {
    guid: Uuid,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    deleted: bool,
}

/// The leads `rows` name, each read once (rows of one lead usually come together), sorted by id.
/// A lead row goes only together with its activities (the purge), so every id is found.
fn lead_labels(c: &Connection, rows: &[ActivityRow]) -> Result<Found<LeadLabel>> {
    let ids = distinct(rows.iter().filter_map(|r| r.view.lead_id));
    let mut stmt = c
        .prepare_cached(
            "SELECT guid, first_name, last_name, email, deleted_at IS NOT NULL FROM leads WHERE id = ?1",
        )
        .db()?;
    let mut leads = Vec::with_capacity(ids.len());
    for id in ids {
        let lead = stmt
            .query_row([id], |r| {
                Ok(LeadLabel {
                    guid: uuid_col(r, 0)?,
                    first_name: r.get(1)?,
                    last_name: r.get(2)?,
                    email: r.get(3)?,
                    deleted: r.get(4)?,
                })
            })
            .optional()
            .db()?;
        if let Some(lead) = lead {
            leads.push((id, Arc::new(lead)));
        }
    }
    Ok(Found::new(leads))
}

/// The activities of `rows` with their types' attributes, their users' GUIDs and names and
/// their leads' fields; those the directories do not hold are read with `c` (in the caller's
/// transaction, when it has one). `seen`: `generation()` from before the caller's first statement.
pub(super) fn label(
    labels: &Labels,
    c: &Connection,
    rows: Vec<ActivityRow>,
    seen: Seen,
) -> Result<Vec<ActivityView>> {
    let users = labels.users.get_all(
        rows.iter().flat_map(ActivityRow::user_ids),
        seen.users,
        |id| {
            Ok(query_users(c, "u.id = ?1", [id])?.pop().map(|u| UserLabel {
                guid: u.user.guid,
                name: u.user.full_name(),
            }))
        },
    )?;
    let types = labels.types.get_all(
        rows.iter().flat_map(ActivityRow::type_ids),
        seen.types,
        |id| type_by_id(c, id),
    )?;
    let leads = lead_labels(c, &rows)?;
    let lead_ids: Vec<Option<i64>> = rows.iter().map(|r| r.view.lead_id).collect();
    let mut views = fill(rows, &users, &types)?;
    for (view, lead_id) in views.iter_mut().zip(lead_ids) {
        // As the join read it: no lead fields for an account's activity.
        if let Some(lead) = lead_id.and_then(|of| leads.get(of)) {
            view.lead_guid = Some(lead.guid);
            view.lead_first_name = lead.first_name.clone();
            view.lead_last_name = lead.last_name.clone();
            view.lead_email = lead.email.clone();
            view.lead_deleted = lead.deleted;
        }
    }
    Ok(views)
}
