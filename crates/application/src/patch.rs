//! JSON Patch (RFC 6902) on the flat set of fields a resource shows: `add`, `remove`, `replace` and `test`.
//!
//! A front end turns a patch document into [`PatchOp`]s; a use case renders its resource as fields, lets
//! [`apply`] change them (all operations or none), and parses the result through the same draft as a create, so
//! that a patched resource passes every rule a new one does.

use std::collections::BTreeMap;

use crate::input::{FieldProblem, Raw};

/// One operation of a patch document. `path` is a JSON Pointer (`/name`).
#[derive(Debug, Clone, PartialEq)]
pub enum PatchOp {
    /// Sets a field (adding an optional one that is absent).
    Add {
        /// The field's pointer.
        path: String,
        /// The new value.
        value: Raw,
    },
    /// Removes an optional field, which then takes its default.
    Remove {
        /// The field's pointer.
        path: String,
    },
    /// Sets a field that is present.
    Replace {
        /// The field's pointer.
        path: String,
        /// The new value.
        value: Raw,
    },
    /// Succeeds only if the field has this value.
    Test {
        /// The field's pointer.
        path: String,
        /// The expected value.
        value: Raw,
    },
}

impl PatchOp {
    fn path(&self) -> &str {
        match self {
            Self::Add { path, .. } | Self::Remove { path } | Self::Replace { path, .. } | Self::Test { path, .. } => {
                path
            }
        }
    }
}

/// Why a patch was not applied; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    /// Operations that can never apply (unknown or read-only fields, required fields removed…), each listed.
    Invalid(Vec<FieldProblem>),
    /// A `test` operation found another value at `path`.
    TestFailed(String),
}

/// What may be done to which field of a resource.
#[derive(Debug, Clone)]
pub(crate) struct Rules<'a> {
    /// What the resource is, for messages (`KazooPbxConnectionProfile`, `a customer`).
    pub kind: &'a str,
    /// Every field the resource shows.
    pub known: Vec<&'a str>,
    /// Fields no operation but `test` may touch.
    pub read_only: &'a [&'a str],
    /// Fields `remove` may take away.
    pub removable: &'a [&'a str],
    /// Fields `test` may not read (secrets).
    pub secret: &'a [&'a str],
}

/// The field a pointer names: `/name` → `name` (`~1` is `/`, `~0` is `~`).
fn field(path: &str) -> Option<String> {
    let rest = path.strip_prefix('/')?;
    (!rest.contains('/')).then(|| rest.replace("~1", "/").replace("~0", "~"))
}

/// Every problem with `operations` that does not depend on the resource's values.
fn check(operations: &[PatchOp], rules: &Rules<'_>) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    for op in operations {
        let path = op.path();
        let Some(name) = field(path).filter(|f| rules.known.contains(&f.as_str())) else {
            problems.push(FieldProblem::new(path, format!("is not a field of {}", rules.kind)));
            continue;
        };
        let name = name.as_str();
        let problem = match op {
            PatchOp::Test { .. } if rules.secret.contains(&name) => Some("is a secret and cannot be tested"),
            PatchOp::Test { .. } => None,
            _ if rules.read_only.contains(&name) => Some("cannot be changed"),
            PatchOp::Remove { .. } if !rules.removable.contains(&name) => Some("is required and cannot be removed"),
            _ => None,
        };
        if let Some(message) = problem {
            problems.push(FieldProblem::new(path, message));
        }
    }
    problems
}

