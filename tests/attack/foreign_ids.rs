//! Foreign ids: every id-taking parameter of every route, filled with tenant B's ids (and, for A's
//! Sales_User, A's records it does not own), is answered exactly as a never-existing id of the
//! same shape, shows none of B's data, and changes nothing in either tenant.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::harness::*;
use crate::routes::ROUTES;

/// What an id-taking parameter names.
#[derive(Clone, Copy, Debug)]
enum Kind {
    LeadGuid,
    LeadInt,
    ActivityGuid,
    ActivityInt,
    /// `{salesloft type}-{id}`
    SlId,
    OppGuid,
    AccountGuid,
    AccountInt,
    /// An account's integer id where every role sees every account (Salesloft's `/v2/accounts`).
    AccountId,
    UserGuid,
    /// A user's integer id (Salesloft's `/v2/users`, `owner_id`).
    UserInt,
    UserEmail,
    /// A lead's email address looked up (not used to create a lead).
    LeadAddress,
    TypeCode,
    OppTypeCode,
    /// Values that are unique within a tenant, used to create a record: B's i-th lead email,
    /// its account name, its i-th B-only type name and code. Each check takes its own, since the
    /// record it creates in A takes the value there.
    LeadEmail(usize),
    LeadPhone(usize),
    AccountName,
    TypeName(usize),
    FreeCode(usize),
    /// A webhook subscription's GUID.
    WebhookGuid,
    /// A Salesloft webhook subscription's integer id.
    SlWebhookId,
}

impl Kind {
    /// A value that must not reach tenant A's record for a unique value: A may create its own.
    fn creates(self) -> bool {
        matches!(
            self,
            Kind::LeadEmail(_)
                | Kind::LeadPhone(_)
                | Kind::AccountName
                | Kind::TypeName(_)
                | Kind::FreeCode(_)
        )
    }
}

/// The request the control sends: the caller's own id, which must get a different answer than
/// the unknown id (so the check reaches the lookup and is not refused for another reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Control {
    /// Both callers, their own record.
    Own,
    /// The Administrator only (the Sales_User is refused the route whatever the id, or its own
    /// record is not one this parameter reaches).
    OwnAdmin,
    /// A record made for the control alone (the route destroys it).
    Spare,
    SpareAdmin,
    /// None: the parameter names nothing the caller owns (a creation's unique value).
    Nothing,
    /// A record made for the control alone and deleted before it (a restore's subject).
    Trashed,
    TrashedAdmin,
}

struct Ctx<'a> {
    own: &'a Ids,
}

struct Case {
    method: &'static str,
    route: &'static str,
    slot: &'static str,
    kind: Kind,
    /// The Sales_User is left out (a value A's Administrator consumes by creating).
    admin_only: bool,
    /// The answer to an accepted request carries a new record: accepted answers are compared by
    /// shape, and tenant A may change.
    fresh: bool,
    control: Control,
    build: fn(&Ctx, &str) -> Req,
}

fn num(id: &str) -> Value {
    id.parse::<i64>().map_or_else(|_| json!(id), |n| json!(n))
}

const CREATE: &str = "/v2/ProspectActivity.svc/Create";
const RETRIEVE: &str = "/v2/ProspectActivity.svc/Retrieve";
const DETAILS: &str = "/v2/ProspectActivity.svc/GetActivityDetails";
const UPDATE: &str = "/v2/ProspectActivity.svc/CustomActivity/Update";
const BULK_LEAD: &str = "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByLeadId";
const CREATE_TYPE: &str = "/v2/ProspectActivity.svc/CreateType";
const SETTING: &str = "/v2/ProspectActivity.svc/CustomActivity/GetActivitySetting";
const UPDATE_TYPE: &str = "/v2/ProspectActivity.svc/CustomActivityType/Update";
const LEAD_CREATE: &str = "/v2/LeadManagement.svc/Lead.Create";
const LEAD_BY_ID: &str = "/v2/LeadManagement.svc/Leads.GetById";
const LEAD_UPDATE: &str = "/v2/LeadManagement.svc/Lead.Update";
const LEAD_UPSERT: &str = "/v2/LeadManagement.svc/Lead.CreateOrUpdate";
const LEAD_CAPTURE: &str = "/v2/LeadManagement.svc/Lead.Capture";
const LEAD_BY_EMAIL: &str = "/v2/LeadManagement.svc/Leads.GetByEmailaddress";
const LEAD_SEARCH: &str = "/v2/LeadManagement.svc/Leads.GetByQuickSearch";
const LEADS_GET: &str = "/v2/LeadManagement.svc/Leads.Get";
const CREATE_CUSTOM: &str = "/v2/ProspectActivity.svc/CreateCustom";
const DELETE_ACTIVITIES: &str = "/v2/ProspectActivity.svc/DeleteActivities";
const RECENT: &str = "/v2/ProspectActivity.svc/RetrieveRecentlyModified";
const CHANGES: &str = "/v2/ProspectActivity.svc/RetrieveActivityChange";
const BY_EMAIL: &str = "/v2/UserManagement.svc/User/Retrieve/ByEmailAddress";
const BY_USER_ID: &str = "/v2/UserManagement.svc/User/Retrieve/ByUserId";
const CAPTURE: &str = "/v2/OpportunityManagement.svc/Capture";
const OPP_DETAILS: &str = "/v2/OpportunityManagement.svc/GetOpportunityDetails";
const OPPS_OF_LEAD: &str = "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead";
const ACTS_OF_OPP: &str = "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity";
const BULK_OPP: &str = "/v2/ProspectActivity.svc/Bulk/CustomActivity/Add/ByOpportunityId";
const HISTORIES: &str = "/v2/activity_histories";
const HISTORY: &str = "/v2/activity_histories/{id}";
const CALLS: &str = "/v2/activities/calls";
const CALL: &str = "/v2/activities/calls/{id}";
const EMAILS: &str = "/v2/activities/emails";
const EMAIL: &str = "/v2/activities/emails/{id}";
const NOTES: &str = "/v2/notes";
const NOTE: &str = "/v2/notes/{id}";
const MEETINGS: &str = "/v2/meetings";
const CRM_ACTIVITIES: &str = "/v2/crm_activities";
const CRM_ACTIVITY: &str = "/v2/crm_activities/{id}";
const PEOPLE: &str = "/v2/people";
const ACCOUNTS: &str = "/v2/accounts";
const USERS: &str = "/v2/users";

fn lsq_activity(lead: &str, code: Value, owner_email: &str) -> Value {
    json!({"RelatedProspectId": lead, "ActivityEvent": code, "ActivityNote": "probe",
           "ActivityOwnerEmail": owner_email,
           "Fields": [{"SchemaName": "mx_Custom_1", "Value": "probe"}],
           "ActivityDateTime": "2026-01-02 03:04:05"})
}

fn leads_get(lookup: &str, value: &str) -> Value {
    json!({"Parameter": {"LookupName": lookup, "LookupValue": value, "SqlOperator": "="},
           "Paging": {"PageIndex": 1, "PageSize": 5}})
}

