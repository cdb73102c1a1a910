//! `pbx-server migrate`.

use crate::cli::CommonArgs;

use crate::adapters::open_database;

/// `pbx-server migrate`.
pub async fn migrate(common: &CommonArgs) -> anyhow::Result<()> {
    open_database(common).await?.close().await
}
