//! The webhook adapter against a real database: SQLite by default, PostgreSQL or MySQL/MariaDB with
//! `PBX_TEST_BACKEND` (see `pbx_infra::testing`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pbx_application::WriteError;
use pbx_application::webhook::WebhookRepository;
use pbx_domain::webhook::{SigningSecret, Webhook, WebhookFormat, WebhookMethod, WebhookName, WebhookSettings};
use pbx_domain::{ResellerId, WebhookId};
use pbx_infra::testing::TestDatabase;
use pbx_infra::{Database, PoolSettings, SeaOrmWebhookRepository, SecretCipher};
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_670_000, 123_456_000).unwrap()
}

fn webhook(owner: ResellerId) -> Webhook {
    Webhook {
        id: WebhookId::from_uuid(Uuid::now_v7()),
        owner,
        date_created: now(),
        settings: WebhookSettings {
            name: WebhookName::parse("CRM").unwrap(),
            url: pbx_domain::HttpUrl::parse("https://crm.example.com/hooks?x=1").unwrap(),
            method: WebhookMethod::Put,
            format: WebhookFormat::Form,
            events: Some([pbx_domain::events::EventType::PbxEnabled].into()),
            static_data: BTreeMap::from([("source".to_owned(), "pbx".to_owned())]),
            retries: 3,
            enabled: true,
        },
    }
}

#[tokio::test]
async fn a_webhook_reads_back_as_stored_and_a_rotation_keeps_the_old_secret_as_the_previous() {
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let repository = SeaOrmWebhookRepository::new(db, SecretCipher::new(&[42; 32]).unwrap());
    let owner = ResellerId::from_uuid(Uuid::now_v7());
    let stored = webhook(owner);
    let (first, second) = (SigningSecret::from_key(vec![1; 32]), SigningSecret::from_key(vec![2; 32]));
    repository.insert(&stored, &first, None).await.unwrap();
    let found = repository.find(owner, stored.id).await.unwrap().unwrap();
    assert_eq!((found.value, found.version), (stored.clone(), 1));
    assert_eq!(repository.find(ResellerId::from_uuid(Uuid::now_v7()), stored.id).await.unwrap(), None);

    let until = now() + chrono::Duration::hours(24);
    assert_eq!(repository.rotate(owner, stored.id, &second, until).await.unwrap(), 2);
    let secrets = repository.secrets(stored.id).await.unwrap().unwrap();
    assert_eq!(secrets.current, second);
    assert_eq!(secrets.previous, Some((first, until)), "the old secret, not the new one, signs beside it");

    let mut changed = stored.clone();
    changed.settings.events = None;
    assert!(matches!(repository.update(&changed, 1).await, Err(WriteError::VersionMismatch)));
    assert_eq!(repository.update(&changed, 2).await.unwrap(), 3);
    assert_eq!(repository.find(owner, stored.id).await.unwrap().unwrap().value.settings.events, None);
    assert!(matches!(repository.delete(owner, stored.id, Some(2)).await, Err(WriteError::VersionMismatch)));
    repository.delete(owner, stored.id, Some(3)).await.unwrap();
    assert!(matches!(repository.delete(owner, stored.id, None).await, Err(WriteError::NotFound)));
}

/// `pbx-server rotate-key` re-encrypts webhook secrets too: after it, the new key alone reads them.
#[tokio::test]
async fn a_key_rotation_re_encrypts_both_secrets_of_a_webhook() {
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let old_key = SecretCipher::new(&[1; 32]).unwrap();
    let repository = SeaOrmWebhookRepository::new(db.clone(), old_key.clone());
    let owner = ResellerId::from_uuid(Uuid::now_v7());
    let (rotated, unrotated) = (webhook(owner), webhook(owner));
    let (first, second) = (SigningSecret::from_key(vec![1; 32]), SigningSecret::from_key(vec![2; 32]));
    for stored in [&rotated, &unrotated] {
        repository.insert(stored, &first, None).await.unwrap();
    }
    repository.rotate(owner, rotated.id, &second, now()).await.unwrap();

    let both = old_key.rotated_to(&[2; 32]).unwrap();
    let report = pbx_infra::rotation::re_encrypt_all(&db, &both).await.unwrap();
    assert_eq!((report.re_encrypted, report.already_current), (2, 0));
    let again = pbx_infra::rotation::re_encrypt_all(&db, &both).await.unwrap();
    assert_eq!((again.re_encrypted, again.already_current), (0, 2));

    let new_only = SeaOrmWebhookRepository::new(db, SecretCipher::new(&[2; 32]).unwrap());
    let secrets = new_only.secrets(rotated.id).await.unwrap().unwrap();
    assert_eq!((secrets.current, secrets.previous.map(|(s, _)| s)), (second, Some(first.clone())));
    assert_eq!(new_only.secrets(unrotated.id).await.unwrap().unwrap().current, first);
}

