//! Salesloft's query-string conventions: bracketed names (`type[person][]`, `occurred_at[gt]`),
//! arrays written as `x[]=a&x[]=b`, `x=a&x=b` or `x=a,b`, and 422 `{"errors":{param:[msg]}}` for
//! invalid values. Unknown parameter names are ignored, as Salesloft does.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::domain::text;
use crate::domain::time::{parse_rfc3339, YEAR_RANGE};
use crate::domain::{
    is_salesloft_type, ActivityIdFilter, ActivitySort, CountMode, Micros, ResourceKind, TypeFilter,
};
use crate::service::{HistoryFilter, ResourceRef};

/// Largest and default page size.
pub const MAX_PER_PAGE: u32 = 100;
pub const DEFAULT_PER_PAGE: u32 = 25;
/// What `limit_paging_counts=true` caps `total_count` at.
pub const PAGING_COUNT_CAP: u64 = 10_000;

/// One decoded parameter: `type[person][]=call` is `("type", ["person", ""], "call")`.
#[derive(Debug, Clone)]
pub struct RawParam {
    pub name: String,
    pub keys: Vec<String>,
    pub value: String,
}

/// Splits `name[a][b]` into `name` and `["a", "b"]`; a malformed bracket keeps the whole name.
fn split_name(full: &str) -> (String, Vec<String>) {
    let Some(open) = full.find('[') else {
        return (full.to_string(), Vec::new());
    };
    let (name, mut rest) = full.split_at(open);
    let mut keys = Vec::new();
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(close) => {
                keys.push(stripped[..close].to_string());
                rest = &stripped[close + 1..];
            }
            None => return (full.to_string(), Vec::new()),
        }
    }
    if !rest.is_empty() {
        return (full.to_string(), Vec::new());
    }
    (name.to_string(), keys)
}

pub fn parse_raw(query: Option<&str>) -> Vec<RawParam> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| {
            let (name, keys) = split_name(&k);
            RawParam {
                name,
                keys,
                value: v.into_owned(),
            }
        })
        .collect()
}

/// The 422 body under construction: messages by parameter name.
#[derive(Debug, Default)]
pub struct Errors(BTreeMap<String, Vec<String>>);

impl Errors {
    pub fn add(&mut self, param: &str, message: impl Into<String>) {
        self.0
            .entry(param.to_string())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_json(&self) -> Value {
        json!({ "errors": self.0 })
    }
}

/// A parsed, validated listing request and the `metadata.filtering` echo of its filters.
#[derive(Debug)]
pub struct ListRequest {
    pub filter: HistoryFilter,
    pub paging: Paging,
    pub filtering: Map<String, Value>,
}

/// The values of an array-capable parameter: every occurrence, each split on commas.
pub(crate) fn values<'a>(params: &'a [RawParam], name: &str) -> Vec<&'a str> {
    params
        .iter()
        .filter(|p| p.name == name && (p.keys.is_empty() || p.keys == [""]))
        .flat_map(|p| p.value.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// The last plain value of a scalar parameter.
pub(crate) fn scalar<'a>(params: &'a [RawParam], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|p| p.name == name && p.keys.is_empty())
        .map(|p| p.value.trim())
}

pub(crate) fn boolean(errors: &mut Errors, params: &[RawParam], name: &str) -> Option<bool> {
    match scalar(params, name)? {
        v if v.eq_ignore_ascii_case("true") => Some(true),
        v if v.eq_ignore_ascii_case("false") => Some(false),
        _ => {
            errors.add(name, "must be 'true' or 'false'");
            None
        }
    }
}

fn integer(
    errors: &mut Errors,
    params: &[RawParam],
    name: &str,
    min: u64,
    max: u64,
) -> Option<u64> {
    let v = scalar(params, name)?;
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ if max == u64::MAX => {
            errors.add(
                name,
                format!("must be an integer greater than or equal to {min}"),
            );
            None
        }
        _ => {
            errors.add(
                name,
                format!("must be an integer in the range [{min}, {max}]"),
            );
            None
        }
    }
}

