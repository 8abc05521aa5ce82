//! The HTTP dialects: LeadSquared (`lsq`), Salesloft (`salesloft`) and the native API (`native`),
//! and the pieces they share (request extraction, query parsing, JSON output, rate limits).

pub mod extract;
pub mod head_limits;
pub mod idempotency;
pub mod json_out;
pub mod lsq;
pub mod native;
pub mod openapi;
pub mod params;
pub mod rate_limit;
pub mod salesloft;
