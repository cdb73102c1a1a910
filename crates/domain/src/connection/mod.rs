//! Connection status (CONTRACT §15): whether a profile reaches its PBX. The service checks what it can itself
//! (each PBX type's `check` module says how, [`crate::kazoo::check`] for one), collectors report
//! what they see, and [`summarize`] combines both into the `connection` every profile answer shows.
//!
//! A check's result is kept apart from the profile (a check never changes its version), and is compared with the
//! previous one: `pbx.connection_changed` is recorded only when the summary's state or reason changes.

mod reason;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

pub use reason::{Failure, Reason};

use crate::text::bounded_text;

/// What the service checks: a PBX reached with a key (Kazoo) `Authenticated`, `AccountMatches`, `EventStream`; a
/// Microsoft tenant `TenantExists`, `Consented`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ConnectionConditionType))]
pub enum ConditionType {
    /// The PBX accepted the credentials.
    Authenticated,
    /// The credentials reach the profile's account, which is enabled.
    AccountMatches,
    /// The PBX's event stream answers and accepts a subscription.
    EventStream,
    /// The Microsoft tenant exists.
    TenantExists,
    /// The tenant consented to the platform's application, with the permission it needs.
    Consented,
}

/// A condition's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ConnectionConditionStatus))]
#[serde(rename_all = "lowercase")]
pub enum ConditionStatus {
    /// Holds.
    True,
    /// Does not hold: the condition names why.
    False,
    /// Not checked: an earlier condition failed.
    Unknown,
}

/// One condition of a check, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ConnectionCondition))]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// What was checked.
    #[serde(rename = "type")]
    pub condition_type: ConditionType,
    /// Whether it holds.
    pub status: ConditionStatus,
    /// Why not, when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub reason: Option<Reason>,
    /// The reason's fixed sentence (with the remote status code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub message: Option<String>,
    /// When the status last changed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_transition_time: DateTime<Utc>,
}

/// What one check found, condition by condition in the order checked: `None` for a condition that holds, the
/// failure for one that does not; the conditions after a failure are not checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Findings {
    /// The conditions checked, in order.
    pub conditions: Vec<(ConditionType, Option<Failure>)>,
    /// Where the tenant's administrator consents, when the check found consent missing.
    pub consent_url: Option<String>,
}

impl Findings {
    /// Records that `condition` holds.
    pub fn holds(&mut self, condition: ConditionType) {
        self.conditions.push((condition, None));
    }

    /// Records that `condition` fails with `failure`.
    pub fn fails(&mut self, condition: ConditionType, failure: impl Into<Failure>) {
        self.conditions.push((condition, Some(failure.into())));
    }

    /// Whether every condition recorded so far holds.
    #[must_use]
    pub fn all_hold(&self) -> bool {
        self.conditions.iter().all(|(_, failure)| failure.is_none())
    }
}

/// The result of a check as kept: when, and each condition with its last transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    /// When the check ended.
    pub checked_at: DateTime<Utc>,
    /// The conditions, in the order checked.
    pub conditions: Vec<Condition>,
    /// The admin-consent address, when consent is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_url: Option<String>,
}

impl Checked {
    /// The result of `findings` at `now`; a condition keeps its `lastTransitionTime` from `previous` when its
    /// status is the same. The conditions of `expected` that the check did not reach are `unknown`.
    #[must_use]
    pub fn new(findings: Findings, expected: &[ConditionType], previous: Option<&Self>, now: DateTime<Utc>) -> Self {
        let status_of = |failure: &Option<Failure>| match failure {
            None => ConditionStatus::True,
            Some(_) => ConditionStatus::False,
        };
        let mut conditions: Vec<Condition> = findings
            .conditions
            .iter()
            .map(|(condition_type, failure)| Condition {
                condition_type: *condition_type,
                status: status_of(failure),
                reason: failure.map(|f| f.reason),
                message: failure.map(|f| f.message()),
                last_transition_time: now,
            })
            .collect();
        for &missing in expected {
            if !conditions.iter().any(|c| c.condition_type == missing) {
                conditions.push(Condition {
                    condition_type: missing,
                    status: ConditionStatus::Unknown,
                    reason: None,
                    message: None,
                    last_transition_time: now,
                });
            }
        }
        if let Some(previous) = previous {
            for condition in &mut conditions {
                if let Some(before) = previous.conditions.iter().find(|c| c.condition_type == condition.condition_type)
                    && before.status == condition.status
                {
                    condition.last_transition_time = before.last_transition_time;
                }
            }
        }
        Self { checked_at: now, conditions, consent_url: findings.consent_url }
    }

