//! Typo tolerance: a query word that is not in the vocabulary may match a vocabulary word one
//! edit away (insert, delete, substitute, or swap two neighbours). Lookups go through an
//! index of every word's one-letter deletions (the SymSpell idea), so the cost does not grow
//! with the vocabulary. A query word longer than every vocabulary word by more than one letter
//! cannot be one edit from any of them and is not looked up at all: its deletions alone would
//! cost the square of its length (a pasted URL or base64 blob of 65,536 characters once took
//! gigabytes here).

use std::collections::HashMap;

/// Shorter words are too easily one edit from another real word ("red" / "bed").
pub const MIN_LEN: usize = 4;

fn deletions(word: &[char]) -> Vec<String> {
    (0..word.len())
        .map(|skip| {
            word.iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, c)| c)
                .collect()
        })
        .collect()
}

/// Damerau–Levenshtein distance of at most one, decided without a full matrix.
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    if a == b {
        return true;
    }
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if la == lb {
        let rest_a = &a[prefix + 1..];
        let rest_b = &b[prefix + 1..];
        // Substitution, or a swap of this letter with the next.
        rest_a == rest_b
            || (prefix + 1 < la
                && a[prefix] == b[prefix + 1]
                && a[prefix + 1] == b[prefix]
                && a[prefix + 2..] == b[prefix + 2..])
    } else if la > lb {
        a[prefix + 1..] == b[prefix..]
    } else {
        a[prefix..] == b[prefix + 1..]
    }
}

#[derive(Debug, Clone, Default)]
pub struct TypoIndex {
    /// Deletion (or the word itself) → vocabulary word ids.
    by_deletion: HashMap<String, Vec<u32>>,
    words: Vec<Vec<char>>,
    /// The longest vocabulary word, in chars.
    longest: usize,
}

impl TypoIndex {
    pub fn build<'a>(vocabulary: impl Iterator<Item = (u32, &'a str)>) -> TypoIndex {
        let mut index = TypoIndex::default();
        for (id, word) in vocabulary {
            let chars: Vec<char> = word.chars().collect();
            let slot = id as usize;
            if index.words.len() <= slot {
                index.words.resize(slot + 1, Vec::new());
            }
            if chars.len() >= MIN_LEN {
                index
                    .by_deletion
                    .entry(word.to_owned())
                    .or_default()
                    .push(id);
                for deletion in deletions(&chars) {
                    index.by_deletion.entry(deletion).or_default().push(id);
                }
            }
            index.longest = index.longest.max(chars.len());
            index.words[slot] = chars;
        }
        index
    }

    /// Vocabulary word ids one edit from `word`.
    /// The vocabulary word with this id, as letters.
    pub fn word(&self, id: u32) -> Option<&[char]> {
        self.words.get(id as usize).map(Vec::as_slice)
    }

    pub fn near(&self, word: &str) -> Vec<u32> {
        // Counted without collecting: the length check must not cost the long word's size.
        let len = word.chars().take(self.longest + 2).count();
        if len < MIN_LEN || len > self.longest + 1 {
            return Vec::new();
        }
        let chars: Vec<char> = word.chars().collect();
        let mut keys = deletions(&chars);
        keys.push(word.to_owned());
        let mut found: Vec<u32> = keys
            .iter()
            .filter_map(|key| self.by_deletion.get(key))
            .flatten()
            .copied()
            .filter(|id| {
                self.words
                    .get(*id as usize)
                    .is_some_and(|candidate| within_one_edit(&chars, candidate))
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_of_each_kind_and_nothing_further() {
        let vocabulary = ["jacket", "sweater", "boots", "linen"];
        let index = TypoIndex::build(vocabulary.iter().enumerate().map(|(i, w)| (i as u32, *w)));
        let near = |w: &str| -> Vec<&str> {
            index
                .near(w)
                .iter()
                .map(|&i| vocabulary[i as usize])
                .collect()
        };
        assert_eq!(near("jackt"), ["jacket"]); // deletion
        assert_eq!(near("jaccket"), ["jacket"]); // insertion
        assert_eq!(near("swaeter"), ["sweater"]); // swap
        assert_eq!(near("boats"), ["boots"]); // substitution
        assert!(near("bxxts").is_empty());
        assert!(near("box").is_empty(), "too short to guess");
        assert!(
            near("sweatersx").is_empty(),
            "two letters longer than any word"
        );
        assert!(near(&"a".repeat(65_536)).is_empty());
    }
}