/// The checks, in the order they run: those that create records with B's unique values last, so
/// that nothing they create is found by an earlier check.
fn cases() -> Vec<Case> {
    fn c(
        method: &'static str,
        route: &'static str,
        slot: &'static str,
        kind: Kind,
        control: Control,
        build: fn(&Ctx, &str) -> Req,
    ) -> Case {
        Case {
            method,
            route,
            slot,
            kind,
            admin_only: false,
            fresh: false,
            control,
            build,
        }
    }
    fn fresh(mut case: Case) -> Case {
        case.fresh = true;
        case
    }
    fn admin(mut case: Case) -> Case {
        case.admin_only = true;
        case
    }
    use Control::*;
    use Kind::*;
    vec![
        // ----- LeadSquared
        c(
            "POST",
            CREATE,
            "body.RelatedProspectId",
            LeadGuid,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    CREATE.into(),
                    Some(lsq_activity(id, json!(SHARED_CODE), &c.own.user_email)),
                )
            },
        ),
        c(
            "POST",
            CREATE,
            "body.ActivityEvent",
            TypeCode,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    CREATE.into(),
                    Some(lsq_activity(&c.own.lead_guid, num(id), &c.own.user_email)),
                )
            },
        ),
        c(
            "POST",
            CREATE,
            "body.ActivityOwnerEmail",
            UserEmail,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    CREATE.into(),
                    Some(lsq_activity(&c.own.lead_guid, json!(SHARED_CODE), id)),
                )
            },
        ),
        c(
            "POST",
            CREATE,
            "body.Fields.Owner",
            UserGuid,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    CREATE.into(),
                    Some(json!({"RelatedProspectId": c.own.lead_guid,
                "ActivityEvent": SHARED_CODE, "Fields": [{"SchemaName": "Owner", "Value": id}]})),
                )
            },
        ),
        c("POST", RETRIEVE, "query.leadId", LeadGuid, Own, |_, id| {
            Req::lsq(
                "POST",
                format!("{RETRIEVE}?leadId={}", enc(id)),
                Some(json!({"Paging": {"Offset": "0", "RowCount": "100"}})),
            )
        }),
        c(
            "POST",
            RETRIEVE,
            "body.Parameter.ActivityEvent",
            TypeCode,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    format!("{RETRIEVE}?leadId={}", c.own.lead_guid),
                    Some(json!({"Parameter": {"ActivityEvent": num(id)}})),
                )
            },
        ),
        c(
            "GET",
            DETAILS,
            "query.activityId",
            ActivityGuid,
            Own,
            |_, id| Req::lsq("GET", format!("{DETAILS}?activityId={}", enc(id)), None),
        ),
        c(
            "GET",
            DETAILS,
            "query.activityId",
            ActivityInt,
            Nothing,
            |_, id| Req::lsq("GET", format!("{DETAILS}?activityId={}", enc(id)), None),
        ),
        c(
            "POST",
            UPDATE,
            "body.ProspectActivityId",
            ActivityGuid,
            Own,
            |_, id| {
                Req::lsq(
                    "POST",
                    UPDATE.into(),
                    Some(json!({"ProspectActivityId": id, "ActivityNote": "probe update"})),
                )
            },
        ),
        c(
            "POST",
            UPDATE,
            "query.activityId",
            ActivityGuid,
            Own,
            |_, id| {
                Req::lsq(
                    "POST",
                    format!("{UPDATE}?activityId={}", enc(id)),
                    Some(json!({"ActivityNote": "probe update"})),
                )
            },
        ),
        c(
            "POST",
            UPDATE,
            "body.ActivityEvent",
            TypeCode,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    UPDATE.into(),
                    Some(
                        json!({"ProspectActivityId": c.own.activity_guid, "ActivityEvent": num(id)}),
                    ),
                )
            },
        ),
        c(
            "POST",
            UPDATE,
            "body.Fields.Owner",
            UserGuid,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    UPDATE.into(),
                    Some(json!({"ProspectActivityId": c.own.activity_guid,
                "Fields": [{"SchemaName": "Owner", "Value": id}]})),
                )
            },
        ),
        c(
            "POST",
            BULK_LEAD,
            "body.RelatedProspectId",
            LeadGuid,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    BULK_LEAD.into(),
                    Some(json!([lsq_activity(
                        id,
                        json!(SHARED_CODE),
                        &c.own.user_email
                    )])),
                )
            },
        ),
        c(
            "POST",
            BULK_LEAD,
            "body.ActivityEvent",
            TypeCode,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    BULK_LEAD.into(),
                    Some(json!([lsq_activity(
                        &c.own.lead_guid,
                        num(id),
                        &c.own.user_email
                    )])),
                )
            },
        ),
        c(
            "POST",
            BULK_LEAD,
            "body.ActivityOwnerEmail",
            UserEmail,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    BULK_LEAD.into(),
                    Some(json!([lsq_activity(
                        &c.own.lead_guid,
                        json!(SHARED_CODE),
                        id
                    )])),
                )
            },
        ),
        c(
            "POST",
            BULK_LEAD,
            "body.Fields.Owner",
            UserGuid,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    BULK_LEAD.into(),
                    Some(json!([{"RelatedProspectId": c.own.lead_guid,
                "ActivityEvent": SHARED_CODE, "ActivityOwnerEmail": c.own.user_email,
                "Fields": [{"SchemaName": "Owner", "Value": id}]}])),
                )
            },
        ),
        c("GET", SETTING, "query.code", TypeCode, Own, |_, id| {
            Req::lsq("GET", format!("{SETTING}?code={}", enc(id)), None)
        }),
        c("GET", SETTING, "query.code", OppTypeCode, Own, |_, id| {
            Req::lsq("GET", format!("{SETTING}?code={}", enc(id)), None)
        }),
        c(
            "POST",
            UPDATE_TYPE,
            "query.code",
            TypeCode,
            OwnAdmin,
            |_, id| {
                Req::lsq(
                    "POST",
                    format!("{UPDATE_TYPE}?code={}", enc(id)),
                    Some(json!({"DisplayName": "Probe display"})),
                )
            },
        ),
        c(
            "POST",
            UPDATE_TYPE,
            "body.ActivityEvent",
            TypeCode,
            OwnAdmin,
            |_, id| {
                Req::lsq(
                    "POST",
                    UPDATE_TYPE.into(),
                    Some(json!({"ActivityEvent": num(id), "Description": "probe"})),
                )
            },
        ),
        fresh(c(
            "POST",
            LEAD_CREATE,
            "body.OwnerId",
            UserGuid,
            OwnAdmin,
            |_, id| {
                Req::lsq(
                    "POST",
                    LEAD_CREATE.into(),
                    Some(json!([{"Attribute": "FirstName", "Value": "Probe"},
                {"Attribute": "OwnerId", "Value": id}])),
                )
            },
        )),
        c("GET", LEAD_BY_ID, "query.id", LeadGuid, Own, |_, id| {
            Req::lsq("GET", format!("{LEAD_BY_ID}?id={}", enc(id)), None)
        }),
        c(
            "POST",
            LEAD_UPDATE,
            "query.leadId",
            LeadGuid,
            Own,
            |_, id| {
                Req::lsq(
                    "POST",
                    format!("{LEAD_UPDATE}?leadId={}", enc(id)),
                    Some(json!([{"Attribute": "Company", "Value": "Probe Co"}])),
                )
            },
        ),
        // A Sales_User's OwnerId is ignored (it keeps its leads), so only the Administrator's
        // reaches the lookup of the user.
        admin(c(
            "POST",
            LEAD_UPDATE,
            "body.OwnerId",
            UserGuid,
            OwnAdmin,
            |c, id| {
                Req::lsq(
                    "POST",
                    format!("{LEAD_UPDATE}?leadId={}", enc(&c.own.lead_guid)),
                    Some(json!([{"Attribute": "OwnerId", "Value": id}])),
                )
            },
        )),
        // A ProspectID that matches nothing creates a lead, so answers are compared by shape,
        // which the caller's own lead (IsCreated false) shares: no control.
        fresh(c(
            "POST",
            LEAD_CAPTURE,
            "body.ProspectID",
            LeadGuid,
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    LEAD_CAPTURE.into(),
                    Some(json!([{"Attribute": "ProspectID", "Value": id},
                {"Attribute": "FirstName", "Value": "Probe"}])),
                )
            },
        )),
        c(
            "GET",
            LEAD_BY_EMAIL,
            "query.emailaddress",
            LeadAddress,
            Own,
            |_, id| {
                Req::lsq(
                    "GET",
                    format!("{LEAD_BY_EMAIL}?emailaddress={}", enc(id)),
                    None,
                )
            },
        ),
        c(
            "GET",
            LEAD_SEARCH,
            "query.key",
            LeadAddress,
            Own,
            |_, id| Req::lsq("GET", format!("{LEAD_SEARCH}?key={}", enc(id)), None),
        ),
        fresh(c(
            "POST",
            CREATE_CUSTOM,
            "body.Activity.ActivityEvent",
            TypeCode,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    CREATE_CUSTOM.into(),
                    Some(json!({
                "LeadDetails": [{"Attribute": "EmailAddress", "Value": c.own.lead_email},
                                {"Attribute": "SearchBy", "Value": "EmailAddress"}],
                "Activity": {"ActivityEvent": num(id), "ActivityNote": "probe",
                             "Fields": [{"SchemaName": "mx_Custom_1", "Value": "probe"}]}})),
                )
            },
        )),
        fresh(c(
            "POST",
            CREATE_CUSTOM,
            "body.Activity.ActivityOwnerEmail",
            UserEmail,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    CREATE_CUSTOM.into(),
                    Some(json!({
                "LeadDetails": [{"Attribute": "EmailAddress", "Value": c.own.lead_email}],
                "Activity": {"ActivityEvent": SHARED_CODE, "ActivityOwnerEmail": id,
                             "Fields": [{"SchemaName": "mx_Custom_1", "Value": "probe"}]}})),
                )
            },
        )),
        fresh(c(
            "POST",
            CREATE_CUSTOM,
            "body.LeadDetails.OwnerId",
            UserGuid,
            OwnAdmin,
            |_, id| {
                Req::lsq(
                    "POST",
                    CREATE_CUSTOM.into(),
                    Some(json!({
                "LeadDetails": [{"Attribute": "EmailAddress", "Value": format!("custom-{}@probe.example", SEQ.fetch_add(1, Ordering::Relaxed))},
                                {"Attribute": "OwnerId", "Value": id}],
                "Activity": {"ActivityEvent": SHARED_CODE,
                             "Fields": [{"SchemaName": "mx_Custom_1", "Value": "probe"}]}})),
                )
            },
        )),
        c(
            "POST",
            DELETE_ACTIVITIES,
            "body.ProspectId",
            LeadGuid,
            Spare,
            |_, id| {
                Req::lsq(
                    "POST",
                    DELETE_ACTIVITIES.into(),
                    Some(json!({"ProspectId": id, "ActivityEventList": [SHARED_CODE.to_string()]})),
                )
            },
        ),
        c(
            "POST",
            DELETE_ACTIVITIES,
            "body.ActivityEventList",
            TypeCode,
            Own,
            |c, id| {
                // A range in which the caller's lead has no activity: the control deletes nothing.
                Req::lsq(
                    "POST",
                    DELETE_ACTIVITIES.into(),
                    Some(
                        json!({"ProspectId": c.own.lead_guid, "ActivityEventList": [id],
                                "FromDate": "1990-01-01 00:00:00", "ToDate": "1990-01-02 00:00:00"}),
                    ),
                )
            },
        ),
        c(
            "POST",
            LEADS_GET,
            "body.Parameter.LookupValue.ProspectID",
            LeadGuid,
            Own,
            |_, id| Req::lsq("POST", LEADS_GET.into(), Some(leads_get("ProspectID", id))),
        ),
        c(
            "POST",
            LEADS_GET,
            "body.Parameter.LookupValue.EmailAddress",
            LeadAddress,
            Own,
            |_, id| {
                Req::lsq(
                    "POST",
                    LEADS_GET.into(),
                    Some(leads_get("EmailAddress", id)),
                )
            },
        ),
        c(
            "POST",
            LEADS_GET,
            "body.Parameter.LookupValue.OwnerId",
            UserGuid,
            Own,
            |_, id| Req::lsq("POST", LEADS_GET.into(), Some(leads_get("OwnerId", id))),
        ),
        c(
            "POST",
            RECENT,
            "body.Parameter.ActivityEvent",
            TypeCode,
            Own,
            |_, id| {
                Req::lsq(
                    "POST",
                    RECENT.into(),
                    Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00",
                    "ToDate": "2999-01-01 00:00:00", "ActivityEvent": num(id)},
                    "Paging": {"PageIndex": 1, "PageSize": 5}})),
                )
            },
        ),
        // The caller's own activities may have no change in the window: no control.
        c(
            "POST",
            CHANGES,
            "body.Parameter.ActivityID",
            ActivityGuid,
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    CHANGES.into(),
                    Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00",
                    "ToDate": "2999-01-01 00:00:00", "ActivityID": id}})),
                )
            },
        ),
        c(
            "POST",
            CHANGES,
            "body.Parameter.ActivityEvents",
            TypeCode,
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    CHANGES.into(),
                    Some(json!({"Parameter": {"FromDate": "2000-01-01 00:00:00",
                    "ToDate": "2999-01-01 00:00:00", "ActivityEvents": [num(id)]}})),
                )
            },
        ),
        c(
            "GET",
            BY_EMAIL,
            "query.emailAddress",
            UserEmail,
            Own,
            |_, id| Req::lsq("GET", format!("{BY_EMAIL}?emailAddress={}", enc(id)), None),
        ),
        c("GET", BY_USER_ID, "query.userId", UserGuid, Own, |_, id| {
            Req::lsq("GET", format!("{BY_USER_ID}?userId={}", enc(id)), None)
        }),
        fresh(c(
            "POST",
            CAPTURE,
            "body.LeadDetails.OwnerId",
            UserGuid,
            OwnAdmin,
            |_, id| {
                Req::lsq(
                    "POST",
                    CAPTURE.into(),
                    Some(json!({
                "LeadDetails": [{"Attribute": "EmailAddress", "Value": format!("cap-{}@probe.example", SEQ.fetch_add(1, Ordering::Relaxed))},
                                {"Attribute": "OwnerId", "Value": id}],
                "Opportunity": {"OpportunityEventCode": 12000, "OpportunityNote": "probe"}})),
                )
            },
        )),
        c(
            "POST",
            CAPTURE,
            "body.Opportunity.OpportunityEventCode",
            OppTypeCode,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    CAPTURE.into(),
                    Some(json!({
                "LeadDetails": [{"Attribute": "EmailAddress", "Value": c.own.lead_email}],
                "Opportunity": {"OpportunityEventCode": num(id), "OpportunityNote": "probe"}})),
                )
            },
        ),
        c(
            "GET",
            OPP_DETAILS,
            "query.OpportunityId",
            OppGuid,
            Own,
            |_, id| {
                Req::lsq(
                    "GET",
                    format!("{OPP_DETAILS}?OpportunityId={}", enc(id)),
                    None,
                )
            },
        ),
        c(
            "POST",
            OPPS_OF_LEAD,
            "query.leadId",
            LeadGuid,
            Own,
            |_, id| {
                Req::lsq(
                    "POST",
                    format!("{OPPS_OF_LEAD}?leadId={}", enc(id)),
                    Some(json!({})),
                )
            },
        ),
        c(
            "POST",
            OPPS_OF_LEAD,
            "query.opportunityType",
            OppTypeCode,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    format!(
                        "{OPPS_OF_LEAD}?leadId={}&opportunityType={}",
                        c.own.lead_guid,
                        enc(id)
                    ),
                    Some(json!({})),
                )
            },
        ),
        c(
            "POST",
            ACTS_OF_OPP,
            "query.opportunityId",
            OppGuid,
            Own,
            |_, id| {
                Req::lsq(
                    "POST",
                    format!("{ACTS_OF_OPP}?opportunityId={}", enc(id)),
                    Some(json!({})),
                )
            },
        ),
        c(
            "POST",
            ACTS_OF_OPP,
            "query.activityEventCode",
            TypeCode,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    format!(
                        "{ACTS_OF_OPP}?opportunityId={}&activityEventCode={}",
                        c.own.opp_guid,
                        enc(id)
                    ),
                    Some(json!({})),
                )
            },
        ),
        c(
            "POST",
            BULK_OPP,
            "query.opportunityId",
            OppGuid,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    format!("{BULK_OPP}?opportunityId={}", enc(id)),
                    Some(
                        json!([{"ActivityEvent": SHARED_CODE, "ActivityOwnerEmail": c.own.user_email, "ActivityNote": "probe"}]),
                    ),
                )
            },
        ),
        c(
            "POST",
            BULK_OPP,
            "body.ActivityEvent",
            TypeCode,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    format!("{BULK_OPP}?opportunityId={}", c.own.opp_guid),
                    Some(
                        json!([{"ActivityEvent": num(id), "ActivityOwnerEmail": c.own.user_email, "ActivityNote": "probe"}]),
                    ),
                )
            },
        ),
        c(
            "POST",
            BULK_OPP,
            "body.ActivityOwnerEmail",
            UserEmail,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    format!("{BULK_OPP}?opportunityId={}", c.own.opp_guid),
                    Some(
                        json!([{"ActivityEvent": SHARED_CODE, "ActivityOwnerEmail": id, "ActivityNote": "probe"}]),
                    ),
                )
            },
        ),
        c(
            "POST",
            BULK_OPP,
            "body.Fields.Owner",
            UserGuid,
            Own,
            |c, id| {
                Req::lsq(
                    "POST",
                    format!("{BULK_OPP}?opportunityId={}", c.own.opp_guid),
                    Some(
                        json!([{"ActivityEvent": SHARED_CODE, "ActivityOwnerEmail": c.own.user_email,
                    "Fields": [{"SchemaName": "Owner", "Value": id}]}]),
                    ),
                )
            },
        ),
        // ----- Salesloft
        c("GET", HISTORIES, "query.ids", SlId, Own, |_, id| {
            Req::bearer("GET", format!("{HISTORIES}?ids={}", enc(id)), None)
        }),
        c("GET", HISTORIES, "query.id", SlId, Own, |_, id| {
            Req::bearer("GET", format!("{HISTORIES}?id[]={}", enc(id)), None)
        }),
        c(
            "GET",
            HISTORIES,
            "query.resource_id.person",
            LeadInt,
            Own,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!("{HISTORIES}?resource_type=person&resource_id={}", enc(id)),
                    None,
                )
            },
        ),
        c(
            "GET",
            HISTORIES,
            "query.resource_id.account",
            AccountInt,
            OwnAdmin,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!(
                        "{HISTORIES}?resource_type=account&resource_id[]={}",
                        enc(id)
                    ),
                    None,
                )
            },
        ),
        c(
            "GET",
            HISTORIES,
            "query.resource_id.crm_opportunity",
            OppGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!(
                        "{HISTORIES}?resource_type=crm_opportunity&resource_id={}",
                        enc(id)
                    ),
                    None,
                )
            },
        ),
        c(
            "GET",
            HISTORIES,
            "query.user_guid",
            UserGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!(
                        "{HISTORIES}?user_guid={}&include_paging_counts=true",
                        enc(id)
                    ),
                    None,
                )
            },
        ),
        c("GET", HISTORY, "path", SlId, Own, |_, id| {
            Req::bearer("GET", format!("{HISTORIES}/{}", enc(id)), None)
        }),
        c("GET", HISTORY, "path", ActivityInt, Own, |_, id| {
            Req::bearer("GET", format!("{HISTORIES}/{}", enc(id)), None)
        }),
        // ----- Salesloft activity resources. The caller's own record in the World is a note on
        // its lead (custom type 201, Salesloft type note): the calls, emails and meetings checks
        // have no own record to control with.
        c("GET", CALLS, "query.ids", ActivityInt, Nothing, |_, id| {
            Req::bearer("GET", format!("{CALLS}?ids={}", enc(id)), None)
        }),
        c(
            "GET",
            CALLS,
            "query.person_id",
            LeadInt,
            Nothing,
            |_, id| Req::bearer("GET", format!("{CALLS}?person_id[]={}", enc(id)), None),
        ),
        c(
            "GET",
            CALLS,
            "query.user_guid",
            UserGuid,
            Nothing,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!("{CALLS}?user_guid={}&include_paging_counts=true", enc(id)),
                    None,
                )
            },
        ),
        fresh(c("POST", CALLS, "body.person_id", LeadInt, Own, |_, id| {
            Req::bearer(
                "POST",
                CALLS.to_string(),
                Some(json!({"person_id": num(id), "to": "555", "notes": "probe"})),
            )
        })),
        fresh(c(
            "POST",
            CALLS,
            "body.user_guid",
            UserGuid,
            Own,
            |ctx, id| {
                Req::bearer(
                    "POST",
                    CALLS.to_string(),
                    Some(json!({"person_id": num(&ctx.own.lead_int), "user_guid": id})),
                )
            },
        )),
        c("GET", CALL, "path", ActivityInt, Nothing, |_, id| {
            Req::bearer("GET", format!("{CALLS}/{}", enc(id)), None)
        }),
        c("GET", EMAILS, "query.ids", ActivityInt, Nothing, |_, id| {
            Req::bearer("GET", format!("{EMAILS}?ids={}", enc(id)), None)
        }),
        c(
            "GET",
            EMAILS,
            "query.person_id",
            LeadInt,
            Nothing,
            |_, id| Req::bearer("GET", format!("{EMAILS}?person_id={}", enc(id)), None),
        ),
        c("GET", EMAIL, "path", ActivityInt, Nothing, |_, id| {
            Req::bearer("GET", format!("{EMAILS}/{}", enc(id)), None)
        }),
        c("GET", NOTES, "query.ids", ActivityInt, Own, |_, id| {
            Req::bearer("GET", format!("{NOTES}?ids[]={}", enc(id)), None)
        }),
        c(
            "GET",
            NOTES,
            "query.associated_with_id.person",
            LeadInt,
            Own,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!(
                        "{NOTES}?associated_with_type=person&associated_with_id={}",
                        enc(id)
                    ),
                    None,
                )
            },
        ),
        c(
            "GET",
            NOTES,
            "query.associated_with_id.account",
            AccountInt,
            Nothing,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!(
                        "{NOTES}?associated_with_type=Account&associated_with_id={}&include_paging_counts=true",
                        enc(id)
                    ),
                    None,
                )
            },
        ),
        fresh(c(
            "POST",
            NOTES,
            "body.associated_with_id.person",
            LeadInt,
            Own,
            |_, id| {
                Req::bearer(
                    "POST",
                    NOTES.to_string(),
                    Some(json!({"content": "probe", "associated_with_type": "person",
                                "associated_with_id": num(id)})),
                )
            },
        )),
        admin(fresh(c(
            "POST",
            NOTES,
            "body.associated_with_id.account",
            AccountInt,
            Own,
            |_, id| {
                Req::bearer(
                    "POST",
                    NOTES.to_string(),
                    Some(
                        json!({"content": "probe", "associated_with_type": "account",
                                "associated_with_id": num(id)}),
                    ),
                )
            },
        ))),
        c(
            "POST",
            NOTES,
            "body.call_id",
            ActivityInt,
            Nothing,
            |ctx, id| {
                Req::bearer(
                    "POST",
                    NOTES.to_string(),
                    Some(json!({"content": "probe", "associated_with_type": "person",
                            "associated_with_id": num(&ctx.own.lead_int), "call_id": num(id)})),
                )
            },
        ),
        fresh(c(
            "POST",
            NOTES,
            "body.user_guid",
            UserGuid,
            Own,
            |ctx, id| {
                Req::bearer(
                    "POST",
                    NOTES.to_string(),
                    Some(json!({"content": "probe", "associated_with_type": "person",
                            "associated_with_id": num(&ctx.own.lead_int), "user_guid": id})),
                )
            },
        )),
        c("GET", NOTE, "path", ActivityInt, Own, |_, id| {
            Req::bearer("GET", format!("{NOTES}/{}", enc(id)), None)
        }),
        c("PUT", NOTE, "path", ActivityInt, Own, |_, id| {
            Req::bearer(
                "PUT",
                format!("{NOTES}/{}", enc(id)),
                Some(json!({"content": "probe edit"})),
            )
        }),
        c(
            "PUT",
            NOTE,
            "body.call_id",
            ActivityInt,
            Nothing,
            |ctx, id| {
                Req::bearer(
                    "PUT",
                    format!("{NOTES}/{}", ctx.own.activity_int),
                    Some(json!({"content": "probe edit", "call_id": num(id)})),
                )
            },
        ),
        // Deleting is repeatable (204 whether or not such a note exists), so the caller's own
        // note gets the same answer: no control.
        c("DELETE", NOTE, "path", ActivityInt, Nothing, |_, id| {
            Req::bearer("DELETE", format!("{NOTES}/{}", enc(id)), None)
        }),
        c(
            "GET",
            MEETINGS,
            "query.ids",
            ActivityInt,
            Nothing,
            |_, id| Req::bearer("GET", format!("{MEETINGS}?ids={}", enc(id)), None),
        ),
        c(
            "GET",
            MEETINGS,
            "query.person_id",
            LeadInt,
            Nothing,
            |_, id| Req::bearer("GET", format!("{MEETINGS}?person_id={}", enc(id)), None),
        ),
        c(
            "GET",
            MEETINGS,
            "query.person_ids",
            LeadInt,
            Nothing,
            |_, id| Req::bearer("GET", format!("{MEETINGS}?person_ids[]={}", enc(id)), None),
        ),
        c(
            "GET",
            MEETINGS,
            "query.account_id",
            AccountInt,
            Nothing,
            |_, id| Req::bearer("GET", format!("{MEETINGS}?account_id={}", enc(id)), None),
        ),
        c(
            "GET",
            MEETINGS,
            "query.user_guids",
            UserGuid,
            Nothing,
            |_, id| Req::bearer("GET", format!("{MEETINGS}?user_guids={}", enc(id)), None),
        ),
        c(
            "GET",
            CRM_ACTIVITIES,
            "query.ids",
            ActivityInt,
            Own,
            |_, id| Req::bearer("GET", format!("{CRM_ACTIVITIES}?ids={}", enc(id)), None),
        ),
        c("GET", CRM_ACTIVITY, "path", ActivityInt, Own, |_, id| {
            Req::bearer("GET", format!("{CRM_ACTIVITIES}/{}", enc(id)), None)
        }),
        c("GET", PEOPLE, "query.ids", LeadInt, Own, |_, id| {
            Req::bearer("GET", format!("{PEOPLE}?ids[]={}", enc(id)), None)
        }),
        c(
            "GET",
            PEOPLE,
            "query.owned_by_guid",
            UserGuid,
            Own,
            |_, id| {
                let q = format!("owned_by_guid={}&include_paging_counts=true", enc(id));
                Req::bearer("GET", format!("{PEOPLE}?{q}"), None)
            },
        ),
        c("GET", PEOPLE, "query.owner_id", UserInt, Own, |_, id| {
            Req::bearer("GET", format!("{PEOPLE}?owner_id={}", enc(id)), None)
        }),
        c("GET", "/v2/people/{id}", "path", LeadInt, Own, |_, id| {
            Req::bearer("GET", format!("{PEOPLE}/{}", enc(id)), None)
        }),
        c("GET", ACCOUNTS, "query.ids", AccountId, Own, |_, id| {
            Req::bearer("GET", format!("{ACCOUNTS}?ids={}", enc(id)), None)
        }),
        c(
            "GET",
            ACCOUNTS,
            "query.owner_id",
            UserInt,
            OwnAdmin,
            |_, id| {
                let q = format!("owner_id[]={}&include_paging_counts=true", enc(id));
                Req::bearer("GET", format!("{ACCOUNTS}?{q}"), None)
            },
        ),
        c(
            "GET",
            "/v2/accounts/{id}",
            "path",
            AccountId,
            Own,
            |_, id| Req::bearer("GET", format!("{ACCOUNTS}/{}", enc(id)), None),
        ),
        c("GET", USERS, "query.ids", UserInt, Own, |_, id| {
            Req::bearer("GET", format!("{USERS}?ids={}", enc(id)), None)
        }),
        c("GET", USERS, "query.guid", UserGuid, Own, |_, id| {
            Req::bearer("GET", format!("{USERS}?guid[]={}", enc(id)), None)
        }),
        c("GET", "/v2/users/{id}", "path", UserInt, Own, |_, id| {
            Req::bearer("GET", format!("{USERS}/{}", enc(id)), None)
        }),
        // ----- Salesloft webhook subscriptions (team admins only)
        c(
            "GET",
            "/v2/webhook_subscriptions/{id}",
            "path",
            SlWebhookId,
            OwnAdmin,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!("/v2/webhook_subscriptions/{}", enc(id)),
                    None,
                )
            },
        ),
        c(
            "PUT",
            "/v2/webhook_subscriptions/{id}",
            "path",
            SlWebhookId,
            OwnAdmin,
            |_, id| {
                Req::bearer(
                    "PUT",
                    format!("/v2/webhook_subscriptions/{}", enc(id)),
                    Some(json!({"enabled": true})),
                )
            },
        ),
        // Deleting is repeatable (204 whether or not the team has such a subscription), so the
        // caller's own gets the same answer: no control.
        c(
            "DELETE",
            "/v2/webhook_subscriptions/{id}",
            "path",
            SlWebhookId,
            Nothing,
            |_, id| {
                Req::bearer(
                    "DELETE",
                    format!("/v2/webhook_subscriptions/{}", enc(id)),
                    None,
                )
            },
        ),
        // ----- native webhooks
        c(
            "GET",
            "/api/v1/webhooks/{id}",
            "path",
            WebhookGuid,
            OwnAdmin,
            |_, id| Req::bearer("GET", format!("/api/v1/webhooks/{}", enc(id)), None),
        ),
        c(
            "DELETE",
            "/api/v1/webhooks/{id}",
            "path",
            WebhookGuid,
            SpareAdmin,
            |_, id| Req::bearer("DELETE", format!("/api/v1/webhooks/{}", enc(id)), None),
        ),
        c(
            "POST",
            "/api/v1/webhooks/{id}/test",
            "path",
            WebhookGuid,
            OwnAdmin,
            |_, id| Req::bearer("POST", format!("/api/v1/webhooks/{}/test", enc(id)), None),
        ),
        c(
            "GET",
            "/api/v1/webhooks/{id}/deliveries",
            "path",
            WebhookGuid,
            OwnAdmin,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!("/api/v1/webhooks/{}/deliveries", enc(id)),
                    None,
                )
            },
        ),
        admin(fresh(c(
            "POST",
            "/api/v1/webhooks",
            "body.event_codes",
            TypeCode,
            OwnAdmin,
            |_, code| {
                Req::bearer(
                    "POST",
                    "/api/v1/webhooks".into(),
                    Some(
                        json!({"url": "http://127.0.0.1:9/probe", "events": ["activity.created"],
                                "event_codes": [num(code)]}),
                    ),
                )
            },
        ))),
        // ----- native
        c(
            "GET",
            "/api/v1/leads/{guid}",
            "path",
            LeadGuid,
            Own,
            |_, id| Req::bearer("GET", format!("/api/v1/leads/{}", enc(id)), None),
        ),
        c(
            "GET",
            "/api/v1/leads/{guid}",
            "path",
            LeadInt,
            Nothing,
            |_, id| Req::bearer("GET", format!("/api/v1/leads/{}", enc(id)), None),
        ),
        c(
            "DELETE",
            "/api/v1/leads/{guid}",
            "path",
            LeadGuid,
            SpareAdmin,
            |_, id| Req::bearer("DELETE", format!("/api/v1/leads/{}", enc(id)), None),
        ),
        c(
            "GET",
            "/api/v1/opportunities",
            "query.lead_guid",
            LeadGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!("/api/v1/opportunities?lead_guid={}", enc(id)),
                    None,
                )
            },
        ),
        c(
            "POST",
            "/api/v1/opportunities",
            "body.lead_guid",
            LeadGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/opportunities".into(),
                    Some(json!({"lead_guid": id, "note": "probe"})),
                )
            },
        ),
        c(
            "POST",
            "/api/v1/opportunities",
            "body.event_code",
            OppTypeCode,
            Own,
            |c, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/opportunities".into(),
                    Some(json!({"lead_guid": c.own.lead_guid, "event_code": num(id)})),
                )
            },
        ),
        c(
            "POST",
            "/api/v1/opportunities",
            "body.owner_guid",
            UserGuid,
            Own,
            |c, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/opportunities".into(),
                    Some(json!({"lead_guid": c.own.lead_guid, "owner_guid": id})),
                )
            },
        ),
        c(
            "POST",
            "/api/v1/activities",
            "body.resource.person",
            LeadGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/activities".into(),
                    Some(
                        json!({"activities": [{"type": "call", "resource": {"type": "person", "id": id}}]}),
                    ),
                )
            },
        ),
        c(
            "POST",
            "/api/v1/activities",
            "body.resource.account",
            AccountGuid,
            OwnAdmin,
            |_, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/activities".into(),
                    Some(
                        json!({"activities": [{"type": "call", "resource": {"type": "account", "id": id}}]}),
                    ),
                )
            },
        ),
        c(
            "POST",
            "/api/v1/activities",
            "body.resource.crm_opportunity",
            OppGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/activities".into(),
                    Some(
                        json!({"activities": [{"type": "call", "resource": {"type": "crm_opportunity", "id": id}}]}),
                    ),
                )
            },
        ),
        c(
            "POST",
            "/api/v1/activities",
            "body.event_code",
            TypeCode,
            Own,
            |c, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/activities".into(),
                    Some(
                        json!({"activities": [{"event_code": num(id), "resource": {"type": "person", "id": c.own.lead_guid}}]}),
                    ),
                )
            },
        ),
        c(
            "POST",
            "/api/v1/activities",
            "body.owner_guid",
            UserGuid,
            Own,
            |c, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/activities".into(),
                    Some(json!({"activities": [{"type": "call", "owner_guid": id,
                    "resource": {"type": "person", "id": c.own.lead_guid}}]})),
                )
            },
        ),
        c(
            "GET",
            "/api/v1/activities/{id}",
            "path",
            ActivityGuid,
            Own,
            |_, id| Req::bearer("GET", format!("/api/v1/activities/{}", enc(id)), None),
        ),
        c(
            "GET",
            "/api/v1/activities/{id}",
            "path",
            ActivityInt,
            Own,
            |_, id| Req::bearer("GET", format!("/api/v1/activities/{}", enc(id)), None),
        ),
        c(
            "PATCH",
            "/api/v1/activities/{id}",
            "path",
            ActivityGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "PATCH",
                    format!("/api/v1/activities/{}", enc(id)),
                    Some(json!({"note": "probe patch"})),
                )
            },
        ),
        c(
            "PATCH",
            "/api/v1/activities/{id}",
            "path",
            ActivityInt,
            Own,
            |_, id| {
                Req::bearer(
                    "PATCH",
                    format!("/api/v1/activities/{}", enc(id)),
                    Some(json!({"note": "probe patch"})),
                )
            },
        ),
        c(
            "PATCH",
            "/api/v1/activities/{id}",
            "body.owner_guid",
            UserGuid,
            Own,
            |c, id| {
                Req::bearer(
                    "PATCH",
                    format!("/api/v1/activities/{}", c.own.activity_guid),
                    Some(json!({"owner_guid": id})),
                )
            },
        ),
        c(
            "POST",
            "/api/v1/activities/{id}/pin",
            "path",
            ActivityGuid,
            Own,
            |_, id| Req::bearer("POST", format!("/api/v1/activities/{}/pin", enc(id)), None),
        ),
        c(
            "POST",
            "/api/v1/activities/{id}/pin",
            "path",
            ActivityInt,
            Own,
            |_, id| Req::bearer("POST", format!("/api/v1/activities/{}/pin", enc(id)), None),
        ),
        c(
            "DELETE",
            "/api/v1/activities/{id}/pin",
            "path",
            ActivityGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "DELETE",
                    format!("/api/v1/activities/{}/pin", enc(id)),
                    None,
                )
            },
        ),
        c(
            "DELETE",
            "/api/v1/activities/{id}/pin",
            "path",
            ActivityInt,
            Own,
            |_, id| {
                Req::bearer(
                    "DELETE",
                    format!("/api/v1/activities/{}/pin", enc(id)),
                    None,
                )
            },
        ),
        c(
            "PUT",
            "/api/v1/activities/{id}/tags",
            "path",
            ActivityGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "PUT",
                    format!("/api/v1/activities/{}/tags", enc(id)),
                    Some(json!({"tags": ["probe"]})),
                )
            },
        ),
        c(
            "PUT",
            "/api/v1/activities/{id}/tags",
            "path",
            ActivityInt,
            Own,
            |_, id| {
                Req::bearer(
                    "PUT",
                    format!("/api/v1/activities/{}/tags", enc(id)),
                    Some(json!({"tags": ["probe"]})),
                )
            },
        ),
        c(
            "GET",
            "/api/v1/activities/{id}/history",
            "path",
            ActivityGuid,
            Own,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!("/api/v1/activities/{}/history", enc(id)),
                    None,
                )
            },
        ),
        c(
            "GET",
            "/api/v1/activities/{id}/history",
            "path",
            ActivityInt,
            Own,
            |_, id| {
                Req::bearer(
                    "GET",
                    format!("/api/v1/activities/{}/history", enc(id)),
                    None,
                )
            },
        ),
        c(
            "POST",
            "/api/v1/activities/{id}/restore",
            "path",
            ActivityGuid,
            Trashed,
            |_, id| {
                Req::bearer(
                    "POST",
                    format!("/api/v1/activities/{}/restore", enc(id)),
                    None,
                )
            },
        ),
        c(
            "POST",
            "/api/v1/activities/{id}/restore",
            "path",
            ActivityInt,
            Trashed,
            |_, id| {
                Req::bearer(
                    "POST",
                    format!("/api/v1/activities/{}/restore", enc(id)),
                    None,
                )
            },
        ),
        c(
            "POST",
            "/api/v1/leads/{guid}/restore",
            "path",
            LeadGuid,
            TrashedAdmin,
            |_, id| Req::bearer("POST", format!("/api/v1/leads/{}/restore", enc(id)), None),
        ),
        c(
            "DELETE",
            "/api/v1/activities/{id}",
            "path",
            ActivityGuid,
            Spare,
            |_, id| Req::bearer("DELETE", format!("/api/v1/activities/{}", enc(id)), None),
        ),
        c(
            "DELETE",
            "/api/v1/activities/{id}",
            "path",
            ActivityInt,
            Spare,
            |_, id| Req::bearer("DELETE", format!("/api/v1/activities/{}", enc(id)), None),
        ),
        fresh(c(
            "POST",
            "/api/v1/leads",
            "body.owner_guid",
            UserGuid,
            OwnAdmin,
            |_, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/leads".into(),
                    Some(json!({"first_name": "Probe", "owner_guid": id})),
                )
            },
        )),
        fresh(c(
            "POST",
            "/api/v1/accounts",
            "body.owner_guid",
            UserGuid,
            OwnAdmin,
            |_, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/accounts".into(),
                    Some(json!({"name": format!("Probe {id}"), "owner_guid": id})),
                )
            },
        )),
        // ----- creations with B's unique values (last: they put those values into A)
        admin(fresh(c(
            "POST",
            CREATE_TYPE,
            "body.ActivityEvent",
            FreeCode(0),
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    CREATE_TYPE.into(),
                    Some(
                        json!({"ActivityEventName": format!("Probe {id}"), "ActivityEvent": num(id)}),
                    ),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            CREATE_TYPE,
            "body.ActivityEventName",
            TypeName(0),
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    CREATE_TYPE.into(),
                    Some(json!({"ActivityEventName": id})),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            "/api/v1/activity_types",
            "body.event_code",
            FreeCode(1),
            Nothing,
            |_, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/activity_types".into(),
                    Some(json!({"name": format!("Probe {id}"), "event_code": num(id)})),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            "/api/v1/activity_types",
            "body.name",
            TypeName(1),
            Nothing,
            |_, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/activity_types".into(),
                    Some(json!({"name": id})),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            LEAD_CREATE,
            "body.EmailAddress",
            LeadEmail(0),
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    LEAD_CREATE.into(),
                    Some(json!([{"Attribute": "EmailAddress", "Value": id}])),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            CAPTURE,
            "body.LeadDetails.EmailAddress",
            LeadEmail(1),
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    CAPTURE.into(),
                    Some(json!({
                "LeadDetails": [{"Attribute": "EmailAddress", "Value": id}],
                "Opportunity": {"OpportunityEventCode": 12000, "OpportunityNote": "probe"}})),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            "/api/v1/leads",
            "body.email",
            LeadEmail(2),
            Nothing,
            |_, id| Req::bearer("POST", "/api/v1/leads".into(), Some(json!({"email": id}))),
        ))),
        admin(fresh(c(
            "POST",
            CREATE,
            "body.EmailAddress",
            LeadEmail(3),
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    CREATE.into(),
                    Some(json!({"EmailAddress": id, "ActivityEvent": SHARED_CODE,
                                "ActivityNote": "probe"})),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            LEAD_UPSERT,
            "body.Phone",
            LeadPhone(3),
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    LEAD_UPSERT.into(),
                    Some(json!([{"Attribute": "Phone", "Value": id},
                {"Attribute": "SearchBy", "Value": "Phone"}, {"Attribute": "FirstName", "Value": "Probe"}])),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            LEAD_CREATE,
            "body.Phone",
            LeadPhone(0),
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    LEAD_CREATE.into(),
                    Some(json!([{"Attribute": "FirstName", "Value": "Probe"},
                {"Attribute": "Phone", "Value": id}])),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            CAPTURE,
            "body.LeadDetails.Phone",
            LeadPhone(1),
            Nothing,
            |_, id| {
                Req::lsq(
                    "POST",
                    CAPTURE.into(),
                    Some(json!({
                "LeadDetails": [{"Attribute": "Phone", "Value": id}, {"Attribute": "SearchBy", "Value": "Phone"}],
                "Opportunity": {"OpportunityEventCode": 12000, "OpportunityNote": "probe"}})),
                )
            },
        ))),
        admin(fresh(c(
            "POST",
            "/api/v1/leads",
            "body.phone",
            LeadPhone(2),
            Nothing,
            |_, id| Req::bearer("POST", "/api/v1/leads".into(), Some(json!({"phone": id}))),
        ))),
        admin(fresh(c(
            "POST",
            "/api/v1/accounts",
            "body.name",
            AccountName,
            Nothing,
            |_, id| Req::bearer("POST", "/api/v1/accounts".into(), Some(json!({"name": id}))),
        ))),
        admin(fresh(c(
            "POST",
            "/api/v1/users",
            "body.email",
            UserEmail,
            Nothing,
            |_, id| {
                Req::bearer(
                    "POST",
                    "/api/v1/users".into(),
                    Some(json!({"email": id, "role": "Sales_User"})),
                )
            },
        ))),
    ]
}

