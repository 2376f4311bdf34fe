//! Tests of [`KeyDirectory`]: keys that survive a restart, the rotation procedure stepped
//! with explicit times, and manifests that must be refused.

use std::fs;
use std::path::Path;

use serde_json::Value;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::{
    kid_for_pkcs8, pkcs8_to_pem, Algorithm, KeyDirectory, KeyError, KeySet, RotationSchedule,
    RotationStep, SigningKey, MANIFEST_FILE,
};

const T0: OffsetDateTime = datetime!(2030-01-01 00:00 UTC);

fn kids(set: &KeySet) -> Vec<String> {
    set.verification_keys()
        .iter()
        .map(|k| k.kid().to_owned())
        .collect()
}

fn jwks_len(set: &KeySet) -> usize {
    set.jwks()["keys"].as_array().map_or(0, Vec::len)
}

fn reload(path: &Path) -> KeySet {
    KeyDirectory::open(path).unwrap().load().unwrap().unwrap()
}

fn manifest(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path.join(MANIFEST_FILE)).unwrap()).unwrap()
}

fn key_file(path: &Path, kid: &str) -> std::path::PathBuf {
    path.join(format!("key-{kid}.pem"))
}

#[test]
fn a_reopened_directory_serves_the_same_keys() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("keys");
    let dir = KeyDirectory::open(&path).unwrap();
    assert!(dir.load().unwrap().is_none());
    let first = dir.load_or_create(Algorithm::Es256, T0).unwrap();
    drop(dir);

    // A restart: a new handle on the same directory.
    let dir = KeyDirectory::open(&path).unwrap();
    let again = dir.load_or_create(Algorithm::Es256, T0).unwrap();
    assert_eq!(again.active().kid(), first.active().kid());
    assert_eq!(again.jwks(), first.jwks());
    assert_eq!(reload(&path).jwks(), first.jwks());
    // A token signed before the restart verifies after it.
    let signature = first.active().sign(b"message").unwrap();
    let keys = again.verification_keys();
    let key = keys.get(first.active().kid()).unwrap();
    assert!(key.verify(b"message", &signature));
}

#[cfg(unix)]
#[test]
fn key_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("keys");
    let dir = KeyDirectory::open(&path).unwrap();
    let set = dir.load_or_create(Algorithm::EdDsa, T0).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o700);
    assert_eq!(mode(&key_file(&path, set.active().kid())), 0o600);
    assert_eq!(mode(&path.join(MANIFEST_FILE)), 0o600);
    // No temporary file is left behind.
    assert_eq!(fs::read_dir(&path).unwrap().count(), 2);
}

#[test]
fn the_rotation_procedure_step_by_step() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path();
    let dir = KeyDirectory::open(path).unwrap();
    let schedule = RotationSchedule::default();
    let alg = Algorithm::Es256;
    let advance = |at: OffsetDateTime| dir.advance(alg, &schedule, at).unwrap();

    let first = match advance(T0) {
        RotationStep::Created { kid } => kid,
        other => panic!("{other:?}"),
    };
    let old = reload(path);
    let old_signature = old.active().sign(b"old token").unwrap();

    assert_eq!(advance(T0 + Duration::days(29)), RotationStep::Nothing);

    // Publish: the JWKS has both keys, the current key still signs.
    let next = match advance(T0 + Duration::days(30)) {
        RotationStep::Published { kid } => kid,
        other => panic!("{other:?}"),
    };
    let set = reload(path);
    assert_eq!(jwks_len(&set), 2);
    assert_eq!(set.active().kid(), first);
    assert_eq!(set.next().map(SigningKey::kid), Some(next.as_str()));
    assert!(key_file(path, &next).exists());

    assert_eq!(
        advance(T0 + Duration::days(30) + Duration::hours(23)),
        RotationStep::Nothing
    );

    // Activate: the former next key signs; the old key still verifies.
    let activated = T0 + Duration::days(31);
    assert_eq!(
        advance(activated),
        RotationStep::Activated { kid: next.clone() }
    );
    let set = reload(path);
    assert_eq!(set.active().kid(), next);
    assert!(set.next().is_none());
    assert_eq!(kids(&set), [next.clone(), first.clone()]);
    let keys = set.verification_keys();
    assert!(keys
        .get(&first)
        .unwrap()
        .verify(b"old token", &old_signature));

    assert_eq!(
        advance(activated + Duration::hours(23)),
        RotationStep::Nothing
    );

    // Retire: the old key leaves the JWKS and the disk.
    assert_eq!(
        advance(activated + Duration::days(1)),
        RotationStep::Retired { kid: first.clone() }
    );
    let set = reload(path);
    assert_eq!(kids(&set), std::slice::from_ref(&next));
    assert_eq!(jwks_len(&set), 1);
    assert!(!key_file(path, &first).exists());
    assert_eq!(manifest(path)["keys"].as_array().map(Vec::len), Some(1));

    // The next round starts 30 days after the activation.
    assert_eq!(
        advance(activated + Duration::days(29)),
        RotationStep::Nothing
    );
    assert!(matches!(
        advance(activated + Duration::days(30)),
        RotationStep::Published { .. }
    ));
}

