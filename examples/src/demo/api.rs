//! The API's answers, once the guard has admitted the caller.

use super::*;

fn json(status: u16, body: serde_json::Value) -> Response {
    Response {
        status,
        headers: vec![
            ("Content-Type", "application/json".to_owned()),
            ("Cache-Control", "no-store".to_owned()),
        ],
        body: body.to_string(),
    }
}

fn caller(principal: &Principal) -> serde_json::Value {
    serde_json::json!({
        "subject": principal.subject,
        "client_id": principal.client_id,
        "scope": principal.scope.to_string(),
    })
}

/// `GET /api/users` (read:users).
pub fn list_users(principal: &Principal) -> Response {
    let users: Vec<_> = USERS.iter().map(|(name, _, _)| *name).collect();
    json(
        200,
        serde_json::json!({"users": users, "caller": caller(principal)}),
    )
}

/// `POST /api/users` (write:users). The demo stores nothing.
pub fn create_user(principal: &Principal) -> Response {
    json(
        201,
        serde_json::json!({"created": true, "note": "the demo stores nothing", "caller": caller(principal)}),
    )
}

/// `GET /api/payments` (read:payments).
pub fn list_payments(principal: &Principal) -> Response {
    json(
        200,
        serde_json::json!({
            "payments": [{"id": "pay_1", "amount": "12.50", "currency": "EUR"}],
            "caller": caller(principal),
        }),
    )
}
