//! Sealed pending authorizations: `Engine::open_pending` on arbitrary strings (refused
//! unless the engine sealed them), and seal/open round trips of pending values the
//! authorization endpoint produced from fuzzed queries (FZ-01, FZ-02).

#![no_main]

use std::sync::OnceLock;

use finrift_fuzz::{block_on, check_error, engine};
use libfuzzer_sys::fuzz_target;
use oauth_core::{AuthorizeOutcome, Engine, ErrorCode, ManualClock, MAX_SEALED_LEN};
use oauth_store_memory::MemoryStore;

fn shared() -> &'static Engine<MemoryStore, ManualClock> {
    static ENGINE: OnceLock<Engine<MemoryStore, ManualClock>> = OnceLock::new();
    ENGINE.get_or_init(engine)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let engine = shared();
    if mode % 2 == 0 {
        match engine.open_pending(&text) {
            Ok(pending) => {
                // Only a value sealed with this key opens; the fuzzer cannot forge one.
                assert!(text.len() <= MAX_SEALED_LEN);
                panic!("a forged sealed value opened: {pending:?}");
            }
            Err(error) => {
                check_error(&error);
                assert_eq!(error.code(), ErrorCode::InvalidRequest);
            }
        }
    } else {
        // The authorization endpoint's pending value survives a seal and open unchanged,
        // and any one-byte change is refused.
        let Ok(AuthorizeOutcome::Pending(pending)) = block_on(engine.authorize_query(&text)) else {
            return;
        };
        let sealed = engine.seal_pending(&pending).expect("sealing");
        assert_eq!(engine.open_pending(&sealed).expect("opens"), pending);
        let position = rest.len() % sealed.len();
        let mut altered = sealed.clone().into_bytes();
        altered[position] = if altered[position] == b'A' {
            b'B'
        } else {
            b'A'
        };
        if let Ok(altered) = String::from_utf8(altered) {
            if altered != sealed {
                assert!(
                    engine.open_pending(&altered).is_err(),
                    "an altered value opened"
                );
            }
        }
    }
});
