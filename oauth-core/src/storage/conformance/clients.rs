//! Properties of the client registry.

use super::*;

/// A client comes back exactly as stored (kind and secret hash or derivation, redirect
/// URIs in order, grant types, scopes, the PKCE opt-out), and `put_client` with the same
/// id replaces it.
pub async fn client_round_trip<S: Storage>(store: S) {
    let kit = Kit::new();
    let id = kit.client_id();
    let secret = format!("{}{}", kit.id(), kit.id());
    let confidential = Client::confidential(id.as_str(), &secret)
        .and_then(|c| c.redirect_uri("https://kit.example/cb"))
        .and_then(|c| c.redirect_uri("http://127.0.0.1/callback"))
        .map(|c| {
            c.allowed_scopes(scopes("openid read:users write:users"))
                .default_scopes(scopes("read:users"))
                .grant_types([
                    GrantType::AuthorizationCode,
                    GrantType::ClientCredentials,
                    GrantType::RefreshToken,
                ])
                .danger_allow_missing_pkce()
        })
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("kit client: {e}"));
    ok(store.put_client(confidential.clone()).await, "put_client");
    let got = ok(store.get_client(&id).await, "get_client");
    assert_eq!(
        got.as_ref(),
        Some(&confidential),
        "storage conformance: a client must come back exactly as stored"
    );
    assert!(
        got.is_some_and(|c| c.verify_secret(&secret)),
        "storage conformance: a stored confidential client must still verify its secret"
    );

    // A human-chosen secret is kept as a salted derivation: that comes back too.
    let password = format!("pw-{}", kit.id());
    let derived = Client::confidential_with_password(kit.client_id().as_str(), &password)
        .and_then(|c| c.redirect_uri("https://kit.example/cb"))
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("kit client: {e}"));
    ok(store.put_client(derived.clone()).await, "put_client");
    let got = ok(store.get_client(derived.id()).await, "get_client");
    assert_eq!(
        got.as_ref(),
        Some(&derived),
        "storage conformance: a client with a derived secret must come back exactly as stored"
    );
    assert!(
        got.is_some_and(|c| c.verify_secret(&password)),
        "storage conformance: a stored client must still verify its human-chosen secret"
    );

    // The same id again: the registration is replaced, not duplicated or kept.
    let public = Client::public(id.as_str())
        .and_then(|c| c.redirect_uri("https://kit.example/other"))
        .map(|c| c.allowed_scopes(scopes("read:users")))
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("kit client: {e}"));
    ok(
        store.put_client(public.clone()).await,
        "put_client (replace)",
    );
    assert_eq!(
        ok(store.get_client(&id).await, "get_client"),
        Some(public),
        "storage conformance: put_client with an existing id must replace the registration"
    );
}

/// An id never stored gives `None`, not an error.
pub async fn unknown_client_is_none<S: Storage>(store: S) {
    let kit = Kit::new();
    assert_eq!(
        ok(store.get_client(&kit.client_id()).await, "get_client"),
        None,
        "storage conformance: an unknown client must be None"
    );
}

/// A public client with `id`, for the registry properties.
#[track_caller]
fn kit_client(id: &str) -> Client {
    Client::public(id)
        .and_then(|c| c.redirect_uri("https://kit.example/cb"))
        .map(|c| c.allowed_scopes(scopes("read:users")))
        .and_then(|c| c.build())
        .unwrap_or_else(|e| panic!("kit client: {e}"))
}