/// Applies `operations` to `fields` in order, all or none.
///
/// # Errors
/// [`PatchError::Invalid`] listing every operation that cannot apply; [`PatchError::TestFailed`] for the first
/// `test` that fails. `fields` is unchanged then.
pub(crate) fn apply(
    fields: &mut BTreeMap<String, Raw>,
    operations: Vec<PatchOp>,
    rules: &Rules<'_>,
) -> Result<(), PatchError> {
    let problems = check(&operations, rules);
    if !problems.is_empty() {
        return Err(PatchError::Invalid(problems));
    }
    let mut patched = fields.clone();
    for op in operations {
        let Some(name) = field(op.path()) else { continue };
        match op {
            PatchOp::Add { value, .. } => {
                patched.insert(name, value);
            }
            PatchOp::Replace { path, value } => match patched.get_mut(&name) {
                Some(slot) => *slot = value,
                None => return Err(PatchError::Invalid(vec![FieldProblem::new(path, "is not set; use add")])),
            },
            PatchOp::Remove { path } => {
                if patched.remove(&name).is_none() {
                    return Err(PatchError::Invalid(vec![FieldProblem::new(path, "is not set")]));
                }
            }
            PatchOp::Test { path, value } => {
                if patched.get(&name) != Some(&value) {
                    return Err(PatchError::TestFailed(path));
                }
            }
        }
    }
    *fields = patched;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules<'static> {
        Rules {
            kind: "a thing",
            known: vec!["id", "name", "note", "key"],
            read_only: &["id"],
            removable: &["note"],
            secret: &["key"],
        }
    }

    fn fields() -> BTreeMap<String, Raw> {
        [("id", "1"), ("name", "a"), ("note", "n"), ("key", "k")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Raw::Text(v.to_owned())))
            .collect()
    }

    fn text(value: &str) -> Raw {
        Raw::Text(value.to_owned())
    }

    #[test]
    fn operations_apply_in_order() {
        let mut f = fields();
        let ops = vec![
            PatchOp::Test { path: "/name".into(), value: text("a") },
            PatchOp::Replace { path: "/name".into(), value: text("b") },
            PatchOp::Test { path: "/name".into(), value: text("b") },
            PatchOp::Remove { path: "/note".into() },
            PatchOp::Add { path: "/note".into(), value: text("again") },
        ];
        apply(&mut f, ops, &rules()).unwrap();
        assert_eq!(f["name"], text("b"));
        assert_eq!(f["note"], text("again"));
    }

    #[test]
    fn a_failed_test_changes_nothing() {
        let mut f = fields();
        let ops = vec![
            PatchOp::Replace { path: "/name".into(), value: text("b") },
            PatchOp::Test { path: "/name".into(), value: text("a") },
        ];
        assert_eq!(apply(&mut f, ops, &rules()), Err(PatchError::TestFailed("/name".into())));
        assert_eq!(f, fields());
    }

    #[test]
    fn every_impossible_operation_is_reported_and_nothing_changes() {
        let mut f = fields();
        let ops = vec![
            PatchOp::Replace { path: "/id".into(), value: text("2") },
            PatchOp::Remove { path: "/name".into() },
            PatchOp::Add { path: "/colour".into(), value: text("red") },
            PatchOp::Replace { path: "/name/first".into(), value: text("x") },
            PatchOp::Test { path: "/key".into(), value: text("k") },
            PatchOp::Replace { path: "name".into(), value: text("x") },
        ];
        let Err(PatchError::Invalid(problems)) = apply(&mut f, ops, &rules()) else { panic!("invalid") };
        let shown: Vec<(String, String)> = problems.into_iter().map(|p| (p.field, p.message)).collect();
        assert_eq!(
            shown,
            [
                ("/id", "cannot be changed"),
                ("/name", "is required and cannot be removed"),
                ("/colour", "is not a field of a thing"),
                ("/name/first", "is not a field of a thing"),
                ("/key", "is a secret and cannot be tested"),
                ("name", "is not a field of a thing"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(f, fields());
    }

    #[test]
    fn replace_needs_the_field_to_be_set() {
        let mut f = fields();
        f.remove("note");
        let ops = vec![PatchOp::Replace { path: "/note".into(), value: text("x") }];
        assert!(matches!(apply(&mut f, ops, &rules()), Err(PatchError::Invalid(_))));
    }

    #[test]
    fn pointers_unescape() {
        assert_eq!(field("/a~1b~0c").as_deref(), Some("a/b~c"));
        assert_eq!(field(""), None);
        assert_eq!(field("/a/b"), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::pbx::{ProfileDraft, fields};
    use pbx_domain::kazoo::{AccountId, KazooConnection};
    use pbx_domain::{CountryCode, CustomerId, HttpUrl, PbxId, PbxProfile, PbxType, ProfileName, Secret, WsUrl};
    use proptest::prelude::*;

    fn kazoo_fields() -> BTreeMap<String, Raw> {
        let connection = KazooConnection {
            host_rest: HttpUrl::parse("https://rest.example.com").unwrap(),
            host_websocket: WsUrl::parse("wss://ws.example.com").unwrap(),
            account_id: AccountId::parse("12345").unwrap(),
            api_key: Secret::parse("ABCDEF").unwrap(),
            monitor_sub_accounts: false,
        };
        fields::of(&PbxProfile::new(
            PbxId::from_uuid(uuid::Uuid::from_u128(1)),
            CustomerId::from_uuid(uuid::Uuid::from_u128(2)),
            ProfileName::parse("Main").unwrap(),
            CountryCode::US,
            connection.into(),
        ))
    }

    fn raw() -> impl Strategy<Value = Raw> {
        prop_oneof![
            Just(Raw::Null),
            any::<bool>().prop_map(Raw::Bool),
            ".{0,30}".prop_map(Raw::Text),
            prop::sample::select(vec!["https://x.example", "wss://x.example", "00:20:00", "true", "FR"])
                .prop_map(|s| Raw::Text(s.to_owned())),
            Just(Raw::Number),
            Just(Raw::Array),
            Just(Raw::Object),
        ]
    }

    fn path() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(ProfileDraft::fields(PbxType::Kazoo)).prop_map(|f| format!("/{f}")),
            prop::sample::select(vec!["/_type", "/id", "/enabled", "/apiKey", "", "/", "/a/b"]).prop_map(str::to_owned),
            ".{0,10}",
        ]
    }

    fn op() -> impl Strategy<Value = PatchOp> {
        prop_oneof![
            (path(), raw()).prop_map(|(path, value)| PatchOp::Add { path, value }),
            path().prop_map(|path| PatchOp::Remove { path }),
            (path(), raw()).prop_map(|(path, value)| PatchOp::Replace { path, value }),
            (path(), raw()).prop_map(|(path, value)| PatchOp::Test { path, value }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any list of operations applies wholly or not at all, and whatever results parses or reports problems.
        #[test]
        fn any_patch_applies_or_changes_nothing(ops in prop::collection::vec(op(), 0..8)) {
            let rules = fields::rules(PbxType::Kazoo);
            let before = kazoo_fields();
            let mut fields = before.clone();
            match apply(&mut fields, ops, &rules) {
                Ok(()) => {
                    let (draft, _) = fields::draft(PbxType::Kazoo, fields);
                    let _ = draft.parse();
                }
                Err(_) => prop_assert_eq!(fields, before),
            }
        }
    }
}
