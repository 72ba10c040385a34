//! Loads the shop's catalog file into the core's validated `Catalog`.

use std::path::Path;

use anyhow::{Context as _, bail};

use sha2::{Digest, Sha256};

use flows::{Catalog, CatalogData};

/// Image names must be plain file names (served from the image folder) or https URLs, so a
/// catalog cannot point the media route outside its folder.
fn check_image(product: &str, image: &str, images: &Path) -> anyhow::Result<()> {
    if image.starts_with("https://") {
        return Ok(());
    }
    let plain = !image.is_empty()
        && !image.starts_with('.')
        && image
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !plain {
        bail!("product {product:?}: image {image:?} must be a file name or an https URL");
    }
    if !images.join(image).is_file() {
        bail!(
            "product {product:?}: image {image:?} is not in {}",
            images.display()
        );
    }
    Ok(())
}

pub fn load_catalog(path: &Path, images: &Path) -> anyhow::Result<Catalog> {
    load_catalog_with_digest(path, images).map(|(catalog, _)| catalog)
}

/// The catalog and the SHA-256 of its file: the stock numbers in a file count from when it
/// was written, so sales are counted per file version (see `Store::stock_sold`).
pub fn load_catalog_with_digest(path: &Path, images: &Path) -> anyhow::Result<(Catalog, String)> {
    let raw = std::fs::read_to_string(path)
        .with_context(|| format!("reading catalog {}", path.display()))?;
    let digest = hex::encode(Sha256::digest(raw.as_bytes()));
    let data: CatalogData = serde_json::from_str(&raw)
        .with_context(|| format!("parsing catalog {}", path.display()))?;
    let catalog =
        validate(data, images).with_context(|| format!("validating catalog {}", path.display()))?;
    Ok((catalog, digest))
}

/// The core's checks plus ours: local image files exist in the image folder.
pub fn validate(data: CatalogData, images: &Path) -> anyhow::Result<Catalog> {
    for product in &data.products {
        if let Some(image) = &product.image {
            check_image(&product.id.0, image, images)?;
        }
        for variant in &product.variants {
            if let Some(image) = &variant.image {
                check_image(&product.id.0, image, images)?;
            }
        }
    }
    Ok(Catalog::new(data)?)
}