/// `list_clients` pages through the registry in id order: walking it by the last id of
/// each page sees every client once, each page holds at most `limit`, and `limit` is
/// capped at [`MAX_CLIENT_PAGE`].
pub async fn list_clients_pages_every_client_once_in_order<S: Storage>(store: S) {
    let kit = Kit::new();
    // One prefix for this run's clients, so that the walk from it stays among them on a
    // database other runs share; the ids are put out of order.
    let prefix = format!("kit-{}-", kit.id());
    let mut ours: Vec<Client> = [4, 0, 6, 2, 5, 1, 3]
        .iter()
        .map(|i| kit_client(&format!("{prefix}{i}")))
        .collect();
    for client in &ours {
        ok(store.put_client(client.clone()).await, "put_client");
    }
    ours.sort_by(|a, b| a.id().cmp(b.id()));

    let start = ClientId::new(prefix.clone()).unwrap_or_else(|e| panic!("kit client: {e}"));
    let mut walked: Vec<Client> = Vec::new();
    let mut after = start;
    loop {
        let page = ok(store.list_clients(Some(&after), 3).await, "list_clients");
        assert!(
            page.len() <= 3,
            "storage conformance: list_clients must answer at most `limit` clients"
        );
        let mut last_of_ours = true;
        for client in &page {
            assert!(
                *client.id() > after,
                "storage conformance: list_clients must answer ids after `after`, in order"
            );
            after = client.id().clone();
            if client.id().as_str().starts_with(&prefix) {
                walked.push(client.clone());
            } else {
                last_of_ours = false;
            }
        }
        if page.len() < 3 || !last_of_ours {
            break;
        }
    }
    assert_eq!(
        walked, ours,
        "storage conformance: paging by the last id seen must walk every client once, in \
         id order, each as stored"
    );

    // From the start, the whole registry: still in order, ours among it once each.
    let mut after: Option<ClientId> = None;
    let mut seen = 0;
    loop {
        let page = ok(store.list_clients(after.as_ref(), 2).await, "list_clients");
        for client in &page {
            assert!(
                after.as_ref().is_none_or(|after| client.id() > after),
                "storage conformance: list_clients from the first must be in id order"
            );
            seen += usize::from(client.id().as_str().starts_with(&prefix));
            after = Some(client.id().clone());
        }
        if page.len() < 2 {
            break;
        }
    }
    assert_eq!(
        seen,
        ours.len(),
        "storage conformance: a walk from the first must see every client once"
    );

    assert!(
        ok(store.list_clients(None, 0).await, "list_clients").is_empty(),
        "storage conformance: a limit of 0 answers nothing"
    );
    assert!(
        ok(store.list_clients(None, usize::MAX).await, "list_clients").len() <= MAX_CLIENT_PAGE,
        "storage conformance: list_clients must cap `limit` at MAX_CLIENT_PAGE"
    );
}

/// `remove_client` removes that client alone and answers whether it was there: it is
/// then unknown to `get_client` and absent from `list_clients`.
pub async fn remove_client_removes_it_alone<S: Storage>(store: S) {
    let kit = Kit::new();
    // Both under one prefix of this run's, so that nothing else sorts between them.
    let prefix = format!("kit-{}-", kit.id());
    let gone = kit_client(&format!("{prefix}a"));
    let kept = kit_client(&format!("{prefix}b"));
    ok(store.put_client(gone.clone()).await, "put_client");
    ok(store.put_client(kept.clone()).await, "put_client");
    assert!(
        ok(store.remove_client(gone.id()).await, "remove_client"),
        "storage conformance: remove_client must answer true for a registered client"
    );
    assert_eq!(
        ok(store.get_client(gone.id()).await, "get_client"),
        None,
        "storage conformance: a removed client must be unknown"
    );
    let start = ClientId::new(prefix).unwrap_or_else(|e| panic!("kit client: {e}"));
    assert_eq!(
        ok(store.list_clients(Some(&start), 1).await, "list_clients").first(),
        Some(&kept),
        "storage conformance: a removed client must not be listed"
    );
    assert_eq!(
        ok(store.get_client(kept.id()).await, "get_client").as_ref(),
        Some(&kept),
        "storage conformance: remove_client must leave other clients alone"
    );
    assert!(
        !ok(store.remove_client(gone.id()).await, "remove_client"),
        "storage conformance: removing a removed client must answer false"
    );
    assert!(
        !ok(store.remove_client(&kit.client_id()).await, "remove_client"),
        "storage conformance: removing an unknown client must answer false"
    );
}
