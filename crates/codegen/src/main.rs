//! `weir-codegen`: regenerates the checked-in sources of `crates/model` from
//! the vendored botocore Glue model. Run `cargo run -p weir-codegen`.

use anyhow::{Context, Result};

fn main() -> Result<()> {
    let json = weir_codegen::read_vendored_model()?;
    let dir = weir_codegen::model_crate_dir();
    for (path, contents) in weir_codegen::generate(&json)? {
        let full = dir.join(&path);
        let unchanged = std::fs::read_to_string(&full).is_ok_and(|old| old == contents);
        if unchanged {
            println!("unchanged {}", path.display());
        } else {
            std::fs::write(&full, contents)
                .with_context(|| format!("writing {}", full.display()))?;
            println!("wrote     {}", path.display());
        }
    }
    Ok(())
}
