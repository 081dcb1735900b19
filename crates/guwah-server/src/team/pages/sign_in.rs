//! Signing in and out, the language switch and the account's settings.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use guwah_i18n::Lang;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::super::error::ApiError;
use super::super::session::{Address, SignInRefused, session_cookie, sign_in};
use super::super::state::TeamState;
use super::page::{LANG_COOKIE, Page, PageForm, SignedIn, local_path, redirect};

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Where to go after signing in: `next` when it is a page here.
fn next_page(next: Option<&str>) -> &str {
    next.and_then(local_path).unwrap_or("/items")
}

/// `GET /login`.
pub async fn form(page: Page, Query(q): Query<NextQuery>) -> Response {
    if page.session.is_some() {
        return redirect(next_page(q.next.as_deref()));
    }
    page.render(
        "login.html",
        minijinja::context! { next => next_page(q.next.as_deref()), name => "", error => None::<String>, seconds => 0, need_code => false },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// `POST /login`: the same checks, limits and audit records as `POST
/// /api/login`; on success the session cookie and a redirect.
pub async fn submit(
    State(state): State<TeamState>,
    Address(address): Address,
    PageForm { page, form }: PageForm<LoginForm>,
) -> Response {
    let LoginForm {
        name,
        password,
        code,
        next,
    } = form;
    let password = Zeroizing::new(password);
    let code = Zeroizing::new(code);
    let code = (!code.trim().is_empty()).then(|| Zeroizing::new(code.trim().to_owned()));
    let secure = state.config.secure_cookies;
    match sign_in(&state, address, name.clone(), password, code).await {
        Ok(session) => {
            let max_age = session.expires_at - guwah_vault::unix_now();
            let mut resp = redirect(next_page(Some(&next)));
            resp.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&session.secret, max_age.max(0), secure),
            );
            resp
        }
        Err(refusal) => {
            let (status, key, seconds) = match refusal {
                SignInRefused::BadName(_) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "login-bad-name", 0)
                }
                SignInRefused::Throttled(_, wait) => {
                    (StatusCode::TOO_MANY_REQUESTS, "login-throttled", wait)
                }
                SignInRefused::Failed => (StatusCode::UNAUTHORIZED, "login-failed", 0),
                SignInRefused::NeedCode => (StatusCode::UNAUTHORIZED, "login-need-code", 0),
                SignInRefused::BadCode => (StatusCode::UNAUTHORIZED, "login-bad-code", 0),
                SignInRefused::Error(e) => return page.error(e),
            };
            let need_code = matches!(key, "login-need-code" | "login-bad-code");
            page.render_status(
                status,
                "login.html",
                minijinja::context! { next => next_page(Some(&next)), name => name, error => key, seconds => seconds, need_code => need_code },
            )
        }
    }
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /logout`.
pub async fn sign_out(
    State(state): State<TeamState>,
    PageForm { page, .. }: PageForm<Empty>,
) -> Response {
    let Some((caller, _)) = page.session.clone() else {
        return redirect("/login");
    };
    let credential = caller.principal.credential.clone();
    if let Err(e) = state
        .write(move |vault| Ok(vault.logout(&credential)?))
        .await
    {
        return page.error(e);
    }
    state.forget_principals();
    let mut resp = redirect("/login");
    resp.headers_mut().append(
        header::SET_COOKIE,
        session_cookie("", 0, state.config.secure_cookies),
    );
    resp
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    back: String,
}

/// `POST /language`: the switch on every page. Keeps the choice in a
/// cookie, and for a signed-in account in its settings.
pub async fn language(
    State(state): State<TeamState>,
    PageForm { page, form }: PageForm<LanguageForm>,
) -> Response {
    let Some(lang) = Lang::parse(&form.lang) else {
        return page.error(ApiError::bad_request("no such language"));
    };
    if let Some((caller, _)) = page.session.clone() {
        let name = caller.principal.name.clone();
        let code = lang.code();
        if let Err(e) = state
            .write(move |vault| Ok(vault.set_language(&name, Some(code))?))
            .await
        {
            return page.error(e);
        }
        state.forget_principals();
    }
    let back = local_path(&form.back).unwrap_or("/items");
    let mut resp = redirect(back);
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        lang.code()
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /settings`.
pub async fn settings(signed: SignedIn, Query(q): Query<SavedQuery>) -> Response {
    let SignedIn { page, caller, .. } = signed;
    page.render(
        "settings.html",
        minijinja::context! {
            account => caller.principal.name,
            chosen => caller.principal.language,
            saved => q.saved.is_some(),
        },
    )
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}