static SEQ: AtomicU64 = AtomicU64::new(1);

/// A value of `foreign`'s shape that no record has.
fn unknown_like(kind: Kind, foreign: &str) -> String {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    match kind {
        Kind::LeadGuid
        | Kind::ActivityGuid
        | Kind::OppGuid
        | Kind::AccountGuid
        | Kind::UserGuid
        | Kind::WebhookGuid => uuid::Uuid::now_v7().to_string(),
        Kind::LeadInt
        | Kind::ActivityInt
        | Kind::AccountInt
        | Kind::AccountId
        | Kind::UserInt
        | Kind::SlWebhookId => (900_000_000 + n).to_string(),
        Kind::SlId => {
            let prefix = foreign.rsplit_once('-').map_or("note", |(p, _)| p);
            format!("{prefix}-{}", 900_000_000 + n)
        }
        Kind::UserEmail | Kind::LeadEmail(_) | Kind::LeadAddress => {
            format!("nobody{n}@nowhere.example")
        }
        // Descending: a type created without a code takes the highest code + 1, which is then
        // above every unknown code still to come.
        Kind::TypeCode | Kind::FreeCode(_) => (11_000 - n).to_string(),
        Kind::OppTypeCode => (19_000 + n).to_string(),
        Kind::LeadPhone(_) => format!("+1 555 7{n:06}"),
        Kind::AccountName | Kind::TypeName(_) => format!("Nobody {n}"),
    }
}

