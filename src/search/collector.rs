//! A collector for "the first N matches by rank", with early termination.
//!
//! The index is sorted by the `rank` fast field (tantivy's index sorting, kept through merges),
//! so inside a segment doc-id order is rank order. The first N live matches of each segment are
//! therefore that segment's best N; merging the segments' lists by rank gives the exact top N
//! while reading only as many postings as it takes to find them. This is what keeps a query
//! matched by most of the index (a common bigram such as 公司, a region prefix) as fast as a rare
//! one: tantivy's `TopDocs` would visit every match.

use super::columns::Columns;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED};

/// The first `limit` matches by rank (ascending), as `(rank, address)`.
pub struct FirstByRank<'a> {
    /// How many.
    pub limit: usize,
    /// The segments' columns (`rank`).
    pub columns: &'a Columns,
}

/// Unused: collection happens in [`FirstByRank::collect_segment`].
pub struct FirstByRankSegment;

impl SegmentCollector for FirstByRankSegment {
    type Fruit = Vec<(u64, DocAddress)>;
    fn collect(&mut self, _doc: DocId, _score: Score) {}
    fn harvest(self) -> Self::Fruit {
        Vec::new()
    }
}

impl Collector for FirstByRank<'_> {
    type Fruit = Vec<(u64, DocAddress)>;
    type Child = FirstByRankSegment;

    fn for_segment(&self, _: SegmentOrdinal, _: &SegmentReader) -> tantivy::Result<Self::Child> {
        Ok(FirstByRankSegment)
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut all: Vec<(u64, DocAddress)> = fruits.into_iter().flatten().collect();
        all.sort_unstable_by_key(|(rank, addr)| (*rank, addr.segment_ord, addr.doc_id));
        all.truncate(self.limit);
        Ok(all)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment_ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Fruit> {
        let columns = self.columns.get(reader)?;
        let ranks = &columns.rank;
        let alive = reader.alive_bitset();
        let mut scorer = weight.scorer(reader, 1.0)?;
        let mut out = Vec::with_capacity(self.limit.min(64));
        let mut doc = scorer.doc();
        while doc != TERMINATED && out.len() < self.limit {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                out.push((ranks.get_val(doc), DocAddress::new(segment_ord, doc)));
            }
            doc = scorer.advance();
        }
        Ok(out)
    }
}
