//! The flow test bodies, one `pub async fn` per behaviour, named after the SECURITY.md
//! case they prove where there is one.

mod authorize;
mod client_assertion;
mod clients;
mod concurrency;
mod dpop;
mod dpop_binding;
mod events;
mod fapi;
mod flows;
mod introspection;
mod jwt;
mod openid;
mod openid_authorize;
mod pushed_request;
mod refresh;
mod subject;
mod token;

pub use authorize::*;
pub use client_assertion::*;
pub use clients::*;
pub use concurrency::*;
pub use dpop::*;
pub use dpop_binding::*;
pub use events::*;
pub use fapi::*;
pub use flows::*;
pub use introspection::*;
pub use jwt::*;
pub use openid::*;
pub use openid_authorize::*;
pub use pushed_request::*;
pub use refresh::*;
pub use subject::*;
pub use token::*;
