//! Search: a tantivy index on subject names and codes, derived from the store.
//!
//! One document per subject: its code (exact), its code prefixes of 6, 8 and 10 characters (and
//! of 6 and 8 of a USCC's region part; other lengths are answered from these, or from term
//! ranges: see `tiers`), a USCC's region part and organisation code whole, its names (current and
//! former) as unigram and bigram terms with positions and as runs of three and four units
//! without positions (see [`analyzer`]), the exact-name key, kind, subject id, and a fast `rank`
//! field (shorter names first, then subject id) that breaks ties deterministically.
//!
//! Queries are built from analysed terms, never by tantivy's `QueryParser`, and answered in
//! tiers, each ordered by `rank`: exact code; exact name; code prefix; names containing the query
//! as a contiguous run (one term for a query of up to four units, else a phrase of its bigrams);
//! names sharing most of its bigrams. Each tier is read only until it has enough hits (see
//! `collector`).
//!
//! **Consistency:** the index follows the store's change log. Each commit carries, as its
//! payload, the change sequence it has applied up to; opening the store catches the index up by
//! itself, and every write path catches it up (one commit per call) before reporting success.
//! The index can always be rebuilt from the store (`credstore reindex`).

pub mod analyzer;
mod collector;
mod columns;

use crate::domain::code::SubjectCode;
use crate::domain::record::Subject;
use crate::domain::SubjectKind;
use crate::error::{Error, Result};
use crate::store::Store;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Mutex;
use tantivy::query::{BooleanQuery, PhraseQuery, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, STORED,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

/// Who is searching: decides whether a natural person's code is shown in full. The query layer
/// (requesters, authorisations) will replace this with its own type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// Anyone: natural persons' codes are masked (`310101********123X`).
    Public,
    /// The platform's own staff or the subject itself: codes in full.
    Entitled,
}

/// What matched, in rank order of the tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Matched {
    /// The whole code.
    Code,
    /// The whole name (current or former).
    Name,
    /// A prefix of 6+ characters of the code, its region part or its organisation code.
    CodePrefix,
    /// A name contains the query as a contiguous run.
    NameFragment,
    /// A name shares most of the query's bigrams (all but one; for a three-character query,
    /// one of its two).
    NamePartial,
}

impl Matched {
    fn score(self) -> f32 {
        match self {
            Matched::Code => 5.0,
            Matched::Name => 4.0,
            Matched::CodePrefix => 3.0,
            Matched::NameFragment => 2.0,
            Matched::NamePartial => 1.0,
        }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    /// The code, masked for a natural person unless the requester is entitled.
    pub code: String,
    /// The current name.
    pub name: String,
    /// `natural_person` or `organization`.
    pub kind: &'static str,
    /// Higher is better: 5 exact code, 4 exact name, 3 code prefix, 2 name fragment, 1 partial.
    pub score: f32,
    /// Which tier matched.
    pub matched: Matched,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    code: Field,
    code_prefix: Field,
    code_region: Field,
    org_code: Field,
    grams: Field,
    long_grams: Field,
    name_exact: Field,
    name: Field,
    code_a: Field,
    code_b: Field,
    name_words: [Field; columns::NAME_WORDS],
    rank: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // No field norms anywhere: nothing is scored (tiers and `rank` order the results).
    let grams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::GRAMS_TOKENIZER)
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    // Runs of 3-4 units: a query of that many units is one term; no positions needed.
    let long_grams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::LONG_GRAMS_TOKENIZER)
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::Basic),
    );
    let string = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        code: b.add_text_field("code", string.clone()),
        code_prefix: b.add_text_field("code_prefix", string.clone()),
        code_region: b.add_text_field("code_region", string.clone()),
        org_code: b.add_text_field("org_code", string.clone()),
        grams: b.add_text_field("grams", grams),
        long_grams: b.add_text_field("long_grams", long_grams),
        name_exact: b.add_text_field("name_exact", string),
        // What a hit shows, as fast fields (see `columns`); only a name too long for them is
        // stored.
        name: b.add_text_field("name", STORED),
        code_a: b.add_u64_field("code_a", FAST),
        code_b: b.add_u64_field("code_b", FAST),
        name_words: std::array::from_fn(|i| b.add_u64_field(&format!("name_{i}"), FAST)),
        rank: b.add_u64_field("rank", FAST),
    };
    (b.build(), fields)
}

