//! Python libraries a job asks for: `--additional-python-modules` (package index names
//! with optional versions, or wheel locations such as `s3://bucket/lib.whl`) with
//! `--python-modules-installer-option`, installed by pip into a directory put on the
//! script's `PYTHONPATH`; and `--extra-py-files` (zips, wheels and `.py` files) put on
//! it as they are.
//!
//! An installation is kept per requirement set: `<data>/python-modules/<digest>/`, the
//! digest of the interpreter, the installer options and the modules in order. It is
//! usable once its marker [`READY_FILE`] is written (last), installed under a file lock
//! so concurrent runs install it once, and reused by every later run asking for the same
//! set. A failed install leaves no marker and fails the run with pip's last lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use sha2::{Digest, Sha256};

use crate::locations;
use crate::runtime::FileLock;

/// The file whose presence makes an installation usable.
pub const READY_FILE: &str = ".weir-ready";

/// What a run asks pip for, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirements {
    /// Requirement specifiers and local wheel paths, in the order given.
    pub modules: Vec<String>,
    /// Extra pip options (`--python-modules-installer-option`), split on whitespace.
    pub options: Vec<String>,
}

/// The requirements of a run's arguments, if it asks for modules; an `s3://` wheel
/// resolves to its file in the S3 directory.
pub fn requirements(
    arguments: &BTreeMap<String, String>,
    s3_root: &Path,
) -> Result<Option<Requirements>, String> {
    let Some(list) = arguments.get("--additional-python-modules") else {
        return Ok(None);
    };
    let modules = list
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|module| {
            if module.contains("://") || module.ends_with(".whl") {
                let path = locations::resolve(module, s3_root)?;
                if path.is_file() {
                    Ok(path.display().to_string())
                } else {
                    Err(format!(
                        "--additional-python-modules: {module} not found (resolved to {}).",
                        path.display()
                    ))
                }
            } else {
                Ok(module.to_string())
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    if modules.is_empty() {
        return Ok(None);
    }
    let options = arguments
        .get("--python-modules-installer-option")
        .map(|o| o.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    Ok(Some(Requirements { modules, options }))
}

/// The local paths `--extra-py-files` names, as `PYTHONPATH` entries: a zip or wheel as
/// it is, a `.py` file by its directory.
pub fn extra_py_files(
    arguments: &BTreeMap<String, String>,
    s3_root: &Path,
) -> Result<Vec<PathBuf>, String> {
    let Some(list) = arguments.get("--extra-py-files") else {
        return Ok(Vec::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|location| {
            let path = locations::resolve(location, s3_root)?;
            if !path.exists() {
                return Err(format!(
                    "--extra-py-files: {location} not found (resolved to {}).",
                    path.display()
                ));
            }
            if path.extension().is_some_and(|e| e == "py") {
                Ok(path
                    .parent()
                    .map_or_else(|| path.clone(), Path::to_path_buf))
            } else {
                Ok(path)
            }
        })
        .collect()
}

/// Installs `requirements` for `python` under `root` unless an installation of the
/// same set is there; returns its directory. Blocking; call from a blocking thread.
pub fn install(root: &Path, python: &Path, requirements: &Requirements) -> Result<PathBuf, String> {
    let mut digest = Sha256::new();
    for part in std::iter::once(python.display().to_string())
        .chain(requirements.options.iter().cloned())
        .chain(std::iter::once("--".to_string()))
        .chain(requirements.modules.iter().cloned())
    {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    let dir = root.join(hex::encode(&digest.finalize()[..16]));
    if dir.join(READY_FILE).is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(root).map_err(|e| format!("Cannot create {}: {e}", root.display()))?;
    let lock_path = dir.with_extension("lock");
    let _lock = FileLock::acquire(&lock_path)
        .map_err(|e| format!("Cannot lock {}: {e}", lock_path.display()))?;
    if dir.join(READY_FILE).is_file() {
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("Cannot remove the partial install {}: {e}", dir.display()))?;
    }
    tracing::info!(dir = %dir.display(), modules = ?requirements.modules, "installing --additional-python-modules");
    let output = std::process::Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(["--progress-bar", "off", "--target"])
        .arg(&dir)
        .args(&requirements.options)
        .args(&requirements.modules)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("Cannot run pip with {}: {e}", python.display()))?;
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        let text = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = lines[lines.len().saturating_sub(2)..].join(" ");
        return Err(format!(
            "Installing --additional-python-modules failed: {}",
            tail.chars().take(900).collect::<String>()
        ));
    }
    std::fs::write(dir.join(READY_FILE), requirements.modules.join("\n"))
        .map_err(|e| format!("Cannot mark {} ready: {e}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_and_files_resolve_from_the_arguments() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(root.path().join("libs")).expect("bucket");
        std::fs::write(root.path().join("libs/a-1.0-py3-none-any.whl"), b"zip").expect("wheel");
        std::fs::write(root.path().join("libs/helpers.py"), b"X = 1").expect("py");
        let arguments = BTreeMap::from([
            (
                "--additional-python-modules".to_string(),
                "pandas==2.2.3, s3://libs/a-1.0-py3-none-any.whl".to_string(),
            ),
            (
                "--python-modules-installer-option".to_string(),
                "--no-index  --upgrade".to_string(),
            ),
            (
                "--extra-py-files".to_string(),
                "s3://libs/helpers.py".to_string(),
            ),
        ]);
        let wanted = requirements(&arguments, root.path())
            .expect("ok")
            .expect("some");
        assert_eq!(wanted.modules[0], "pandas==2.2.3");
        assert!(wanted.modules[1].ends_with("libs/a-1.0-py3-none-any.whl"));
        assert_eq!(wanted.options, ["--no-index", "--upgrade"]);
        assert_eq!(
            extra_py_files(&arguments, root.path()).expect("files"),
            [root.path().join("libs")]
        );
        let missing = BTreeMap::from([(
            "--additional-python-modules".to_string(),
            "s3://libs/none.whl".to_string(),
        )]);
        assert!(requirements(&missing, root.path()).is_err());
        assert_eq!(requirements(&BTreeMap::new(), root.path()), Ok(None));
    }
}
