//! The checked-in generated files of `crates/model` must equal what the
//! generator produces from the vendored model.

#[test]
fn generated_files_are_up_to_date() {
    let json = weir_codegen::read_vendored_model().expect("read vendored model");
    let files = weir_codegen::generate(&json).expect("generate");
    assert!(!files.is_empty());
    let dir = weir_codegen::model_crate_dir();
    let mut stale = Vec::new();
    for (path, contents) in &files {
        let on_disk = std::fs::read_to_string(dir.join(path)).unwrap_or_default();
        if &on_disk != contents {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "generated files in crates/model are stale: {stale:?}; \
         regenerate with `cargo run -p weir-codegen` and commit the result"
    );
}
