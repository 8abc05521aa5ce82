//! Query-string parameters with case-insensitive names (clients send `UserId` and `userId` alike).

use crate::domain::text::has_nul;

/// The decoded `name=value` pairs of a query string, names lower-cased, in order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        Params(
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
                .collect(),
        )
    }

    /// The name of the first parameter of `query` whose name or value holds a NUL, as the client
    /// spelled it: such a request is refused whole (see `domain::text`).
    pub fn first_with_nul(query: Option<&str>) -> Option<String> {
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(k, v)| has_nul(k) || has_nul(v))
            .map(|(k, _)| k.replace('\0', "\\u0000"))
    }

    /// The first value of `name` (matched case-insensitively).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
