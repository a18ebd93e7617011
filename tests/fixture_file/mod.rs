//! Loading a PyTorch fixture file (`tests/fixtures/NAME.json`, written by
//! `scripts/fixtures/NAME.py`): the PyTorch version that made it and its list of cases, each
//! test binary with its own case type. Shared by tests/numerics.rs, tests/ops_fixtures.rs and
//! tests/factories.rs.

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A fixture file: the PyTorch version that wrote it and its cases.
#[derive(Deserialize)]
pub struct Fixture<C> {
    pub torch: String,
    pub cases: Vec<C>,
}

/// Reads and parses `tests/fixtures/{name}.json`, panicking with the generator to run when it
/// is missing or malformed.
pub fn load<C: DeserializeOwned>(name: &str) -> Fixture<C> {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run scripts/fixtures/{name}.py)"));
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("{path} is not a valid fixture: {e} (rerun scripts/fixtures/{name}.py)")
    })
}
