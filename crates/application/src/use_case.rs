//! Boilerplate shared by the use cases.

/// A `Debug` for a use case that shows its name only (its ports are trait objects).
macro_rules! opaque_debug {
    ($name:ident) => {
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use opaque_debug;

/// A list's `filter` as the stores take it: trimmed, and none when blank.
pub(crate) fn search_text(filter: Option<String>) -> Option<String> {
    filter.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty())
}
