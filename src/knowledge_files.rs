//! Reading the shop's knowledge folder (`shop.knowledge`): every `*.md` file in it, in name
//! order, bounded in count and size so a wrong path (a home folder) cannot stall the start.

use std::path::Path;

use anyhow::Context as _;
use flows::knowledge::Knowledge;

/// Files read at most; a shop's answers fit in far fewer.
const MAX_FILES: usize = 200;
/// Bytes per file at most.
const MAX_FILE_BYTES: u64 = 256 * 1024;

pub fn load_knowledge(folder: &Path) -> anyhow::Result<Knowledge> {
    let mut names: Vec<_> = std::fs::read_dir(folder)
        .with_context(|| format!("reading the knowledge folder {}", folder.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "md") && path.is_file())
        .collect();
    names.sort();
    if names.len() > MAX_FILES {
        anyhow::bail!(
            "the knowledge folder {} has {} Markdown files; at most {MAX_FILES} are read",
            folder.display(),
            names.len()
        );
    }
    let mut files = Vec::new();
    for path in names {
        let size = std::fs::metadata(&path)?.len();
        if size > MAX_FILE_BYTES {
            anyhow::bail!(
                "{} is {size} bytes; a knowledge file may have at most {MAX_FILE_BYTES}",
                path.display()
            );
        }
        let contents = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        files.push((name, contents));
    }
    Ok(Knowledge::from_files(&files)?)
}
