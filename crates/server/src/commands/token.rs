//! `pbx-server token`.

use anyhow::Context;
use pbx_domain::ResellerId;

use crate::cli::{CommonArgs, TokenArgs};

use crate::adapters::embedded_authenticator;

/// `pbx-server token`: the token is the last line printed.
pub fn token(common: &CommonArgs, args: &TokenArgs) -> anyhow::Result<()> {
    if common.jwks.is_some() {
        anyhow::bail!(
            "tokens come from the identity provider configured with --jwks/PBX_JWKS; this service mints none"
        );
    }
    let reseller = ResellerId::parse(&args.tenant).context("--tenant must be a GUID")?;
    let token = embedded_authenticator(common)?.mint(reseller, &args.scope, args.ttl)?;
    println!("# Bearer token for tenant {reseller}, scope '{}', valid {}s:", args.scope, args.ttl.as_secs());
    println!("{token}");
    Ok(())
}
