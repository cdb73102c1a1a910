//! Entry points for the fuzz targets (`make fuzz`), compiled only with the `fuzzing` feature: request bodies as
//! the handlers read them, answered with the status they would get.

use actix_web::ResponseError;
use pbx_domain::PbxType;
use serde_json::Value;

use crate::patch_doc::operations;
use crate::routes::pbxs::draft;

/// The status a create of a profile with this body gets, before the database is asked: 201 for a valid profile,
/// else the 4xx of the first problem.
#[must_use]
pub fn create_pbx_body(bytes: &[u8]) -> u16 {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(bytes) else { return 400 };
    match draft(body) {
        Ok((draft, _)) => {
            if draft.parse().is_ok() {
                201
            } else {
                400
            }
        }
        Err(error) => error.status_code().as_u16(),
    }
}

/// The status a `PATCH` of a valid profile of `pbx_type` with this JSON Patch document gets: 200 when the patched
/// profile is valid, else a 4xx.
///
/// # Panics
/// If the sample profile cannot be built (a bug of the fuzzing entry points, not of the input).
#[must_use]
pub fn patch_pbx_body(pbx_type: PbxType, bytes: &[u8]) -> u16 {
    let Ok(document) = serde_json::from_slice::<Value>(bytes) else { return 400 };
    match operations(document) {
        Ok(operations) => {
            #[allow(clippy::expect_used)] // the samples are valid profiles; failing to build one is a bug here
            let valid = pbx_application::fuzzing::patch_profile(pbx_type, operations).expect("a sample profile");
            if valid { 200 } else { 400 }
        }
        Err(error) => error.status_code().as_u16(),
    }
}
