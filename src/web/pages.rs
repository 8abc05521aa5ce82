//! The web UI's HTML (maud templates): layout, sign-in, lead page and overview.

use maud::{html, Markup, DOCTYPE};

use super::chart::{self, WeekBar};
use super::{datetime_text, postable, LeadView, OverviewView, PostForm, Web, MAX_PINNED};
use crate::domain::{ActivityType, ActivityView, DataType, FieldDef};

fn layout(web: Option<&Web>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · activity-hub" }
                // No favicon request (a 404 in the console of every page).
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/ui/static/style.css";
                script src="/ui/static/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/ui/overview" { "activity-hub" }
                    @if let Some(w) = web {
                        nav {
                            a href="/ui/overview" { "Overview" }
                            span.who { (w.user.email) " (" (w.user.role.as_str()) ")" }
                            form.inline method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(w.csrf);
                                button type="submit" id="sign-out" { "Sign out" }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn message(web: Option<&Web>, title: &str, text: &str) -> Markup {
    layout(
        web,
        title,
        html! {
            h1 { (title) }
            p.message { (text) }
            p { a href="/" { "Back" } }
        },
    )
}

pub fn login(csrf: &str, error: Option<&str>) -> Markup {
    layout(
        None,
        "Sign in",
        html! {
            h1 { "Sign in" }
            form.card method="post" action="/ui/login" {
                input type="hidden" name="csrf" value=(csrf);
                label for="api_key" { "API key (the native Bearer key)" }
                input type="password" id="api_key" name="api_key" autocomplete="current-password"
                    aria-describedby="login-error";
                @if let Some(e) = error {
                    p.error id="login-error" role="alert" { (e) }
                }
                button type="submit" id="sign-in" { "Sign in" }
            }
        },
    )
}

fn lead_name(l: &crate::domain::Lead) -> String {
    let name = [l.first_name.as_deref(), l.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        name
    } else {
        l.email
            .clone()
            .or_else(|| l.phone.clone())
            .unwrap_or_else(|| l.guid.to_string())
    }
}

pub fn lead(v: &LeadView) -> Markup {
    let lead = &v.lead;
    let base = format!("/ui/leads/{}", lead.guid);
    let f = &v.filters;
    html! {
        (layout(Some(v.web), &lead_name(lead), html! {
            h1 id="lead-name" { (lead_name(lead)) }
            p.meta {
                @if let Some(e) = &lead.email { span { (e) } " · " }
                "Owner " (lead.owner_name) " · Score " (lead.score)
            }
            @if v.posted { p.notice role="status" id="posted" { "Activity posted." } }

            form.filters id="filters" method="get" action=(base) {
                label { "Type "
                    select name="type" id="filter-type" {
                        option value="" { "Any" }
                        @for t in &v.types {
                            option value=(t.event_code) selected[f.event_code == Some(t.event_code)] { (t.display_name) }
                        }
                    }
                }
                label { "Owner "
                    select name="owner" id="filter-owner" {
                        option value="" { "Anyone" }
                        @for u in &v.users {
                            @let g = u.guid.to_string();
                            option value=(g) selected[f.owner.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(&g))] { (user_name(u)) }
                        }
                    }
                }
                label { "From " input type="date" name="from" id="filter-from" value=[f.from.as_deref()]; }
                label { "To " input type="date" name="to" id="filter-to" value=[f.to.as_deref()]; }
                button type="submit" id="apply-filters" { "Filter" }
                " " a href=(base) { "Clear" }
            }

            @if !v.pinned.is_empty() {
                section.pinned aria-labelledby="pinned-h" {
                    h2 id="pinned-h" { "Pinned" @if v.pinned.len() as u32 >= MAX_PINNED { " (first " (MAX_PINNED) ")" } }
                    ol.timeline id="pinned" { (items(&v.pinned, &v.types)) }
                }
            }
            section aria-labelledby="timeline-h" {
                h2 id="timeline-h" { "Timeline" }
                ol.timeline id="timeline" data-page=(f.page) {
                    (items(&v.timeline, &v.types))
                }
                @if v.timeline.is_empty() && v.pinned.is_empty() {
                    p.empty id="empty" { "No activities match." }
                }
                @if v.more {
                    p { a id="more" href={(base) "?" (f.query_with_page(f.page + 1))} { "Older activities" } }
                }
            }

            (post_form(v, &base))
        }))
    }
}

fn user_name(u: &crate::domain::User) -> String {
    let n = u.full_name();
    if n.trim().is_empty() {
        u.email.clone()
    } else {
        n
    }
}

/// Timeline items; activities logged on an opportunity are grouped under it (in the order of
/// the opportunity's newest activity on this page).
fn items(rows: &[ActivityView], types: &[ActivityType]) -> Markup {
    let mut groups: Vec<(Option<i64>, Vec<&ActivityView>)> = Vec::new();
    for a in rows {
        match a.opportunity_id {
            Some(o) => match groups.iter_mut().find(|g| g.0 == Some(o)) {
                Some(g) => g.1.push(a),
                None => groups.push((Some(o), vec![a])),
            },
            None => groups.push((None, vec![a])),
        }
    }
    html! {
        @for (opp, acts) in &groups {
            @if opp.is_some() {
                @let first = acts[0];
                li.opportunity data-opportunity=[first.resource_guid.map(|g| g.to_string())] {
                    h3 { "Opportunity: "
                        (first.opportunity_name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "(unnamed)".into()))
                        @if let Some(s) = &first.opportunity_status { " · " (s) }
                    }
                    ol.timeline { @for a in acts { (item(a, types)) } }
                }
            } @else {
                @for a in acts { (item(a, types)) }
            }
        }
    }
}

fn item(a: &ActivityView, types: &[ActivityType]) -> Markup {
    let ty = types.iter().find(|t| t.id == a.type_id);
    let values = a.fields.to_map();
    let mut shown: Vec<(String, String, Option<DataType>)> = Vec::new();
    if let Some(t) = ty {
        for d in by_sequence(t) {
            if let Some(v) = values.get(&d.schema_name) {
                shown.push((d.display_name.clone(), v.clone(), Some(d.data_type)));
            }
        }
    }
    for (k, v) in &values {
        if ty.is_none_or(|t| t.field(k).is_none()) {
            shown.push((k.clone(), v.clone(), None));
        }
    }
    html! {
        li.activity id={"a-" (a.guid)} data-guid=(a.guid) data-type=(a.event_code) data-pinned=(a.pinned_at.is_some()) {
            div.head {
                span.type { (a.type_display_name) }
                time datetime=(crate::domain::time::format_rfc3339_micros(a.occurred_at)) { (datetime_text(a.occurred_at)) }
                span.owner { (a.owner_name) }
                @if a.pinned_at.is_some() { span.pin title="Pinned" { "📌 pinned" } }
                span.status { (a.status) }
            }
            @if !a.note.is_empty() { p.note { (a.note) } }
            @if !shown.is_empty() {
                dl.fields {
                    @for (name, value, dt) in &shown {
                        div {
                            dt { (name) @if let Some(d) = dt { " " span.dtype { "(" (d.as_str()) ")" } } }
                            dd { (value) }
                        }
                    }
                }
            }
            @if !a.tags.is_empty() {
                ul.tags aria-label="Tags" { @for t in &a.tags { li.tag { (t) } } }
            }
        }
    }
}

fn post_form(v: &LeadView, base: &str) -> Markup {
    let form: &PostForm = &v.form;
    let chosen = v
        .filters
        .new_type
        .and_then(|c| postable(&v.types).find(|t| t.event_code == c));
    html! {
        section.post id="post" aria-labelledby="post-h" {
            h2 id="post-h" { "Post an activity" }
            form.pick method="get" action={(base) "#post"} id="pick-type" {
                label for="new-type" { "Type" }
                select name="new_type" id="new-type" {
                    option value="" { "Choose…" }
                    @for t in postable(&v.types) {
                        option value=(t.event_code) selected[chosen.is_some_and(|c| c.id == t.id)] { (t.display_name) }
                    }
                }
                noscript { button type="submit" { "Show its fields" } }
                @if let Some(e) = &form.type_error { p.error id="type-error" role="alert" { (e) } }
            }
            @if let Some(t) = chosen {
                form.card method="post" action={(base) "/activities"} id="post-form" {
                    input type="hidden" name="csrf" value=(v.web.csrf);
                    input type="hidden" name="type" value=(t.event_code);
                    @if let Some(e) = &form.form_error { p.error id="form-error" role="alert" { (e) } }
                    label for="note" { "Note" }
                    textarea id="note" name="note" rows="3" { (form.note) }
                    label for="occurred" { "When (UTC; empty for now)" }
                    input type="datetime-local" id="occurred" name="occurred" value=(form.occurred);
                    @if let Some(e) = &form.occurred_error { p.error id="occurred-error" role="alert" { (e) } }
                    @for d in by_sequence(t) {
                        (field_input(d, form))
                    }
                    button type="submit" id="post-submit" { "Post" }
                }
            }
        }
    }
}

/// The type's field definitions in their sequence.
fn by_sequence(t: &ActivityType) -> Vec<&FieldDef> {
    let mut defs: Vec<&FieldDef> = t.fields.iter().collect();
    defs.sort_by_key(|d| d.sequence);
    defs
}

fn field_input(d: &FieldDef, form: &PostForm) -> Markup {
    let id = format!("f-{}", d.schema_name);
    let name = format!("f.{}", d.schema_name);
    let value = form.values.get(&d.schema_name).cloned().unwrap_or_default();
    let error = form
        .field_error
        .as_ref()
        .filter(|(n, _)| n.eq_ignore_ascii_case(&d.schema_name))
        .map(|(_, m)| m.as_str());
    let err_id = format!("{id}-error");
    let choices = matches!(
        d.data_type,
        DataType::Dropdown | DataType::SearchableDropdown | DataType::LargeOptionSet
    ) && !d.options.is_empty();
    html! {
        div.field.invalid[error.is_some()] {
            label for=(id) {
                (d.display_name) " " span.dtype { "(" (d.data_type.as_str()) ")" }
                @if d.is_mandatory { " " abbr title="required" { "*" } }
            }
            @if choices {
                select id=(id) name=(name) aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| err_id.as_str())] {
                    option value="" { "—" }
                    @for o in &d.options { option value=(o) selected[*o == value] { (o) } }
                }
            } @else {
                input type="text" id=(id) name=(name) value=(value)
                    inputmode=[matches!(d.data_type, DataType::Number).then_some("decimal")]
                    placeholder=[placeholder(d.data_type)]
                    aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| err_id.as_str())];
            }
            @if let Some(e) = error { p.error id=(err_id) role="alert" { (e) } }
        }
    }
}

