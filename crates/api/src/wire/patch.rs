//! JSON Patch (RFC 6902) as the platform's clients send it (contract §9): the document read into the `json-patch`
//! crate's operations, checked against what the resource's fields allow, and turned into the edits of the
//! top-level fields it names, all or nothing. A customer, a webhook or an account applies them to its own view and
//! reads it back through the same body type as a create; a profile reads only the fields named, by the same rules
//! (`super::profile::patched`). Either way a patched resource passes every rule a new one does.

use json_patch::{AddOperation, PatchOperation, ReplaceOperation};
use serde_json::{Map, Value};
use utoipa::PartialSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};

use super::Fields;
use super::field::FieldProblem;
use crate::ApiError;

const NOT_AN_ARRAY: &str = "The patch document must be a JSON array of operations, such as \
                            [{\"op\": \"replace\", \"path\": \"/name\", \"value\": \"New name\"}].";
const OPERATIONS: [&str; 4] = ["add", "remove", "replace", "test"];

/// What a resource's patch document may name: each field, the schema of its value, and what may be done to it.
/// Built from the body type's own schema and the resource's [`Rules`], so the document states what the handler
/// checks.
pub(crate) struct PatchTarget {
    /// A field: `name`.
    pub(crate) field: String,
    /// The schema of a value `add`/`replace` may set, when they may.
    pub(crate) value: Option<RefOr<Schema>>,
    /// Whether `remove` may take it out (an optional field).
    pub(crate) removable: bool,
    /// Whether `test` may compare it (anything but a secret).
    pub(crate) testable: bool,
}

impl PatchTarget {
    /// The targets of a resource whose body type is `T`, under `rules`; `writable` gives the schema of each of the
    /// rules' writable fields.
    pub(crate) fn of<T: PartialSchema>(rules: &Rules<'_>, writable: &[(&str, Schema)]) -> Vec<Self> {
        let RefOr::T(Schema::Object(object)) = T::schema() else { return Vec::new() };
        let mut targets: Vec<Self> = object
            .properties
            .into_iter()
            .map(|(field, schema)| {
                let read_only = rules.read_only.contains(&field.as_str());
                Self {
                    value: (!read_only).then_some(schema),
                    removable: !read_only && !rules.fields.is_required(&field),
                    testable: !rules.fields.secrets.contains(&field),
                    field,
                }
            })
            .collect();
        for field in rules.read_only.iter().filter(|field| !rules.fields.has(field)) {
            targets.push(Self { field: (*field).to_owned(), value: None, removable: false, testable: true });
        }
        for (field, schema) in writable {
            let value = Some(RefOr::T(schema.clone()));
            targets.push(Self { field: (*field).to_owned(), value, removable: false, testable: true });
        }
        targets
    }
}

/// One operation of the JSON Patch document `name` (the component `{name}Operation`): the operations this API
/// applies — `add`, `remove`, `replace`, `test`; `move` and `copy` are refused — on the fields it may apply them
/// to, each `add`/`replace` with the schema of its value. The body is read as the `json-patch` crate's
/// `PatchOperation`s; the schemas are spelled out here, one object per field, a form client generators read.
pub(crate) fn operation_schema(name: &str, targets: &[PatchTarget]) -> (String, RefOr<Schema>) {
    let string = || ObjectBuilder::new().schema_type(SchemaType::Type(Type::String));
    let path = |fields: Vec<String>| {
        string().enum_values(Some(fields.into_iter().map(|f| format!("/{}", f.replace('~', "~0").replace('/', "~1")))))
    };
    let mut one = OneOfBuilder::new().description(Some(format!("One JSON Patch operation on {name}")));
    for target in targets {
        let Some(value) = &target.value else { continue };
        let field = target.field.trim_start_matches('_');
        let title =
            format!("Set{}{}", field.get(..1).unwrap_or_default().to_uppercase(), field.get(1..).unwrap_or_default());
        let object = ObjectBuilder::new()
            .title(Some(format!("{name}{title}")))
            .description(Some(format!("`add` or `replace` `{}` (the same here)", target.field)))
            .property("op", string().enum_values(Some(["add", "replace"])))
            .required("op")
            .property("path", path(vec![target.field.clone()]))
            .required("path")
            .property("value", value.clone())
            .required("value");
        one = one.item(object);
    }
    let removable: Vec<String> = targets.iter().filter(|t| t.removable).map(|t| t.field.clone()).collect();
    if !removable.is_empty() {
        one = one.item(
            ObjectBuilder::new()
                .title(Some(format!("{name}Remove")))
                .description(Some("`remove` an optional field: it takes its default"))
                .property("op", string().enum_values(Some(["remove"])))
                .required("op")
                .property("path", path(removable))
                .required("path"),
        );
    }
    let testable: Vec<String> = targets.iter().filter(|t| t.testable).map(|t| t.field.clone()).collect();
    one = one.item(
        ObjectBuilder::new()
            .title(Some(format!("{name}Test")))
            .description(Some("`test` a field: when its value differs, nothing applies (409)"))
            .property("op", string().enum_values(Some(["test"])))
            .required("op")
            .property("path", path(testable))
            .required("path")
            .property("value", ObjectBuilder::new().schema_type(SchemaType::AnyValue).description(Some("Any JSON")))
            .required("value"),
    );
    (format!("{name}Operation"), RefOr::T(one.into()))
}

