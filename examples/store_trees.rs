//! Per tree of a (stopped) sled store: how many records, and their average key and value
//! sizes; `TREE=name` also prints that tree's first records. Used with
//! `KEEP=/some/dir bash examples/store_cost.sh`, which keeps the benchmark's store:
//!   cargo run --release --example store_trees -- /some/dir
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: store_trees STORE_DIR");
        return ExitCode::from(2);
    };
    match report(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{path}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn report(path: &str) -> sled::Result<()> {
    let db = sled::Config::new().path(path).open()?;
    let shown = std::env::var("TREE").ok();
    for name in db.tree_names() {
        let name_text = String::from_utf8_lossy(&name).into_owned();
        let tree = db.open_tree(&name)?;
        let (mut count, mut keys, mut values) = (0usize, 0usize, 0usize);
        for item in tree.iter() {
            let (key, value) = item?;
            if shown.as_deref() == Some(name_text.as_str()) && count < 4 {
                let key = String::from_utf8_lossy(&key);
                println!("  {key:?} => {:?}", String::from_utf8_lossy(&value));
            }
            count += 1;
            keys += key.len();
            values += value.len();
        }
        let per = |total: usize| total / count.max(1);
        println!(
            "{name_text:20} records {count:8}  key {:4} B  value {:6} B",
            per(keys),
            per(values)
        );
    }
    Ok(())
}
