//! Feeds arbitrary text to the expression parser. Invalid UTF-8 is mapped
//! to U+FFFD so that every input reaches the parser.
//!
//! Beyond "never panics, never overflows the stack", it checks that a
//! successful parse prints (with `Display`) to text that parses back to the
//! same tree, and that errors render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tensorgrad_cli::expr::{parse, MAX_DEPTH};

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    match parse(&src) {
        Ok(e) => {
            assert!(e.depth() <= MAX_DEPTH);
            let printed = e.to_string();
            let again = match parse(&printed) {
                Ok(again) => again,
                Err(err) => panic!("{printed:?} does not reparse:\n{}", err.render(&printed)),
            };
            assert!(
                again.eq_ignoring_spans(&e),
                "{src:?} printed as {printed:?}"
            );
            let vars = e.variables();
            assert!(vars.iter().all(|v| e.find_variable(v).is_some()));
        }
        Err(err) => {
            let rendered = err.render(&src);
            assert!(rendered.starts_with("error: "));
            assert!(rendered.lines().count() <= 3);
        }
    }
});
