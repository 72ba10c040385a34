//! Which customer a reference names: the console's `C-4F3A9B`, a phone number (their
//! WhatsApp chat), or `channel:platform-id`. A chat linked into another resolves to the
//! survivor, who holds both.

use flows::{Channel, CustomerId, Identity};

use crate::store::{Store, StoreResult};

/// What a reference is not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("no customer has the reference {0:?}")]
    NotFound(String),
    #[error("{0:?} is not a customer reference (C-XXXXXX), a phone number or channel:platform-id")]
    NotAReference(String),
    /// A short reference two customers share (it is 24 bits of a random id): refused rather
    /// than acting on either; their phone number or `channel:id` tells them apart.
    #[error(
        "{0:?} is the reference of more than one customer: use their phone number or channel:platform-id"
    )]
    Ambiguous(String),
}

pub async fn find(
    store: &dyn Store,
    reference: &str,
) -> StoreResult<Result<CustomerId, LookupError>> {
    let reference = reference.trim();
    let not_found = || Ok(Err(LookupError::NotFound(reference.to_owned())));
    if let Some(code) = reference
        .strip_prefix("C-")
        .or_else(|| reference.strip_prefix("c-"))
    {
        let wanted = format!("C-{}", code.to_uppercase());
        let mut found = store
            .summaries()
            .await?
            .into_iter()
            .map(|row| row.customer)
            .filter(|id| crate::console::reference(id) == wanted);
        return match (found.next(), found.next()) {
            (Some(id), None) => Ok(Ok(id)),
            (Some(_), Some(_)) => Ok(Err(LookupError::Ambiguous(reference.to_owned()))),
            (None, _) => not_found(),
        };
    }
    let identity = match reference.split_once(':') {
        Some((channel, id)) => {
            let Some(channel) = Channel::ALL.into_iter().find(|c| c.name() == channel) else {
                return Ok(Err(LookupError::NotAReference(reference.to_owned())));
            };
            Identity::new(channel, id)
        }
        None => {
            let digits: String = reference.chars().filter(char::is_ascii_digit).collect();
            let phone_like = (8..=15).contains(&digits.len())
                && reference
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if !phone_like {
                return Ok(Err(LookupError::NotAReference(reference.to_owned())));
            }
            Identity::new(Channel::WhatsApp, digits)
        }
    };
    match store.find_identity(&identity).await? {
        Some(id) => Ok(Ok(id)),
        None => not_found(),
    }
}
