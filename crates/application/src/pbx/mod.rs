//! PBX connection profiles: drafts as clients send them, and the use cases.

mod create;
mod draft;
mod kazoo;
mod three_cx;

pub use create::{CreatePbx, CreatePbxCommand, CreatePbxError};
pub use draft::{ProfileDraft, ValidProfile};
pub use kazoo::KazooDraft;
pub use three_cx::ThreeCxDraft;
