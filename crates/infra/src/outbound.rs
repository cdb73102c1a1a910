//! Connections to addresses that resellers give (webhook receivers, PBX hosts): a host name is resolved as the
//! system does, every address it resolves to is checked against the address rule of CONTRACT §14, and the
//! connection is made to an address so checked — never to what a second lookup might answer (no DNS rebinding).

use std::net::{IpAddr, SocketAddr};

use pbx_domain::webhook::{TargetError, check_addresses};

/// Why a host cannot be connected to.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The name does not resolve.
    #[error("its host does not resolve")]
    Unresolved,
    /// It resolves to nothing, or to an address the rule forbids.
    #[error(transparent)]
    Target(#[from] TargetError),
}

impl Refused {
    /// Whether the host resolved, to an address the rule forbids.
    #[must_use]
    pub const fn forbidden(&self) -> Option<IpAddr> {
        match self {
            Self::Target(TargetError::Forbidden(address)) => Some(*address),
            _ => None,
        }
    }
}

/// The addresses of `host:port`, each one allowed (unless `allow_private`).
///
/// # Errors
/// [`Refused`]: the name does not resolve, or to an address the rule forbids.
pub async fn resolve(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, Refused> {
    let addresses: Vec<SocketAddr> =
        tokio::net::lookup_host((host, port)).await.map_err(|_| Refused::Unresolved)?.collect();
    let ips: Vec<_> = addresses.iter().map(SocketAddr::ip).collect();
    check_addresses(&ips, allow_private)?;
    Ok(addresses)
}

/// `reqwest`'s resolver with the rule: the client connects only to the addresses checked here.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CheckedResolver {
    allow_private: bool,
}

impl CheckedResolver {
    /// A resolver refusing forbidden addresses unless `allow_private`.
    pub(crate) const fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addresses = resolve(name.as_str(), 0, allow_private).await?;
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}