#[test]
fn a_newer_manifest_is_refused_and_left_unchanged() {
    let root = tempfile::tempdir().unwrap();
    let dir = KeyDirectory::open(root.path()).unwrap();
    dir.load_or_create(Algorithm::Es256, T0).unwrap();
    let manifest_path = root.path().join(MANIFEST_FILE);
    let mut newer = manifest(root.path());
    newer["version"] = 2.into();
    newer["new_field"] = "written by a later finrift".into();
    let bytes = serde_json::to_vec(&newer).unwrap();
    fs::write(&manifest_path, &bytes).unwrap();

    let refused = KeyError::ManifestVersion {
        path: manifest_path.display().to_string(),
        version: 2,
    };
    assert_eq!(dir.load().unwrap_err(), refused);
    assert_eq!(
        dir.load_or_create(Algorithm::Es256, T0).unwrap_err(),
        refused
    );
    let late = T0 + Duration::days(400);
    let schedule = RotationSchedule::default();
    assert_eq!(
        dir.advance(Algorithm::Es256, &schedule, late).unwrap_err(),
        refused
    );
    assert!(dir.import_current(Algorithm::Es256, &[0x30], T0).is_err());
    assert!(refused.to_string().contains("version 2"), "{refused}");
    assert_eq!(fs::read(&manifest_path).unwrap(), bytes);
}

#[test]
fn a_manifest_naming_a_missing_file_is_a_clear_error() {
    let root = tempfile::tempdir().unwrap();
    let dir = KeyDirectory::open(root.path()).unwrap();
    let set = dir.load_or_create(Algorithm::EdDsa, T0).unwrap();
    let file = key_file(root.path(), set.active().kid());
    fs::remove_file(&file).unwrap();
    let error = dir.load().unwrap_err();
    assert_eq!(
        error,
        KeyError::MissingKeyFile {
            path: file.display().to_string(),
            kid: set.active().kid().to_owned(),
        }
    );
    assert!(error.to_string().contains(&file.display().to_string()));
    // Nothing is generated over it either.
    assert!(dir.load_or_create(Algorithm::EdDsa, T0).is_err());
}

#[test]
fn a_swapped_key_file_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = KeyDirectory::open(root.path()).unwrap();
    let set = dir.load_or_create(Algorithm::Es256, T0).unwrap();
    let (_, other) = SigningKey::generate(Algorithm::Es256, "other").unwrap();
    let file = key_file(root.path(), set.active().kid());
    fs::write(&file, pkcs8_to_pem(&other)).unwrap();
    assert!(matches!(
        dir.load().unwrap_err(),
        KeyError::KeyFileMismatch { .. }
    ));
    fs::write(&file, "not a key").unwrap();
    let error = dir.load().unwrap_err();
    assert!(matches!(error, KeyError::KeyFile { .. }), "{error:?}");
    assert!(error.to_string().contains(&file.display().to_string()));
}

#[test]
fn a_manifest_cannot_reach_outside_its_directory() {
    // A manifest entry naming `../victim.pem` must be neither read nor, on retirement,
    // deleted, even when that file holds a key whose kid matches.
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("keys");
    let dir = KeyDirectory::open(&path).unwrap();
    dir.load_or_create(Algorithm::Es256, T0).unwrap();
    let (_, victim) = SigningKey::generate(Algorithm::Es256, "victim").unwrap();
    let victim_path = root.path().join("victim.pem");
    fs::write(&victim_path, pkcs8_to_pem(&victim)).unwrap();
    let mut edited = manifest(&path);
    let entry = serde_json::json!({
        "kid": kid_for_pkcs8(&victim),
        "alg": "ES256",
        "file": "../victim.pem",
        "role": "previous",
        "since": 0,
    });
    edited["keys"].as_array_mut().unwrap().push(entry);
    fs::write(
        path.join(MANIFEST_FILE),
        serde_json::to_vec(&edited).unwrap(),
    )
    .unwrap();

    let schedule = RotationSchedule::default();
    let error = dir
        .advance(Algorithm::Es256, &schedule, T0 + Duration::days(2))
        .unwrap_err();
    assert!(
        matches!(error, KeyError::MalformedManifest { .. }),
        "{error:?}"
    );
    assert!(victim_path.exists());
}