/// The foreign values of `kind` for a caller: tenant B's, plus, for the Sales_User, A's records on
/// leads it does not own.
fn foreign(w: &World, kind: Kind, seller: bool) -> Vec<String> {
    let b = &w.b;
    let a = &w.a;
    let mut v = match kind {
        Kind::LeadGuid => vec![b.lead_guid.clone()],
        Kind::LeadInt => vec![b.lead_int.clone()],
        Kind::ActivityGuid => vec![b.activity_guid.clone()],
        Kind::ActivityInt => vec![b.activity_int.clone()],
        Kind::SlId => vec![b.sl_id.clone()],
        Kind::OppGuid => vec![b.opp_guid.clone()],
        Kind::AccountGuid => vec![b.account_guid.clone()],
        Kind::AccountInt | Kind::AccountId => vec![b.account_int.clone()],
        Kind::UserGuid => w.b_user_guids.clone(),
        Kind::UserInt => w.b_user_ints.clone(),
        Kind::UserEmail => w.b_user_emails.clone(),
        Kind::TypeCode => vec![B_ONLY_CODES[3].to_string()],
        Kind::OppTypeCode => vec![B_OPP_CODE.to_string()],
        Kind::LeadEmail(i) => vec![w.b_lead_emails[i].clone()],
        Kind::LeadAddress => vec![w.b_lead_emails[0].clone()],
        Kind::LeadPhone(i) => vec![w.b_lead_phones[i].clone()],
        Kind::AccountName => vec![b.account_name.clone()],
        Kind::TypeName(i) => vec![format!("Zqxb Only {}", B_ONLY_CODES[i])],
        Kind::FreeCode(i) => vec![B_ONLY_CODES[i].to_string()],
        Kind::WebhookGuid => vec![b.webhook_guid.clone()],
        Kind::SlWebhookId => vec![b.sl_webhook_id.clone()],
    };
    if seller {
        let own_not = match kind {
            Kind::LeadGuid => Some(&a.lead_guid),
            Kind::LeadInt => Some(&a.lead_int),
            Kind::ActivityGuid => Some(&a.activity_guid),
            Kind::ActivityInt => Some(&a.activity_int),
            Kind::SlId => Some(&a.sl_id),
            Kind::OppGuid => Some(&a.opp_guid),
            Kind::AccountGuid => Some(&a.account_guid),
            Kind::AccountInt => Some(&a.account_int),
            Kind::LeadAddress => Some(&a.lead_email),
            _ => None,
        };
        v.extend(own_not.cloned());
    }
    v
}

