//! The account store's contract, checked on every backend alike.

use guwah_store::mem::MemStore;
use guwah_store::{AccountRow, Backend, CredentialKind, CredentialRow, StoreError};

/// Runs `check` against a fresh backend of each kind.
fn on_every_backend(check: impl Fn(&Backend)) {
    check(&MemStore::new().backend());
    let dir = tempfile::tempdir().unwrap();
    check(&Backend::create_local(dir.path()).unwrap());
}

fn account(key: &str, role: &str) -> AccountRow {
    AccountRow {
        key: key.into(),
        role: role.into(),
        disabled: false,
        sealed: format!("sealed {key}").into_bytes(),
        updated_at: 100,
    }
}

fn credential(
    hash: &str,
    kind: CredentialKind,
    account: &str,
    created_at: i64,
    expires_at: Option<i64>,
) -> CredentialRow {
    CredentialRow {
        hash: hash.into(),
        kind,
        account: account.into(),
        created_at,
        expires_at,
        sealed: vec![1, 2],
    }
}

fn conflict(r: Result<(), StoreError>, says: &str) {
    let err = r.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains(says), "{err}");
}

#[test]
fn accounts_are_created_once_and_updated_in_place() {
    on_every_backend(|s| {
        let a = &s.accounts;
        assert_eq!(a.account("k2").unwrap(), None);
        a.create_account(&account("k2", "reviewer")).unwrap();
        a.create_account(&account("k1", "admin")).unwrap();
        conflict(
            a.create_account(&account("k2", "admin")),
            "account k2 exists",
        );
        assert_eq!(a.account("k2").unwrap().unwrap().role, "reviewer");

        let mut changed = account("k2", "admin");
        changed.disabled = true;
        changed.sealed = Vec::new();
        changed.updated_at = 200;
        a.update_account(&changed).unwrap();
        assert_eq!(a.account("k2").unwrap().unwrap(), changed);
        conflict(a.update_account(&account("k3", "admin")), "no account k3");
        assert_eq!(a.account("k3").unwrap(), None, "update makes nothing");

        let keys: Vec<_> = a.accounts().unwrap().into_iter().map(|r| r.key).collect();
        assert_eq!(keys, ["k1", "k2"], "ordered by key");
    });
}

#[test]
fn credentials_open_until_they_expire() {
    on_every_backend(|s| {
        let a = &s.accounts;
        a.create_account(&account("k1", "admin")).unwrap();
        let token = credential("h1", CredentialKind::Token, "k1", 10, None);
        let session = credential("h2", CredentialKind::Session, "k1", 5, Some(50));
        a.put_credential(&token).unwrap();
        a.put_credential(&session).unwrap();
        conflict(
            a.put_credential(&credential("h1", CredentialKind::Session, "k1", 1, None)),
            "credential exists",
        );
        conflict(
            a.put_credential(&credential("h3", CredentialKind::Token, "k9", 1, None)),
            "no account k9",
        );
        assert_eq!(a.credential("h3", 0).unwrap(), None, "refused: not stored");
        assert_eq!(a.credential("h1", 0).unwrap().unwrap(), token, "unchanged");

        assert_eq!(a.credential("h2", 49).unwrap().unwrap(), session);
        assert_eq!(a.credential("h2", 50).unwrap(), None, "expired at 50");
        assert_eq!(a.credential("h1", i64::MAX).unwrap().unwrap(), token);
        assert_eq!(
            a.credentials_of("k1", 0).unwrap(),
            [session.clone(), token.clone()],
            "oldest first"
        );
        assert_eq!(
            a.credentials_of("k1", 50).unwrap(),
            std::slice::from_ref(&token)
        );
        assert!(a.credentials_of("k9", 0).unwrap().is_empty());

        assert!(a.delete_credential("h1").unwrap());
        assert!(!a.delete_credential("h1").unwrap());
        assert_eq!(a.credential("h1", 0).unwrap(), None);
    });
}

#[test]
fn credentials_go_by_account_kind_or_expiry() {
    on_every_backend(|s| {
        let a = &s.accounts;
        a.create_account(&account("k1", "admin")).unwrap();
        a.create_account(&account("k2", "reviewer")).unwrap();
        let put = |hash, kind, account, expires| {
            a.put_credential(&credential(hash, kind, account, 1, expires))
                .unwrap()
        };
        put("s1", CredentialKind::Session, "k1", Some(10));
        put("s2", CredentialKind::Session, "k1", Some(20));
        put("t1", CredentialKind::Token, "k1", None);
        put("s3", CredentialKind::Session, "k2", Some(10));
        put("t2", CredentialKind::Token, "k2", None);

        assert_eq!(
            a.delete_credentials_of("k1", Some(CredentialKind::Session))
                .unwrap(),
            2
        );
        assert_eq!(a.credential("t1", 0).unwrap().unwrap().hash, "t1");
        assert_eq!(a.delete_credentials_of("k1", None).unwrap(), 1);
        assert_eq!(a.delete_credentials_of("k1", None).unwrap(), 0);
        assert_eq!(a.credentials_of("k2", 0).unwrap().len(), 2, "k2 untouched");

        put("s4", CredentialKind::Session, "k2", Some(30));
        assert_eq!(a.purge_expired(9).unwrap(), 0);
        assert_eq!(a.purge_expired(10).unwrap(), 1, "expires_at <= now");
        assert_eq!(a.purge_expired(10).unwrap(), 0);
        let left: Vec<_> = a
            .credentials_of("k2", 0)
            .unwrap()
            .into_iter()
            .map(|r| r.hash)
            .collect();
        assert_eq!(left, ["s4", "t2"]);
        assert_eq!(a.purge_expired(i64::MAX).unwrap(), 1, "tokens stay");
    });
}

#[test]
fn accounts_are_counted_calls_of_the_memory_store() {
    let store = MemStore::new();
    let s = store.backend();
    store.inject(0, guwah_store::mem::Fault::Fail);
    assert!(s.accounts.create_account(&account("k1", "admin")).is_err());
    assert_eq!(s.accounts.account("k1").unwrap(), None, "no effect");
    s.accounts.create_account(&account("k1", "admin")).unwrap();
    store.crash();
    assert!(
        s.accounts.account("k1").unwrap().is_some(),
        "durable on return"
    );
}
