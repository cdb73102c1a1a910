//! Database errors as the ports name them.

use pbx_application::RepositoryError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Whether `error` means the database could not be reached (rather than a failed statement).
pub(crate) fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(
                **e,
                sea_orm::sqlx::Error::Io(_)
                    | sea_orm::sqlx::Error::PoolTimedOut
                    | sea_orm::sqlx::Error::PoolClosed
                    | sea_orm::sqlx::Error::WorkerCrashed
            ) || e.as_database_error().and_then(|db| db.code()).is_some_and(|code| is_failover_code(&code))
        }
        _ => false,
    }
}

/// Whether a server's error code means it cannot take the statement now but a primary soon will: PostgreSQL's
/// connection exceptions (`08…`), a server shutting down or starting (`57P01`–`57P03`), a standby or a demoted
/// primary refusing writes (`25006`, as during a Patroni switchover); MySQL's read-only server (`1290`, `1836`) and
/// its shutdown (`1053`). A client retries these (503).
fn is_failover_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "25006" | "1290" | "1836" | "1053")
}

/// A failed database call (a [`DbErr`], or one shared by a group) as a [`RepositoryError`]: the one place that
/// maps them, keeping the error as the cause.
pub(crate) fn repository_error<E>(error: E) -> RepositoryError
where
    E: std::borrow::Borrow<DbErr> + std::error::Error + Send + Sync + 'static,
{
    if is_unavailable(error.borrow()) {
        RepositoryError::Unavailable(error.into())
    } else {
        RepositoryError::Unexpected(error.into())
    }
}

/// Whether `error` is a unique-constraint violation.
pub(crate) fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether `error` is a foreign-key violation (a row still referred to).
pub(crate) fn is_foreign_key_violation(error: &DbErr) -> bool {
    if matches!(error.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) {
        return true;
    }
    // SQLite reports a RESTRICT action as SQLITE_CONSTRAINT_TRIGGER (1811), which SeaORM does not classify.
    match error {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .is_some_and(|db| db.code().as_deref() == Some("1811") && db.message().contains("FOREIGN KEY")),
        _ => false,
    }
}

/// Whether the database rolled the statement back to break a deadlock (PostgreSQL's 40P01 "deadlock detected",
/// InnoDB's 1213 "Deadlock found"): nothing of it was written, and it may simply run again.
pub(crate) fn is_deadlock(error: &DbErr) -> bool {
    error.to_string().to_ascii_lowercase().contains("deadlock")
}

#[cfg(test)]
mod tests {
    use super::is_failover_code;

    #[test]
    fn a_failover_s_codes_are_told_from_a_failed_statement() {
        for code in ["08006", "08003", "57P01", "57P03", "25006", "1290", "1836"] {
            assert!(is_failover_code(code), "{code}");
        }
        for code in ["23505", "40001", "42P01", "1062", "22001"] {
            assert!(!is_failover_code(code), "{code}");
        }
    }
}
