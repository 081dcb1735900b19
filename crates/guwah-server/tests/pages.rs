//! The web pages through the team router (tower's `oneshot`), over a real
//! vault: every page for every role in every language, no word outside
//! the Fluent files, evidence only ever as escaped text, forms bound to
//! the session and to our own origin, previews re-encoded and recorded.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Answer, FAST, PASSWORD, gps_photo};
use guwah_i18n::{Catalog, Lang};
use guwah_server::team::{self, TeamConfig, TeamState};
use guwah_vault::{Role, Vault};

const ROLES: [(&str, Role); 5] = [
    ("admin", Role::Admin),
    ("coord", Role::Coordinator),
    ("reviewer", Role::Reviewer),
    ("collector", Role::Collector),
    ("viewer", Role::Viewer),
];
/// A file name and a note that would run if a page ever took them as HTML.
const HOSTILE_NAME: &str = "<img src=x onerror=alert(1)>.jpg";
const HOSTILE_NOTE: &str = "</pre><script>alert('note')</script>";

struct Site {
    _dir: tempfile::TempDir,
    app: Router,
    state: TeamState,
    /// The GPS photo, submitted by `collector` under a hostile name.
    photo: String,
    /// A text item nobody submitted through the server.
    text: String,
}

/// A signed-in browser: its session cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::init(&dir.path().join("vault"), b"passphrase", None, FAST).unwrap();
    for (name, role) in ROLES {
        vault
            .add_account(name, role, PASSWORD.as_bytes(), "test")
            .unwrap();
    }
    let token = vault.issue_token("collector", "test").unwrap();
    let key = vault.authenticate(&token).unwrap().unwrap().key;
    let photo = gps_photo();
    let sub = guwah_vault::Submission {
        filename: Some(HOSTILE_NAME.into()),
        options: guwah_vault::AddOptions {
            note: Some(HOSTILE_NOTE.into()),
            source: Some("Aynur's sister".into()),
            tags: vec!["camp".into()],
            ..Default::default()
        },
        via: "upload",
        ..Default::default()
    };
    let photo = vault
        .add_submission(&photo[..], photo.len() as u64, &sub, "collector", &key)
        .unwrap()
        .id;
    let words = "لاگېر camp 集中营 <b>bold</b>\n".as_bytes();
    let text = vault
        .add_submission(
            words,
            words.len() as u64,
            &guwah_vault::Submission {
                filename: Some("testimony.txt".into()),
                via: "upload",
                ..Default::default()
            },
            "coord",
            "not-an-account-key",
        )
        .unwrap()
        .id;
    let state = TeamState::new(vault, TeamConfig::new(dir.path().join("spool"))).unwrap();
    Site {
        app: team::router(state.clone()),
        state,
        _dir: dir,
        photo,
        text,
    }
}

fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

impl Site {
    async fn send(&self, req: Request<Body>) -> Answer {
        common::send(&self.app, req).await
    }

