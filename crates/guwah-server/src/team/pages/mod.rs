//! The web interface: pages rendered on the server in the reader's
//! language, over the same handlers' logic as the JSON API.
//!
//! Reading works without JavaScript; only submitting files uses a script
//! (`assets/upload.js`, written here: the file's SHA-256 by WebCrypto,
//! then tus to `/api/uploads`). Evidence is only ever text in a template
//! with autoescaping, a thumbnail the server re-encoded, or media played
//! from `/items/{id}/media`; no page embeds a byte of an original as HTML.
//! Every form carries the session's CSRF token and is refused from
//! another origin (`Origin`, `Sec-Fetch-Site`).

mod admin;
mod assets;
mod items;
mod page;
mod render;
mod sign_in;

use axum::Router;
use axum::routing::{get, post};

use super::state::TeamState;

pub(super) use page::{Page, is_page_path};
pub use render::{TEMPLATES, template_text_outside_expressions};

/// The pages' routes (merged into the team router).
pub(super) fn routes() -> Router<TeamState> {
    Router::new()
        .route("/", get(items::home))
        .route("/login", get(sign_in::form).post(sign_in::submit))
        .route("/logout", post(sign_in::sign_out))
        .route("/language", post(sign_in::language))
        .route("/settings", get(sign_in::settings))
        .route("/items", get(items::list))
        .route("/items/{id}", get(items::show))
        .route("/items/{id}/notes", post(items::annotate))
        .route("/items/{id}/preview", get(items::preview))
        .route("/items/{id}/media", get(items::media))
        .route("/upload", get(items::upload))
        .route("/audit", get(admin::audit))
        .route("/users", get(admin::users))
        .route("/assets/{name}", get(assets::asset))
        .route("/verify.html", get(assets::verifier))
}
