//! The flow test bodies, one `pub async fn` per behaviour, named after the SECURITY.md
//! case they prove where there is one.

mod authorize;
mod concurrency;
mod flows;
mod refresh;
mod token;

pub use authorize::*;
pub use concurrency::*;
pub use flows::*;
pub use refresh::*;
pub use token::*;