/// The document `name`: its operations (the component `{name}Operation`), as an array or one on its own.
pub(crate) fn document_schema(name: &str) -> RefOr<Schema> {
    let operation = format!("{name}Operation");
    OneOfBuilder::new()
        .item(ArrayBuilder::new().items(Ref::from_schema_name(&operation)))
        .item(Ref::from_schema_name(&operation))
        .description(Some("An array of operations, all applied or none; or a single operation object."))
        .into()
}

/// Declares `$type`, the patch document named `$name` of the resource whose targets `$targets` gives.
macro_rules! patch_document {
    ($(#[$meta:meta])* $type:ident, $name:literal, $targets:expr) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub(crate) struct $type;

        impl utoipa::PartialSchema for $type {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::wire::patch::document_schema($name)
            }
        }

        impl utoipa::ToSchema for $type {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }

            fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
                schemas.push($crate::wire::patch::operation_schema($name, &$targets));
            }
        }
    };
}
pub(crate) use patch_document;

/// The operations of a patch document: an array of operations, or one operation object on its own (§9).
///
/// # Errors
/// 400 when the document is neither, listing every malformed operation (`/1/op`, `/2/value`…).
pub(crate) fn operations(document: Value) -> Result<Vec<PatchOperation>, ApiError> {
    let items = match document {
        Value::Array(items) => items,
        Value::Object(operation) => vec![Value::Object(operation)],
        _ => return Err(ApiError::BadRequest(NOT_AN_ARRAY.to_owned())),
    };
    let mut operations = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match shape(&item) {
            Some((place, message)) => problems.push(FieldProblem::new(format!("/{index}{place}"), message)),
            None => match serde_json::from_value::<PatchOperation>(item) {
                Ok(operation) => operations.push(operation),
                Err(e) => problems.push(FieldProblem::new(format!("/{index}"), e.to_string())),
            },
        }
    }
    if problems.is_empty() { Ok(operations) } else { Err(ApiError::Invalid(problems)) }
}

/// What is wrong with the shape of one operation (where in it, and what), if anything.
fn shape(item: &Value) -> Option<(&'static str, String)> {
    let Value::Object(object) = item else { return Some(("", "must be an operation object".to_owned())) };
    let op = match object.get("op").and_then(Value::as_str) {
        Some(op @ ("move" | "copy")) => return Some(("/op", format!("'{op}' is not supported"))),
        Some(op) if OPERATIONS.contains(&op) => op,
        _ => return Some(("/op", format!("must be one of: {}", OPERATIONS.join(", ")))),
    };
    if !object.get("path").is_some_and(Value::is_string) {
        return Some(("/path", "is required: a JSON Pointer such as /name".to_owned()));
    }
    (op != "remove" && !object.contains_key("value")).then(|| ("/value", "is required for this operation".to_owned()))
}

/// What a patch may do to which field of a resource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules<'a> {
    /// What the resource is, for messages (`KazooPbxConnectionProfile`, `a customer`).
    pub(crate) kind: &'a str,
    /// The fields of the resource's body type.
    pub(crate) fields: &'a Fields,
    /// Fields no operation but `test` may touch (the body's `_type`, or fields the view shows besides the body's).
    pub(crate) read_only: &'a [&'a str],
    /// Fields the view shows besides the body's, which a patch may change but not remove.
    pub(crate) writable: &'a [&'a str],
}

