//! LeadSquared calls this server does not serve but LeadSquared does, so that the `/v2/` fallback
//! can tell a real but unimplemented call from a typo.

/// Real LeadSquared calls (from LeadSquared's API documentation and its public client libraries)
/// that this server does not implement, as `Service.svc/Call`, with why when there is more to say.
const NOT_IMPLEMENTED: &[(&str, Option<&str>)] = &[
    ("LeadManagement.svc/Lead.Convert", Some(VISITORS)),
    ("LeadManagement.svc/Leads.RecentlyModified", None),
    ("LeadManagement.svc/RetrieveLeadByPhoneNumber", None),
    ("LeadManagement.svc/Lists.Get", Some(LISTS)),
    ("LeadManagement.svc/List/Retrieve/MemberCount", Some(LISTS)),
    ("LeadManagement.svc/List.CheckLead", Some(LISTS)),
    ("LeadManagement.svc/AddLeadToStaticList", Some(LISTS)),
    ("ProspectActivity.svc/GetLeadReferences", None),
    ("SalesActivity.svc/Create", Some(SALES)),
    ("SalesActivity.svc/Update", Some(SALES)),
    ("SalesActivity.svc/RetrieveActivity", Some(SALES)),
    ("SalesActivity.svc/RetrieveSetting", Some(SALES)),
    ("SalesActivity.svc/CreateProduct", Some(SALES)),
    ("SalesActivity.svc/UpdateProduct", Some(SALES)),
    ("SalesActivity.svc/RetrieveProducts", Some(SALES)),
    ("SalesActivity.svc/DeleteProduct", Some(SALES)),
    ("EmailMarketing.svc/ScheduleEmailToLead", Some(EMAIL)),
];

const VISITORS: &str = "this server tracks no anonymous website visitors to convert";
const LISTS: &str = "this server keeps no lead lists";
const SALES: &str =
    "sales activities (orders against a product catalogue) are a LeadSquared product surface this server does not model";
const EMAIL: &str = "this server sends no email";

/// The answer for a `/v2/…` path no route serves: `Some(message)` when it is a LeadSquared call
/// this server does not implement (matched ignoring case), `None` for anything else.
pub fn not_implemented(path: &str) -> Option<String> {
    let call = path.trim_start_matches("/v2/").trim_end_matches('/');
    let (name, why) = NOT_IMPLEMENTED
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(call))?;
    Some(match why {
        Some(why) => {
            format!("{name} is a LeadSquared API call that this server does not implement: {why}")
        }
        None => format!("{name} is a LeadSquared API call that this server does not implement"),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_known_calls_and_only_those() {
        let m = super::not_implemented("/v2/SalesActivity.svc/RetrieveSetting").unwrap();
        assert!(m.starts_with("SalesActivity.svc/RetrieveSetting is a LeadSquared API call"));
        assert!(m.contains("product"), "{m}");
        assert!(super::not_implemented("/v2/leadmanagement.svc/lists.get").is_some());
        assert!(super::not_implemented("/v2/LeadManagement.svc/Lead.Creat").is_none());
        assert!(super::not_implemented("/v2/").is_none());
    }
}
