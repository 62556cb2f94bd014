//! Blueprint archives (spec §9.1): checked before any use, optionally extracted.
//!
//! Rules, all enforced while reading (nothing trusts the sizes in the ZIP headers):
//! - the archive file is at most [`MAX_COMPRESSED_BYTES`] (1 MB);
//! - the entries inflate to at most [`MAX_UNCOMPRESSED_BYTES`] (5 MB) in total: bytes are
//!   counted as they come out of the decompressor and reading stops at the first byte
//!   over the limit, so a zip bomb costs at most the limit in time and disk;
//! - at most [`MAX_ENTRIES`] entries;
//! - no entry may leave the extraction folder: absolute names, drive letters, `..`
//!   components and NUL bytes are rejected, and so are symbolic links and encrypted
//!   entries; files are created with `create_new`, so a duplicate entry cannot overwrite;
//! - `blueprint.cfg` at the root or in one first-level folder (the root wins; two
//!   first-level candidates are ambiguous), well-formed JSON with `layoutGenerator` and
//!   `parameterSpec` (see [`crate::params`]);
//! - the `layoutGenerator` module is in the archive: `a.b.fn` needs `a/b.py` or
//!   `a/b/__init__.py`, relative to the archive root, which is the layout generator's
//!   working directory and first `sys.path` entry.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use serde_json::Value;

use crate::params::ParameterSpec;

/// Largest accepted archive file, in bytes.
pub const MAX_COMPRESSED_BYTES: u64 = 1024 * 1024;
/// Largest accepted total of inflated entry bytes.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 5 * 1024 * 1024;
/// Largest accepted number of entries.
pub const MAX_ENTRIES: usize = 10_000;
/// Name of the blueprint configuration file.
pub const CONFIG_FILE: &str = "blueprint.cfg";

/// What a checked archive holds.
#[derive(Debug, Clone)]
pub struct Checked {
    /// `layoutGenerator` of `blueprint.cfg` (`package.module.function`).
    pub layout_generator: String,
    /// The parsed `parameterSpec`.
    pub parameter_spec: ParameterSpec,
    /// Relative paths (`/`-separated) of the regular files in the archive.
    pub files: BTreeSet<String>,
}

/// Checks the archive at `zip` and, with `extract_to`, extracts it into that folder
/// (created; removed again when the check fails). The error is a message for
/// `ErrorMessage`.
pub fn check(zip: &Path, extract_to: Option<&Path>) -> Result<Checked, String> {
    let result = check_inner(zip, extract_to);
    if result.is_err()
        && let Some(dir) = extract_to
    {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn check_inner(zip: &Path, extract_to: Option<&Path>) -> Result<Checked, String> {
    let file = File::open(zip).map_err(|e| format!("Could not open the blueprint archive: {e}"))?;
    let length = file
        .metadata()
        .map_err(|e| format!("Could not read the blueprint archive: {e}"))?
        .len();
    if length > MAX_COMPRESSED_BYTES {
        return Err(format!(
            "The blueprint archive is {length} bytes; archives may be at most 1 MB \
             ({MAX_COMPRESSED_BYTES} bytes)."
        ));
    }
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| format!("The blueprint archive is not a valid ZIP file: {e}"))?;
    if archive.len() > MAX_ENTRIES {
        return Err(format!(
            "The blueprint archive has {} entries; at most {MAX_ENTRIES} are allowed.",
            archive.len()
        ));
    }
    if let Some(dir) = extract_to {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("Could not create the extraction folder: {e}"))?;
    }
    let mut inflated = 0u64;
    let mut files = BTreeSet::new();
    let mut configs: Vec<(String, Vec<u8>)> = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("Could not read entry {index} of the blueprint archive: {e}"))?;
        let raw_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let components = safe_components(&raw_name)?;
        if entry.encrypted() {
            return Err(format!("Archive entry {raw_name} is encrypted."));
        }
        if entry.is_symlink() {
            return Err(format!(
                "Archive entry {raw_name} is a symbolic link; links are not allowed."
            ));
        }
        if components.is_empty() {
            continue;
        }
        let relative = components.join("/");
        let target =
            extract_to.map(|dir| components.iter().fold(dir.to_path_buf(), |p, c| p.join(c)));
        if entry.is_dir() {
            if let Some(target) = &target {
                std::fs::create_dir_all(target)
                    .map_err(|e| format!("Could not extract {relative}: {e}"))?;
            }
            continue;
        }
        if !files.insert(relative.clone()) {
            return Err(format!("Archive entry {relative} appears more than once."));
        }
        let is_config =
            components.len() <= 2 && components.last().is_some_and(|c| c == CONFIG_FILE);
        let mut captured = is_config.then(Vec::new);
        let mut sink = open_target(target.as_deref(), &relative)?;
        copy_counted(
            &mut entry,
            &mut sink,
            captured.as_mut(),
            &mut inflated,
            &relative,
        )?;
        if let Some(bytes) = captured {
            configs.push((relative, bytes));
        }
    }
    let (config_path, config) = pick_config(configs)?;
    let (layout_generator, parameter_spec) = parse_config(&config_path, &config)?;
    check_generator_module(&layout_generator, &files)?;
    Ok(Checked {
        layout_generator,
        parameter_spec,
        files,
    })
}

