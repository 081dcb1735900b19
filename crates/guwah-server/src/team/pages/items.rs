//! The item pages: the list with its filters, one item (its verification,
//! metadata as the role may see it, custody timeline, a safe preview), a
//! note, and the submission page.

use std::io::Read;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guwah_vault::Role;
use serde::{Deserialize, Serialize};

use super::super::error::ApiError;
use super::super::items::{
    ItemQuery, check_id, detail_for, list_for, passive_type, ranged_answer, visible_id,
};
use super::super::state::TeamState;
use super::super::uploads::SUBMITTERS;
use super::page::{Page, PageForm, SignedIn, percent, redirect};

/// Items on one page of the list.
const PER_PAGE: u64 = 50;
/// The largest image made into a preview; a larger one is only downloaded.
const MAX_PREVIEW_BYTES: u64 = 64 << 20;
/// The longer side of a preview, in pixels.
const PREVIEW_SIDE: u32 = 800;
/// How much of a text original its page shows.
const MAX_TEXT_PREVIEW: u64 = 64 << 10;

/// Roles that may see originals (and so previews of them).
const SEE_ORIGINALS: &[Role] = &[Role::Coordinator, Role::Reviewer, Role::Collector];

/// `GET /`: the items, or the audit trail for an admin, or sign in.
pub async fn home(page: Page) -> Response {
    match &page.session {
        Some((c, _)) if c.role() == Role::Admin => redirect("/audit"),
        Some(_) => redirect("/items"),
        None => redirect("/login"),
    }
}

/// The list's query: the API's filters, with empty form fields as none.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default)]
    text: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    collector: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: Option<u64>,
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl ListQuery {
    /// This query at page `n`, as a query string.
    fn at_page(&self, n: u64) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("text", &self.text),
            ("tag", &self.tag),
            ("media_type", &self.media_type),
            ("collector", &self.collector),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", percent(v)));
            }
        }
        parts.push(format!("page={n}"));
        format!("/items?{}", parts.join("&"))
    }
}

/// `GET /items`.
pub async fn list(
    State(state): State<TeamState>,
    signed: SignedIn,
    Query(q): Query<ListQuery>,
) -> Response {
    let SignedIn { page, caller, .. } = signed;
    let number = q.page.unwrap_or(1).max(1);
    let query = ItemQuery {
        text: some(&q.text),
        tag: some(&q.tag),
        media_type: some(&q.media_type),
        collector: some(&q.collector),
        from: some(&q.from),
        to: some(&q.to),
        offset: Some((number - 1).saturating_mul(PER_PAGE)),
        limit: Some(PER_PAGE),
    };
    let viewer = caller.role() == Role::Viewer;
    match list_for(&state, caller, query).await {
        Ok(found) => {
            let pages = found.total.div_ceil(PER_PAGE).max(1);
            page.render(
                "items.html",
                minijinja::context! {
                    items => minijinja::Value::from_serialize(&found.items),
                    total => found.total,
                    q => minijinja::Value::from_serialize(&q),
                    page_number => number,
                    pages => pages,
                    prev => (number > 1).then(|| q.at_page(number - 1)),
                    next => (number < pages).then(|| q.at_page(number + 1)),
                    show_collector => !viewer,
                    media_kinds => ["image", "video", "audio", "text", "application"],
                },
            )
        }
        Err(e) => page.error(e),
    }
}

/// What the item page can show of the original.
fn preview_kind(media_type: &str) -> &'static str {
    match media_type.split('/').next() {
        Some("image") => "image",
        Some("video") if passive_type(media_type) != "application/octet-stream" => "video",
        Some("audio") if passive_type(media_type) != "application/octet-stream" => "audio",
        _ if media_type == "text/plain" => "text",
        _ => "none",
    }
}

/// The Fluent key of a custody action.
fn action_key(action: &str) -> &'static str {
    match action {
        "added" => "action-added",
        "exported" => "action-exported",
        "annotated" => "action-annotated",
        "derived" => "action-derived",
        "transferred" => "action-transferred",
        "disclosed" => "action-disclosed",
        "received" => "action-received",
        _ => "action-other",
    }
}

#[derive(Deserialize)]
pub struct ItemPageQuery {
    preview: Option<String>,
    noted: Option<u64>,
}

/// `GET /items/{id}`.
pub async fn show(
    State(state): State<TeamState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ItemPageQuery>,
) -> Response {
    let SignedIn { page, caller, .. } = signed;
    let role = caller.role();
    let account = caller.principal.name.clone();
    let detail = match detail_for(&state, caller.clone(), id).await {
        Ok(d) => d,
        Err(e) => return page.error(e),
    };
    let kind = preview_kind(&detail.media_type);
    let sees_originals = SEE_ORIGINALS.contains(&role);
    let show_preview = q.preview.is_some() && sees_originals && kind != "none";
    let text = if show_preview && kind == "text" {
        match text_preview(&state, &account, &detail.id).await {
            Ok(t) => Some(t),
            Err(e) => return page.error(e),
        }
    } else {
        None
    };
    let custody: Vec<_> = detail
        .custody
        .iter()
        .map(|c| {
            minijinja::context! {
                leaf_index => c.leaf_index,
                action => c.action,
                action_key => action_key(&c.action),
                at => c.at,
                fields => minijinja::Value::from_serialize(&c.fields),
            }
        })
        .collect();
    page.render(
        "item.html",
        minijinja::context! {
            item => minijinja::Value::from_serialize(&detail),
            short_id => &detail.id[..16],
            custody => custody,
            kind => kind,
            sees_originals => sees_originals,
            show_preview => show_preview,
            text => text,
            annotates => matches!(role, Role::Coordinator | Role::Reviewer),
            noted => q.noted,
        },
    )
}