/// The field a pointer names: `/name` → `name` (`~1` is `/`, `~0` is `~`); none for deeper or root pointers.
fn field(path: &str) -> Option<String> {
    let rest = path.strip_prefix('/')?;
    (!rest.contains('/')).then(|| rest.replace("~1", "/").replace("~0", "~"))
}

impl Rules<'_> {
    /// The secret fields `operations` write (any operation but `test` on one), whatever value they write.
    pub(crate) fn secrets_written(&self, operations: &[PatchOperation]) -> Vec<String> {
        let mut written: Vec<String> = operations
            .iter()
            .filter(|operation| !matches!(operation, PatchOperation::Test(_)))
            .filter_map(|operation| field(operation.path().as_ref()))
            .filter(|name| self.fields.secrets.contains(name))
            .collect();
        written.sort();
        written.dedup();
        written
    }

    /// Why `operation` may never apply, if so.
    fn refuse(&self, operation: &PatchOperation, name: &str) -> Option<String> {
        let known = self.fields.has(name) || self.read_only.contains(&name) || self.writable.contains(&name);
        if !known {
            return Some(format!("is not a field of {}", self.kind));
        }
        let read_only = self.read_only.contains(&name);
        match operation {
            PatchOperation::Test(_) if self.fields.secrets.iter().any(|s| s == name) => {
                Some("is a secret and cannot be tested".to_owned())
            }
            PatchOperation::Test(_) => None,
            _ if read_only => Some("cannot be changed".to_owned()),
            PatchOperation::Remove(_) if self.fields.is_required(name) || self.writable.contains(&name) => {
                Some("is required and cannot be removed".to_owned())
            }
            _ => None,
        }
    }
}

/// `view` (the resource as its answer shows it, secrets included) patched by `operations`, with the read-only
/// fields its body type does not have taken out: what is left reads as that body.
///
/// # Errors
/// As [`apply`].
pub(crate) fn patch_view(
    view: impl serde::Serialize,
    operations: Vec<PatchOperation>,
    rules: &Rules<'_>,
) -> Result<Map<String, Value>, ApiError> {
    let mut view = to_object(view, rules)?;
    apply(&mut view, operations, rules)?;
    for field in rules.read_only.iter().filter(|field| !rules.fields.has(field)) {
        view.remove(*field);
    }
    Ok(view)
}

/// `view` as a JSON object.
///
/// # Errors
/// 500 when it is not one.
pub(crate) fn to_object(view: impl serde::Serialize, rules: &Rules<'_>) -> Result<Map<String, Value>, ApiError> {
    match serde_json::to_value(view) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ApiError::Internal(anyhow::anyhow!("the view of {} is not a JSON object", rules.kind))),
    }
}

/// Applies `operations` to `view` (the resource as its answer shows it, secrets included), all or none.
///
/// # Errors
/// As [`edits`]; `view` is unchanged then.
pub(crate) fn apply(
    view: &mut Map<String, Value>,
    operations: Vec<PatchOperation>,
    rules: &Rules<'_>,
) -> Result<(), ApiError> {
    let edits = edits(|| Ok(view.clone()), operations, rules)?;
    for (field, value) in edits.0 {
        match value {
            Some(value) => view.insert(field, value),
            None => view.remove(&field),
        };
    }
    Ok(())
}

/// The fields a patch names (`test` aside), each with what the patch leaves in it: a value, or nothing (removed).
#[derive(Debug, Default)]
pub(crate) struct Edits(Vec<(String, Option<Value>)>);

impl Edits {
    /// What the patch leaves in `field`, if it names it.
    fn get(&self, field: &str) -> Option<&Option<Value>> {
        self.0.iter().find(|(name, _)| name == field).map(|(_, value)| value)
    }

    fn set(&mut self, field: String, value: Option<Value>) {
        match self.0.iter_mut().find(|(name, _)| *name == field) {
            Some((_, left)) => *left = value,
            None => self.0.push((field, value)),
        }
    }

    /// Takes out `field`: `None` when the patch does not name it, else what it leaves (null when removed).
    pub(crate) fn take(&mut self, field: &str) -> Option<Value> {
        let index = self.0.iter().position(|(name, _)| name == field)?;
        Some(self.0.remove(index).1.unwrap_or(Value::Null))
    }

