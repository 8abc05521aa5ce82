//! Integration tests of the Salesloft dialect over real HTTP: `/v2/activity_histories`,
//! `/v2/activity_histories/{id}`, `/v2/me`, the activity resources (calls, emails, notes,
//! meetings, CRM activities), `/v2/people`, `/v2/accounts`, `/v2/users` and
//! `/v2/webhook_subscriptions`. One test binary (`cargo test --test salesloft`;
//! `ACTIVITY_HUB_TEST_BACKEND=postgres` runs every test on PostgreSQL).

mod harness;

mod filters;
mod lead_plans;
mod mapping;
mod paging;
mod people;
mod plans;
mod rate_limit;
mod resources;
mod validation;
mod visibility;
mod webhooks;
