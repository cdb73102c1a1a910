//! A JSON Patch document (RFC 6902) read into operations.

use pbx_application::FieldProblem;
use pbx_application::patch::PatchOp;
use serde_json::Value;

use crate::ApiError;
use crate::body::raw;

const NOT_AN_ARRAY: &str = "The patch document must be a JSON array of operations, such as \
                            [{\"op\": \"replace\", \"path\": \"/name\", \"value\": \"New name\"}].";

/// The operations of a patch document.
///
/// # Errors
/// 400 when the document is not an array of operations, listing every malformed operation.
pub(crate) fn operations(document: Value) -> Result<Vec<PatchOp>, ApiError> {
    let Value::Array(items) = document else { return Err(ApiError::BadRequest(NOT_AN_ARRAY.to_owned())) };
    let mut operations = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let Value::Object(mut object) = item else {
            problems.push(FieldProblem::new(format!("/{index}"), "must be an operation object"));
            continue;
        };
        let path = match object.remove("path") {
            Some(Value::String(path)) => path,
            _ => {
                problems.push(FieldProblem::new(format!("/{index}/path"), "is required: a JSON Pointer such as /name"));
                continue;
            }
        };
        let value = object.remove("value");
        let op = match (object.get("op").and_then(Value::as_str), value) {
            (Some("remove"), _) => PatchOp::Remove { path },
            (Some("add"), Some(value)) => PatchOp::Add { path, value: raw(value) },
            (Some("replace"), Some(value)) => PatchOp::Replace { path, value: raw(value) },
            (Some("test"), Some(value)) => PatchOp::Test { path, value: raw(value) },
            (Some("add" | "replace" | "test"), None) => {
                problems.push(FieldProblem::new(format!("/{index}/value"), "is required for this operation"));
                continue;
            }
            (Some(other @ ("move" | "copy")), _) => {
                problems.push(FieldProblem::new(format!("/{index}/op"), format!("'{other}' is not supported")));
                continue;
            }
            _ => {
                problems.push(FieldProblem::new(format!("/{index}/op"), "must be one of: add, remove, replace, test"));
                continue;
            }
        };
        operations.push(op);
    }
    if problems.is_empty() { Ok(operations) } else { Err(ApiError::Invalid(problems)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_application::input::Raw;
    use serde_json::json;

    #[test]
    fn reads_the_four_operations() {
        let ops = operations(json!([
            {"op": "replace", "path": "/enabled", "value": "true"},
            {"op": "add", "path": "/countryCode", "value": "FR"},
            {"op": "remove", "path": "/countryCode"},
            {"op": "test", "path": "/name", "value": "x"}
        ]))
        .unwrap();
        assert_eq!(ops[0], PatchOp::Replace { path: "/enabled".into(), value: Raw::Text("true".into()) });
        assert_eq!(ops[2], PatchOp::Remove { path: "/countryCode".into() });
        assert_eq!(ops.len(), 4);
    }

    #[test]
    fn malformed_documents_are_refused_with_every_problem() {
        assert!(matches!(operations(json!({"op": "replace"})), Err(ApiError::BadRequest(_))));
        let Err(ApiError::Invalid(problems)) = operations(json!([
            {"op": "move", "path": "/a", "from": "/b"},
            {"op": "replace", "path": "/name"},
            {"path": "/x", "value": 1},
            {"op": "add", "value": 1},
            "nonsense"
        ])) else {
            panic!("invalid")
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["/0/op", "/1/value", "/2/op", "/3/path", "/4"]);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop::sample::select(vec!["add", "remove", "replace", "test", "move", "/name", "/enabled", "/_type"])
                .prop_map(Value::from),
            ".{0,20}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        prop::sample::select(vec!["op", "path", "value", "from"]).prop_map(str::to_owned),
                        ".{0,8}"
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any JSON document is a list of operations or a 400, never a panic.
        #[test]
        fn any_document_is_operations_or_a_400(document in json()) {
            match operations(document) {
                Ok(_) => {}
                Err(error) => prop_assert!(matches!(error, ApiError::Invalid(_) | ApiError::BadRequest(_))),
            }
        }
    }
}
