//! A webhook receiver for the tests: an axum server on 127.0.0.1:0 that records every request
//! and answers queued statuses (then 200), or 500 to the first attempt of each delivery.

#![allow(dead_code)]

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Got {
    pub event: String,
    pub delivery: String,
    pub timestamp: String,
    pub signature: String,
    /// Salesloft's `x-salesloft-event` and `x-salesloft-signature`.
    pub sl_event: String,
    pub sl_signature: String,
    pub body: Value,
    pub raw: Vec<u8>,
    /// The query string of the URL it was sent to.
    pub query: String,
}

/// A webhook receiver on 127.0.0.1: answers the queued statuses first, then 200.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Got>>>,
    pub answers: Arc<Mutex<VecDeque<u16>>>,
    /// Answer 500 to the first attempt of each delivery (by `X-ActivityHub-Delivery`).
    pub fail_first: Arc<AtomicBool>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let answers: Arc<Mutex<VecDeque<u16>>> = Arc::default();
        let fail_first: Arc<AtomicBool> = Arc::default();
        let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
        let (g, a, ff) = (got.clone(), answers.clone(), fail_first.clone());
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |q: axum::extract::RawQuery, headers: HeaderMap, body: axum::body::Bytes| {
                    let (g, a, ff, seen) = (g.clone(), a.clone(), ff.clone(), seen.clone());
                    async move {
                        let h = |n: &str| {
                            headers
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_string()
                        };
                        let first = seen.lock().unwrap().insert(h("x-activityhub-delivery"));
                        g.lock().unwrap().push(Got {
                            event: h("x-activityhub-event"),
                            delivery: h("x-activityhub-delivery"),
                            timestamp: h("x-activityhub-timestamp"),
                            signature: h("x-activityhub-signature"),
                            sl_event: h("x-salesloft-event"),
                            sl_signature: h("x-salesloft-signature"),
                            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            raw: body.to_vec(),
                            query: q.0.unwrap_or_default(),
                        });
                        let status = if ff.load(Ordering::SeqCst) && first {
                            500
                        } else {
                            a.lock().unwrap().pop_front().unwrap_or(200)
                        };
                        axum::http::StatusCode::from_u16(status).unwrap()
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
            answers,
            fail_first,
        }
    }

    pub fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// What arrived once `n` requests have (panics after 60 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Got> {
        for _ in 0..1200 {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the receiver got {:?}, expected {n} requests", self.got());
    }
}
