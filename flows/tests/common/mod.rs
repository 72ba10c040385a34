//! The shipped demo shop's data, for the tests that run on it.

#![allow(dead_code)]

use std::path::Path;

use flows::knowledge::Knowledge;

/// `config/demo/knowledge`, every file, in name order.
pub fn demo_knowledge() -> Knowledge {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/demo/knowledge");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&folder)
        .expect("demo knowledge readable")
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read_to_string(&path).expect("file readable"))
        })
        .collect();
    files.sort();
    Knowledge::from_files(&files).expect("demo knowledge valid")
}
