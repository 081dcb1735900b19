//! The admin's pages: the audit trail and the accounts.

use axum::extract::State;
use axum::response::Response;
use guwah_vault::Role;
use serde::Serialize;

use super::super::state::TeamState;
use super::page::SignedIn;

#[derive(Serialize)]
struct AuditRow {
    leaf_index: u64,
    action: String,
    at: String,
    item: Option<String>,
    fields: Vec<(String, String)>,
}

/// `GET /audit`: every audit record and account-made custody event,
/// newest first.
pub async fn audit(State(state): State<TeamState>, signed: SignedIn) -> Response {
    if let Err(e) = signed
        .caller
        .require(&[Role::Admin], "reading the audit trail")
    {
        return signed.page.error(e);
    }
    let rows = state
        .read(|vault| {
            Ok(vault
                .audit_trail()?
                .into_iter()
                .rev()
                .take(1000)
                .map(|a| AuditRow {
                    leaf_index: a.leaf_index,
                    action: a.action,
                    at: a.at,
                    item: a.item,
                    fields: a.fields,
                })
                .collect::<Vec<_>>())
        })
        .await;
    match rows {
        Ok(rows) => signed.page.render(
            "audit.html",
            minijinja::context! { rows => minijinja::Value::from_serialize(&rows) },
        ),
        Err(e) => signed.page.error(e),
    }
}

/// `GET /users`: the accounts and their roles.
pub async fn users(State(state): State<TeamState>, signed: SignedIn) -> Response {
    if let Err(e) = signed.caller.require(&[Role::Admin], "listing accounts") {
        return signed.page.error(e);
    }
    match state.read(|vault| Ok(vault.accounts()?)).await {
        Ok(accounts) => {
            let rows: Vec<_> = accounts
                .iter()
                .map(|a| {
                    minijinja::context! {
                        name => a.name,
                        role_key => format!("role-{}", a.role.as_str()),
                        disabled => a.disabled,
                    }
                })
                .collect();
            signed
                .page
                .render("users.html", minijinja::context! { accounts => rows })
        }
        Err(e) => signed.page.error(e),
    }
}
