//! `pbx-server rotate-key`.

use anyhow::Context;
use pbx_infra::{SecretCipher, crypto, key_file, rotation};

use crate::cli::{CommonArgs, RotateKeyArgs};

use crate::adapters::{cipher, open_database};

/// `pbx-server rotate-key`: re-encrypts every stored secret under a new key. With the data folder's key files,
/// the new key is written beside the current one first (running servers load it when they meet it), then every
/// row is re-encrypted, then it becomes the current key and the old one stays as `encryption.key.<id>`.
pub async fn rotate_key(common: &CommonArgs, args: &RotateKeyArgs) -> anyhow::Result<()> {
    let db = open_database(common).await?;
    let current = cipher(common)?;
    let from_files = common.encryption_key.is_none();
    let new_key = match (&args.new_key, from_files) {
        (Some(key), _) => {
            key_file::decode(&key.0, SecretCipher::KEY_LEN).context("--new-key must be 32 bytes in base64")?
        }
        (None, true) => key_file::random(SecretCipher::KEY_LEN)?,
        (None, false) => anyhow::bail!(
            "with PBX_ENCRYPTION_KEY set, give the new key with --new-key (or PBX_NEW_ENCRYPTION_KEY), after adding it \
             to PBX_PREVIOUS_ENCRYPTION_KEYS of every running replica"
        ),
    };
    let new_id = crypto::key_id(&new_key);
    let dir = &common.data_dir;
    if from_files {
        key_file::write_new(&dir.join(format!("{}.{new_id}", crypto::KEY_FILE)), &new_key)?;
    }
    let report = rotation::re_encrypt_all(&db, &current.rotated_to(&new_key)?).await?;
    if from_files {
        let old = key_file::load_or_create(&dir.join(crypto::KEY_FILE), SecretCipher::KEY_LEN)?;
        let old_path = dir.join(format!("{}.{}", crypto::KEY_FILE, crypto::key_id(&old)));
        if !old_path.exists() {
            key_file::write_new(&old_path, &old)?;
        }
        key_file::replace(&dir.join(crypto::KEY_FILE), &new_key)?;
        std::fs::remove_file(dir.join(format!("{}.{new_id}", crypto::KEY_FILE)))?;
    }
    db.close().await?;
    println!(
        "Re-encrypted {} stored secrets under key {new_id} ({} already were).",
        report.re_encrypted, report.already_current
    );
    if from_files {
        println!("{} now holds key {new_id}; the old key is kept beside it to read backups.", crypto::KEY_FILE);
        println!("Restart the servers at leisure so that they encrypt new secrets with it too.");
    } else {
        println!("Now set PBX_ENCRYPTION_KEY to the new key on every replica, keeping the old one in");
        println!("PBX_PREVIOUS_ENCRYPTION_KEYS until a further rotate-key reports no row left under it.");
    }
    Ok(())
}
