//! Any bytes as the JSON Patch document of a profile (the first byte picks its type): a 200 or a 4xx, never a panic
//! nor a 5xx.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbx_domain::PbxType;

fuzz_target!(|data: &[u8]| {
    let Some((first, document)) = data.split_first() else { return };
    let pbx_type = PbxType::ALL[usize::from(*first) % PbxType::ALL.len()];
    let status = pbx_api::fuzzing::patch_pbx_body(pbx_type, document);
    assert!(status == 200 || (400..500).contains(&status), "a patch document answered {status}");
});