/// An event of the feed for the store's `record`.
fn event() -> pbx_domain::events::Event {
    let tenant = Uuid::now_v7();
    pbx_domain::events::Event {
        id: Uuid::now_v7(),
        cursor: "1".to_owned(),
        event_type: pbx_domain::events::EventType::PbxEnabled,
        occurred_at: now(),
        reseller_id: tenant,
        customer_id: Uuid::now_v7(),
        pbx_id: None,
        actor: pbx_domain::events::Actor { reseller_id: tenant, subject: None },
        changed: None,
        data: None,
    }
}

/// A webhook whose receiver keeps failing is disabled at the bound of events given up in a row, in the transaction
/// of the last one, with an entry in its log; a success in between, or a change of the webhook, counts from zero.
#[tokio::test]
async fn a_webhook_is_disabled_at_the_bound_of_events_given_up_in_a_row() {
    use pbx_application::delivery::{Attempt, Claimable, DISABLE_AFTER, DISABLED, DeliveryStore, Outcome, Recorded};
    let test_db = TestDatabase::create().await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let repository = SeaOrmWebhookRepository::new(db.clone(), SecretCipher::new(&[42; 32]).unwrap());
    let store = pbx_infra::SeaOrmDeliveryStore::new(db);
    let owner = ResellerId::from_uuid(Uuid::now_v7());
    let stored = webhook(owner);
    repository.insert(&stored, &SigningSecret::from_key(vec![1; 32]), None).await.unwrap();
    let until = Utc::now() + chrono::Duration::minutes(5);
    assert_eq!(store.claim("r1", &Claimable::One(stored.id), Utc::now(), until).await.unwrap().len(), 1);

    let refused = Attempt { status: Some(500), error: Some("500".to_owned()), duration: std::time::Duration::ZERO };
    let accepted = Attempt { status: Some(204), error: None, duration: std::time::Duration::ZERO };
    let mut position = 0;
    let mut record = async |attempt: &Attempt, outcome: Outcome| {
        position += 1;
        store.record("r1", stored.id, &event(), position, 1, attempt, &outcome, until).await.unwrap()
    };
    for _ in 1..DISABLE_AFTER {
        assert_eq!(record(&refused, Outcome::Failed).await, Recorded::Kept);
    }
    assert_eq!(record(&accepted, Outcome::Delivered).await, Recorded::Kept, "a success counts from zero");
    for _ in 1..DISABLE_AFTER {
        assert_eq!(record(&refused, Outcome::Failed).await, Recorded::Kept);
    }
    assert_eq!(record(&refused, Outcome::Failed).await, Recorded::Disabled);
    let found = repository.find(owner, stored.id).await.unwrap().unwrap();
    assert!(!found.value.settings.enabled);
    assert_eq!(found.version, 2, "the disabling is a change of the webhook: a new ETag");
    let log = store.log(stored.id, pbx_application::Page { index: 0, size: 2 }).await.unwrap();
    assert_eq!(log[0].event_type, DISABLED, "{log:?}");
    assert!(log[0].last_error.as_deref().unwrap().contains("in a row"), "{log:?}");
    assert_eq!((log[1].status, log[1].attempts), ("failed", 1));
    assert!(
        store.claim("r2", &Claimable::One(stored.id), Utc::now(), until).await.unwrap().is_empty(),
        "a disabled webhook is not claimed"
    );
    // An attempt under way when it was disabled is recorded, without a second disabling.
    assert_eq!(record(&refused, Outcome::Failed).await, Recorded::Kept);

    let mut enabled = found.value.clone();
    enabled.settings.enabled = true;
    assert_eq!(repository.update(&enabled, 2).await.unwrap(), 3);
    assert_eq!(record(&refused, Outcome::Failed).await, Recorded::Kept, "enabled again, it counts from zero");
    assert!(repository.find(owner, stored.id).await.unwrap().unwrap().value.settings.enabled);
}