/// The caller's own value of `kind`.
fn own_value(own: &Ids, kind: Kind) -> String {
    match kind {
        Kind::LeadGuid => own.lead_guid.clone(),
        Kind::LeadInt => own.lead_int.clone(),
        Kind::ActivityGuid => own.activity_guid.clone(),
        Kind::ActivityInt => own.activity_int.clone(),
        Kind::SlId => own.sl_id.clone(),
        Kind::OppGuid => own.opp_guid.clone(),
        Kind::AccountGuid => own.account_guid.clone(),
        Kind::AccountInt | Kind::AccountId => own.account_int.clone(),
        Kind::UserGuid => own.user_guid.clone(),
        Kind::UserInt => own.user_int.clone(),
        Kind::UserEmail => own.user_email.clone(),
        Kind::LeadAddress => own.lead_email.clone(),
        Kind::TypeCode => SHARED_CODE.to_string(),
        Kind::OppTypeCode => "12000".to_string(),
        Kind::WebhookGuid => own.webhook_guid.clone(),
        Kind::SlWebhookId => own.sl_webhook_id.clone(),
        other => panic!("no own value of {other:?}"),
    }
}

/// Status and body, the ids of the two compared requests read as `{ID}` (both, so that a small
/// id that is also some other number is read alike in both answers); an accepted answer of a
/// creating check by shape.
fn comparable(a: &Answer, ids: [&str; 2], fresh: bool) -> (StatusCode, Value) {
    let body = without_id(&without_id(&a.json, ids[0]), ids[1]);
    if fresh && a.status.is_success() {
        (a.status, skeleton(&body))
    } else {
        (a.status, body)
    }
}

