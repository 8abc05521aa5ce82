//! The HTTP dialects: LeadSquared (`lsq`), and the pieces they share (query parsing, rate limits).

pub mod json_out;
pub mod lsq;
pub mod native;
pub mod params;
pub mod rate_limit;
pub mod salesloft;