/// The first [`MAX_TEXT_PREVIEW`] bytes of a text original, as text.
async fn text_preview(state: &TeamState, account: &str, id: &str) -> Result<String, ApiError> {
    let record = state.preview_to_record(account, id);
    let (account, id2) = (account.to_owned(), id.to_owned());
    let opened = state
        .write(move |vault| Ok(vault.open_preview(&id2, &account, record)?))
        .await;
    let mut opened = match opened {
        Ok(o) => o,
        Err(e) => return Err(e),
    };
    tokio::task::spawn_blocking(move || {
        let mut buf = Vec::new();
        (&mut opened.reader)
            .take(MAX_TEXT_PREVIEW)
            .read_to_end(&mut buf)
            .map_err(|e| ApiError::internal(format!("reading a text original: {e}")))?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    })
    .await
    .map_err(|e| ApiError::internal(format!("text preview: {e}")))?
}

/// Open item `id`'s original for `signed`'s preview: the role check, the
/// collector's own-items rule, and the custody event (once per span).
async fn open_for_preview(
    state: &TeamState,
    signed: &SignedIn,
    id: String,
) -> Result<guwah_vault::Original, ApiError> {
    signed.caller.require(SEE_ORIGINALS, "previews")?;
    check_id(&id)?;
    let caller = signed.caller.clone();
    let full = state
        .read(move |vault| visible_id(vault, &caller, &id))
        .await?;
    let account = signed.caller.principal.name.clone();
    let record = state.preview_to_record(&account, &full);
    let (who, item) = (account.clone(), full.clone());
    let opened = state
        .write(move |vault| Ok(vault.open_preview(&item, &who, record)?))
        .await;
    if opened.is_err() && record {
        state.preview_not_recorded(&account, &full);
    }
    opened
}

/// `GET /items/{id}/preview`: a JPEG the server made of an image original
/// (never the original's bytes).
pub async fn preview(
    State(state): State<TeamState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let opened = match open_for_preview(&state, &signed, id).await {
        Ok(o) => o,
        Err(e) => return signed.page.error(e),
    };
    if preview_kind(&opened.media_type) != "image" || opened.size > MAX_PREVIEW_BYTES {
        return signed.page.error(ApiError::not_found("no preview"));
    }
    let made = tokio::task::spawn_blocking(move || {
        let mut opened = opened;
        let mut bytes = Vec::with_capacity(opened.size as usize);
        opened
            .reader
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        guwah_pdq::thumbnail_jpeg(bytes, PREVIEW_SIDE, guwah_pdq::DecodeLimits::default())
            .map_err(|e| e.to_string())
    })
    .await;
    match made {
        Ok(Ok(jpeg)) => Response::builder()
            .header(header::CONTENT_TYPE, "image/jpeg")
            .header(header::CONTENT_LENGTH, jpeg.len())
            .body(Body::from(jpeg))
            .unwrap_or_else(|_| Response::new(Body::empty())),
        Ok(Err(why)) => {
            eprintln!("guwah: no preview: {why}");
            signed.page.error(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no preview",
            ))
        }
        Err(e) => signed
            .page
            .error(ApiError::internal(format!("preview: {e}"))),
    }
}

/// `GET /items/{id}/media`: an audio or video original for the page's
/// player, streamed from the encrypted store with range requests.
pub async fn media(
    State(state): State<TeamState>,
    signed: SignedIn,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let opened = match open_for_preview(&state, &signed, id).await {
        Ok(o) => o,
        Err(e) => return signed.page.error(e),
    };
    if !matches!(preview_kind(&opened.media_type), "audio" | "video") {
        return signed.page.error(ApiError::not_found("not audio or video"));
    }
    ranged_answer(opened, &headers, false).unwrap_or_else(IntoResponse::into_response)
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

/// `POST /items/{id}/notes`: a note sealed as an `annotated` event.
pub async fn annotate(
    State(state): State<TeamState>,
    Path(id): Path<String>,
    PageForm { page, form }: PageForm<NoteForm>,
) -> Response {
    let Some((caller, _)) = page.session.clone() else {
        return redirect("/login");
    };
    if let Err(e) = caller.require(&[Role::Coordinator, Role::Reviewer], "annotating") {
        return page.error(e);
    }
    if let Err(e) = check_id(&id) {
        return page.error(e);
    }
    let note = form.note.replace("\r\n", "\n");
    if note.trim().is_empty() {
        return page.error(ApiError::bad_request("empty note"));
    }
    let name = caller.principal.name.clone();
    let result = state
        .write(move |vault| {
            let full = visible_id(vault, &caller, &id)?;
            let leaf = vault.annotate_for(&full, &note, &name)?;
            Ok((full, leaf))
        })
        .await;
    match result {
        Ok((full, leaf)) => redirect(&format!("/items/{full}?noted={leaf}#notes")),
        Err(e) => page.error(e),
    }
}

/// `GET /upload`: the submission page (its script does the work).
pub async fn upload(signed: SignedIn) -> Response {
    if let Err(e) = signed.caller.require(SUBMITTERS, "submitting") {
        return signed.page.error(e);
    }
    signed.page.render("upload.html", minijinja::context! {})
}
