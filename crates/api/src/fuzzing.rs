//! Entry points for the fuzz targets (`make fuzz`), compiled only with the `fuzzing` feature: request bodies as
//! the handlers read them, answered with the status they would get.

use actix_web::ResponseError;
use pbx_domain::{CountryCode, CustomerId, PbxConnection, PbxId, PbxProfile, PbxType, ProfileName};
use serde_json::Value;

use crate::body::parse_json;
use crate::wire::patch::operations;
use crate::wire::profile;

/// A valid profile of each type, to patch.
fn sample(pbx_type: PbxType) -> anyhow::Result<PbxProfile> {
    let (id, customer) = (PbxId::from_uuid(uuid::Uuid::from_u128(1)), CustomerId::from_uuid(uuid::Uuid::from_u128(2)));
    let connection = PbxConnection::example(pbx_type);
    Ok(PbxProfile::new(id, customer, ProfileName::parse("Main")?, CountryCode::US, connection))
}

/// The status a create of a profile with this body gets, before the database is asked: 201 for a valid profile,
/// else the 4xx of the first problem.
#[must_use]
pub fn create_pbx_body(bytes: &[u8]) -> u16 {
    match parse_json(bytes) {
        Ok(Value::Object(body)) => {
            if profile::parse(body).is_ok() {
                201
            } else {
                400
            }
        }
        Ok(_) => 400,
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
    #[allow(clippy::expect_used)] // the samples are valid profiles; failing to build one is a bug here
    let current = sample(pbx_type).expect("a sample profile").withheld();
    let patched = parse_json(bytes).and_then(operations).and_then(|operations| profile::patched(&current, operations));
    match patched {
        Ok(_) => 200,
        Err(error) => error.status_code().as_u16(),
    }
}
