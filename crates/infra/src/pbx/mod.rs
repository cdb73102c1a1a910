//! PBX profiles in the database (common columns, the type's settings as JSON and its secrets encrypted), and the
//! transport of each type's connection check; each type's module holds both.

mod grouped;
mod kazoo;
mod repository;
mod teams;
mod three_cx;

pub use repository::SeaOrmPbxRepository;

use anyhow::{Context, anyhow};
use pbx_application::Versioned;
use pbx_domain::connection::Findings;
use pbx_domain::{CountryCode, CustomerId, PbxConnection, PbxId, PbxProfile, PbxType, ProfileName, Secret, Withheld};
use serde::de::DeserializeOwned;

use crate::checks::{Budget, HttpProber};
use crate::queries::ShownRow;

/// The stored form of a connection: its non-secret settings and its secrets, both JSON.
struct Stored {
    settings: serde_json::Value,
    secrets: serde_json::Value,
}

impl Stored {
    /// The stored form of a new connection.
    fn of(connection: &PbxConnection) -> anyhow::Result<Self> {
        Ok(Self { settings: settings(connection)?, secrets: secrets(connection.pbx_type(), connection.secret())? })
    }
}

/// The stored settings of a connection: its fields but the instance (a column of its own) and the secret.
fn settings<S>(connection: &PbxConnection<S>) -> anyhow::Result<serde_json::Value> {
    match connection {
        PbxConnection::Kazoo(kazoo) => kazoo::settings(kazoo),
        PbxConnection::ThreeCx(three_cx) => three_cx::settings(three_cx),
        PbxConnection::Teams(_) => Ok(teams::nothing()),
    }
}

/// The stored secrets of a connection of `pbx_type` whose credential is `secret` (a type without one has none).
fn secrets(pbx_type: PbxType, secret: Option<&Secret>) -> anyhow::Result<serde_json::Value> {
    match (pbx_type, secret) {
        (PbxType::Kazoo, Some(api_key)) => kazoo::secrets(api_key),
        (PbxType::ThreeCx, Some(password)) => three_cx::secrets(password),
        (PbxType::Teams, None) => Ok(teams::nothing()),
        (pbx_type, _) => Err(anyhow!("a {pbx_type} connection's secrets do not match its type")),
    }
}

/// A row's secrets as a load has them: decrypted, or not read at all (a profile read to be shown).
pub(super) enum StoredSecrets {
    Decrypted(serde_json::Value),
    NotRead,
}

/// What a load puts in each credential of a connection: the [`Secret`] from the decrypted secrets, or [`Withheld`]
/// without looking at them.
pub(super) trait Credential: Sized {
    /// Whether the load needs the row's secrets decrypted.
    const DECRYPTED: bool;
    /// The credential that `pick` takes from the type's secrets `T`.
    fn read<T: DeserializeOwned>(secrets: &StoredSecrets, pick: impl FnOnce(T) -> String) -> anyhow::Result<Self>;
}

impl Credential for Secret {
    const DECRYPTED: bool = true;
    fn read<T: DeserializeOwned>(secrets: &StoredSecrets, pick: impl FnOnce(T) -> String) -> anyhow::Result<Self> {
        match secrets {
            StoredSecrets::Decrypted(value) => Ok(Self::parse(&pick(T::deserialize(value)?))?),
            StoredSecrets::NotRead => Err(anyhow!("the secrets were not read")),
        }
    }
}

impl Credential for Withheld {
    const DECRYPTED: bool = false;
    fn read<T: DeserializeOwned>(_: &StoredSecrets, _: impl FnOnce(T) -> String) -> anyhow::Result<Self> {
        Ok(Self)
    }
}

/// The profile of a row, its credentials read as `S`.
fn load<S: Credential>(row: ShownRow, secrets: &StoredSecrets) -> anyhow::Result<Versioned<PbxProfile<S>>> {
    let connection = match PbxType::parse(&row.pbx_type)? {
        PbxType::Kazoo => kazoo::load(&row.instance_id, row.settings, secrets)?.into(),
        PbxType::ThreeCx => three_cx::load(&row.instance_id, row.settings, secrets)?.into(),
        PbxType::Teams => teams::load(&row.instance_id)?.into(),
    };
    let profile = PbxProfile {
        id: PbxId::from_uuid(row.id),
        customer_id: CustomerId::from_uuid(row.customer_id),
        name: ProfileName::parse(&row.name)?,
        country_code: CountryCode::parse(&row.country_code)?,
        enabled: row.enabled,
        connection,
    };
    Ok(Versioned { value: profile, version: version(row.version)? })
}

/// Whether a stored profile of `pbx_type` monitors sub-accounts: Kazoo's setting, `None` for other types.
pub(crate) fn monitors_sub_accounts(pbx_type: PbxType, settings: serde_json::Value) -> Option<bool> {
    match pbx_type {
        PbxType::Kazoo => kazoo::monitors_sub_accounts(settings),
        PbxType::ThreeCx | PbxType::Teams => None,
    }
}

/// What the service's check of `connection` finds (CONTRACT §15), by its type's transport.
pub(crate) async fn probe(prober: &HttpProber, connection: &PbxConnection, budget: &Budget) -> Findings {
    match connection {
        PbxConnection::Kazoo(kazoo) => kazoo::check::probe(prober, kazoo, budget).await,
        PbxConnection::Teams(teams) => teams::check::probe(prober, teams, budget).await,
        PbxConnection::ThreeCx(_) => Findings::default(),
    }
}

/// A stored version as the ports count them.
fn version(stored: i64) -> anyhow::Result<u64> {
    u64::try_from(stored).context("a negative version is stored")
}
