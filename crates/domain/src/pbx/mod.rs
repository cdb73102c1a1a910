//! PBX connection profiles: what another system needs to reach a customer's phone system.
//!
//! Each PBX type lives in its own folder ([`kazoo`], [`three_cx`], [`teams`]) with its rules: its instance id, the
//! hosts it is reached at, the secret a change moves, what a collector needs, an example. Adding a type means adding
//! a folder, a variant to [`PbxType`] and to [`PbxConnection`]; every match below is exhaustive, so the compiler
//! names each rule the new type must give.

mod credentials;
pub mod kazoo;
pub mod teams;
pub mod three_cx;

use std::fmt;

pub use credentials::Credentials;

use crate::text::bounded_text;
use crate::{CountryCode, CustomerId, PbxId, Secret, Withheld};

bounded_text!(
    /// A profile's name: 1 to 100 characters after trimming, no control characters.
    ProfileName,
    bounded,
    100
);

/// The kinds of PBX a profile can describe, named as in the API's `_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::VariantArray)]
pub enum PbxType {
    /// A Kazoo account (`KazooPbxConnectionProfile`).
    Kazoo,
    /// A 3CX system (`ThreeCxConnectionProfile`).
    ThreeCx,
    /// A Microsoft Teams tenant (`TeamsPbxConnectionProfile`).
    Teams,
}

/// A `_type` that names no known PBX type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {}", PbxType::names().join(", "))]
pub struct UnknownPbxType;

impl PbxType {
    /// Every type, in the order the API lists them (the enum's, derived).
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// Every type's `_type` name, in that order.
    #[must_use]
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|t| t.as_str()).collect()
    }

    /// The API's `_type` name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Kazoo => "KazooPbxConnectionProfile",
            Self::ThreeCx => "ThreeCxConnectionProfile",
            Self::Teams => "TeamsPbxConnectionProfile",
        }
    }

    /// The type named by an API `_type` (exact spelling).
    ///
    /// # Errors
    /// [`UnknownPbxType`] for any other name; its message lists the known ones.
    pub fn parse(value: &str) -> Result<Self, UnknownPbxType> {
        Self::ALL.iter().copied().find(|t| t.as_str() == value).ok_or(UnknownPbxType)
    }

    /// The short name people use (the accounts' metrics label profiles by it): `Kazoo`, `3CX`, …
    #[must_use]
    pub const fn short_name(self) -> &'static str {
        match self {
            Self::Kazoo => "Kazoo",
            Self::ThreeCx => "3CX",
            Self::Teams => "Teams",
        }
    }

    /// The API's fields that say how to reach the PBX: a change of one makes the last check's result stale.
    #[must_use]
    pub const fn connection_fields(self) -> &'static [&'static str] {
        match self {
            Self::Kazoo => &["hostRest", "hostWebsocket", "accountId", "apiKey"],
            Self::ThreeCx => &["licenseKey", "username", "password"],
            Self::Teams => &["microsoftTenantId"],
        }
    }

    /// Whether a change naming `changed` (the API's field names) touches how a profile of this type is reached: one
    /// of its connection fields, or its type.
    #[must_use]
    pub fn connection_changed(self, changed: &[String]) -> bool {
        changed.iter().any(|f| f == "_type" || self.connection_fields().contains(&f.as_str()))
    }

    /// Whether the service checks profiles of this type itself (else collectors report on them).
    #[cfg(feature = "serde")]
    #[must_use]
    pub const fn checkable(self) -> bool {
        !self.checked_conditions().is_empty()
    }

    /// What the service checks of a profile of this type, in order; none for a type it cannot reach itself (3CX:
    /// no host in the profile), whose state comes from collectors.
    #[cfg(feature = "serde")]
    #[must_use]
    pub const fn checked_conditions(self) -> &'static [crate::connection::ConditionType] {
        match self {
            Self::Kazoo => &kazoo::check::CONDITIONS,
            Self::ThreeCx => &[],
            Self::Teams => &teams::check::CONDITIONS,
        }
    }
}

impl fmt::Display for PbxType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity of a PBX instance in the world: a Kazoo account id, a 3CX licence key or a Microsoft tenant id, with
/// its type.
/// A PBX instance is attached to at most one customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceId<'a> {
    pbx_type: PbxType,
    value: &'a str,
}