fn placeholder(t: DataType) -> Option<&'static str> {
    match t {
        DataType::Date => Some("YYYY-MM-DD"),
        DataType::DateTime => Some("YYYY-MM-DD HH:MM:SS"),
        DataType::Boolean => Some("true / false"),
        DataType::MultiSelect => Some("one;two"),
        _ => None,
    }
}

pub fn overview(v: &OverviewView) -> Markup {
    let bars: Vec<WeekBar> = v
        .weeks
        .iter()
        .enumerate()
        .map(|(i, w)| WeekBar {
            label: w.clone(),
            counts: v.series.iter().map(|s| s.1[i]).collect(),
        })
        .collect();
    let names: Vec<String> = v.series.iter().map(|s| s.0.clone()).collect();
    let total: i64 = v.owners.iter().map(|o| o.1).sum();
    html! {
        (layout(Some(v.web), "Overview", html! {
            h1 { "Overview" }
            section aria-labelledby="search-h" {
                h2 id="search-h" { "Leads" }
                form.inline method="get" action="/ui/overview" id="search" {
                    label for="q" { "Name or email starts with " }
                    input type="search" id="q" name="q" value=(v.search);
                    input type="hidden" name="from" value=(v.from);
                    input type="hidden" name="to" value=(v.to);
                    button type="submit" { "Search" }
                }
                @if v.leads.is_empty() {
                    p.empty { "No leads found." }
                } @else {
                    ul.leads id="leads" {
                        @for l in &v.leads {
                            li { a href={"/ui/leads/" (l.guid)} { (lead_name(l)) }
                                @if let Some(e) = &l.email { " " span.meta { (e) } } }
                        }
                    }
                }
            }
            section aria-labelledby="charts-h" {
                h2 id="charts-h" { "Activities" }
                form.inline method="get" action="/ui/overview" id="range" {
                    input type="hidden" name="q" value=(v.search);
                    label { "From " input type="date" name="from" id="range-from" value=(v.from); }
                    label { "To " input type="date" name="to" id="range-to" value=(v.to); }
                    button type="submit" id="apply-range" { "Show" }
                }
                @if let Some(e) = &v.range_error { p.error id="range-error" role="alert" { (e) } }
                @if v.truncated { p.error { "Too many combinations of week, type and owner: the charts show the first ones only." } }
                p id="chart-total" data-total=(total) { (total) " activities in the weeks from " (v.from) " to " (v.to) "." }
                (chart::stacked_weeks("weekly", "Activities per week by type", &names, &bars))
                ul.legend aria-hidden="true" {
                    @for (i, n) in names.iter().enumerate() {
                        li { span class={"swatch s" (i % 8)} {} (n) }
                    }
                }
                table id="weekly-table" {
                    caption { "Activities per week by type" }
                    thead { tr { th scope="col" { "Week of" } @for n in &names { th scope="col" { (n) } } th scope="col" { "Total" } } }
                    tbody {
                        @for (i, w) in v.weeks.iter().enumerate() {
                            tr data-week=(w) {
                                th scope="row" { (w) }
                                @for s in &v.series { td { (s.1[i]) } }
                                td.total { (v.series.iter().map(|s| s.1[i]).sum::<i64>()) }
                            }
                        }
                    }
                }
                (chart::bars("owners", "Activities per owner", &v.owners))
                table id="owner-table" {
                    caption { "Activities per owner" }
                    thead { tr { th scope="col" { "Owner" } th scope="col" { "Activities" } } }
                    tbody {
                        @for (n, c) in &v.owners { tr { th scope="row" { (n) } td { (c) } } }
                    }
                }
            }
        }))
    }
}
