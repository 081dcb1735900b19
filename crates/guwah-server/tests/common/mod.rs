//! What the router tests share: a fast vault key, one password, the GPS
//! photo fixture, and sending a request through the router in process.
#![allow(dead_code)]

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use guwah_vault::KdfParams;
use tower::ServiceExt;

/// Argon2id at its cheapest: the tests open many vaults.
pub const FAST: KdfParams = KdfParams {
    m_cost_kib: 64,
    t_cost: 1,
    p_cost: 1,
};

/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery";

/// A real camera JPEG with GPS in its EXIF (../shared/fixtures/exif).
pub fn gps_photo() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/exif/jpg/gps/DSCN0010.jpg"),
    )
    .expect("the EXIF fixtures (../shared/fixtures/exif)")
}

/// A whole answer: status, headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as a page.
    pub fn html(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 page")
    }

    /// The `Location` header, or "".
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// `req` through `app`, answered in full.
pub async fn send(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}