/// `name[gt|gte|lt|lte]=<iso8601>` bounds folded into one inclusive range (µs precision).
pub(crate) fn time_bounds(
    errors: &mut Errors,
    params: &[RawParam],
    name: &str,
    filtering: &mut Map<String, Value>,
) -> (Option<Micros>, Option<Micros>) {
    let (mut from, mut to): (Option<Micros>, Option<Micros>) = (None, None);
    let mut echo = Map::new();
    for p in params.iter().filter(|p| p.name == name) {
        let op = match p.keys.as_slice() {
            [op] => op.as_str(),
            _ => {
                errors.add(
                    name,
                    format!("must be given as {name}[gt|gte|lt|lte]=<ISO-8601 time>"),
                );
                continue;
            }
        };
        if !matches!(op, "gt" | "gte" | "lt" | "lte") {
            errors.add(
                name,
                format!("unknown comparison '{op}': use gt, gte, lt or lte"),
            );
            continue;
        }
        let Some(t) = parse_iso8601(&p.value) else {
            errors.add(
                name,
                format!(
                    "'{}' is not a valid ISO-8601 timestamp with {YEAR_RANGE}",
                    p.value
                ),
            );
            continue;
        };
        echo.insert(op.to_string(), json!(p.value));
        match op {
            "gt" => from = Some(from.map_or(t + 1, |f| f.max(t + 1))),
            "gte" => from = Some(from.map_or(t, |f| f.max(t))),
            "lt" => to = Some(to.map_or(t - 1, |x| x.min(t - 1))),
            _ => to = Some(to.map_or(t, |x| x.min(t))),
        }
    }
    if !echo.is_empty() {
        filtering.insert(name.to_string(), Value::Object(echo));
    }
    (from, to)
}

/// An ISO-8601 timestamp as clients send it: RFC 3339 (any offset, any fraction); an offset whose
/// `+` arrived unencoded (form decoding turned it into a space); no offset (UTC); or a bare date
/// (midnight UTC).
pub fn parse_iso8601(s: &str) -> Option<Micros> {
    let s = s.trim();
    if let Some(t) = parse_rfc3339(s) {
        return Some(t);
    }
    // The slicing below is by byte: anything else is not a timestamp anyway.
    if !s.is_ascii() {
        return None;
    }
    // `2019-01-01T01:00:00 01:00`: the `+` of the offset, decoded as a space.
    if let Some((head, offset)) = s.rsplit_once(' ') {
        if head.contains('T') && offset.len() == 5 && offset.as_bytes()[2] == b':' {
            if let Some(t) = parse_rfc3339(&format!("{head}+{offset}")) {
                return Some(t);
            }
        }
    }
    let date_time = s.len() >= 19 && matches!(s.as_bytes()[10], b'T' | b't' | b' ');
    if date_time && !s.ends_with(['Z', 'z']) && !s[19..].contains(['+', '-']) {
        return parse_rfc3339(&format!("{}T{}Z", &s[..10], &s[11..]));
    }
    if s.len() == 10 {
        return parse_rfc3339(&format!("{s}T00:00:00Z"));
    }
    None
}

fn check_types(errors: &mut Errors, types: &[&str]) -> bool {
    let bad: Vec<&&str> = types.iter().filter(|t| !is_salesloft_type(t)).collect();
    for t in &bad {
        errors.add("type", format!("'{t}' is not a valid activity type"));
    }
    bad.is_empty()
}

/// Parses an activity id: `call-12` or `12`.
pub fn parse_activity_id(s: &str) -> Option<ActivityIdFilter> {
    let s = s.trim();
    match s.rsplit_once('-') {
        Some((ty, n)) => {
            let id = n.parse::<i64>().ok().filter(|i| *i > 0)?;
            is_salesloft_type(ty).then(|| ActivityIdFilter {
                id,
                sl_type: Some(ty.to_string()),
            })
        }
        None => s
            .parse::<i64>()
            .ok()
            .filter(|i| *i > 0)
            .map(|id| ActivityIdFilter { id, sl_type: None }),
    }
}

/// The endpoint cost of a request, as Salesloft's Rate Limits page charges it: by the page asked
/// for (deep offset pages are what costs), whatever its size — pages 101–150 cost 3, 151–250 cost
/// 8, 251–500 cost 10, 501 and beyond 30, and every other request 1.
pub fn cost_of(params: &[RawParam]) -> u64 {
    match scalar(params, "page").and_then(|v| v.parse::<u64>().ok()) {
        Some(p) if p > 500 => 30,
        Some(p) if p > 250 => 10,
        Some(p) if p > 150 => 8,
        Some(p) if p > 100 => 3,
        _ => 1,
    }
}

/// The paging parameters every Salesloft list takes.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub per_page: u32,
    pub page: u64,
    pub include_counts: bool,
    pub count: CountMode,
}