/// The `/`-separated components of an entry name, or why the name may not be used.
/// An empty result is the archive root itself (e.g. `./`).
fn safe_components(name: &str) -> Result<Vec<String>, String> {
    let escapes =
        || format!("Archive entry {name:?} would be written outside the extraction folder.");
    if name.is_empty() || name.contains('\0') {
        return Err(format!("Archive entry {name:?} has an invalid name."));
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Err(escapes());
    }
    let mut components = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err(escapes()),
            _ if part.contains(':') => return Err(escapes()),
            _ => components.push(part.to_string()),
        }
    }
    Ok(components)
}

enum Sink {
    Discard,
    File(File),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Discard => Ok(buf.len()),
            Sink::File(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Discard => Ok(()),
            Sink::File(file) => file.flush(),
        }
    }
}

fn open_target(target: Option<&Path>, relative: &str) -> Result<Sink, String> {
    let Some(target) = target else {
        return Ok(Sink::Discard);
    };
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("Could not extract {relative}: {e}"))?;
    }
    File::create_new(target)
        .map(Sink::File)
        .map_err(|e| format!("Could not extract {relative}: {e}"))
}

/// Copies an entry's inflated bytes to `sink`, counting them into `inflated`; fails
/// before writing the first byte that would pass [`MAX_UNCOMPRESSED_BYTES`].
fn copy_counted(
    entry: &mut impl Read,
    sink: &mut Sink,
    mut captured: Option<&mut Vec<u8>>,
    inflated: &mut u64,
    relative: &str,
) -> Result<(), String> {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = entry
            .read(&mut buffer)
            .map_err(|e| format!("Could not inflate archive entry {relative}: {e}"))?;
        if read == 0 {
            return Ok(());
        }
        let total = *inflated + read as u64;
        if total > MAX_UNCOMPRESSED_BYTES {
            return Err(format!(
                "The blueprint archive inflates to more than 5 MB ({MAX_UNCOMPRESSED_BYTES} \
                 bytes); extraction stopped at entry {relative}."
            ));
        }
        *inflated = total;
        let chunk = &buffer[..read];
        sink.write_all(chunk)
            .map_err(|e| format!("Could not extract {relative}: {e}"))?;
        if let Some(bytes) = captured.as_deref_mut() {
            bytes.extend_from_slice(chunk);
        }
    }
}

fn pick_config(mut configs: Vec<(String, Vec<u8>)>) -> Result<(String, Vec<u8>), String> {
    if let Some(index) = configs.iter().position(|(path, _)| path == CONFIG_FILE) {
        return Ok(configs.swap_remove(index));
    }
    match configs.len() {
        0 => Err(format!(
            "The blueprint archive has no {CONFIG_FILE} at its root or in a top-level folder."
        )),
        1 => Ok(configs.swap_remove(0)),
        _ => Err(format!(
            "The blueprint archive has several {CONFIG_FILE} files ({}); keep exactly one.",
            configs
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn parse_config(path: &str, bytes: &[u8]) -> Result<(String, ParameterSpec), String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("{path} is not well-formed JSON: {e}"))?;
    let object = value
        .as_object()
        .ok_or_else(|| format!("{path} must hold a JSON object."))?;
    let generator = match object.get("layoutGenerator") {
        Some(Value::String(text)) if !text.trim().is_empty() => text.trim().to_string(),
        Some(_) => {
            return Err(format!(
                "{path}: layoutGenerator must be a non-empty string."
            ));
        }
        None => return Err(format!("{path} has no layoutGenerator.")),
    };
    let spec = object
        .get("parameterSpec")
        .ok_or_else(|| format!("{path} has no parameterSpec."))?;
    let spec = ParameterSpec::parse(spec).map_err(|e| format!("{path}: {e}"))?;
    Ok((generator, spec))
}

/// `a.b.fn` → the archive must contain `a/b.py` or `a/b/__init__.py`.
fn check_generator_module(generator: &str, files: &BTreeSet<String>) -> Result<(), String> {
    let parts: Vec<&str> = generator.split('.').collect();
    let identifier = |p: &&str| {
        let mut chars = p.chars();
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && chars.all(|c| c.is_alphanumeric() || c == '_')
    };
    if parts.len() < 2 || !parts.iter().all(identifier) {
        return Err(format!(
            "layoutGenerator {generator:?} must name a function as <module>.<function>, e.g. \
             my_blueprint.layout.generate_layout."
        ));
    }
    let module = parts[..parts.len() - 1].join("/");
    let candidates = [format!("{module}.py"), format!("{module}/__init__.py")];
    if candidates.iter().any(|c| files.contains(c)) {
        return Ok(());
    }
    Err(format!(
        "layoutGenerator {generator}: the module is not in the archive (expected {} or {} at \
         the archive root).",
        candidates[0], candidates[1]
    ))
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
