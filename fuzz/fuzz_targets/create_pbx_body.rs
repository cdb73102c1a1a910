//! Any bytes as the body of a profile create: a 201 or a 4xx, never a panic nor a 5xx.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let status = pbx_api::fuzzing::create_pbx_body(data);
    assert!(status == 201 || (400..500).contains(&status), "a create body answered {status}");
});