impl<'a> InstanceId<'a> {
    /// The instance `value` of a PBX of type `pbx_type`.
    #[must_use]
    pub const fn new(pbx_type: PbxType, value: &'a str) -> Self {
        Self { pbx_type, value }
    }

    /// The PBX type.
    #[must_use]
    pub const fn pbx_type(&self) -> PbxType {
        self.pbx_type
    }

    /// The account id or licence key, as sent.
    #[must_use]
    pub const fn value(&self) -> &'a str {
        self.value
    }

    /// The form in which two spellings of one instance are equal; see [`InstanceId::normal_form`].
    #[must_use]
    pub fn normalized(&self) -> String {
        Self::normal_form(self.value)
    }

    /// `value` after Unicode compatibility normalisation (NFKC) and case folding: `abc123`, `ABC123` and `ＡＢＣ123`
    /// name the same Kazoo account, so the rule "an instance belongs to at most one customer" and the instance
    /// lookup compare this form, never the spelling.
    #[must_use]
    pub fn normal_form(value: &str) -> String {
        use icu_casemap::CaseMapper;
        use icu_normalizer::ComposingNormalizer;
        let nfkc = ComposingNormalizer::new_nfkc();
        // NFKC(fold(NFKC(x))), as Unicode's NFKC_Casefold: folding can leave text that is no longer in NFKC.
        let folded = CaseMapper::new().fold_string(&nfkc.normalize(value)).into_owned();
        nfkc.normalize(&folded).into_owned()
    }
}

/// How to reach the PBX: the part of a profile that depends on its type. `S` is what holds each credential:
/// [`Secret`], or [`Withheld`] for a connection read without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PbxConnection<S = Secret> {
    /// A Kazoo account.
    Kazoo(kazoo::KazooConnection<S>),
    /// A 3CX system.
    ThreeCx(three_cx::ThreeCxConnection<S>),
    /// A Microsoft Teams tenant.
    Teams(teams::TeamsConnection),
}

impl<S> PbxConnection<S> {
    /// The connection's PBX type.
    #[must_use]
    pub const fn pbx_type(&self) -> PbxType {
        match self {
            Self::Kazoo(_) => PbxType::Kazoo,
            Self::ThreeCx(_) => PbxType::ThreeCx,
            Self::Teams(_) => PbxType::Teams,
        }
    }

    /// The PBX instance this connection reaches.
    #[must_use]
    pub fn instance_id(&self) -> InstanceId<'_> {
        let value = match self {
            Self::Kazoo(kazoo) => kazoo.instance(),
            Self::ThreeCx(three_cx) => three_cx.instance(),
            Self::Teams(teams) => teams.instance(),
        };
        InstanceId::new(self.pbx_type(), value)
    }

    /// The URLs the platform calls to reach the PBX, by the API's field name (none for a type reached otherwise).
    #[must_use]
    pub fn hosts(&self) -> Vec<(&'static str, &str)> {
        match self {
            Self::Kazoo(kazoo) => kazoo.hosts(),
            Self::ThreeCx(_) | Self::Teams(_) => Vec::new(),
        }
    }

    /// The secret (the API's field name) that a change to `after` sends somewhere else, and the fields that move
    /// it. A change of type replaces the whole connection, its secret included: `None`.
    #[must_use]
    pub fn moved_secret<T>(&self, after: &PbxConnection<T>) -> Option<(&'static str, &'static str)> {
        match (self, after) {
            (Self::Kazoo(before), PbxConnection::Kazoo(after)) => before.moved_secret(after),
            (Self::ThreeCx(before), PbxConnection::ThreeCx(after)) => before.moved_secret(after),
            (Self::Kazoo(_) | Self::ThreeCx(_) | Self::Teams(_), _) => None,
        }
    }

    /// The fields (the API's names) whose values differ in `after`, secrets aside (never compared: a change names
    /// each secret it writes, equal or not, so that its list cannot confirm a guess). Another type: `_type` alone
    /// (the API never changes a profile's type).
    #[must_use]
    pub fn differences<T>(&self, after: &PbxConnection<T>) -> Vec<&'static str> {
        match (self, after) {
            (Self::Kazoo(before), PbxConnection::Kazoo(after)) => before.differences(after),
            (Self::ThreeCx(before), PbxConnection::ThreeCx(after)) => before.differences(after),
            (Self::Teams(before), PbxConnection::Teams(after)) => before.differences(after),
            _ => vec!["_type"],
        }
    }

    /// The connection's credential, if its type has one.
    #[must_use]
    pub const fn secret(&self) -> Option<&S> {
        match self {
            Self::Kazoo(kazoo) => Some(&kazoo.api_key),
            Self::ThreeCx(three_cx) => Some(&three_cx.password),
            Self::Teams(_) => None,
        }
    }

    /// The same connection with each credential mapped by `f`.
    pub fn map_secrets<T>(self, f: impl FnOnce(S) -> T) -> PbxConnection<T> {
        match self {
            Self::Kazoo(kazoo) => PbxConnection::Kazoo(kazoo.map_secrets(f)),
            Self::ThreeCx(three_cx) => PbxConnection::ThreeCx(three_cx.map_secrets(f)),
            Self::Teams(teams) => PbxConnection::Teams(teams),
        }
    }
}

