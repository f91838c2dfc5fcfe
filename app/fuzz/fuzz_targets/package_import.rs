//! Any bytes given to the package importer: it must answer (a package or a list of problems)
//! without panicking, hanging or running out of memory.
#![no_main]

use app::programs::Rules;
use app::programs::package::{Limits, import};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_package_bytes: 1 << 20,
        max_media_bytes: 1 << 20,
        max_manifest_bytes: 1 << 20,
        max_total_bytes: 4 << 20,
        ..Limits::default()
    };
    let _ = import(data, &limits, &Rules::default());
});