#[test]
fn import_current_keeps_the_kid_of_the_bytes() {
    let (_, der) = SigningKey::generate(Algorithm::Es256, "demo").unwrap();
    let kid = kid_for_pkcs8(&der);
    let root = tempfile::tempdir().unwrap();
    let dir = KeyDirectory::open(root.path().join("der")).unwrap();
    let set = dir.import_current(Algorithm::Es256, &der, T0).unwrap();
    assert_eq!(set.active().kid(), kid);
    assert_eq!(reload(dir.path()).active().kid(), kid);
    assert_eq!(
        dir.import_current(Algorithm::Es256, &der, T0).unwrap_err(),
        KeyError::DirectoryInUse {
            path: dir.path().display().to_string()
        }
    );
    // The same key as PEM keeps the same kid: it is derived from the DER.
    let dir = KeyDirectory::open(root.path().join("pem")).unwrap();
    let pem = pkcs8_to_pem(&der);
    let set = dir
        .import_current(Algorithm::Es256, pem.as_bytes(), T0)
        .unwrap();
    assert_eq!(set.active().kid(), kid);
    // Bytes that are no key are not adopted.
    let dir = KeyDirectory::open(root.path().join("bad")).unwrap();
    assert!(dir.import_current(Algorithm::EdDsa, &der, T0).is_err());
    assert!(dir.load().unwrap().is_none());
}

#[test]
fn hmac_keys_are_not_kept() {
    let root = tempfile::tempdir().unwrap();
    let dir = KeyDirectory::open(root.path()).unwrap();
    let refused = KeyError::NotStorable(Algorithm::Hs256);
    assert_eq!(
        dir.load_or_create(Algorithm::Hs256, T0).unwrap_err(),
        refused
    );
    assert_eq!(
        dir.import_current(Algorithm::Hs256, &[0u8; 32], T0)
            .unwrap_err(),
        refused
    );
    let schedule = RotationSchedule::default();
    assert_eq!(
        dir.advance(Algorithm::Hs256, &schedule, T0).unwrap_err(),
        refused
    );
    assert!(dir.load().unwrap().is_none());
}

#[test]
fn schedules_that_cannot_work_are_refused() {
    let day = Duration::days(1);
    assert!(RotationSchedule::new(Duration::days(30), day, day).is_ok());
    for (publish, activate, retire) in [
        (Duration::ZERO, day, day),
        (day, -day, day),
        (day, day, Duration::ZERO),
        (day, day, Duration::days(10_000)),
    ] {
        assert!(matches!(
            RotationSchedule::new(publish, activate, retire),
            Err(KeyError::InvalidSchedule(_))
        ));
    }
    // A schedule built field by field is checked when used.
    let root = tempfile::tempdir().unwrap();
    let dir = KeyDirectory::open(root.path()).unwrap();
    let bad = RotationSchedule {
        activate_after: Duration::ZERO,
        ..RotationSchedule::default()
    };
    assert!(matches!(
        dir.advance(Algorithm::Es256, &bad, T0),
        Err(KeyError::InvalidSchedule(_))
    ));
}

#[test]
fn a_file_where_the_directory_should_be_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("not-a-directory");
    fs::write(&path, "x").unwrap();
    let error = KeyDirectory::open(&path).unwrap_err();
    assert!(matches!(error, KeyError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains(&path.display().to_string()));
}

#[test]
fn a_directory_or_key_file_others_may_write_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("keys");
    let dir = KeyDirectory::open(&path).unwrap();
    let set = dir.load_or_create(Algorithm::EdDsa, T0).unwrap();
    let kid = set.active().kid().to_owned();
    // Someone else could plant a key in a directory they may write to.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o777)).unwrap();
    assert!(KeyDirectory::open(&path).is_err());
    fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).unwrap();
    let file = key_file(&path, &kid);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
    assert!(KeyDirectory::open(&path).unwrap().load().is_err());
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(KeyDirectory::open(&path).unwrap().load().unwrap().is_some());
}
