//! `pageIndex` / `pageSize` and the collection envelope.

use std::collections::HashMap;

use actix_web::{HttpResponse, HttpResponseBuilder};
use chrono::Utc;
use pbx_application::Page;
use serde::Serialize;

use crate::ApiError;
use crate::envelope::json_body;
use crate::wire::field::FieldProblem;

const DEFAULT_SIZE: u64 = 100;
const MAX_SIZE: u64 = 1000;
/// The last page: 2^53 − 1, the largest whole number every JSON client holds exactly (so the OpenAPI `maximum` says
/// it without rounding), whose offset with the largest page still fits the databases' signed 64-bit `OFFSET`.
pub(crate) const MAX_INDEX: u64 = (1 << 53) - 1;
const _: () = assert!(MAX_INDEX <= i64::MAX.unsigned_abs() / MAX_SIZE);

/// The page a query asks for.
///
/// # Errors
/// 400 naming each parameter that is not a number in range.
pub(crate) fn page(query: &HashMap<String, String>) -> Result<Page, ApiError> {
    let mut problems = Vec::new();
    let mut number = |name: &str, default: u64, min: u64, max: u64| match query.get(name) {
        None => default,
        Some(text) => match text.trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                let range = if max == u64::MAX { format!("at least {min}") } else { format!("from {min} to {max}") };
                problems.push(FieldProblem::new(name, format!("must be a whole number {range}")));
                default
            }
        },
    };
    let index = number("pageIndex", 0, 0, MAX_INDEX);
    let size = number("pageSize", DEFAULT_SIZE, 1, MAX_SIZE);
    if problems.is_empty() { Ok(Page { index, size }) } else { Err(ApiError::Invalid(problems)) }
}

/// `{"page_size": …, "page_index": …, "data": […], "status": "success", "timestamp": …}`.
#[derive(Debug, Serialize)]
struct Collection<T: Serialize> {
    page_size: usize,
    page_index: u64,
    data: Vec<T>,
    status: &'static str,
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
}
