//! An account of the enterprise tier: a reseller tenant managed by the tenant above it.

use chrono::{DateTime, Utc};

use crate::{NewCustomer, ResellerId};

/// What an account is given: the same details as a customer (name, description, reference, country, time zone,
/// enabled). Customers created under the account without a country or time zone of their own take its.
pub type AccountDetails = NewCustomer;

/// An account as stored: a reseller tenant (its id is the tenant id its tokens carry) that the tenant `parent`
/// created and manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account's tenant id: the reseller its customers belong to.
    pub id: ResellerId,
    /// The tenant above it, which created it.
    pub parent: ResellerId,
    /// When it was created (UTC).
    pub date_created: DateTime<Utc>,
    /// Its details.
    pub details: AccountDetails,
}

impl Account {
    /// Whether `reseller` may act as this account: the account itself, or the reseller above it.
    #[must_use]
    pub fn acts_for(&self, reseller: ResellerId) -> bool {
        reseller == self.id || reseller == self.parent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CustomerName;
    use uuid::Uuid;

    #[test]
    fn the_account_and_its_parent_act_for_it_and_nobody_else() {
        let tenant = |n| ResellerId::from_uuid(Uuid::from_u128(n));
        let account = Account {
            id: tenant(2),
            parent: tenant(1),
            date_created: DateTime::UNIX_EPOCH,
            details: NewCustomer::named(CustomerName::parse("Brand").unwrap()),
        };
        assert!(account.acts_for(tenant(1)) && account.acts_for(tenant(2)));
        assert!(!account.acts_for(tenant(3)), "a sibling or a stranger");
    }
}
