//! activity-hub: a self-hosted CRM activity service speaking the LeadSquared and Salesloft APIs.
//!
//! The flow of a request is dialect (`api::*`) → use case (`service`) → storage (`store`), over the
//! I/O-free types in `domain`. `app` assembles the HTTP server, `web` is its HTML UI at `/`;
//! `main.rs` is only the CLI.

pub mod api;
pub mod app;
pub mod auth;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod ratelog;
pub mod server;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod transfer;
pub mod web;