impl PbxConnection {
    /// What a collector needs to reach the PBX.
    #[must_use]
    pub fn credentials(&self) -> Credentials {
        match self {
            Self::Kazoo(kazoo) => kazoo.credentials(),
            Self::ThreeCx(three_cx) => three_cx.credentials(),
            Self::Teams(teams) => teams.credentials(),
        }
    }

    /// An example connection of `pbx_type` (for tests, fuzzing and documentation).
    #[must_use]
    pub fn example(pbx_type: PbxType) -> Self {
        match pbx_type {
            PbxType::Kazoo => kazoo::KazooConnection::example().into(),
            PbxType::ThreeCx => three_cx::ThreeCxConnection::example().into(),
            PbxType::Teams => teams::TeamsConnection::example().into(),
        }
    }
}

impl<S> From<kazoo::KazooConnection<S>> for PbxConnection<S> {
    fn from(value: kazoo::KazooConnection<S>) -> Self {
        Self::Kazoo(value)
    }
}

impl<S> From<three_cx::ThreeCxConnection<S>> for PbxConnection<S> {
    fn from(value: three_cx::ThreeCxConnection<S>) -> Self {
        Self::ThreeCx(value)
    }
}

impl<S> From<teams::TeamsConnection> for PbxConnection<S> {
    fn from(value: teams::TeamsConnection) -> Self {
        Self::Teams(value)
    }
}

