//! Properties of one-time-use marks and approvals.

use super::*;

/// `use_once` answers `true` for the first use of a key and `false` for every later one;
/// other keys are independent.
pub async fn use_once_is_single_use<S: Storage>(store: S) {
    let kit = Kit::new();
    let key = kit.hash();
    assert!(
        ok(store.use_once(&key, kit.t(600)).await, "use_once"),
        "storage conformance: the first use_once of a key must answer true"
    );
    for _ in 0..2 {
        assert!(
            !ok(store.use_once(&key, kit.t(600)).await, "use_once"),
            "storage conformance: a key used before must answer false"
        );
    }
    assert!(
        ok(store.use_once(&kit.hash(), kit.t(600)).await, "use_once"),
        "storage conformance: another key is independent"
    );
}

/// `use_once_and_insert_code` stores the code only on the first use of its key, and its
/// mark is the same as `use_once`'s.
pub async fn use_once_and_insert_code_stores_once<S: Storage>(store: S) {
    let kit = Kit::new();
    let key = kit.hash();
    let first = kit.code(60, 86_400);
    assert!(
        ok(
            store
                .use_once_and_insert_code(&key, kit.t(600), first.clone())
                .await,
            "use_once_and_insert_code"
        ),
        "storage conformance: the first use_once_and_insert_code of a key must answer true"
    );
    let second = kit.code(60, 86_400);
    assert!(
        !ok(
            store
                .use_once_and_insert_code(&key, kit.t(600), second.clone())
                .await,
            "use_once_and_insert_code"
        ),
        "storage conformance: use_once_and_insert_code with a used key must answer false"
    );
    assert!(
        !ok(store.use_once(&key, kit.t(600)).await, "use_once"),
        "storage conformance: use_once_and_insert_code must leave the use_once mark"
    );
    assert_eq!(
        ok(store.consume_code(&first.hash).await, "consume_code"),
        CodeConsumption::Consumed(first),
        "storage conformance: the first call's code must be stored"
    );
    assert_eq!(
        ok(store.consume_code(&second.hash).await, "consume_code"),
        CodeConsumption::NotFound,
        "storage conformance: a refused call must store no code"
    );
}

/// A mark is kept until its `expires_at` and purged at it (a purge property: on a shared
/// database, run it alone; its records sit around 1980, apart from every other one's).
pub async fn use_once_marks_are_purged_after_expiry<S: Storage>(store: S) {
    let mut offset = [0u8; 3];
    RandomSource::new()
        .fill(&mut offset)
        .unwrap_or_else(|e| panic!("kit random: {e}"));
    let offset = i64::from(u32::from_be_bytes([0, offset[0], offset[1], offset[2]]));
    let kit = Kit::at(at(315_532_800 + offset)); // 1980-01-01 plus up to 194 days
    let key = kit.hash();
    assert!(ok(store.use_once(&key, kit.t(60)).await, "use_once"));
    purge_all(&store, kit.t(59), 1).await;
    assert!(
        !ok(store.use_once(&key, kit.t(60)).await, "use_once"),
        "storage conformance: a mark must be kept until its expires_at"
    );
    let report = purge_all(&store, kit.t(60), 1).await;
    assert!(
        report.uses >= 1,
        "storage conformance: a purge at a mark's expires_at must remove it and count it in `uses`"
    );
    assert!(
        ok(store.use_once(&key, kit.t(120)).await, "use_once"),
        "storage conformance: a purged mark is forgotten"
    );
}