/// The search index of a store.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    /// `None` only while a rebuild swaps writers (tantivy allows one per index).
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    columns: columns::Columns,
}

/// The locked writer (always `Some` once handed out by `SearchIndex::writer`).
struct WriterGuard<'a>(std::sync::MutexGuard<'a, Option<IndexWriter>>);

impl std::ops::Deref for WriterGuard<'_> {
    type Target = IndexWriter;
    fn deref(&self) -> &IndexWriter {
        self.0.as_ref().expect("a writer")
    }
}

impl std::ops::DerefMut for WriterGuard<'_> {
    fn deref_mut(&mut self) -> &mut IndexWriter {
        self.0.as_mut().expect("a writer")
    }
}

/// Indexes the subjects of a first load as the load writes them ([`SearchIndex::load_indexer`]).
///
/// [`add`](LoadIndexer::add) may be called from another thread than the load's writer (it only
/// hands documents to tantivy's indexing thread); nothing is visible or durable until
/// [`finish`](LoadIndexer::finish), which must come after the store's own flush: the commit
/// records the change sequence it has applied. Dropped unfinished (a failed load), it discards
/// what it added, and the catch-up indexes whatever the load did write.
pub(crate) struct LoadIndexer<'a> {
    search: &'a SearchIndex,
    guard: WriterGuard<'a>,
}

impl LoadIndexer<'_> {
    /// Adds the documents of `subjects`, each new to the index (a load writes a subject once).
    pub(crate) fn add<'s>(&self, subjects: impl Iterator<Item = &'s Subject>) -> Result<()> {
        for s in subjects {
            self.guard
                .add_document(self.search.document(s))
                .map_err(search_error)?;
        }
        Ok(())
    }

    /// Commits, recording `next` (the store's next change sequence, every change before it
    /// flushed) as applied, and merges if the load spilled more than one segment.
    pub(crate) fn finish(mut self, next: u64) -> Result<()> {
        self.search.commit(&mut self.guard, next)?;
        self.search.merge_all(&mut self.guard)
    }
}

impl Drop for LoadIndexer<'_> {
    fn drop(&mut self) {
        // The usual writer comes back on next use.
        self.guard.0.take();
    }
}

/// Memory tantivy's writer may use before it flushes a segment (a bigger budget, fewer
/// segments for a rebuild to merge).
const WRITER_BYTES: usize = 192 << 20;

/// Indexing threads of a rebuild, at most (one segment each).
const REBUILD_THREADS: usize = 2;

/// A rebuild's memory budget per indexing thread (tantivy's limit is 4 GiB). At 1,000,000
/// generated subjects each thread's 500,000 fit in one segment (the whole bench peaks at ~1 GiB
/// RSS); the arena grows as it fills, so a small store uses little.
const REBUILD_BYTES_PER_THREAD: usize = 1 << 30;

/// Subjects read, decoded and handed to the writer at a time in a rebuild.
const REBUILD_BATCH: usize = 8192;

/// A commit that added at least this many documents merges the index into one segment: query
/// latency grows with the number of segments (every term is looked up in each).
const MERGE_AFTER: usize = 50_000;

/// A first load's indexing budget ([`SearchIndex::load_indexer`]): at 1,000,000 generated
/// subjects the one segment fits (the arena grows as it fills, so a small load uses little); a
/// bigger load spills more segments, merged when it ends.
const LOAD_BYTES: usize = 1 << 30;

