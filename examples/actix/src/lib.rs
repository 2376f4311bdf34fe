//! # finrift `oauth-actix`
//!
//! (docs below)

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bearer;
mod endpoints;
mod limits;
mod request;
mod require_scope;
mod response;

pub use bearer::Bearer;
pub use endpoints::{MachineEndpoints, METADATA_PATH};
pub use limits::{ServerLimits, MAX_BODY_BYTES};
pub use request::caller_key;
pub use require_scope::{RequireScope, RequireScopeService};
pub use response::OAuthResponse;