    async fn get(&self, uri: &str, who: Option<&Browser>, lang: &str) -> Answer {
        let mut b = Request::builder()
            .uri(uri)
            .header(header::ACCEPT_LANGUAGE, lang);
        if let Some(who) = who {
            b = b.header(header::COOKIE, &who.cookie);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    async fn post_form(&self, uri: &str, who: Option<&Browser>, form: &[(&str, &str)]) -> Answer {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, "guwah.test")
            .header(header::ORIGIN, "http://guwah.test");
        if let Some(who) = who {
            b = b.header(header::COOKIE, &who.cookie);
        }
        let body = serde_urlencoded::to_string(form).unwrap();
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    async fn sign_in(&self, name: &str) -> Browser {
        let a = self
            .post_form(
                "/login",
                None,
                &[
                    ("name", name),
                    ("password", PASSWORD),
                    ("next", "/settings"),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.html());
        assert_eq!(a.location(), "/settings");
        let cookie = a
            .headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        assert!(cookie.starts_with("guwah_session=gws_"));
        let page = self
            .get(
                "/settings",
                Some(&Browser {
                    cookie: cookie.clone(),
                    csrf: String::new(),
                }),
                "en",
            )
            .await;
        Browser {
            csrf: csrf_of(&page.html()),
            cookie,
        }
    }
}

/// English sentences of the catalog (variables left out) that a page in
/// another language must not contain.
fn english_sentences() -> Vec<String> {
    let c = Catalog::new();
    Catalog::keys(Lang::En)
        .into_iter()
        .filter(|k| {
            ![
                "app-name",
                "item-sha256",
                "media-audio",
                "col-type",
                "item-type",
            ]
            .contains(&k.as_str())
        })
        .map(|k| c.text(Lang::En, &k, &[("total", guwah_i18n::Arg::Number(7.0))]))
        .filter(|s| {
            !s.contains('\u{2068}') && !s.starts_with('[') && s.contains(' ') && s.len() > 8
        })
        .collect()
}

fn check_page(html: &str, lang: Lang, what: &str) {
    assert!(
        html.contains(&format!(
            "<html lang=\"{}\" dir=\"{}\">",
            lang.code(),
            lang.dir()
        )),
        "{what}: no lang/dir on <html>"
    );
    // A missing key renders as [key]; a template error as a bare 500.
    let bracket = html.match_indices('[').any(|(i, _)| {
        let rest = &html[i + 1..];
        let key: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        key.len() > 2 && rest[key.len()..].starts_with(']')
    });
    assert!(!bracket, "{what}: a message key shows: {html}");
    if matches!(lang, Lang::Ug | Lang::ZhHans) {
        let text = visible_text(html);
        for s in english_sentences() {
            assert!(!text.contains(&s), "{what}: English left in: {s:?}");
        }
    }
}

/// The page's text, without tags.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn templates_hold_no_words_of_their_own() {
    for (name, source) in team::TEMPLATES {
        let text = team::template_text_outside_expressions(source);
        // Attribute values people read are translated too.
        for attr in ["alt=\"", "title=\"", "placeholder=\"", "aria-label=\""] {
            for (i, _) in text.match_indices(attr) {
                let value: String = text[i + attr.len()..]
                    .chars()
                    .take_while(|c| *c != '"')
                    .collect();
                assert!(
                    !value.chars().any(char::is_alphabetic),
                    "{name}: untranslated {attr}{value}\""
                );
            }
        }
        let words = visible_text(&text);
        let letters: String = words.chars().filter(|c| c.is_alphabetic()).collect();
        assert!(letters.is_empty(), "{name}: text outside t(): {words:?}");
    }
}

#[tokio::test]
async fn every_page_for_every_role_in_every_language() {
    let s = site();
    let pages = |photo: &str, text: &str| {
        vec![
            "/items".to_owned(),
            "/items?text=camp&media_type=image&from=2000-01-01".to_owned(),
            format!("/items/{photo}"),
            format!("/items/{photo}?preview=1"),
            format!("/items/{text}?preview=1"),
            "/upload".to_owned(),
            "/audit".to_owned(),
            "/users".to_owned(),
            "/settings".to_owned(),
            "/no-such-page".to_owned(),
        ]
    };
    for (name, role) in ROLES {
        let b = s.sign_in(name).await;
        for path in pages(&s.photo, &s.text) {
            for lang in Lang::ALL {
                let a = s.get(&path, Some(&b), lang.code()).await;
                let allowed = match path.as_str() {
                    "/no-such-page" => false,
                    "/audit" | "/users" => role == Role::Admin,
                    "/upload" => matches!(role, Role::Coordinator | Role::Collector),
                    "/settings" => true,
                    p if p.contains(&s.text) => !matches!(role, Role::Admin | Role::Collector),
                    _ => role != Role::Admin,
                };
                let what = format!("{name} {path} {}", lang.code());
                if allowed {
                    assert_eq!(a.status, StatusCode::OK, "{what}: {}", a.html());
                } else {
                    assert!(
                        matches!(a.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
                        "{what}: {}",
                        a.status
                    );
                }
                let csp = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
                assert!(
                    csp.contains("script-src 'self'") && !csp.contains("unsafe"),
                    "{what}: {csp}"
                );
                assert_eq!(a.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
                check_page(&a.html(), lang, &what);
            }
        }
    }
    // Signed out: the sign-in page in every language, and every other page
    // sends there.
    for lang in Lang::ALL {
        let a = s.get("/login", None, lang.code()).await;
        assert_eq!(a.status, StatusCode::OK);
        check_page(&a.html(), lang, "/login");
    }
    let a = s.get("/items?text=x", None, "en").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/login?next=/items%3Ftext%3Dx");
}

#[tokio::test]
async fn evidence_is_only_ever_escaped_text() {
    let s = site();
    let b = s.sign_in("coord").await;
    for path in [
        "/items".to_owned(),
        format!("/items/{}", s.photo),
        format!("/items/{}?preview=1", s.text),
    ] {
        let html = s.get(&path, Some(&b), "en").await.html();
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<b>bold"), "{path}");
    }
    let list = s.get("/items", Some(&b), "en").await.html();
    assert!(
        list.contains("&lt;img src=x onerror=alert(1)&gt;.jpg"),
        "{list}"
    );
    let text = s
        .get(&format!("/items/{}?preview=1", s.text), Some(&b), "ug")
        .await
        .html();
    assert!(
        text.contains("لاگېر camp 集中营 &lt;b&gt;bold&lt;&#x2f;b&gt;"),
        "{text}"
    );
}

#[tokio::test]
async fn a_viewer_sees_no_sensitive_field_no_original_and_no_collector() {
    let s = site();
    let coord = s.sign_in("coord").await;
    let viewer = s.sign_in("viewer").await;
    let full = s
        .get(&format!("/items/{}", s.photo), Some(&coord), "en")
        .await
        .html();
    assert!(full.contains("gps.latitude"), "the photo has GPS: {full}");
    assert!(full.contains("Aynur"));
    let seen = s
        .get(&format!("/items/{}", s.photo), Some(&viewer), "en")
        .await
        .html();
    assert!(seen.contains("Withheld from your role"));
    assert!(!seen.contains("Aynur"), "the source is sensitive");
    // Every GPS value the coordinator sees is absent for the viewer.
    let detail = s.state.vault.show(&s.photo).unwrap();
    for f in detail.fields.iter().filter(|f| f.name.starts_with("gps.")) {
        let v = f.value.clone().unwrap();
        assert!(!seen.contains(&v), "viewer sees {} = {v}", f.name);
    }
    assert!(!seen.contains("/original"), "no download link");
    assert!(!seen.contains("?preview=1"), "no preview link");
    let a = s
        .get(&format!("/items/{}/preview", s.photo), Some(&viewer), "en")
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let list = s.get("/items", Some(&viewer), "en").await.html();
    assert!(
        !list.contains("collector</bdi>"),
        "viewers do not see who submitted"
    );
    assert!(!list.contains("f-collector"));
}

#[tokio::test]
async fn a_collector_sees_only_their_own_submissions() {
    let s = site();
    let b = s.sign_in("collector").await;
    let list = s.get("/items", Some(&b), "en").await.html();
    assert!(list.contains(&s.photo));
    assert!(!list.contains(&s.text));
    let a = s.get(&format!("/items/{}", s.text), Some(&b), "en").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = s
        .get(&format!("/items/{}/preview", s.text), Some(&b), "en")
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_preview_is_a_new_jpeg_recorded_once_per_span() {
    let s = site();
    let b = s.sign_in("reviewer").await;
    let before = s.state.vault.show(&s.photo).unwrap().custody.len();
    let a = s
        .get(&format!("/items/{}/preview", s.photo), Some(&b), "en")
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_TYPE], "image/jpeg");
    let original = gps_photo();
    assert_ne!(a.body, original);
    assert!(
        !a.body.windows(4).any(|w| w == b"Exif"),
        "no EXIF (and so no GPS) in a preview"
    );
    let img = image_size(&a.body);
    assert!(img.0 <= 800 && img.1 <= 800, "{img:?}");
    let again = s
        .get(&format!("/items/{}/preview", s.photo), Some(&b), "en")
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let custody = s.state.vault.show(&s.photo).unwrap().custody;
    assert_eq!(custody.len(), before + 1, "one event for two views");
    let event = custody.last().unwrap();
    assert_eq!(event.action, "exported");
    let value = |n: &str| {
        event
            .fields
            .iter()
            .find(|f| f.name == n)
            .and_then(|f| f.value.clone())
    };
    assert_eq!(value("output").as_deref(), Some("preview"));
    assert_eq!(value("account").as_deref(), Some("reviewer"));
    // A text item has no image preview, and media plays only audio/video.
    let a = s
        .get(&format!("/items/{}/preview", s.text), Some(&b), "en")
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = s
        .get(&format!("/items/{}/media", s.photo), Some(&b), "en")
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

/// Width and height from a baseline JPEG's SOF0 marker.
fn image_size(jpeg: &[u8]) -> (u16, u16) {
    let at = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline JPEG");
    let h = u16::from_be_bytes([jpeg[at + 5], jpeg[at + 6]]);
    let w = u16::from_be_bytes([jpeg[at + 7], jpeg[at + 8]]);
    (w, h)
}

#[tokio::test]
async fn forms_need_the_session_token_and_our_own_origin() {
    let s = site();
    let b = s.sign_in("reviewer").await;
    let uri = format!("/items/{}/notes", s.photo);
    let size = s.state.vault.size().unwrap();
    let a = s
        .post_form(&uri, Some(&b), &[("note", "x"), ("csrf", "wrong")])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = s.post_form(&uri, Some(&b), &[("note", "x")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let cross = Request::builder()
        .method(Method::POST)
        .uri(&uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &b.cookie)
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(format!("note=x&csrf={}", b.csrf)))
        .unwrap();
    assert_eq!(s.send(cross).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.state.vault.size().unwrap(), size, "nothing was sealed");
    let a = s
        .post_form(
            &uri,
            Some(&b),
            &[("note", "ئىزاھات: seen at the gate"), ("csrf", &b.csrf)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.location().contains("?noted="), "{}", a.location());
    let page = s.get(a.location(), Some(&b), "ug").await.html();
    assert!(page.contains("ئىزاھات: seen at the gate"));
    // A viewer may not annotate even with its own token.
    let v = s.sign_in("viewer").await;
    let a = s
        .post_form(&uri, Some(&v), &[("note", "x"), ("csrf", &v.csrf)])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // Signing out needs the token too, then the session is gone.
    let a = s.post_form("/logout", Some(&b), &[("csrf", "nope")]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = s.post_form("/logout", Some(&b), &[("csrf", &b.csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        s.get("/items", Some(&b), "en").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_language_comes_from_the_account_then_the_browser() {
    let s = site();
    let b = s.sign_in("reviewer").await;
    let a = s.get("/items", Some(&b), "fr-CA, en;q=0.5").await.html();
    assert!(a.contains("<html lang=\"fr\""));
    let a = s
        .post_form(
            "/language",
            Some(&b),
            &[("lang", "ug"), ("back", "/items"), ("csrf", &b.csrf)],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/items");
    // Saved in the account: another browser (no cookie) sees Uyghur too.
    let other = s.sign_in("reviewer").await;
    let page = s.get("/items", Some(&other), "zh-CN").await.html();
    assert!(page.contains("<html lang=\"ug\" dir=\"rtl\">"), "{page}");
    // Signed out, the switch keeps the choice in a cookie.
    let a = s
        .post_form(
            "/language",
            None,
            &[("lang", "zh-Hans"), ("back", "//evil.example/")],
        )
        .await;
    assert_eq!(a.location(), "/items", "never sends anyone elsewhere");
    let set = a.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("guwah_lang=zh-Hans;"), "{set}");
    let login = s
        .send(
            Request::builder()
                .uri("/login")
                .header(header::COOKIE, "guwah_lang=zh-Hans")
                .header(header::ACCEPT_LANGUAGE, "fr")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .html();
    assert!(login.contains("<html lang=\"zh-Hans\""));
    let a = s.post_form("/language", None, &[("lang", "xx")]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sign_in_failures_are_shown_in_the_language_and_counted() {
    let s = site();
    let a = s
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT_LANGUAGE, "ug")
                .body(Body::from("name=coord&password=wrong-password-here"))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let html = a.html();
    assert!(html.contains("نام ياكى پارول خاتا"), "{html}");
    assert!(html.contains("value=\"coord\""), "the name is kept");
    let trail = s.state.vault.audit_trail().unwrap();
    assert_eq!(trail.last().unwrap().action, "login-failed");
}

#[tokio::test]
async fn the_browser_verifier_is_served_under_its_own_policy() {
    let s = site();
    let a = s.get("/verify.html", None, "en").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers[header::CONTENT_SECURITY_POLICY], guwah_web::CSP);
    assert!(a.html().contains("<html"));
    let b = s.sign_in("reviewer").await;
    let page = s.get("/items", Some(&b), "fr").await.html();
    assert!(
        page.contains("href=\"/verify.html\""),
        "linked from every page"
    );
}
