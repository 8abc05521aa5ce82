//! `serve --demo`: fills an empty database with a demo tenant a newcomer can curl at once.

use std::collections::BTreeMap;
use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::auth::IssuedKeys;
use crate::domain::time::now_micros;
use crate::domain::{
    DataType, FieldDef, NewActivity, NewActivityType, NewLead, Role, TypeKind, User,
};
use crate::error::Result;
use crate::service::Service;

pub const LEADS: usize = 200;
pub const ACTIVITIES: usize = 3000;
/// Opportunities on the first leads; about one activity in five is logged on one of them.
pub const OPPORTUNITIES: usize = 40;
/// How far back the demo activities reach.
const DAYS: i64 = 180;

/// The keys of the demo users, printed once.
pub struct DemoCredentials {
    pub users: Vec<(User, IssuedKeys)>,
    pub lead_guid: Uuid,
    /// An opportunity of that lead, for the GetActivitiesOfOpportunity example.
    pub opportunity_guid: Uuid,
    /// Where the server listens, for the example command (set once the socket is bound).
    pub base_url: String,
}

impl fmt::Display for DemoCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Demo tenant created: {LEADS} leads, {OPPORTUNITIES} opportunities, {ACTIVITIES} activities. \
             Credentials (shown once):"
        )?;
        for (u, k) in &self.users {
            writeln!(
                f,
                "  {:<13} {:<28} accessKey={} secretKey={} bearer={}",
                u.role.as_str(),
                u.email,
                k.access_key,
                k.secret_key,
                k.api_key
            )?;
        }
        let (_, admin) = &self.users[0];
        writeln!(f, "Try:")?;
        write!(
            f,
            "  curl -s -X POST '{}/v2/ProspectActivity.svc/Retrieve?leadId={}&accessKey={}&secretKey={}' -d '{{}}'",
            self.base_url, self.lead_guid, admin.access_key, admin.secret_key
        )?;
        writeln!(f)?;
        write!(
            f,
            "  curl -s -X POST '{}/v2/OpportunityManagement.svc/GetActivitiesOfOpportunity?opportunityId={}&accessKey={}&secretKey={}' \
             -H 'Content-Type: application/json' -d '{{\"Sorting\":{{\"ColumnName\":\"PACreatedOn\",\"Direction\":1}}}}'",
            self.base_url, self.opportunity_guid, admin.access_key, admin.secret_key
        )
    }
}

fn field(n: usize, name: &str, t: DataType, mandatory: bool, options: &[&str]) -> FieldDef {
    FieldDef {
        schema_name: format!("mx_Custom_{n}"),
        display_name: name.into(),
        data_type: t,
        is_mandatory: mandatory,
        sequence: n as i64,
        options: options.iter().map(|s| s.to_string()).collect(),
    }
}