/// The version of what the index holds and how names are analysed, in `VERSION_FILE` beside
/// tantivy's files. An index of another version (or none: version 1, before the file) is dropped
/// and rebuilt on open, even where the schema compares equal (a tokenizer keeps its name when
/// what it emits changes). 2: the `long_grams` field; code, kind and current name as fast
/// fields, nothing stored.
const INDEX_VERSION: &str = "2";

/// The file holding `INDEX_VERSION` (not one of tantivy's: its garbage collection leaves it).
const VERSION_FILE: &str = "credstore-index-version";

fn search_error(e: tantivy::TantivyError) -> Error {
    Error::Search(e.to_string())
}

impl SearchIndex {
    /// Opens (or creates) the index in `dir`.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let (schema, fields) = schema();
        // Sorted by rank: within a segment, doc order is rank order (see `collector`).
        let settings = tantivy::IndexSettings {
            sort_by_field: Some(tantivy::index::IndexSortByField {
                field: "rank".to_string(),
                order: Order::Asc,
            }),
            ..tantivy::IndexSettings::default()
        };
        // The index is derived data: one that cannot be opened, or was written with another
        // schema or sorting (an older build), is dropped and rebuilt from the store by the
        // catch-up that follows opening.
        let version = std::fs::read_to_string(dir.join(VERSION_FILE)).ok();
        let usable = Index::open_in_dir(dir).ok().filter(|index| {
            version.as_deref() == Some(INDEX_VERSION)
                && index.schema() == schema
                && index.settings().sort_by_field == settings.sort_by_field
                && index.settings().docstore_blocksize == settings.docstore_blocksize
        });
        let index = match usable {
            Some(index) => index,
            None => {
                let io = |source| Error::Io {
                    path: dir.to_path_buf(),
                    source,
                };
                std::fs::remove_dir_all(dir).map_err(io)?;
                std::fs::create_dir_all(dir).map_err(io)?;
                let index = Index::builder()
                    .schema(schema)
                    .settings(settings)
                    .create_in_dir(dir)
                    .map_err(search_error)?;
                // After the index: a crash in between leaves an index without the file, which
                // the next open drops again (it is empty).
                std::fs::write(dir.join(VERSION_FILE), INDEX_VERSION).map_err(io)?;
                index
            }
        };
        index.tokenizers().register(
            analyzer::GRAMS_TOKENIZER,
            tantivy::tokenizer::TextAnalyzer::from(analyzer::GramTokenizer::grams()),
        );
        index.tokenizers().register(
            analyzer::LONG_GRAMS_TOKENIZER,
            tantivy::tokenizer::TextAnalyzer::from(analyzer::GramTokenizer::long_grams()),
        );
        let writer = index.writer(WRITER_BYTES).map_err(search_error)?;
        // NOTE: a commit killed half-way leaves files `meta.json` never named, among them a
        // segment's `<segment>.<opstamp>.del`: the catch-up that follows replays the same
        // operations to the same opstamp and wants that name again, and tantivy refuses to
        // overwrite a file, so the store could not be opened again (tests/crash.rs). tantivy
        // collects such files only after a successful commit; collect them now. No one else
        // uses the index: the store's sled lock is held.
        writer
            .garbage_collect_files()
            .wait()
            .map_err(search_error)?;
        // NOTE: a manual reload policy: the default reloads asynchronously, so a reader could
        // miss an ingest that already reported success. We reload after every commit.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(search_error)?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(Some(writer)),
            fields,
            columns: columns::Columns::default(),
        })
    }

    /// The writer, under its lock (created again if a failed rebuild left none).
    fn writer(&self) -> Result<WriterGuard<'_>> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(self.index.writer(WRITER_BYTES).map_err(search_error)?);
        }
        Ok(WriterGuard(guard))
    }

    /// The change sequence the index has applied up to (exclusive), from its last commit.
    pub fn next_change(&self) -> Result<u64> {
        let metas = self.index.load_metas().map_err(search_error)?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| p.strip_prefix("next_change="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    /// Applies every change the store logged since the last commit, in one commit.
    pub fn catch_up(&self, store: &Store) -> Result<()> {
        let mut writer = self.writer()?;
        let from = self.next_change()?;
        let mut codes = BTreeSet::new();
        let mut next = None;
        for entry in store.changes_since(from) {
            let entry = entry?;
            codes.extend(entry.subjects);
            next = Some(entry.seq + 1);
        }
        let Some(next) = next else { return Ok(()) };
        let added = codes.len();
        // An empty index (a first load) has nothing to replace: no delete per subject, which
        // tantivy would queue and apply at commit.
        let replace = self.reader.searcher().num_docs() > 0;
        self.index_subjects(store, &mut writer, codes.into_iter().collect(), replace)?;
        self.commit(&mut writer, next)?;
        if added >= MERGE_AFTER {
            self.merge_all(&mut writer)?;
        }
        Ok(())
    }

    /// Rebuilds the index from the store: every subject, one commit, recording `next` (the
    /// store's next change sequence, read under its writer lock) as applied.
    ///
    /// A rebuild gets its own writer: up to two indexing threads (`REBUILD_THREADS`), each
    /// with a budget big enough to hold its share of the store in one segment, while the
    /// calling thread and rayon read and decode subjects. The segments are then merged into
    /// one: the merge is a sixth of a rebuild's CPU at 1,000,000 subjects, and searches on the
    /// two segments it would leave took 12-33% longer (BENCHMARKS.md, Search, "At scale").
    pub fn rebuild(&self, store: &Store, next: u64) -> Result<u64> {
        use rayon::prelude::*;
        let mut guard = self.writer()?;
        // One writer per index at a time: the usual one goes (and comes back on next use).
        guard.0.take();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, REBUILD_THREADS);
        *guard.0 = Some(
            self.index
                .writer_with_num_threads(threads, threads * REBUILD_BYTES_PER_THREAD)
                .map_err(search_error)?,
        );
        let result = (|| {
            let writer = guard.0.as_mut().expect("the rebuild writer");
            writer.delete_all_documents().map_err(search_error)?;
            let mut n = 0u64;
            store.subject_header_batches(REBUILD_BATCH, |headers| {
                n += headers.len() as u64;
                let docs: Vec<TantivyDocument> =
                    headers.par_iter().map(|s| self.document(s)).collect();
                for doc in docs {
                    writer.add_document(doc).map_err(search_error)?;
                }
                Ok(())
            })?;
            self.commit(writer, next)?;
            self.merge_all(writer)?;
            Ok(n)
        })();
        guard.0.take();
        result
    }

    /// An indexer for a first load: `Some` when the index is empty and has applied every change
    /// before `next` (the store's next change sequence, read under its writer lock), so that
    /// the subjects the load writes are exactly the documents the index will hold. `None`
    /// otherwise: the load's changes are then indexed by the catch-up, as any write's are.
    ///
    /// The indexer has its own writer: one indexing thread with a budget big enough to hold a
    /// large load in one segment (`LOAD_BYTES`), so that no merge is needed, fed while the load
    /// still writes (see [`LoadIndexer`]).
    pub(crate) fn load_indexer(&self, next: u64) -> Result<Option<LoadIndexer<'_>>> {
        if self.reader.searcher().num_docs() > 0 || self.next_change()? != next {
            return Ok(None);
        }
        let mut guard = self.writer()?;
        // One writer per index at a time: the usual one goes (and comes back on next use).
        guard.0.take();
        *guard.0 = Some(
            self.index
                .writer_with_num_threads(1, LOAD_BYTES)
                .map_err(search_error)?,
        );
        Ok(Some(LoadIndexer {
            search: self,
            guard,
        }))
    }

    /// Merges every segment into one, waits, and makes it visible.
    fn merge_all(&self, writer: &mut IndexWriter) -> Result<()> {
        let ids = self.index.searchable_segment_ids().map_err(search_error)?;
        if ids.len() > 1 {
            writer.merge(&ids).wait().map_err(search_error)?;
            self.reader.reload().map_err(search_error)?;
        }
        Ok(())
    }

    fn commit(&self, writer: &mut IndexWriter, next: u64) -> Result<()> {
        let mut prepared = writer.prepare_commit().map_err(search_error)?;
        prepared.set_payload(&format!("next_change={next}"));
        prepared.commit().map_err(search_error)?;
        self.reader.reload().map_err(search_error)?;
        Ok(())
    }

    /// (Re)indexes these subjects, reading them from the store in parallel.
    fn index_subjects(
        &self,
        store: &Store,
        writer: &mut IndexWriter,
        codes: Vec<SubjectCode>,
        replace: bool,
    ) -> Result<()> {
        use rayon::prelude::*;
        for chunk in codes.chunks(50_000) {
            let docs: Vec<(SubjectCode, Option<TantivyDocument>)> = chunk
                .par_iter()
                .map(|code| {
                    let subject = store.subject_header(code)?;
                    Ok((*code, subject.map(|s| self.document(&s))))
                })
                .collect::<Result<_>>()?;
            for (code, doc) in docs {
                if replace {
                    writer.delete_term(Term::from_field_text(self.fields.code, code.as_str()));
                }
                if let Some(doc) = doc {
                    writer.add_document(doc).map_err(search_error)?;
                }
            }
        }
        Ok(())
    }

    fn document(&self, s: &Subject) -> TantivyDocument {
        let f = self.fields;
        let code = s.code.as_str();
        let [code_a, code_b] = columns::code_values(&s.code, s.kind, &s.name);
        let mut doc = doc!(
            f.code => code,
            f.code_a => code_a,
            f.code_b => code_b,
            f.rank => rank(s),
        );
        if columns::name_fits(&s.name) {
            for (field, word) in f.name_words.iter().zip(columns::name_values(&s.name)) {
                doc.add_u64(*field, word);
            }
        } else {
            doc.add_text(f.name, &s.name);
        }
        for prefix in code_prefixes(&s.code) {
            doc.add_text(f.code_prefix, prefix);
        }
        if s.code.kind() == SubjectKind::Organization {
            doc.add_text(f.code_region, &code[2..]);
            doc.add_text(f.org_code, &code[8..8 + ORG_CODE_LEN]);
        }
        for name in std::iter::once(&s.name).chain(&s.former_names) {
            doc.add_text(f.name_exact, analyzer::exact_key(name));
            // Analysed by `analyzer::GramTokenizer` on tantivy's indexing threads.
            doc.add_text(f.grams, name);
            doc.add_text(f.long_grams, name);
        }
        doc
    }

    /// Ranked hits for `text` (a code, a code prefix, a name or a fragment of one).
    pub fn search(&self, requester: Requester, text: &str, limit: usize) -> Result<Vec<Hit>> {
        Ok(self.search_with_codes(requester, text, limit)?.0)
    }

    /// Like [`SearchIndex::search`], also returning each hit's full code (for the query log).
    pub fn search_with_codes(
        &self,
        requester: Requester,
        text: &str,
        limit: usize,
    ) -> Result<(Vec<Hit>, Vec<SubjectCode>)> {
        let searcher = self.reader.searcher();
        self.columns.retain(&searcher);
        let mut hits = Vec::new();
        let mut codes = Vec::new();
        let mut seen = HashSet::new();
        // The documents already taken: a later tier finds them again (a name fragment's matches
        // are among the partial tier's), and is not made to read them again.
        let mut taken: Vec<tantivy::DocAddress> = Vec::new();
        for (matched, query) in self.tiers(&searcher, text)? {
            if hits.len() >= limit {
                break;
            }
            let wanted = limit - hits.len() + seen.len().min(limit);
            // Every tier, the partial one included, is "first N by rank": tiers order the
            // results, rank orders each tier, and each tier stops reading postings at N.
            let collector = collector::FirstByRank {
                limit: wanted,
                columns: &self.columns,
            };
            let found = searcher.search(&query, &collector).map_err(search_error)?;
            for (_, addr) in found {
                if hits.len() >= limit {
                    break;
                }
                if taken.contains(&addr) {
                    continue;
                }
                taken.push(addr);
                let reader = searcher.segment_reader(addr.segment_ord);
                let columns = self.columns.get(reader).map_err(search_error)?;
                let Some(hit) = self.hit(&searcher, &columns, addr, requester, matched)? else {
                    continue;
                };
                if !seen.insert(hit.0) {
                    continue;
                }
                codes.push(hit.0);
                hits.push(hit.1);
            }
        }
        Ok((hits, codes))
    }

    /// The hit of the document at `addr`, from its segment's columns (a long name from the doc
    /// store); `None` if its code is corrupt.
    fn hit(
        &self,
        searcher: &tantivy::Searcher,
        columns: &columns::SegmentColumns,
        addr: tantivy::DocAddress,
        requester: Requester,
        matched: Matched,
    ) -> Result<Option<(SubjectCode, Hit)>> {
        let Some((code, kind)) = columns.code(addr.doc_id) else {
            return Ok(None);
        };
        let shown = match requester {
            Requester::Entitled => code.as_str().to_string(),
            Requester::Public => code.masked(),
        };
        let name = match columns.name(addr.doc_id) {
            Some(name) => name,
            None => {
                let doc: TantivyDocument = searcher.doc(addr).map_err(search_error)?;
                doc.get_first(self.fields.name)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            }
        };
        Ok(Some((
            code,
            Hit {
                code: shown,
                name,
                kind: kind.as_str(),
                score: matched.score(),
                matched,
            },
        )))
    }

    /// The queries of each tier that applies to `text`, best tier first.
    fn tiers(
        &self,
        searcher: &tantivy::Searcher,
        text: &str,
    ) -> Result<Vec<(Matched, Box<dyn Query>)>> {
        let f = self.fields;
        let mut out: Vec<(Matched, Box<dyn Query>)> = Vec::new();
        let code_like: String = analyzer::normalize(text)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let is_code_like =
            code_like.len() >= 6 && code_like.bytes().all(|b| b.is_ascii_alphanumeric());
        if is_code_like && code_like.len() == 18 {
            out.push((Matched::Code, term_query(f.code, &code_like)));
        }
        let units = analyzer::units(text);
        if !units.is_empty() {
            out.push((Matched::Name, term_query(f.name_exact, &units.concat())));
        }
        if is_code_like && code_like.len() < 18 {
            // Short prefixes (matched by up to most of the index) are indexed terms, of even
            // lengths only: an odd length is the union of the indexed terms one character
            // longer, looked up in the term dictionary. Longer prefixes match few codes and are
            // term ranges [prefix, prefix + "~"), '~' sorting after every code character; so are
            // organisation codes, nearly one per subject, indexed whole.
            let n = code_like.len();
            let mut parts: Vec<Box<dyn Query>> = Vec::new();
            if n <= PREFIX_MAX {
                if n.is_multiple_of(2) {
                    parts.push(term_query(f.code_prefix, &code_like));
                } else {
                    parts.extend(one_longer(searcher, f.code_prefix, &code_like)?);
                }
            } else {
                parts.push(prefix_query(searcher, f.code, &code_like)?);
            }
            if n > REGION_PREFIX_MAX {
                parts.push(prefix_query(searcher, f.code_region, &code_like)?);
            }
            if n <= ORG_CODE_LEN {
                parts.push(prefix_query(searcher, f.org_code, &code_like)?);
            }
            out.push((Matched::CodePrefix, Box::new(BooleanQuery::union(parts))));
        }
        match units.len() {
            0 => {}
            1 => out.push((Matched::NameFragment, term_query(f.grams, &units[0]))),
            2 => out.push((
                Matched::NameFragment,
                term_query(f.grams, &analyzer::bigram(&units[0], &units[1])),
            )),
            n => {
                let terms: Vec<Term> = units
                    .windows(2)
                    .map(|w| Term::from_field_text(f.grams, &analyzer::bigram(&w[0], &w[1])))
                    .collect();
                let fragment: Box<dyn Query> = if analyzer::LONG_GRAM_UNITS.contains(&n) {
                    term_query(f.long_grams, &units.concat())
                } else {
                    Box::new(PhraseQuery::new(terms.clone()))
                };
                out.push((Matched::NameFragment, fragment));
                out.push((Matched::NamePartial, all_but_one(terms)));
            }
        }
        Ok(out)
    }
}

