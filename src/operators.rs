//! `souk operator add|remove|list`: console accounts, written to the store directly.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::Context as _;

use crate::clock;
use crate::console::{password, valid_name};
use crate::settings::Settings;
use crate::store::{Operator, Role};

pub fn add(
    config: &Path,
    name: &str,
    role: &str,
    display_name: Option<String>,
    replace: bool,
) -> anyhow::Result<()> {
    let name = name.trim().to_lowercase();
    if !valid_name(&name) {
        anyhow::bail!(
            "{name:?} is not a valid operator name: 1–64 lower-case letters, digits, dots, dashes or underscores"
        );
    }
    let role = Role::parse(role).context("the role is admin or agent")?;
    let settings = Settings::load(config)?;
    let secret = read_password()?;
    let password_hash = password::hash(&secret)?;
    let store = open_store(&settings)?;
    let operator = Operator {
        name: name.clone(),
        display_name: display_name.unwrap_or_default(),
        role,
        password_hash,
        created_at: clock::now(),
    };
    if !crate::cli::block_on(store.put_operator(&operator, replace))?? {
        anyhow::bail!("operator {name:?} exists; add --replace to set a new password");
    }
    crate::cli::block_on(store.flush())??;
    println!("operator {name} ({}) saved", role.name());
    Ok(())
}

pub fn remove(config: &Path, name: &str) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    let store = open_store(&settings)?;
    if !crate::cli::block_on(store.remove_operator(&name.trim().to_lowercase()))?? {
        anyhow::bail!("no operator {name:?}");
    }
    crate::cli::block_on(store.flush())??;
    println!("operator {name} removed; their sessions ended");
    Ok(())
}

pub fn list(config: &Path) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    let store = open_store(&settings)?;
    for operator in crate::cli::block_on(store.operators())?? {
        println!("{}\t{}", operator.name, operator.role.name());
    }
    Ok(())
}

fn open_store(settings: &Settings) -> anyhow::Result<std::sync::Arc<dyn crate::store::Store>> {
    crate::cli::block_on(crate::store::open(&settings.store))?.with_context(|| {
        format!(
            "opening the store ({}; sled: is souk running? stop it first, or add operators in the console)",
            settings.store.describe()
        )
    })
}

/// From the terminal without echo, twice; or the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    std::io::stderr().flush()?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
