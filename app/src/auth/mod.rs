//! Who the caller is and what they may do.
//!
//! - [`Role`] and [`Me`] are shared with the browser.
//! - Behind `ssr`: server-side sessions ([`session`]), the [`Principal`] that one middleware puts
//!   in every request's extensions, and the authorization [`gate`] that every server function
//!   passes (the policy table in [`policy`] names each one).

mod roles;
pub use roles::{Me, Role, UserKind};

#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod gate;
pub mod policy;
#[cfg(feature = "ssr")]
mod principal;
#[cfg(feature = "ssr")]
pub mod scope;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod session;

#[cfg(feature = "ssr")]
pub use principal::{Assignment, ClientAddress, Principal, Staff, TestBinding, Who};