/// Longest list of bigrams whose "all but one" is written as a union of intersections.
const ALL_BUT_ONE_MAX: usize = 4;

/// The documents with all but at most one of `terms` (at least one of two): the partial tier.
///
/// Up to `ALL_BUT_ONE_MAX` terms, the union over each term of the intersection of the others:
/// an intersection is driven by its rarest term and skips through the common ones (上海, 公司),
/// where tantivy's minimum-match disjunction steps through every posting of every term (a
/// fragment starting with 上海 visited most companies' postings). Same documents either way.
/// Longer lists keep the disjunction: the union would open (n - 1)² posting lists.
fn all_but_one(terms: Vec<Term>) -> Box<dyn Query> {
    let term = |t: &Term| Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic));
    if terms.len() > ALL_BUT_ONE_MAX {
        let required = terms.len() - 1;
        let clauses = terms.iter().map(|t| term(t) as Box<dyn Query>).collect();
        return Box::new(BooleanQuery::union_with_minimum_required_clauses(
            clauses, required,
        ));
    }
    let mut groups: BTreeSet<BTreeSet<&Term>> = BTreeSet::new();
    for skip in 0..terms.len() {
        let others: BTreeSet<&Term> = terms
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, t)| t)
            .collect();
        groups.insert(others);
    }
    let parts: Vec<Box<dyn Query>> = groups
        .into_iter()
        .map(|group| -> Box<dyn Query> {
            let mut group: Vec<Box<dyn Query>> = group
                .into_iter()
                .map(|t| term(t) as Box<dyn Query>)
                .collect();
            if group.len() == 1 {
                group.remove(0)
            } else {
                Box::new(BooleanQuery::intersection(group))
            }
        })
        .collect();
    Box::new(BooleanQuery::union(parts))
}

