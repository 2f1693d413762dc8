//! Scenario files are user input: any text must give a scenario or a `ScenarioError`, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use revbench::scenario::Scenario;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(scenario) = Scenario::parse("fuzz", "fuzz.toml", text) {
            // A scenario that parsed is valid: the invariants validation promises hold.
            assert!(scenario.users >= 1 && scenario.replicas >= 1);
            assert!(!scenario.duration.is_zero());
            assert!(scenario.steps.iter().any(|s| s.weight > 0));
        }
    }
});
