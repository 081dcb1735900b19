//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin, error, exports, items, push, session, uploads};

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `guwah user token NAME`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                super::SESSION_COOKIE,
                "The session cookie from POST /api/login; writes also need X-CSRF-Token",
            ))),
        );
    }
}

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(title = "guwah team server", description = "The JSON API of `guwah serve`: accounts, items as each role may see them, originals, annotations, tus uploads, the audit trail."),
    paths(
        session::login, session::logout, session::session,
        items::list, items::search, items::show, items::original, items::annotate,
        uploads::options, uploads::create, uploads::head, uploads::patch, uploads::delete,
        admin::users, admin::add_user, admin::set_role, admin::disable, admin::token, admin::audit,
        exports::export, push::push, push::received,
        document,
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&Security),
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
