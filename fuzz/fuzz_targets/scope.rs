//! Scopes: `ScopeSet::parse` on arbitrary input, and the parse/display round trip
//! (FZ-01, AZ-09).

#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_core::{ScopeSet, MAX_SCOPE_LEN};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(set) = ScopeSet::parse(&text) {
        assert!(text.len() <= MAX_SCOPE_LEN);
        assert!(!set.is_empty());
        assert!(text
            .bytes()
            .all(|b| matches!(b, 0x20 | 0x21 | 0x23..=0x5b | 0x5d..=0x7e)));
        let shown = set.to_string();
        let again = ScopeSet::parse(&shown).expect("a displayed set parses");
        assert_eq!(again, set);
        assert_eq!(again.to_string(), shown);
        for scope in text.split(' ') {
            assert!(set.contains(scope));
        }
        assert!(set.is_subset(&set));
        assert_eq!(set.intersection(&set), set);
    }
});