/// A record of the caller's own made for one destroying control.
async fn spare(w: &World, who: &Who, own: &Ids, kind: Kind) -> String {
    match kind {
        Kind::LeadGuid => {
            let r = w
                .app
                .post(
                    &w.a_admin,
                    "/api/v1/leads",
                    json!({"first_name": "Spare", "owner_guid": who.guid()}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
            r.json["data"]["guid"].as_str().expect("guid").to_string()
        }
        Kind::ActivityGuid | Kind::ActivityInt => {
            let rows = w
                .app
                .activities(
                    who,
                    vec![json!({"type": "call", "resource": {"type": "person", "id": own.lead_guid}})],
                )
                .await;
            let key = if matches!(kind, Kind::ActivityGuid) {
                "guid"
            } else {
                "id"
            };
            match &rows[0][key] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        }
        Kind::WebhookGuid => {
            let r = w
                .app
                .post(
                    &w.a_admin,
                    "/api/v1/webhooks",
                    json!({"url": "http://127.0.0.1:9/spare", "events": ["lead.created"]}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
            r.json["data"]["id"].as_str().expect("id").to_string()
        }
        Kind::SlWebhookId => {
            let r = w
                .app
                .post(
                    &w.a_admin,
                    "/v2/webhook_subscriptions",
                    json!({"callback_url": "http://127.0.0.1:9/spare", "callback_token": "spare",
                           "event_type": "call_created"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.json);
            r.json["data"]["id"].to_string()
        }
        other => panic!("no spare of {other:?}"),
    }
}

/// A spare record of the caller's own, deleted through the native API (a restore's subject).
async fn trashed(w: &World, who: &Who, own: &Ids, kind: Kind) -> String {
    let id = spare(w, who, own, kind).await;
    let path = match kind {
        Kind::LeadGuid => format!("/api/v1/leads/{id}"),
        _ => format!("/api/v1/activities/{id}"),
    };
    let r = w.app.send_as(who, &Req::bearer("DELETE", path, None)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    id
}

/// Every id-taking parameter of every route (the table in routes.rs), for A's Administrator and
/// A's Sales_User, with every foreign id: the same answer as an unknown id, no byte of B's data,
/// no change in either tenant; and the caller's own id gets another answer (the check reaches the
/// lookup).
#[tokio::test]
async fn foreign_ids_get_the_unknown_id_answer_and_change_nothing() {
    let w = World::build().await;
    let cases = cases();
    // Every id-taking parameter of the table has a check, and every check is of the table.
    for (method, route, slots) in ROUTES {
        for slot in *slots {
            assert!(
                cases
                    .iter()
                    .any(|c| c.method == *method && c.route == *route && c.slot == *slot),
                "no foreign-id check for {method} {route} {slot}"
            );
        }
    }
    for c in &cases {
        assert!(
            ROUTES
                .iter()
                .any(|(m, r, slots)| *m == c.method && *r == c.route && slots.contains(&c.slot)),
            "check of {} {} {} is not in ROUTES",
            c.method,
            c.route,
            c.slot
        );
    }

    let mut checked = 0;
    for case in &cases {
        let callers: Vec<(&Who, &Ids, bool)> = if case.admin_only {
            vec![(&w.a_admin, &w.a, false)]
        } else {
            vec![(&w.a_admin, &w.a, false), (&w.a_seller, &w.seller, true)]
        };
        for (who, own, seller) in callers {
            let what = |id: &str| {
                format!(
                    "{} {} {} = {id} ({:?}) as {}",
                    case.method,
                    case.route,
                    case.slot,
                    case.kind,
                    if seller {
                        "A's Sales_User"
                    } else {
                        "A's Administrator"
                    }
                )
            };
            let ctx = Ctx { own };
            let (a_before, b_before) = w.snapshots().await;
            let mut unknown_answer = None;
            for f in foreign(&w, case.kind, seller) {
                let u = unknown_like(case.kind, &f);
                let ru = w.app.send_as(who, &(case.build)(&ctx, &u)).await;
                let rf = w.app.send_as(who, &(case.build)(&ctx, &f)).await;
                w.assert_no_b_data(&what(&u), &ru.text, &u);
                w.assert_no_b_data(&what(&f), &rf.text, &f);
                let (su, bu) = comparable(&ru, [&u, &f], case.fresh);
                let (sf, bf) = comparable(&rf, [&u, &f], case.fresh);
                assert_eq!(
                    (sf, &bf),
                    (su, &bu),
                    "{}: a foreign id is answered unlike an unknown one ({u})",
                    what(&f)
                );
                unknown_answer = Some((ru, u));
                checked += 1;
            }
            let (a_after, b_after) = w.snapshots().await;
            assert_eq!(b_after, b_before, "{}: tenant B changed", what("foreign"));
            if !case.fresh && !case.kind.creates() {
                assert_eq!(a_after, a_before, "{}: tenant A changed", what("foreign"));
            }
            let control = match case.control {
                Control::Own => Some(own_value(own, case.kind)),
                Control::OwnAdmin if !seller => Some(own_value(own, case.kind)),
                Control::Spare => Some(spare(&w, who, own, case.kind).await),
                Control::SpareAdmin if !seller => Some(spare(&w, who, own, case.kind).await),
                Control::Trashed => Some(trashed(&w, who, own, case.kind).await),
                Control::TrashedAdmin if !seller => Some(trashed(&w, who, own, case.kind).await),
                _ => None,
            };
            if let (Some(id), Some(unknown)) = (control, unknown_answer) {
                let rc = w.app.send_as(who, &(case.build)(&ctx, &id)).await;
                w.assert_no_b_data(&what(&id), &rc.text, "");
                let (ru, u) = unknown;
                assert_ne!(
                    comparable(&rc, [&id, &u], case.fresh),
                    comparable(&ru, [&id, &u], case.fresh),
                    "{}: the caller's own id gets the unknown id's answer, so this check does not reach the lookup: {}",
                    what(&id),
                    rc.text
                );
            }
        }
    }
    assert!(checked >= 150, "only {checked} foreign ids were tried");
}

/// The routes without an id parameter, called by A's Administrator and Sales_User: nothing of B.
#[tokio::test]
async fn routes_without_ids_show_nothing_of_the_other_tenant() {
    let w = World::build().await;
    let mut called = 0;
    for (method, route, slots) in ROUTES.iter().filter(|(_, _, s)| s.is_empty()) {
        // The one write without an id-taking parameter: a subscription of A's own.
        let body = match (*method, *route) {
            ("GET", _) => None,
            ("POST", "/v2/webhook_subscriptions") => Some(
                json!({"callback_url": "http://127.0.0.1:9/probe", "callback_token": "probe",
                       "event_type": "call_created"}),
            ),
            _ => panic!("{method} {route}: teach this check the body to send"),
        };
        let dialect = if route.starts_with("/v2/") && route.contains(".svc/") {
            Dialect::Lsq
        } else {
            Dialect::Bearer
        };
        let _ = slots;
        for who in [&w.a_admin, &w.a_seller] {
            let r = w
                .app
                .send_as(
                    who,
                    &Req {
                        dialect,
                        method,
                        path: route.to_string(),
                        body: body.clone(),
                    },
                )
                .await;
            // Webhook subscriptions are the Administrator's alone.
            let admins_only = ["/api/v1/webhooks", "/v2/webhook_subscriptions"];
            if admins_only.contains(route) && std::ptr::eq(who, &w.a_seller) {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{route}: {}", r.text);
            } else {
                assert!(r.status.is_success(), "{route}: {} {}", r.status, r.text);
            }
            w.assert_no_b_data(route, &r.text, "");
            called += 1;
        }
    }
    assert!(called >= 20, "{called}");
}

/// Counts are data too: every count a list reports (Salesloft `total_count`, native `total`,
/// LeadSquared `RecordCount`) counts only what the caller sees — the rows the same list returns.
#[tokio::test]
async fn list_counts_count_only_the_callers_records() {
    let w = World::build().await;
    let mut checked = 0;
    for (who, own) in [(&w.a_admin, &w.a), (&w.a_seller, &w.seller)] {
        for filter in [
            "",
            "&pinned=true",
            "&type=note",
            "&type[person][]=note&type[crm_opportunity][]=note",
            "&sort_by=updated_at&sort_direction=asc",
            "&limit_paging_counts=true",
            "&resource_type=account",
        ] {
            let path =
                format!("/v2/activity_histories?per_page=100&include_paging_counts=true{filter}");
            let r = w
                .app
                .send_as(who, &Req::bearer("GET", path.clone(), None))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
            w.assert_no_b_data(&path, &r.text, "");
            let rows = r.json["data"].as_array().expect("data").len();
            assert_eq!(
                r.json["metadata"]["paging"]["total_count"],
                json!(rows),
                "{path}: the count is not the rows shown"
            );
            checked += 1;
        }
        let r = w
            .app
            .send_as(
                who,
                &Req::bearer("GET", "/api/v1/opportunities?limit=1000".into(), None),
            )
            .await;
        let rows = r.json["data"].as_array().expect("data").len();
        assert_eq!(
            r.json["total"],
            json!(rows),
            "native opportunities: {}",
            r.text
        );
        for path in [
            format!(
                "/v2/OpportunityManagement.svc/GetOpportunitiesOfLead?leadId={}",
                own.lead_guid
            ),
            format!(
                "/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId={}",
                own.opp_guid
            ),
        ] {
            let r = w
                .app
                .send_as(who, &Req::lsq("POST", path.clone(), Some(json!({}))))
                .await;
            let rows = r.json["List"].as_array().expect("List").len();
            assert!(rows > 0, "{path}: {}", r.text);
            assert_eq!(r.json["RecordCount"], json!(rows), "{path}: {}", r.text);
            checked += 1;
        }
        let path = format!("/v2/ProspectActivity.svc/Retrieve?leadId={}", own.lead_guid);
        let r = w
            .app
            .send_as(who, &Req::lsq("POST", path.clone(), Some(json!({}))))
            .await;
        let rows = r.json["ProspectActivities"].as_array().expect("rows").len();
        assert!(rows > 0, "{path}: {}", r.text);
        assert_eq!(r.json["RecordCount"], json!(rows), "{path}: {}", r.text);
    }
    assert!(checked >= 18);
}

/// A LeadSquared key pair made of one tenant's access key and another's secret is refused like
/// any wrong secret (a key pair is one credential, not two that each match somewhere).
#[tokio::test]
async fn mixed_key_pairs_are_refused_like_wrong_secrets() {
    let w = World::build().await;
    let path = "/v2/Authentication.svc/UserByAccessKey.Get";
    let mut mixed = w.a_admin.clone();
    mixed.keys.secret_key = w.b_admin.keys.secret_key.clone();
    let mut wrong = w.a_admin.clone();
    wrong.keys.secret_key = uuid::Uuid::new_v4().simple().to_string();
    let mut swapped = w.b_admin.clone();
    swapped.keys.secret_key = w.a_admin.keys.secret_key.clone();
    let rw = w
        .app
        .send_as(&wrong, &Req::lsq("GET", path.into(), None))
        .await;
    assert_eq!(rw.status, StatusCode::UNAUTHORIZED, "{}", rw.text);
    for who in [&mixed, &swapped] {
        let r = w
            .app
            .send_as(who, &Req::lsq("GET", path.into(), None))
            .await;
        assert_eq!((r.status, &r.json), (rw.status, &rw.json), "{}", r.text);
    }
    // And a Bearer key is no LeadSquared secret, nor the other way round.
    let mut cross = w.a_admin.clone();
    cross.keys.secret_key = w.a_admin.keys.api_key.clone();
    let r = w
        .app
        .send_as(&cross, &Req::lsq("GET", path.into(), None))
        .await;
    assert_eq!((r.status, &r.json), (rw.status, &rw.json), "{}", r.text);
    let mut as_bearer = w.a_admin.clone();
    as_bearer.keys.api_key = w.a_admin.keys.secret_key.clone();
    let r = w
        .app
        .send_as(&as_bearer, &Req::bearer("GET", "/v2/me".into(), None))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}
