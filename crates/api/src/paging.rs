//! `pageIndex` / `pageSize` and the collection envelope.

use std::collections::HashMap;

use actix_web::{HttpResponse, HttpResponseBuilder};
use chrono::Utc;
use pbx_application::Page;
use serde::Serialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::ApiError;
use crate::envelope::json_body;
use crate::wire::field::FieldProblem;

const DEFAULT_SIZE: u64 = 100;
const MAX_SIZE: u64 = 1000;
/// The last page: 2^53 − 1, the largest whole number every JSON client holds exactly (so the OpenAPI `maximum` says
/// it without rounding), whose offset with the largest page still fits the databases' signed 64-bit `OFFSET`.
pub(crate) const MAX_INDEX: u64 = (1 << 53) - 1;
const _: () = assert!(MAX_INDEX <= i64::MAX.unsigned_abs() / MAX_SIZE);

/// `pageIndex` and `pageSize` once read as numbers, with their bounds (validator's `range` rules).
#[derive(Debug, Validate)]
struct PageQuery {
    #[validate(range(min = 0, max = MAX_INDEX))]
    page_index: u64,
    #[validate(range(min = 1, max = MAX_SIZE))]
    page_size: u64,
}

/// The page a query asks for.
///
/// # Errors
/// 400 naming each parameter that is not a whole number in range.
pub(crate) fn page(query: &HashMap<String, String>) -> Result<Page, ApiError> {
    // Not a number reads as one past every bound, so that its problem is the range rule's message.
    let number =
        |name: &str, default: u64| query.get(name).map_or(default, |text| text.trim().parse().unwrap_or(u64::MAX));
    let asked = PageQuery { page_index: number("pageIndex", 0), page_size: number("pageSize", DEFAULT_SIZE) };
    let mut problems = Vec::new();
    if let Err(errors) = asked.validate() {
        for (field, field_errors) in errors.field_errors() {
            let name = if field == "page_index" { "pageIndex" } else { "pageSize" };
            for error in field_errors {
                // The message names the rule's own bounds (validator keeps them with the error).
                let (min, max) = (&error.params["min"], &error.params["max"]);
                problems.push(FieldProblem::new(name, format!("must be a whole number from {min} to {max}")));
            }
        }
    }
    problems.sort_by_key(|p| p.field != "pageIndex");
    if problems.is_empty() {
        Ok(Page { index: asked.page_index, size: asked.page_size })
    } else {
        Err(ApiError::Invalid(problems))
    }
}

/// A page: `{"page_size": …, "page_index": …, "data": […], "status": "success", "timestamp": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Collection<T: Serialize> {
    /// Items in this page.
    page_size: usize,
    /// The page, from 0.
    page_index: u64,
    data: Vec<T>,
    #[schema(example = "success")]
    status: &'static str,
    #[schema(example = "2019-11-29T16:03:23.9251680Z")]
    timestamp: String,
}

/// A page of items in the collection envelope.
pub(crate) fn collection<T: Serialize>(builder: HttpResponseBuilder, page: Page, data: Vec<T>) -> HttpResponse {
    let body = Collection {
        page_size: data.len(),
        page_index: page.index,
        data,
        status: "success",
        timestamp: crate::timestamp(Utc::now()),
    };
    json_body(builder, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(page(&query(&[])).unwrap(), Page { index: 0, size: 100 });
        assert_eq!(page(&query(&[("pageIndex", "2"), ("pageSize", "1000")])).unwrap(), Page { index: 2, size: 1000 });
        let last = page(&query(&[("pageIndex", "9007199254740991"), ("pageSize", "1000")])).unwrap();
        assert!(i64::try_from(last.offset()).is_ok(), "the largest offset fits a signed 64-bit OFFSET");
        for bad in [
            vec![("pageSize", "0")],
            vec![("pageSize", "1001")],
            vec![("pageIndex", "-1")],
            vec![("pageSize", "x")],
            vec![("pageIndex", "9223372036854776")],
            vec![("pageIndex", "9007199254740992")],
            vec![("pageIndex", "18446744073709551616")],
        ] {
            assert!(matches!(page(&query(&bad)), Err(ApiError::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn every_bad_parameter_is_named_with_its_range() {
        let Err(ApiError::Invalid(problems)) = page(&query(&[("pageSize", "x"), ("pageIndex", "-1")])) else {
            panic!("400")
        };
        let found: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.message.as_str())).collect();
        assert_eq!(
            found,
            [
                ("pageIndex", "must be a whole number from 0 to 9007199254740991"),
                ("pageSize", "must be a whole number from 1 to 1000")
            ]
        );
    }
}
