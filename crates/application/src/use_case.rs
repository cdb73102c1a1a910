//! Boilerplate shared by the use cases.

/// `From<RepositoryError>` for a use-case error enum with `Unavailable` and `Unexpected` variants.
macro_rules! storage_errors {
    ($error:ident) => {
        impl From<$crate::ports::RepositoryError> for $error {
            fn from(error: $crate::ports::RepositoryError) -> Self {
                match error {
                    $crate::ports::RepositoryError::Unavailable(e) => Self::Unavailable(e),
                    $crate::ports::RepositoryError::Unexpected(e) => Self::Unexpected(e),
                }
            }
        }
    };
}
pub(crate) use storage_errors;

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
