//! The explicit table of every route of the three dialects with the id-taking parameters each
//! has, and the check that it covers every route the source routers declare.

use std::collections::BTreeSet;

/// Method, route pattern (as in the router), and the id-taking parameters the foreign-id checks
/// fill (`query.x`, `body.x`, `path`); an empty list is a route without one, which the checks
/// still call and scan for tenant B's data.
pub const ROUTES: &[(&str, &str, &[&str])] = &[
    // LeadSquared
    (
        "POST",
        "/v2/ProspectActivity.svc/Create",
        &[
            "body.RelatedProspectId",
            "body.EmailAddress",
            "body.ActivityEvent",
            "body.ActivityOwnerEmail",
            "body.Fields.Owner",
        ],
    ),
    (
        "POST",
        "/v2/ProspectActivity.svc/Retrieve",
        &["query.leadId", "body.Parameter.ActivityEvent"],
    ),
    (
        "GET",
        "/v2/ProspectActivity.svc/GetActivityDetails",
        &["query.activityId"],
    ),
    (
        "POST",
        "/v2/ProspectActivity.svc/CustomActivity/Update",
        &[
            "body.ProspectActivityId",
            "query.activityId",
            "body.ActivityEvent",
            "body.Fields.Owner",
        ],
    ),
    (
        "POST",
        "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId",
        &[
            "body.RelatedProspectId",
            "body.ActivityEvent",
            "body.ActivityOwnerEmail",
            "body.Fields.Owner",
        ],
    ),
    ("GET", "/v2/ProspectActivity.svc/ActivityTypes.Get", &[]),
    (
        "POST",
        "/v2/ProspectActivity.svc/CreateType",
        &["body.ActivityEvent", "body.ActivityEventName"],
    ),
    (
        "GET",
        "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting",
        &["query.code"],
    ),
    (
        "POST",
        "/v2/ProspectActivity.svc/CustomActivityType/Update",
        &["query.code", "body.ActivityEvent"],
    ),
    (
        "POST",
        "/v2/LeadManagement.svc/Lead.Create",
        &["body.OwnerId", "body.EmailAddress", "body.Phone"],
    ),
    ("GET", "/v2/LeadManagement.svc/Leads.GetById", &["query.id"]),
    (
        "POST",
        "/v2/LeadManagement.svc/Lead.Update",
        &["query.leadId", "body.OwnerId"],
    ),
    (
        "POST",
        "/v2/LeadManagement.svc/Lead.CreateOrUpdate",
        &["body.Phone"],
    ),
    (
        "POST",
        "/v2/LeadManagement.svc/Lead.Capture",
        &["body.ProspectID"],
    ),
    (
        "GET",
        "/v2/LeadManagement.svc/Leads.GetByEmailaddress",
        &["query.emailaddress"],
    ),
    (
        "GET",
        "/v2/LeadManagement.svc/Leads.GetByQuickSearch",
        &["query.key"],
    ),
    ("GET", "/v2/LeadManagement.svc/LeadsMetaData.Get", &[]),
    (
        "POST",
        "/v2/ProspectActivity.svc/CreateCustom",
        &[
            "body.LeadDetails.OwnerId",
            "body.Activity.ActivityEvent",
            "body.Activity.ActivityOwnerEmail",
        ],
    ),
    (
        "POST",
        "/v2/ProspectActivity.svc/DeleteActivities",
        &["body.ProspectId", "body.ActivityEventList"],
    ),
    (
        "POST",
        "/v2/LeadManagement.svc/Leads.Get",
        &[
            "body.Parameter.LookupValue.ProspectID",
            "body.Parameter.LookupValue.EmailAddress",
            "body.Parameter.LookupValue.OwnerId",
        ],
    ),
    (
        "POST",
        "/v2/ProspectActivity.svc/RetrieveRecentlyModified",
        &["body.Parameter.ActivityEvent"],
    ),
    (
        "POST",
        "/v2/ProspectActivity.svc/RetrieveActivityChange",
        &["body.Parameter.ActivityID", "body.Parameter.ActivityEvents"],
    ),
    ("GET", "/v2/UserManagement.svc/Users.Get", &[]),
    (
        "GET",
        "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress",
        &["query.emailAddress"],
    ),
    (
        "GET",
        "/v2/UserManagement.svc/User/Retrieve/ByUserId",
        &["query.userId"],
    ),
    ("GET", "/v2/Authentication.svc/UserByAccessKey.Get", &[]),
    (
        "POST",
        "/v2/OpportunityManagement.svc/Capture",
        &[
            "body.LeadDetails.EmailAddress",
            "body.LeadDetails.Phone",
            "body.LeadDetails.OwnerId",
            "body.Opportunity.OpportunityEventCode",
        ],
    ),
    (
        "GET",
        "/v2/OpportunityManagement.svc/GetOpportunityDetails",
        &["query.OpportunityId"],
    ),
    (
        "POST",
        "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead",
        &["query.leadId", "query.opportunityType"],
    ),
    (
        "POST",
        "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity",
        &["query.opportunityId", "query.activityEventCode"],
    ),
    (
        "POST",
        "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId",
        &[
            "query.opportunityId",
            "body.ActivityEvent",
            "body.ActivityOwnerEmail",
            "body.Fields.Owner",
        ],
    ),
    // Salesloft
    (
        "GET",
        "/v2/activity_histories",
        &[
            "query.ids",
            "query.id",
            "query.resource_id.person",
            "query.resource_id.account",
            "query.resource_id.crm_opportunity",
            "query.user_guid",
        ],
    ),
    ("GET", "/v2/activity_histories/{id}", &["path"]),
    ("GET", "/v2/me", &[]),
    (
        "GET",
        "/v2/activities/calls",
        &["query.ids", "query.person_id", "query.user_guid"],
    ),
    (
        "POST",
        "/v2/activities/calls",
        &["body.person_id", "body.user_guid"],
    ),
    ("GET", "/v2/activities/calls/{id}", &["path"]),
    (
        "GET",
        "/v2/activities/emails",
        &["query.ids", "query.person_id"],
    ),
    ("GET", "/v2/activities/emails/{id}", &["path"]),
    (
        "GET",
        "/v2/notes",
        &[
            "query.ids",
            "query.associated_with_id.person",
            "query.associated_with_id.account",
        ],
    ),
    (
        "POST",
        "/v2/notes",
        &[
            "body.associated_with_id.person",
            "body.associated_with_id.account",
            "body.call_id",
            "body.user_guid",
        ],
    ),
    ("GET", "/v2/notes/{id}", &["path"]),
    ("PUT", "/v2/notes/{id}", &["path", "body.call_id"]),
    ("DELETE", "/v2/notes/{id}", &["path"]),
    (
        "GET",
        "/v2/meetings",
        &[
            "query.ids",
            "query.person_id",
            "query.person_ids",
            "query.account_id",
            "query.user_guids",
        ],
    ),
    ("GET", "/v2/crm_activities", &["query.ids"]),
    ("GET", "/v2/crm_activities/{id}", &["path"]),
    (
        "GET",
        "/v2/people",
        &["query.ids", "query.owned_by_guid", "query.owner_id"],
    ),
    ("GET", "/v2/people/{id}", &["path"]),
    ("GET", "/v2/accounts", &["query.ids", "query.owner_id"]),
    ("GET", "/v2/accounts/{id}", &["path"]),
    ("GET", "/v2/users", &["query.ids", "query.guid"]),
    ("GET", "/v2/users/{id}", &["path"]),
    // Native
    ("GET", "/openapi.json", &[]),
    ("GET", "/api/v1/users", &[]),
    ("POST", "/api/v1/users", &["body.email"]),
    ("GET", "/api/v1/leads", &[]),
    (
        "POST",
        "/api/v1/leads",
        &["body.owner_guid", "body.email", "body.phone"],
    ),
    ("GET", "/api/v1/leads/{guid}", &["path"]),
    ("DELETE", "/api/v1/leads/{guid}", &["path"]),
    ("GET", "/api/v1/accounts", &[]),
    (
        "POST",
        "/api/v1/accounts",
        &["body.owner_guid", "body.name"],
    ),
    ("GET", "/api/v1/activity_types", &[]),
    (
        "POST",
        "/api/v1/activity_types",
        &["body.event_code", "body.name"],
    ),
    ("GET", "/api/v1/opportunities", &["query.lead_guid"]),
    (
        "POST",
        "/api/v1/opportunities",
        &["body.lead_guid", "body.event_code", "body.owner_guid"],
    ),
    (
        "POST",
        "/api/v1/activities",
        &[
            "body.resource.person",
            "body.resource.account",
            "body.resource.crm_opportunity",
            "body.event_code",
            "body.owner_guid",
        ],
    ),
    ("GET", "/api/v1/activities/{id}", &["path"]),
    (
        "PATCH",
        "/api/v1/activities/{id}",
        &["path", "body.owner_guid"],
    ),
    ("DELETE", "/api/v1/activities/{id}", &["path"]),
    ("POST", "/api/v1/activities/{id}/pin", &["path"]),
    ("DELETE", "/api/v1/activities/{id}/pin", &["path"]),
    ("PUT", "/api/v1/activities/{id}/tags", &["path"]),
    ("GET", "/api/v1/activities/{id}/history", &["path"]),
    ("POST", "/api/v1/activities/{id}/restore", &["path"]),
    ("POST", "/api/v1/leads/{guid}/restore", &["path"]),
    ("GET", "/api/v1/export", &[]),
    ("GET", "/v2/webhook_subscriptions", &[]),
    ("POST", "/v2/webhook_subscriptions", &[]),
    ("GET", "/v2/webhook_subscriptions/{id}", &["path"]),
    ("PUT", "/v2/webhook_subscriptions/{id}", &["path"]),
    ("DELETE", "/v2/webhook_subscriptions/{id}", &["path"]),
    ("GET", "/api/v1/webhooks", &[]),
    ("POST", "/api/v1/webhooks", &["body.event_codes"]),
    ("GET", "/api/v1/webhooks/{id}", &["path"]),
    ("DELETE", "/api/v1/webhooks/{id}", &["path"]),
    ("POST", "/api/v1/webhooks/{id}/test", &["path"]),
    ("GET", "/api/v1/webhooks/{id}/deliveries", &["path"]),
    // Operations
    ("GET", "/healthz", &[]),
    ("GET", "/readyz", &[]),
    ("GET", "/metrics", &[]),
];