    /// The first condition found false.
    #[must_use]
    pub fn failed(&self) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.status == ConditionStatus::False)
    }
}

bounded_text!(
    /// A collector's message: 1 to 200 characters, the text rule.
    CollectorMessage,
    bounded,
    200
);

/// What a collector sees of its PBX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CollectorState {
    /// Receiving.
    Connected,
    /// Trying to connect.
    Connecting,
    /// Not connected.
    Disconnected,
    /// Given up.
    Failed,
}

/// A collector's reason: a CamelCase name of 1 to 64 ASCII letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CollectorReason(String);

/// A collector's reason that is not a CamelCase name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a CamelCase name: an upper-case letter, then up to 63 ASCII letters and digits")]
pub struct NotCamelCase;

impl CollectorReason {
    /// Checks `value`.
    ///
    /// # Errors
    /// [`NotCamelCase`] for anything but 1 to 64 ASCII letters and digits starting with an upper-case letter.
    pub fn parse(value: &str) -> Result<Self, NotCamelCase> {
        let shaped = value.len() <= 64
            && value.starts_with(|c: char| c.is_ascii_uppercase())
            && value.chars().all(|c| c.is_ascii_alphanumeric());
        if shaped { Ok(Self(value.to_owned())) } else { Err(NotCamelCase) }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CollectorReason {
    type Error = NotCamelCase;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CollectorReason> for String {
    fn from(value: CollectorReason) -> Self {
        value.0
    }
}

/// A collector's last report, as kept and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CollectorStatus))]
#[serde(rename_all = "camelCase")]
pub struct CollectorReport {
    /// What the collector sees.
    pub state: CollectorState,
    /// Its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, nullable = false, pattern = "^[A-Z][A-Za-z0-9]{0,63}$"))]
    pub reason: Option<CollectorReason>,
    /// Its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, nullable = false, max_length = 200))]
    pub message: Option<CollectorMessage>,
    /// When the service received the report (its own clock).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub last_seen_at: DateTime<Utc>,
    /// When the collector last received an event from the PBX, by its account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime, nullable = false))]
    pub last_event_at: Option<DateTime<Utc>>,
}

/// The summary state of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ConnectionState))]
#[serde(rename_all = "lowercase")]
pub enum ConnectionState {
    /// Not checked yet (or its connection fields changed since), nothing reported.
    Unknown,
    /// A check is running.
    Checking,
    /// Every checked condition holds, and the collector (if any reported) is connected.
    Connected,
    /// The service's checks pass, but the collector reports trouble or is stale.
    Degraded,
    /// A condition the service checked is false (or, for a type it cannot check, the collector failed).
    Failed,
}

/// The `connection` of a profile's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ConnectionStatus))]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// The summary state.
    pub state: ConnectionState,
    /// When the service last checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime, nullable = false))]
    pub checked_at: Option<DateTime<Utc>>,
    /// Why the state is not `connected`: a reason of the service's, or the collector's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, example = "InvalidCredentials"))]
    pub reason: Option<String>,
    /// The reason's fixed sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub message: Option<String>,
    /// Where the Microsoft tenant's administrator consents to the platform's application (consent missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub consent_url: Option<String>,
    /// What the service checked, in order.
    pub conditions: Vec<Condition>,
    /// The collector's last report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub collector: Option<CollectorReport>,
}

/// What is kept of a profile's connection: the last check's result, the collector's last report, and until when a
/// running check holds the profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// The last check's result, unless the connection fields changed since.
    pub checked: Option<Checked>,
    /// The collector's last report.
    pub collector: Option<CollectorReport>,
    /// Until when a running check holds the profile (it is `checking` until then, or until it ends).
    pub checking_until: Option<DateTime<Utc>>,
}

impl Status {
    /// What a change of the profile's connection fields leaves: the collector's report, no check (the last one was
    /// of another connection) and none running.
    #[must_use]
    pub fn after_connection_change(self) -> Self {
        Self { collector: self.collector, ..Self::default() }
    }

