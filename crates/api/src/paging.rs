//! `pageIndex` / `pageSize` and the collection envelope.

use actix_web::{HttpResponse, HttpResponseBuilder};
use chrono::Utc;
use pbx_application::Page;
use serde::Serialize;
use utoipa::ToSchema;

#[cfg(test)]
use crate::ApiError;
use crate::envelope::json_body;
use crate::query::QueryParams;

const DEFAULT_SIZE: u64 = 100;
const MAX_SIZE: u64 = 1000;
/// The last page: 2^53 − 1, the largest whole number every JSON client holds exactly (so the OpenAPI `maximum` says
/// it without rounding), whose offset with the largest page still fits the databases' signed 64-bit `OFFSET`.
pub(crate) const MAX_INDEX: u64 = (1 << 53) - 1;
const _: () = assert!(MAX_INDEX <= i64::MAX.unsigned_abs() / MAX_SIZE);

/// The page a query asks for: `pageIndex` from 0, `pageSize` from 1 to 1000 (100 by default); a problem with
/// either stays in `params`, to be answered with the others.
pub(crate) fn page(params: &mut QueryParams) -> Page {
    Page {
        index: params.number("pageIndex", 0, 0, MAX_INDEX),
        size: params.number("pageSize", DEFAULT_SIZE, 1, MAX_SIZE),
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

    fn page_of(query: &str) -> Result<Page, ApiError> {
        let mut params = QueryParams::parse(query);
        let page = page(&mut params);
        params.checked(page)
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(page_of("").unwrap(), Page { index: 0, size: 100 });
        assert_eq!(page_of("pageIndex=2&pageSize=1000").unwrap(), Page { index: 2, size: 1000 });
        let last = page_of("pageIndex=9007199254740991&pageSize=1000").unwrap();
        assert!(i64::try_from(last.offset()).is_ok(), "the largest offset fits a signed 64-bit OFFSET");
        for bad in [
            "pageSize=0",
            "pageSize=1001",
            "pageIndex=-1",
            "pageSize=x",
            "pageIndex=9223372036854776",
            "pageIndex=9007199254740992",
            "pageIndex=18446744073709551616",
            "pageSize=5&pageSize=5",
        ] {
            assert!(matches!(page_of(bad), Err(ApiError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn every_bad_parameter_is_named_with_its_range() {
        let Err(ApiError::Invalid(problems)) = page_of("pageSize=x&pageIndex=-1") else { panic!("400") };
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