    /// The fields named as a body: each with its value, null when removed (a body's absent field).
    pub(crate) fn into_object(self) -> Map<String, Value> {
        self.0.into_iter().map(|(field, value)| (field, value.unwrap_or(Value::Null))).collect()
    }
}

/// What `operations` do to the top-level fields of a resource, in order, all or none; `view` gives the resource
/// as its answer shows it (secrets aside), read only when a `test` compares a field the patch does not set.
///
/// `replace` of an optional field that is not set acts as `add`, and `remove` of one is nothing (§9): either
/// leaves the field as the patch says, set or not, whatever it was before.
///
/// # Errors
/// 400 listing every operation that can never apply; 409 when a `test` fails (a `test` of a field that is not set
/// fails like one of a different value).
pub(crate) fn edits(
    view: impl FnOnce() -> Result<Map<String, Value>, ApiError>,
    operations: Vec<PatchOperation>,
    rules: &Rules<'_>,
) -> Result<Edits, ApiError> {
    let mut problems = Vec::new();
    let mut checked = Vec::with_capacity(operations.len());
    for operation in operations {
        let path = operation.path().to_string();
        let Some(name) = field(&path) else {
            problems.push(FieldProblem::new(&path, format!("is not a field of {}", rules.kind)));
            continue;
        };
        match rules.refuse(&operation, &name) {
            Some(message) => problems.push(FieldProblem::new(&path, message)),
            None => checked.push((name, operation)),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    // Each operation sees what the ones before it did (a field removed twice, a test after a replace).
    let (mut edits, mut view, mut current) = (Edits::default(), Some(view), None::<Map<String, Value>>);
    for (name, operation) in checked {
        match operation {
            PatchOperation::Test(test) => {
                if edits.get(&name).is_none()
                    && let Some(view) = view.take()
                {
                    current = Some(view()?);
                }
                let now = match edits.get(&name) {
                    Some(left) => left.as_ref(),
                    None => current.as_ref().and_then(|current| current.get(&name)),
                };
                if now != Some(&test.value) {
                    return Err(ApiError::test_failed(&test.path.to_string()));
                }
            }
            PatchOperation::Add(AddOperation { value, .. })
            | PatchOperation::Replace(ReplaceOperation { value, .. }) => {
                edits.set(name, Some(value));
            }
            PatchOperation::Remove(_) => edits.set(name, None),
            // Refused with their shape (`shape`), before any rule.
            PatchOperation::Move(_) | PatchOperation::Copy(_) => {
                return Err(ApiError::Invalid(vec![FieldProblem::new(name, "cannot be moved or copied")]));
            }
        }
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> Fields {
        Fields {
            names: ["_type", "name", "apiKey", "countryCode"].map(str::to_owned).to_vec(),
            required: ["_type", "name", "apiKey"].map(str::to_owned).to_vec(),
            secrets: vec!["apiKey".to_owned()],
        }
    }

    fn patch(view: Value, document: Value) -> Result<Value, ApiError> {
        let fields = fields();
        let rules = Rules { kind: "a thing", fields: &fields, read_only: &["_type", "id"], writable: &["enabled"] };
        let Value::Object(mut view) = view else { panic!("an object") };
        apply(&mut view, operations(document)?, &rules)?;
        Ok(Value::Object(view))
    }

    fn view() -> Value {
        json!({"_type": "T", "id": "1", "name": "Main", "apiKey": "k", "enabled": false})
    }

    #[test]
    fn the_platforms_leniency_replace_of_an_unset_field_and_a_single_operation() {
        let patched = patch(view(), json!({"op": "replace", "path": "/countryCode", "value": "FR"})).unwrap();
        assert_eq!(patched["countryCode"], "FR");
        let patched = patch(view(), json!([{"op": "remove", "path": "/countryCode"}])).unwrap();
        assert_eq!(patched, view(), "removing an unset optional field changes nothing");
        let with = |v: Value| {
            let Value::Object(mut view) = view() else { panic!("an object") };
            view.extend(v.as_object().unwrap().clone());
            Value::Object(view)
        };
        let removed = json!([{"op": "remove", "path": "/countryCode"}, {"op": "remove", "path": "/countryCode"}]);
        assert_eq!(patch(with(json!({"countryCode": "FR"})), removed).unwrap(), view(), "each sees the one before");
        let unset = patch(view(), json!({"op": "test", "path": "/countryCode", "value": "FR"}));
        assert!(matches!(unset, Err(ApiError::Conflict(_))), "a test of an unset field fails: {unset:?}");
    }

    #[test]
    fn operations_apply_all_or_none() {
        let failed = patch(
            view(),
            json!([{"op": "replace", "path": "/name", "value": "New"}, {"op": "test", "path": "/name", "value": "Main"}]),
        );
        assert!(matches!(failed, Err(ApiError::Conflict(_))), "{failed:?}");
        let done = patch(
            view(),
            json!([{"op": "test", "path": "/name", "value": "Main"}, {"op": "replace", "path": "/enabled", "value": "true"}]),
        )
        .unwrap();
        assert_eq!(done["enabled"], "true", "the value is checked when the view is read back, not here");
    }

    #[test]
    fn operations_that_can_never_apply_are_listed_with_their_paths() {
        let Err(ApiError::Invalid(problems)) = patch(
            view(),
            json!([
                {"op": "replace", "path": "/id", "value": "2"},
                {"op": "replace", "path": "/_type", "value": "X"},
                {"op": "remove", "path": "/name"},
                {"op": "remove", "path": "/enabled"},
                {"op": "test", "path": "/apiKey", "value": "k"},
                {"op": "add", "path": "/nope", "value": 1},
                {"op": "add", "path": "/name/deeper", "value": 1}
            ]),
        ) else {
            panic!("400")
        };
        let found: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.message.as_str())).collect();
        assert_eq!(
            found,
            [
                ("/id", "cannot be changed"),
                ("/_type", "cannot be changed"),
                ("/name", "is required and cannot be removed"),
                ("/enabled", "is required and cannot be removed"),
                ("/apiKey", "is a secret and cannot be tested"),
                ("/nope", "is not a field of a thing"),
                ("/name/deeper", "is not a field of a thing"),
            ]
        );
    }

    #[test]
    fn malformed_documents_name_each_broken_operation() {
        assert!(matches!(operations(json!("replace")), Err(ApiError::BadRequest(_))));
        let Err(ApiError::Invalid(problems)) = operations(json!([
            {"op": "move", "from": "/a", "path": "/b"},
            {"op": "frobnicate", "path": "/a"},
            {"op": "add", "path": "/a"},
            {"op": "remove"},
            7,
            {"op": "test", "path": "no-slash", "value": 1}
        ])) else {
            panic!("400")
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["/0/op", "/1/op", "/2/value", "/3/path", "/4", "/5"]);
        assert_eq!(problems[0].message, "'move' is not supported");
    }

    /// Any JSON value, with the operation words and this view's paths among random ones.
    fn json() -> impl proptest::strategy::Strategy<Value = Value> {
        let words = vec![
            "add",
            "remove",
            "replace",
            "test",
            "move",
            "/name",
            "/id",
            "/apiKey",
            "/countryCode",
            "/enabled",
            "/nope",
            "",
            "/",
            "Main",
            "true",
        ];
        super::super::arbitrary_json(words, ["op", "path", "value", "from"].map(str::to_owned).to_vec())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Any JSON as a patch document is operations or a 400, never a panic.
        #[test]
        fn any_document_is_operations_or_a_400(document in json()) {
            if let Err(error) = operations(document) {
                proptest::prop_assert!(matches!(error, ApiError::BadRequest(_) | ApiError::Invalid(_)));
            }
        }

        /// Any document applies wholly or leaves the view as it was (a 400 or a 409), never a panic.
        #[test]
        fn any_patch_applies_or_changes_nothing(document in json()) {
            let fields = fields();
            let rules = Rules { kind: "a thing", fields: &fields, read_only: &["_type", "id"], writable: &["enabled"] };
            let Value::Object(mut patched) = view() else { panic!("an object") };
            if let Ok(operations) = operations(document)
                && let Err(error) = apply(&mut patched, operations, &rules)
            {
                proptest::prop_assert!(matches!(error, ApiError::Invalid(_) | ApiError::Conflict(_)));
                proptest::prop_assert_eq!(Value::Object(patched), view());
            }
        }
    }
}
