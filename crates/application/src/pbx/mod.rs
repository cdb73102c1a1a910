//! PBX connection profiles: drafts as clients send them, and the use cases.

mod create;
mod delete;
mod draft;
pub(crate) mod fields;
mod kazoo;
mod patch;
mod read;
mod three_cx;

pub use create::{CreatePbx, CreatePbxCommand, CreatePbxError};
pub use delete::{DeletePbx, DeletePbxError};
pub use draft::{ProfileDraft, ValidProfile};
pub use kazoo::KazooDraft;
pub use patch::{PatchPbx, PatchPbxCommand, PatchPbxError};
pub use read::{InstanceLookup, ReadPbxError, ReadPbxs};
pub use three_cx::ThreeCxDraft;