/// Longest prefix of a whole code indexed as a term.
const PREFIX_MAX: usize = 10;
/// Longest prefix of a USCC's region part (positions 3-18) indexed as a term.
const REGION_PREFIX_MAX: usize = 8;
/// A USCC's organisation code: positions 9-17.
const ORG_CODE_LEN: usize = 9;

/// The code-prefix terms of a code: its prefixes of 6, 8 and 10 characters; for a USCC also
/// those of 6 and 8 characters of its region part (positions 3-18). (A USCC's organisation
/// code is indexed whole, in its own field.)
fn code_prefixes(code: &SubjectCode) -> Vec<&str> {
    let c = code.as_str();
    let mut out: Vec<&str> = (6..=PREFIX_MAX).step_by(2).map(|n| &c[..n]).collect();
    if code.kind() == SubjectKind::Organization {
        out.extend((6..=REGION_PREFIX_MAX).step_by(2).map(|n| &c[2..2 + n]));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Term queries for the terms of `field` that are `prefix` and one more code character, in any
/// segment.
fn one_longer(
    searcher: &tantivy::Searcher,
    field: Field,
    prefix: &str,
) -> Result<Vec<Box<dyn Query>>> {
    let mut key = prefix.as_bytes().to_vec();
    key.push(0);
    let mut found: Vec<u8> = Vec::new();
    for reader in searcher.segment_readers() {
        let index = reader.inverted_index(field).map_err(search_error)?;
        let terms = index.terms();
        for c in (b'0'..=b'9').chain(b'A'..=b'Z') {
            *key.last_mut().expect("a byte") = c;
            if !found.contains(&c)
                && terms
                    .get(&key)
                    .map_err(|e| Error::Search(e.to_string()))?
                    .is_some()
            {
                found.push(c);
            }
        }
    }
    Ok(found
        .into_iter()
        .map(|c| term_query(field, &format!("{prefix}{}", c as char)))
        .collect())
}

/// Terms of `field` in any segment expanded into a union of term queries, at most this many;
/// past it, a term range.
const EXPAND_MAX: usize = 64;

/// The documents with a term of `field` starting with `prefix`: the terms [prefix, prefix +
/// "~"), '~' sorting after every code character. A few terms (the usual case: these fields have
/// about one term per document) are a union of term queries, read only as far as the first-N
/// collector needs; more are a term range, which marks every match in a bitset first.
fn prefix_query(
    searcher: &tantivy::Searcher,
    field: Field,
    prefix: &str,
) -> Result<Box<dyn Query>> {
    use std::ops::Bound;
    let end = format!("{prefix}~");
    let mut found: BTreeSet<String> = BTreeSet::new();
    'segments: for reader in searcher.segment_readers() {
        let index = reader.inverted_index(field).map_err(search_error)?;
        let mut terms = index
            .terms()
            .range()
            .ge(prefix)
            .lt(&end)
            .into_stream()
            .map_err(|e| Error::Search(e.to_string()))?;
        while terms.advance() {
            found.insert(String::from_utf8_lossy(terms.key()).into_owned());
            if found.len() > EXPAND_MAX {
                break 'segments;
            }
        }
    }
    if found.len() > EXPAND_MAX {
        return Ok(Box::new(tantivy::query::RangeQuery::new(
            Bound::Included(Term::from_field_text(field, prefix)),
            Bound::Excluded(Term::from_field_text(field, &end)),
        )));
    }
    Ok(Box::new(BooleanQuery::union(
        found.into_iter().map(|t| term_query(field, &t)).collect(),
    )))
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// Shorter names first, then subject id: `name length (chars, ≤ 255) << 32 | subject id`.
fn rank(s: &Subject) -> u64 {
    let len = s.name.chars().count().min(255) as u64;
    (len << 32) | (s.subject_id & 0xFFFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_indexes_as_it_writes_only_into_an_empty_index_that_is_up_to_date() -> Result<()> {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path())?;
        let search = store.search_index();
        let next = store.next_change_seq();
        assert!(
            search.load_indexer(next + 1)?.is_none(),
            "an index behind the store"
        );
        let indexer = search
            .load_indexer(next)?
            .expect("an empty, up-to-date index");
        let today = crate::domain::date::Date::parse("2026-11-27").unwrap();
        let code = SubjectCode::parse("91310115MA1K3BTP2B", today)
            .unwrap()
            .code;
        let subject = Subject {
            code,
            kind: SubjectKind::Organization,
            name: "上海测试有限公司".into(),
            former_names: vec![],
            subject_id: 1,
            first_collected_on: today,
        };
        indexer.add(std::iter::once(&subject))?;
        indexer.finish(next)?;
        let hits = search.search(Requester::Entitled, "测试", 5)?;
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].code, code.as_str());
        assert!(
            search.load_indexer(next)?.is_none(),
            "an index with documents"
        );
        // The usual writer comes back: the catch-up after an ingest still works.
        drop(search.writer()?);
        Ok(())
    }

    #[test]
    fn prefixes_are_even_lengths_of_the_start_and_the_region_part() {
        let today = crate::domain::date::Date::parse("2026-11-27").unwrap();
        let org = SubjectCode::parse("91310115MA1K3BTP2B", today)
            .unwrap()
            .code;
        let p = code_prefixes(&org);
        assert_eq!(
            p,
            ["310115", "310115MA", "913101", "91310115", "91310115MA"]
        );
    }
}