impl Paging {
    /// Rows to skip for the page asked for.
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page as u64)
    }

    /// Rows to read: one more than the page tells whether a next page exists without counting.
    pub fn limit(&self) -> u32 {
        self.per_page + 1
    }
}

/// Refuses a NUL in any value before it is read as anything (see domain::text).
pub fn refuse_nul(params: &[RawParam]) -> Result<(), Errors> {
    let mut errors = Errors::default();
    for p in params.iter().filter(|p| text::has_nul(&p.value)) {
        errors.add(&p.name, text::NO_NUL);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// `per_page`, `page`, `include_paging_counts` and `limit_paging_counts`.
pub fn paging(errors: &mut Errors, params: &[RawParam]) -> Paging {
    let per_page = integer(errors, params, "per_page", 1, MAX_PER_PAGE as u64)
        .map_or(DEFAULT_PER_PAGE, |n| n as u32);
    let page = integer(errors, params, "page", 1, u64::MAX).unwrap_or(1);
    let include_counts = boolean(errors, params, "include_paging_counts").unwrap_or(false);
    let limit_counts = boolean(errors, params, "limit_paging_counts").unwrap_or(false);
    let count = match (include_counts, limit_counts) {
        (false, _) => CountMode::None,
        (true, false) => CountMode::Exact,
        (true, true) => CountMode::Capped(PAGING_COUNT_CAP),
    };
    Paging {
        per_page,
        page,
        include_counts,
        count,
    }
}

/// `sort_by` (alias `sort`) among `keys` (name, order), `default` when absent, and
/// `sort_direction` (DESC when absent); returns the order, the key's name and whether descending.
pub fn sorting<'k, T: Clone>(
    errors: &mut Errors,
    params: &[RawParam],
    keys: &[(&'k str, T)],
    default: usize,
) -> (T, &'k str, bool) {
    let (sort, name) = key(errors, params, keys, default);
    (sort, name, direction(errors, params))
}

/// `sort_by` (alias `sort`) among `keys`, `default` when absent; an unknown key is reported
/// naming the parameter and the keys offered.
fn key<'k, T: Clone>(
    errors: &mut Errors,
    params: &[RawParam],
    keys: &[(&'k str, T)],
    default: usize,
) -> (T, &'k str) {
    let (sort_param, sort_value) = match scalar(params, "sort_by") {
        Some(v) => ("sort_by", Some(v)),
        None => ("sort", scalar(params, "sort")),
    };
    let (name, sort) = match sort_value {
        None => keys[default].clone(),
        Some(v) => match keys.iter().find(|(k, _)| *k == v) {
            Some(k) => k.clone(),
            None => {
                let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
                let listed = match names.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        format!("{} or {last}", rest.join(", "))
                    }
                    _ => names.join(""),
                };
                errors.add(
                    sort_param,
                    format!("'{v}' is not a valid sort key: use {listed}"),
                );
                keys[default].clone()
            }
        },
    };
    (sort, name)
}

/// `sort_direction`: DESC when absent.
fn direction(errors: &mut Errors, params: &[RawParam]) -> bool {
    match scalar(params, "sort_direction") {
        None => true,
        Some(d) if d.eq_ignore_ascii_case("desc") => true,
        Some(d) if d.eq_ignore_ascii_case("asc") => false,
        Some(d) => {
            errors.add(
                "sort_direction",
                format!("'{d}' is not a valid direction: use ASC or DESC"),
            );
            true
        }
    }
}

/// `metadata` of a list answer: the filters as given, the paging (counts only when asked for;
/// `next_page` from the extra row read past the page) and the order.
pub fn metadata(
    filtering: Map<String, Value>,
    paging: &Paging,
    has_next: bool,
    total: u64,
    sort_by: &str,
    descending: bool,
) -> Value {
    let mut p = json!({
        "per_page": paging.per_page,
        "current_page": paging.page,
        "next_page": if has_next { json!(paging.page + 1) } else { Value::Null },
        "prev_page": if paging.page > 1 { json!(paging.page - 1) } else { Value::Null },
    });
    if paging.include_counts {
        p["total_pages"] = json!(total.div_ceil(paging.per_page as u64));
        p["total_count"] = json!(total);
    }
    json!({
        "filtering": filtering,
        "paging": p,
        "sorting": {"sort_by": sort_by, "sort_direction": if descending { "DESC" } else { "ASC" }},
    })
}

/// The sort keys of `GET /v2/activity_histories`.
const HISTORY_SORTS: [(&str, ActivitySort); 2] = [
    ("occurred_at", ActivitySort::OccurredAt),
    ("updated_at", ActivitySort::UpdatedAt),
];

/// Validates every parameter of `GET /v2/activity_histories`; all problems are reported at once.
pub fn parse_list(params: &[RawParam]) -> Result<ListRequest, Errors> {
    refuse_nul(params)?;
    let mut errors = Errors::default();
    let mut filtering = Map::new();
    let paging = paging(&mut errors, params);
    let (sort, _, descending) = sorting(&mut errors, params, &HISTORY_SORTS, 0);

    // type=…, type[]=…, type[person][]=…
    let mut types = Vec::new();
    let plain = values(params, "type");
    if !plain.is_empty() && check_types(&mut errors, &plain) {
        filtering.insert("type".into(), json!(plain));
        types.push(TypeFilter {
            resource: None,
            sl_types: plain.iter().map(|s| s.to_string()).collect(),
        });
    }
    let mut per_resource: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in params
        .iter()
        .filter(|p| p.name == "type" && !p.keys.is_empty())
    {
        match p.keys.as_slice() {
            [k] | [k, _] if !k.is_empty() => {
                if ResourceKind::parse(k).is_none() {
                    errors.add("type", format!("'{k}' is not a valid resource type"));
                    continue;
                }
                let vals: Vec<&str> = p
                    .value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect();
                if check_types(&mut errors, &vals) {
                    per_resource
                        .entry(k.clone())
                        .or_default()
                        .extend(vals.iter().map(|s| s.to_string()));
                }
            }
            [k] if k.is_empty() => {}
            _ => errors.add(
                "type",
                "must be type=…, type[]=… or type[resource_type][]=…",
            ),
        }
    }
    if !per_resource.is_empty() {
        let echo: Map<String, Value> = per_resource
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        match filtering.get_mut("type") {
            Some(Value::Array(list)) => list.push(Value::Object(echo)),
            _ => {
                filtering.insert("type".into(), Value::Object(echo));
            }
        }
        for (k, v) in per_resource {
            types.push(TypeFilter {
                resource: ResourceKind::parse(&k),
                sl_types: v,
            });
        }
    }

    let (occurred_from, occurred_to) =
        time_bounds(&mut errors, params, "occurred_at", &mut filtering);
    let (updated_from, updated_to) = time_bounds(&mut errors, params, "updated_at", &mut filtering);

    let pinned = boolean(&mut errors, params, "pinned");
    if let Some(p) = pinned {
        filtering.insert("pinned".into(), json!(p));
    }

    let mut resource_kinds = Vec::new();
    for v in values(params, "resource_type") {
        match ResourceKind::parse(v) {
            Some(k) if !resource_kinds.contains(&k) => resource_kinds.push(k),
            Some(_) => {}
            None => errors.add(
                "resource_type",
                format!(
                    "'{v}' is not a valid resource type: use person, account or crm_opportunity"
                ),
            ),
        }
    }
    if !resource_kinds.is_empty() {
        filtering.insert(
            "resource_type".into(),
            json!(resource_kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()),
        );
    }
    let raw_ids = values(params, "resource_id");
    let mut resource_ids = Vec::new();
    if !raw_ids.is_empty() {
        if scalar(params, "resource_type").is_none() && values(params, "resource_type").is_empty() {
            errors.add("resource_id", "requires resource_type");
        } else if !resource_kinds.is_empty() {
            let takes_text = resource_kinds.contains(&ResourceKind::Opportunity);
            for v in &raw_ids {
                match v.parse::<i64>() {
                    Ok(i) => resource_ids.push(ResourceRef::Int(i)),
                    Err(_) if takes_text => resource_ids.push(ResourceRef::Text(v.to_string())),
                    Err(_) => errors.add(
                        "resource_id",
                        format!("'{v}' is not an integer id (person and account ids are integers)"),
                    ),
                }
            }
            filtering.insert("resource_id".into(), json!(raw_ids));
        }
    }

    let mut ids = Vec::new();
    for name in ["id", "ids"] {
        let vals = values(params, name);
        for v in &vals {
            match parse_activity_id(v) {
                Some(f) => ids.push(f),
                None => errors.add(name, format!("'{v}' is not an activity id like call-12")),
            }
        }
        if !vals.is_empty() {
            filtering.insert(name.into(), json!(vals));
        }
    }

    let user_guids: Vec<String> = values(params, "user_guid")
        .into_iter()
        .map(str::to_string)
        .collect();
    if !user_guids.is_empty() {
        filtering.insert("user_guid".into(), json!(user_guids));
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ListRequest {
        filter: HistoryFilter {
            types,
            occurred_from,
            occurred_to,
            updated_from,
            updated_to,
            pinned,
            resource_kinds,
            resource_ids,
            ids,
            user_guids,
            sort,
            descending,
            offset: paging.offset(),
            limit: paging.limit(),
            count: paging.count,
        },
        paging,
        filtering,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<ListRequest, Errors> {
        parse_list(&parse_raw(Some(q)))
    }

    #[test]
    fn array_forms_are_equivalent() {
        for q in [
            "type[]=call&type[]=note",
            "type=call&type=note",
            "type=call,note",
        ] {
            let r = parse(q).unwrap_or_else(|e| panic!("{q}: {:?}", e.to_json()));
            assert_eq!(r.filter.types.len(), 1, "{q}");
            assert_eq!(r.filter.types[0].sl_types, vec!["call", "note"], "{q}");
        }
    }

    #[test]
    fn per_resource_types_and_bounds() {
        let r = parse("type[person][]=call&type[account][]=note&occurred_at[gt]=2019-01-01T00:00:00Z&occurred_at[lte]=2019-02-01T00:00:00.5Z").unwrap();
        assert_eq!(r.filter.types.len(), 2);
        assert_eq!(r.filter.types[0].resource, Some(ResourceKind::Account));
        let gt = parse_rfc3339("2019-01-01T00:00:00Z").unwrap();
        assert_eq!(r.filter.occurred_from, Some(gt + 1));
        assert_eq!(
            r.filter.occurred_to,
            parse_rfc3339("2019-02-01T00:00:00.500Z")
        );
    }

    #[test]
    fn invalid_values_name_their_parameter() {
        let e = parse("per_page=0&page=0&sort_by=foo&sort_direction=up&type=bogus&pinned=maybe&updated_at[gt]=yesterday&resource_type=lead")
            .unwrap_err()
            .to_json();
        for p in [
            "per_page",
            "page",
            "sort_by",
            "sort_direction",
            "type",
            "pinned",
            "updated_at",
            "resource_type",
        ] {
            assert!(e["errors"][p].is_array(), "{p} missing in {e}");
        }
        let e = parse("resource_id=5").unwrap_err().to_json();
        assert!(e["errors"]["resource_id"].is_array());
    }

    #[test]
    fn sort_alias_direction_case_and_unknown_names() {
        let r = parse("sort=updated_at&sort_direction=asc&bogus=1&per_page=100").unwrap();
        assert_eq!(r.filter.sort, ActivitySort::UpdatedAt);
        assert!(!r.filter.descending);
        assert_eq!(r.paging.per_page, 100);
        assert_eq!(r.filter.limit, 101);
    }

    #[test]
    fn iso8601_forms() {
        let utc = parse_rfc3339("2019-01-01T00:00:00Z");
        assert!(utc.is_some());
        for s in [
            "2019-01-01T00:00:00Z",
            "2019-01-01T00:00:00.000000Z",
            "2019-01-01T01:00:00+01:00",
            "2019-01-01T01:00:00 01:00",
            "2019-01-01T00:00:00",
            "2019-01-01 00:00:00",
            "2019-01-01",
        ] {
            assert_eq!(parse_iso8601(s), utc, "{s}");
        }
        assert_eq!(
            parse_iso8601("2019-01-01T00:00:00.5"),
            utc.map(|t| t + 500_000)
        );
        for s in [
            "yesterday",
            "2019-01-01T00:00:00ü",
            "ü019-01-01T00:00:00",
            "2019-13-01",
            "2019-01-01T25:00:00Z",
            "",
            "2019-01-01T00:00",
        ] {
            assert_eq!(parse_iso8601(s), None, "{s}");
        }
    }

    #[test]
    fn activity_ids() {
        assert_eq!(
            parse_activity_id("call-12"),
            Some(ActivityIdFilter {
                id: 12,
                sl_type: Some("call".into())
            })
        );
        assert_eq!(parse_activity_id("12").map(|f| f.id), Some(12));
        assert!(parse_activity_id("bogus-12").is_none());
        assert!(parse_activity_id("call-x").is_none());
    }
}
