//! Patch customer: change a customer with a JSON Patch; the result must pass every rule of a create.

use std::sync::Arc;

use pbx_domain::{Customer, CustomerId, ResellerId};

use super::fields;
use crate::input::FieldProblem;
use crate::patch::{PatchError, PatchOp, apply};
use crate::ports::{CustomerRepository, Versioned, WriteError};
use crate::use_case::{opaque_debug, storage_errors};

/// What a reseller asks for.
#[derive(Debug, Clone)]
pub struct PatchCustomerCommand {
    /// The caller.
    pub reseller: ResellerId,
    /// The customer.
    pub customer_id: CustomerId,
    /// The patch document.
    pub operations: Vec<PatchOp>,
    /// The version the caller last saw (`If-Match`), when given.
    pub if_match: Option<u64>,
}

/// Why the customer was not changed.
#[derive(Debug, thiserror::Error)]
pub enum PatchCustomerError {
    /// No such customer for the caller.
    #[error("not found")]
    NotFound,
    /// The customer changed since the version the caller gave.
    #[error("the customer has changed")]
    PreconditionFailed,
    /// The patch or the patched customer has problems; every one is listed.
    #[error("the patch is invalid")]
    Invalid(Vec<FieldProblem>),
    /// A `test` operation failed at this path.
    #[error("a test operation failed")]
    TestFailed(String),
    /// The database is unavailable.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}
storage_errors!(PatchCustomerError);

/// The patch-customer use case.
#[derive(Clone)]
pub struct PatchCustomer {
    customers: Arc<dyn CustomerRepository>,
}
opaque_debug!(PatchCustomer);

impl PatchCustomer {
    /// The use case over its port.
    #[must_use]
    pub fn new(customers: Arc<dyn CustomerRepository>) -> Self {
        Self { customers }
    }

    /// Applies the patch and returns the customer as stored.
    ///
    /// # Errors
    /// See [`PatchCustomerError`].
    #[tracing::instrument(name = "patch_customer", skip(self, command), fields(customer_id = %command.customer_id))]
    pub async fn execute(&self, command: PatchCustomerCommand) -> Result<Versioned<Customer>, PatchCustomerError> {
        let current =
            self.customers.find(command.reseller, command.customer_id).await?.ok_or(PatchCustomerError::NotFound)?;
        if command.if_match.is_some_and(|v| v != current.version) {
            return Err(PatchCustomerError::PreconditionFailed);
        }
        let mut values = fields::of(&current.value);
        apply(&mut values, command.operations, &fields::rules()).map_err(|e| match e {
            PatchError::Invalid(problems) => PatchCustomerError::Invalid(problems),
            PatchError::TestFailed(path) => PatchCustomerError::TestFailed(path),
        })?;
        let details = fields::draft(values).parse().map_err(PatchCustomerError::Invalid)?;
        let patched = Customer { details, ..current.value };
        let version = self.customers.update(&patched, current.version).await.map_err(|e| match e {
            WriteError::NotFound => PatchCustomerError::NotFound,
            WriteError::VersionMismatch => PatchCustomerError::PreconditionFailed,
            WriteError::Repository(e) => e.into(),
            other => PatchCustomerError::Unexpected(other.into()),
        })?;
        tracing::info!(version, "customer changed");
        Ok(Versioned { value: patched, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Raw;
    use crate::ports::MockCustomerRepository;
    use pbx_domain::{CustomerName, NewCustomer};
    use uuid::Uuid;

    fn repository() -> MockCustomerRepository {
        let mut customers = MockCustomerRepository::new();
        customers.expect_find().returning(|reseller, id| {
            let details = NewCustomer::named(CustomerName::parse("Acme").unwrap());
            Ok(Some(Versioned {
                value: Customer { id, reseller_id: reseller, date_created: chrono::Utc::now(), details },
                version: 2,
            }))
        });
        customers
    }

    fn command(operations: Vec<PatchOp>, if_match: Option<u64>) -> PatchCustomerCommand {
        PatchCustomerCommand {
            reseller: ResellerId::from_uuid(Uuid::from_u128(1)),
            customer_id: CustomerId::from_uuid(Uuid::from_u128(2)),
            operations,
            if_match,
        }
    }

    #[tokio::test]
    async fn a_patch_keeps_what_the_service_owns_and_changes_the_rest() {
        let mut customers = repository();
        customers
            .expect_update()
            .withf(|c, v| {
                *v == 2
                    && c.details.name.as_str() == "Acme SA"
                    && c.reseller_id == ResellerId::from_uuid(Uuid::from_u128(1))
            })
            .times(1)
            .returning(|_, _| Ok(3));
        let ops = vec![PatchOp::Replace { path: "/name".into(), value: Raw::Text("Acme SA".into()) }];
        let patched = PatchCustomer::new(Arc::new(customers)).execute(command(ops, Some(2))).await.unwrap();
        assert_eq!(patched.version, 3);
    }

    #[tokio::test]
    async fn refusals() {
        let run = |ops: Vec<PatchOp>, if_match| {
            let mut customers = repository();
            customers.expect_update().never();
            async move { PatchCustomer::new(Arc::new(customers)).execute(command(ops, if_match)).await }
        };
        assert!(matches!(run(vec![], Some(1)).await, Err(PatchCustomerError::PreconditionFailed)));
        let read_only = vec![PatchOp::Replace { path: "/parentTenantId".into(), value: Raw::Text("x".into()) }];
        assert!(matches!(run(read_only, None).await, Err(PatchCustomerError::Invalid(_))));
        let bad_zone = vec![PatchOp::Replace { path: "/timezone".into(), value: Raw::Text("Mars/Olympus".into()) }];
        assert!(matches!(run(bad_zone, None).await, Err(PatchCustomerError::Invalid(_))));
        let failing = vec![PatchOp::Test { path: "/name".into(), value: Raw::Text("Other".into()) }];
        assert!(matches!(run(failing, None).await, Err(PatchCustomerError::TestFailed(_))));
    }
}
