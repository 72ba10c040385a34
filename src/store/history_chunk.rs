//! A history record: one per step (what came in and every reply it made), in every backend.
//! One insert per step instead of one per entry (in sled each insert costs a tree walk, a
//! page delta and, every few inserts, a node split). Stores written before hold one entry
//! per record; both read the same way.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::store::codec::encode;
use crate::store::records::HistoryEntry;

/// A stored history record: a step's entries, or one entry (appended alone, or older).
pub struct Chunk(pub Vec<HistoryEntry>);

/// The value to store for `entries` (one entry is stored as itself).
pub fn encode_chunk(entries: &[&HistoryEntry]) -> Vec<u8> {
    match entries {
        [one] => encode(one),
        many => encode(&many),
    }
}

/// The entries of a stored record, oldest first.
pub fn decode_chunk(raw: &[u8]) -> Result<Vec<HistoryEntry>, crate::store::codec::CodecError> {
    crate::store::codec::decode::<Chunk>("history record", raw).map(|Chunk(entries)| entries)
}

impl<'de> Deserialize<'de> for Chunk {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Chunk, D::Error> {
        deserializer.deserialize_any(ChunkVisitor)
    }
}

struct ChunkVisitor;

impl<'de> Visitor<'de> for ChunkVisitor {
    type Value = Chunk;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a history entry or a list of them")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Chunk, A::Error> {
        let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(64));
        while let Some(entry) = seq.next_element::<HistoryEntry>()? {
            entries.push(entry);
        }
        Ok(Chunk(entries))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Chunk, A::Error> {
        HistoryEntry::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|entry| Chunk(vec![entry]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::decode;
    use flows::{Channel, Locale, Reply, TextKey, Timestamp};

    fn out(id: u64) -> HistoryEntry {
        HistoryEntry::Out {
            at: Timestamp(id as i64),
            outbox_id: id,
            channel: Channel::WebChat,
            locale: Locale::En,
            reply: Reply::key(TextKey::Menu),
        }
    }

    #[test]
    fn one_entry_or_many_read_back_in_order() {
        for entries in [vec![out(1)], vec![out(1), out(2), out(3)]] {
            let refs: Vec<&HistoryEntry> = entries.iter().collect();
            let Chunk(back) = decode("history", &encode_chunk(&refs)).expect("decodes");
            assert_eq!(back, entries);
        }
        // A record from before chunks: one entry, encoded alone.
        let Chunk(back) = decode("history", &encode(&out(7))).expect("decodes");
        assert_eq!(back, vec![out(7)]);
    }
}
