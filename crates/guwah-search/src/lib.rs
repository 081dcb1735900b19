//! Full-text search for guwah, in Uyghur, Chinese, English and French.
//!
//! An index in memory only ([`SearchIndex`]): it holds the private words
//! of notes and names, so none of it is ever written to a file; the
//! server rebuilds it from the vault's encrypted index at start. Words are
//! folded by script (`fold`), Uyghur is matched by prefix so a stem finds
//! its suffixed forms, Chinese by character pairs (Traditional folded to
//! Simplified), English and French by Snowball stems (`analyze`).
//!
//! ```
//! use guwah_search::{Doc, SearchIndex};
//! let index = SearchIndex::new().unwrap();
//! index.add([
//!     Doc { key: 1, texts: vec!["ئۇلار مېنى لاگېرغا ئېلىپ باردى".into()] },
//!     Doc { key: 2, texts: vec!["他们把我带到了集中營".into()] },
//! ]).unwrap();
//! assert_eq!(index.search("لاگېر", 10).unwrap()[0].key, 1);
//! assert_eq!(index.search("集中营", 10).unwrap()[0].key, 2);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod analyze;
mod fold;
mod index;

pub use fold::{Script, fold_word};
pub use index::{Doc, Hit, SearchError, SearchIndex};