/// The fields whose flag is set: what the `differences` of a profile and its connections list.
fn differing<const N: usize>(fields: [(&'static str, bool); N]) -> Vec<&'static str> {
    fields.into_iter().filter_map(|(field, differs)| differs.then_some(field)).collect()
}

/// A PBX connection profile attached to a customer. Every field is a parsed value, so a profile is valid by
/// construction. `PbxProfile<Withheld>` is the same profile read without its secrets (to be shown, never to
/// connect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxProfile<S = Secret> {
    /// The profile's id.
    pub id: PbxId,
    /// The customer (tenant) the profile is attached to.
    pub customer_id: CustomerId,
    /// A name for people.
    pub name: ProfileName,
    /// The PBX's country.
    pub country_code: CountryCode,
    /// Whether the platform uses the profile; enabling a profile is chargeable.
    pub enabled: bool,
    /// How to reach the PBX.
    pub connection: PbxConnection<S>,
}

impl<S> PbxProfile<S> {
    /// A new profile; new profiles are not enabled.
    #[must_use]
    pub const fn new(
        id: PbxId,
        customer_id: CustomerId,
        name: ProfileName,
        country_code: CountryCode,
        connection: PbxConnection<S>,
    ) -> Self {
        Self { id, customer_id, name, country_code, enabled: false, connection }
    }

    /// The PBX type.
    #[must_use]
    pub const fn pbx_type(&self) -> PbxType {
        self.connection.pbx_type()
    }

    /// The PBX instance the profile reaches.
    #[must_use]
    pub fn instance_id(&self) -> InstanceId<'_> {
        self.connection.instance_id()
    }

    /// The fields (the API's names) whose values differ in `after`, secrets aside (see
    /// [`PbxConnection::differences`]), in the order of the API's names.
    #[must_use]
    pub fn differences<T>(&self, after: &PbxProfile<T>) -> Vec<&'static str> {
        let mut fields = differing([
            ("name", self.name != after.name),
            ("countryCode", self.country_code != after.country_code),
            ("enabled", self.enabled != after.enabled),
        ]);
        fields.extend(self.connection.differences(&after.connection));
        fields.sort_unstable();
        fields.dedup();
        fields
    }

    /// The same profile without its secrets, as a read that never shows them returns it.
    #[must_use]
    pub fn withheld(self) -> PbxProfile<Withheld> {
        let Self { id, customer_id, name, country_code, enabled, connection } = self;
        PbxProfile { id, customer_id, name, country_code, enabled, connection: connection.map_secrets(|_| Withheld) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn differences_name_the_api_fields_that_changed_and_never_a_secret() {
        use crate::three_cx::{RecordingArchive, ThreeCxConnection};
        let (id, customer) =
            (PbxId::from_uuid(uuid::Uuid::from_u128(1)), CustomerId::from_uuid(uuid::Uuid::from_u128(2)));
        let name = ProfileName::parse("Main").unwrap();
        let profile = PbxProfile::new(id, customer, name, CountryCode::US, PbxConnection::example(PbxType::Kazoo));
        assert!(profile.differences(&profile).is_empty());
        let mut after = profile.clone().withheld();
        after.name = ProfileName::parse("New").unwrap();
        after.enabled = true;
        let PbxConnection::Kazoo(kazoo) = &mut after.connection else { unreachable!() };
        kazoo.monitor_sub_accounts = true;
        assert_eq!(profile.differences(&after), ["enabled", "monitorSubAccounts", "name"], "the key not compared");

        let three_cx = PbxConnection::example(PbxType::ThreeCx);
        let PbxConnection::ThreeCx(before) = &three_cx else { unreachable!() };
        let frequency = before.recording_archive.frequency().or(Some(crate::TimeSpan::MAX));
        let archived = ThreeCxConnection {
            recording_archive: RecordingArchive::new(!before.recording_archive.is_enabled(), frequency).unwrap(),
            ..before.clone()
        };
        let mut expected = vec!["enableRecordingArchive"];
        if before.recording_archive.frequency() != frequency {
            expected.push("recordingArchiveFrequency");
        }
        assert_eq!(three_cx.differences(&PbxConnection::from(archived)), expected);
        assert_eq!(three_cx.differences(&PbxConnection::example(PbxType::Teams)), ["_type"]);
    }

    #[test]
    fn spellings_of_one_instance_share_a_normal_form() {
        let cases = [
            ("0123abcdef", "0123ABCDEF", "case"),
            ("abc123", "ＡＢＣ123", "fullwidth letters"),
            ("AcctA1", "ＡcctA1", "one fullwidth letter"),
            ("abcd-1234-efgh", "ABCD-1234-EFGH", "a 3CX licence key"),
            ("ﬁ1", "FI1", "a ligature"),
            ("straße", "STRASSE", "full case folding"),
        ];
        for (a, b, why) in cases {
            assert_eq!(InstanceId::normal_form(a), InstanceId::normal_form(b), "{why}");
        }
        assert_ne!(InstanceId::normal_form("abc1"), InstanceId::normal_form("abc2"));
        let kazoo = InstanceId::new(PbxType::Kazoo, "ＡcctA1");
        assert_eq!(kazoo.normalized(), "accta1");
        assert_eq!(kazoo.value(), "ＡcctA1", "the spelling is kept");
    }

    proptest! {
        #[test]
        fn the_normal_form_is_stable(s in "\\PC{0,20}") {
            let once = InstanceId::normal_form(&s);
            prop_assert_eq!(InstanceId::normal_form(&once), once);
        }

        #[test]
        fn the_normal_form_ignores_case_and_width(s in "[a-zA-Z0-9ａ-ｚＡ-Ｚ０-９-]{0,20}") {
            let ascii_lower: String = s.chars().map(|c| InstanceId::normal_form(&c.to_string())).collect();
            prop_assert_eq!(InstanceId::normal_form(&s.to_uppercase()), ascii_lower.clone());
            prop_assert!(ascii_lower.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }

    #[test]
    fn type_names_round_trip_and_unknown_names_list_the_known_ones() {
        for &t in PbxType::ALL {
            assert_eq!(PbxType::parse(t.as_str()), Ok(t));
            let example = PbxConnection::example(t);
            assert_eq!(example.pbx_type(), t);
        }
        let err = PbxType::parse("kazoo").unwrap_err();
        assert_eq!(
            err.to_string(),
            "must be one of: KazooPbxConnectionProfile, ThreeCxConnectionProfile, TeamsPbxConnectionProfile"
        );
    }
}