/// Creates the demo tenant if the database holds no tenant yet; `None` when it already has data.
pub async fn ensure(service: &Service) -> Result<Option<DemoCredentials>> {
    if service.store().count_tenants().await? > 0 {
        return Ok(None);
    }
    let (_, admin, admin_keys) = service
        .create_tenant("Demo Company", "admin@demo.example")
        .await?;
    let mut users = vec![(admin.clone(), admin_keys)];
    for (email, first, last, role) in [
        (
            "maya.manager@demo.example",
            "Maya",
            "Manager",
            Role::SalesManager,
        ),
        ("sam.sales@demo.example", "Sam", "Seller", Role::SalesUser),
        ("riya.rep@demo.example", "Riya", "Rep", Role::SalesUser),
    ] {
        let (u, k) = service
            .create_user(&admin.tenant_guid.to_string(), email, first, last, role)
            .await?;
        users.push((u, k));
    }
    let store = service.store();
    let tenant = admin.tenant_id;
    let custom = [
        NewActivityType {
            guid: Uuid::now_v7(),
            event_code: Some(201),
            name: "Customer Site Visit".into(),
            display_name: "Customer Site Visit".into(),
            score: 10,
            description: "A visit to the customer's site".into(),
            direction: 1,
            kind: TypeKind::Custom,
            is_email_type: false,
            salesloft_type: "meeting".into(),
            fields: vec![
                field(1, "Visitors", DataType::Number, true, &[]),
                field(
                    2,
                    "Outcome",
                    DataType::Dropdown,
                    false,
                    &["Positive", "Neutral", "Negative"],
                ),
                field(3, "Follow-up date", DataType::Date, false, &[]),
            ],
        },
        NewActivityType {
            guid: Uuid::now_v7(),
            event_code: Some(202),
            name: "Product Demo".into(),
            display_name: "Product Demo".into(),
            score: 15,
            description: "A product demonstration".into(),
            direction: 1,
            kind: TypeKind::Custom,
            is_email_type: false,
            salesloft_type: "meeting_held".into(),
            fields: vec![
                field(
                    1,
                    "Product",
                    DataType::Dropdown,
                    true,
                    &["Hub Basic", "Hub Pro", "Hub Enterprise"],
                ),
                field(2, "Attendees", DataType::Number, false, &[]),
                field(3, "Recording link", DataType::Website, false, &[]),
            ],
        },
        NewActivityType {
            guid: Uuid::now_v7(),
            event_code: Some(203),
            name: "Document Collected".into(),
            display_name: "Document Collected".into(),
            score: 5,
            description: "KYC or contract paperwork received".into(),
            direction: 0,
            kind: TypeKind::Custom,
            is_email_type: false,
            salesloft_type: "note".into(),
            fields: vec![field(2, "Document number", DataType::String, false, &[])],
        },
        NewActivityType {
            guid: Uuid::now_v7(),
            event_code: Some(12001),
            name: "Renewal".into(),
            display_name: "Renewal".into(),
            score: 0,
            description: "A contract renewal in the pipeline".into(),
            direction: 0,
            kind: TypeKind::Opportunity,
            is_email_type: false,
            salesloft_type: "opportunity_stage_change".into(),
            fields: vec![
                field(1, "Amount", DataType::Number, true, &[]),
                field(
                    2,
                    "Stage",
                    DataType::Dropdown,
                    false,
                    &["Prospecting", "Proposal", "Negotiation"],
                ),
            ],
        },
    ];
    for t in custom {
        store.create_activity_type(tenant, t).await?;
    }
    let types = store.list_activity_types(tenant).await?;
    let (opportunity_types, postable): (Vec<_>, Vec<_>) =
        types.iter().partition(|t| t.kind == TypeKind::Opportunity);

    let mut rng = StdRng::seed_from_u64(20261124);
    let firsts = [
        "Asha", "Ben", "Chen", "Dara", "Elif", "Femi", "Gita", "Hugo", "Ines", "Jon", "Kofi",
        "Lena",
    ];
    let lasts = [
        "Khan", "Silva", "Novak", "Okafor", "Meyer", "Tanaka", "Rossi", "Dubois", "Haddad", "Berg",
    ];
    let leads: Vec<NewLead> = (0..LEADS)
        .map(|i| {
            let first = firsts[i % firsts.len()];
            let last = lasts[(i / firsts.len()) % lasts.len()];
            NewLead {
                guid: Uuid::now_v7(),
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                email: Some(format!(
                    "{}.{}{}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    i
                )),
                phone: Some(format!("+1-555-{:07}", i)),
                owner_id: users[i % users.len()].0.id,
                attributes: BTreeMap::from([(
                    "Source".to_string(),
                    ["Web", "Referral", "Event"][i % 3].to_string(),
                )]),
                ..Default::default()
            }
        })
        .collect();
    let lead_guid = leads[0].guid;
    let lead_ids = store.create_leads(tenant, leads.clone()).await?;

    let now = now_micros();
    let span = DAYS * 24 * 3600 * 1_000_000;
    let notes = [
        "Left a voicemail",
        "Discussed pricing",
        "Sent the brochure",
        "Asked for a callback",
        "",
    ];
    let mut opportunities = Vec::with_capacity(OPPORTUNITIES);
    for (i, lead_id) in lead_ids.iter().take(OPPORTUNITIES).enumerate() {
        let ty = opportunity_types[i % opportunity_types.len()];
        let fields = ty
            .fields
            .iter()
            .map(|f| {
                let v = match f.data_type {
                    DataType::Number => (rng.random_range(5..200) * 1000).to_string(),
                    _ => f.options[rng.random_range(0..f.options.len())].clone(),
                };
                (f.schema_name.clone(), v)
            })
            .collect();
        let owner = &users[i % users.len()].0;
        opportunities.push(NewActivity {
            guid: Uuid::now_v7(),
            type_id: ty.id,
            lead_id: Some(*lead_id),
            account_id: None,
            opportunity_id: None,
            owner_id: owner.id,
            created_by: owner.id,
            note: format!("{} deal #{}", ty.display_name, i + 1),
            occurred_at: now - rng.random_range(0..span),
            score: 0,
            status: ["Open", "Won", "Lost", "Open"][i % 4].into(),
            fields,
            pinned: false,
            tags: Vec::new(),
            static_data: Default::default(),
        });
    }
    let opportunity_guid = opportunities.first().map_or_else(Uuid::nil, |o| o.guid);
    let opportunity_ids = store.insert_activities(tenant, opportunities).await?;

    let mut batch = Vec::with_capacity(500);
    for i in 0..ACTIVITIES {
        // Every fifth activity goes to an opportunity (and so to that opportunity's lead).
        let on_opportunity = i % 5 == 0 && !opportunity_ids.is_empty();
        let lead_idx = if on_opportunity {
            rng.random_range(0..opportunity_ids.len())
        } else {
            rng.random_range(0..lead_ids.len())
        };
        let ty = postable[rng.random_range(0..postable.len())];
        let mut fields = BTreeMap::new();
        for f in &ty.fields {
            let v = match f.data_type {
                DataType::Number => rng.random_range(1..9).to_string(),
                DataType::Dropdown => f.options[rng.random_range(0..f.options.len())].clone(),
                DataType::Date => "2026-12-01".to_string(),
                DataType::Website => "https://example.com/recording".to_string(),
                _ => format!("DOC-{:05}", rng.random_range(0..99999)),
            };
            fields.insert(f.schema_name.clone(), v);
        }
        let owner = &users[lead_idx % users.len()].0;
        batch.push(NewActivity {
            guid: Uuid::now_v7(),
            type_id: ty.id,
            lead_id: Some(lead_ids[lead_idx]),
            account_id: None,
            opportunity_id: if on_opportunity {
                opportunity_ids.get(lead_idx).copied()
            } else {
                None
            },
            owner_id: owner.id,
            created_by: owner.id,
            note: notes[rng.random_range(0..notes.len())].into(),
            occurred_at: now - rng.random_range(0..span),
            score: ty.score,
            status: "Active".into(),
            fields,
            pinned: false,
            tags: Vec::new(),
            static_data: Default::default(),
        });
        if batch.len() == 500 || i + 1 == ACTIVITIES {
            store
                .insert_activities(tenant, std::mem::take(&mut batch))
                .await?;
        }
    }
    Ok(Some(DemoCredentials {
        users,
        lead_guid,
        opportunity_guid,
        base_url: String::new(),
    }))
}