/// The Rust sources under `dir`, recursively.
fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("source dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.display().to_string());
        }
    }
}

/// `(method, route)` of every `.route("…", …)` in the source routers: every file under
/// `src/api` and `src/app.rs`, outside their unit tests. Fallbacks (`any(…)`) answer every
/// unknown path alike and are left out.
fn declared_routes() -> BTreeSet<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = vec![format!("{root}/src/app.rs")];
    sources(std::path::Path::new(&format!("{root}/src/api")), &mut files);
    let mut out = BTreeSet::new();
    for file in files {
        let Ok(src) = std::fs::read_to_string(&file) else {
            continue;
        };
        // Unit-test modules (at the end of a file) build routers of their own.
        let src = src.split("#[cfg(test)]").next().unwrap_or_default();
        let pieces: Vec<&str> = src.split(".route(").skip(1).collect();
        for piece in pieces {
            let Some(rest) = piece.trim_start().strip_prefix('"') else {
                continue;
            };
            let Some(end) = rest.find('"') else { continue };
            let path = &rest[..end];
            // The handlers of this route: the rest of the `.route(…)` call, up to its `)`.
            let mut depth = 1;
            let close = rest
                .char_indices()
                .skip(end)
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(rest.len(), |(i, _)| i);
            let handlers = &rest[end..close];
            if handlers.contains("any(") {
                continue;
            }
            let mut found = false;
            for (token, method) in [
                ("get(", "GET"),
                ("post(", "POST"),
                ("put(", "PUT"),
                ("patch(", "PATCH"),
                ("delete(", "DELETE"),
            ] {
                let mut from = 0;
                while let Some(i) = handlers[from..].find(token) {
                    let at = from + i;
                    let before = handlers[..at].chars().last();
                    if matches!(before, Some('(') | Some('.') | Some(' ') | Some('\n')) {
                        out.insert((method.to_string(), path.to_string()));
                        found = true;
                    }
                    from = at + token.len();
                }
            }
            assert!(
                found,
                "{file}: cannot tell the methods of route {path:?}: teach tests/attack/routes.rs"
            );
        }
    }
    out
}

/// Every route the routers declare is in the table (and the table names no route that is gone):
/// a new endpoint cannot escape the foreign-id checks unnoticed.
#[test]
fn the_route_table_covers_every_declared_route() {
    let declared = declared_routes();
    assert!(
        declared.len() >= 40,
        "the source scan found too few routes ({}): {declared:?}",
        declared.len()
    );
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = declared.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "routes declared in src/ but not in tests/attack/routes.rs ROUTES (add them, with their id parameters, and a check in foreign_ids.rs): {missing:?}"
    );
    let stale: Vec<_> = table.difference(&declared).collect();
    assert!(
        stale.is_empty(),
        "routes in ROUTES that src/ no longer declares: {stale:?}"
    );
}
