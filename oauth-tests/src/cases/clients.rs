//! The client registry seen by an admin tool: removal.

use oauth_core::{ClientId, ErrorCode, Storage};

use crate::*;

/// A removed client is refused from then on: its refresh token gets `invalid_client`
/// (the token is not rotated), a new authorization is an error page; other clients'
/// tokens still refresh.
pub async fn removed_client_refresh_is_invalid_client<S: Storage + 'static>(h: Harness<S>) {
    let spa = h.redeem_spa(&h.spa_code().await).await;
    let refresh = spa.refresh_token.clone().unwrap();
    let server = expect_issued(h.redeem_server(&h.server_code("read:users").await).await);

    let id = ClientId::new("spa").unwrap();
    assert!(h.engine.remove_client(&id).await.expect("no fault"));
    assert!(!h.engine.remove_client(&id).await.expect("no fault"));

    expect_refused(
        &h.refresh_spa(&refresh, None).await,
        ErrorCode::InvalidClient,
        401,
    );
    assert!(
        h.is_active(&refresh).await,
        "a refused refresh rotates nothing"
    );
    expect_page(
        &h.authorize_owned(&Harness::<S>::spa_request(&[])).await,
        ErrorCode::InvalidRequest,
    );
    let again = h
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", server.refresh_token.as_ref().unwrap()),
            ],
            Some(&basic("server", SERVER_SECRET)),
        )
        .await;
    expect_issued(again);
}
