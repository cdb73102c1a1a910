//! The subcommands, one file each.

pub(crate) mod explain;
pub(crate) mod migrate;
pub(crate) mod rotate_key;
pub(crate) mod seed;
pub(crate) mod serve;
pub(crate) mod token;