    /// The summary shown at `now`: `checkable` says whether the service checks the profile's type itself; a
    /// collector report older than `stale_after` counts as stale.
    #[must_use]
    pub fn summarize(&self, checkable: bool, now: DateTime<Utc>, stale_after: TimeDelta) -> Connection {
        let checking = self.checking_until.is_some_and(|until| until > now);
        let collector = self.collector.as_ref().map(|report| {
            let stale = now - report.last_seen_at > stale_after;
            (report, stale)
        });
        let collector_trouble = || -> Option<(String, String)> {
            let (report, stale) = collector?;
            if stale {
                let reason = Reason::CollectorStale;
                return Some((reason.as_str().to_owned(), reason.sentence().to_owned()));
            }
            (report.state != CollectorState::Connected).then(|| {
                let reason = report.reason.as_ref().map_or("CollectorNotConnected", CollectorReason::as_str);
                let message = report.message.as_ref().map_or("The collector is not connected.", |m| m.as_str());
                (reason.to_owned(), message.to_owned())
            })
        };
        let (state, trouble) = if !checkable {
            match collector {
                None => (ConnectionState::Unknown, Some(reason_pair(Reason::NotCheckable))),
                Some((report, false)) if report.state == CollectorState::Connected => {
                    (ConnectionState::Connected, None)
                }
                Some((report, false)) if report.state == CollectorState::Failed => {
                    (ConnectionState::Failed, collector_trouble())
                }
                Some(_) => (ConnectionState::Degraded, collector_trouble()),
            }
        } else {
            match &self.checked {
                None => (ConnectionState::Unknown, None),
                Some(checked) => match checked.failed() {
                    Some(condition) => {
                        let reason = condition.reason.map(|r| r.as_str().to_owned()).unwrap_or_default();
                        (ConnectionState::Failed, Some((reason, condition.message.clone().unwrap_or_default())))
                    }
                    None => match collector_trouble() {
                        Some(trouble) => (ConnectionState::Degraded, Some(trouble)),
                        None => (ConnectionState::Connected, None),
                    },
                },
            }
        };
        let (reason, message) = trouble.unzip();
        Connection {
            state: if checking { ConnectionState::Checking } else { state },
            checked_at: self.checked.as_ref().map(|c| c.checked_at),
            reason,
            message,
            consent_url: self.checked.as_ref().and_then(|c| c.consent_url.clone()),
            conditions: self.checked.as_ref().map(|c| c.conditions.clone()).unwrap_or_default(),
            collector: self.collector.clone(),
        }
    }
}

fn reason_pair(reason: Reason) -> (String, String) {
    (reason.as_str().to_owned(), reason.sentence().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + TimeDelta::seconds(seconds)
    }

    const KAZOO: [ConditionType; 3] =
        [ConditionType::Authenticated, ConditionType::AccountMatches, ConditionType::EventStream];
    const STALE: TimeDelta = TimeDelta::minutes(15);

    fn report(state: CollectorState, seen: i64) -> CollectorReport {
        CollectorReport { state, reason: None, message: None, last_seen_at: at(seen), last_event_at: None }
    }

    #[test]
    fn a_failure_leaves_the_later_conditions_unknown_and_fails_the_summary() {
        let mut findings = Findings::default();
        findings.fails(ConditionType::Authenticated, Failure::answered(Reason::InvalidCredentials, 401));
        let checked = Checked::new(findings, &KAZOO, None, at(10));
        let statuses: Vec<_> = checked.conditions.iter().map(|c| c.status).collect();
        assert_eq!(statuses, [ConditionStatus::False, ConditionStatus::Unknown, ConditionStatus::Unknown]);
        let mut status = Status { checked: Some(checked), collector: None, checking_until: None };
        let shown = status.summarize(true, at(11), STALE);
        assert_eq!(shown.state, ConnectionState::Failed);
        assert_eq!(shown.reason.as_deref(), Some("InvalidCredentials"));
        assert_eq!(shown.message.as_deref(), Some("The PBX refused the credentials. (HTTP 401)"));
        status.checking_until = Some(at(12));
        assert_eq!(status.summarize(true, at(11), STALE).state, ConnectionState::Checking);
        assert_eq!(status.summarize(true, at(12), STALE).state, ConnectionState::Failed, "a lease run out");
    }

    #[test]
    fn a_condition_keeps_its_transition_time_while_its_status_holds() {
        let mut all = Findings::default();
        KAZOO.iter().for_each(|&c| all.holds(c));
        let first = Checked::new(all.clone(), &KAZOO, None, at(10));
        let second = Checked::new(all, &KAZOO, Some(&first), at(20));
        assert!(second.conditions.iter().all(|c| c.last_transition_time == at(10)));
        assert_eq!(second.checked_at, at(20));
        let mut broken = Findings::default();
        broken.holds(ConditionType::Authenticated);
        broken.fails(ConditionType::AccountMatches, Reason::AccountDisabled);
        let third = Checked::new(broken, &KAZOO, Some(&second), at(30));
        let times: Vec<_> = third.conditions.iter().map(|c| c.last_transition_time).collect();
        assert_eq!(times, [at(10), at(30), at(30)]);
    }

    #[test]
    fn the_collector_degrades_a_passing_check_and_decides_for_an_uncheckable_type() {
        let mut all = Findings::default();
        KAZOO.iter().for_each(|&c| all.holds(c));
        let checked = Some(Checked::new(all, &KAZOO, None, at(0)));
        let cases = [
            (true, None, ConnectionState::Connected, None),
            (true, Some(report(CollectorState::Connected, 100)), ConnectionState::Connected, None),
            (
                true,
                Some(report(CollectorState::Connecting, 100)),
                ConnectionState::Degraded,
                Some("CollectorNotConnected"),
            ),
            (true, Some(report(CollectorState::Connected, -1000)), ConnectionState::Degraded, Some("CollectorStale")),
            (false, None, ConnectionState::Unknown, Some("NotCheckable")),
            (false, Some(report(CollectorState::Connected, 100)), ConnectionState::Connected, None),
            (false, Some(report(CollectorState::Failed, 100)), ConnectionState::Failed, Some("CollectorNotConnected")),
            (
                false,
                Some(report(CollectorState::Disconnected, 100)),
                ConnectionState::Degraded,
                Some("CollectorNotConnected"),
            ),
            (false, Some(report(CollectorState::Connected, -1000)), ConnectionState::Degraded, Some("CollectorStale")),
        ];
        for (checkable, collector, state, reason) in cases {
            let checked = if checkable { checked.clone() } else { None };
            let status = Status { checked, collector: collector.clone(), checking_until: None };
            let shown = status.summarize(checkable, at(200), STALE);
            assert_eq!((shown.state, shown.reason.as_deref()), (state, reason), "{checkable} {collector:?}");
        }
        let unchecked = Status::default().summarize(true, at(0), STALE);
        assert_eq!((unchecked.state, unchecked.reason), (ConnectionState::Unknown, None));
    }

    #[test]
    fn collector_reasons_are_camel_case_names() {
        assert!(CollectorReason::parse("WebsocketClosed").is_ok());
        for bad in ["", "websocketClosed", "Web socket", "Ünicode", &format!("A{}", "b".repeat(64))] {
            assert_eq!(CollectorReason::parse(bad), Err(NotCamelCase), "{bad:?}");
        }
    }
}
