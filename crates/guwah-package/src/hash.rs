//! Native hashing for bag validation: the same results as
//! `guwah_core::bag::MultiHasher`, faster where it matters.
//!
//! SHA-512 is every guwah package's second manifest. RustCrypto's runs at
//! about 60% of OpenSSL's speed here, and ring's takes its portable path on
//! this CPU, so SHA-512 goes to the system OpenSSL (the library `openssl dgst`
//! uses, the ceiling the benchmark compares with). SHA-256 stays with `sha2`,
//! which uses the CPU's SHA extensions. The pure core keeps its own hasher
//! for the browser; both are checked against each other in the tests below.

use guwah_core::bag::{self, Algorithm, FileDigest};

/// Incremental digests of one file, for any set of BagIt algorithms.
pub struct MultiHasher {
    sha512: Option<openssl::sha::Sha512>,
    rest: bag::MultiHasher,
    size: u64,
}

impl MultiHasher {
    /// A hasher for these algorithms (duplicates are computed once).
    pub fn new(algorithms: &[Algorithm]) -> Self {
        let fast = algorithms.contains(&Algorithm::Sha512);
        let rest: Vec<Algorithm> = algorithms
            .iter()
            .copied()
            .filter(|a| *a != Algorithm::Sha512)
            .collect();
        MultiHasher {
            sha512: fast.then(openssl::sha::Sha512::new),
            rest: bag::MultiHasher::new(&rest),
            size: 0,
        }
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len() as u64);
        if let Some(c) = &mut self.sha512 {
            c.update(bytes);
        }
        self.rest.update(bytes);
    }

    /// The size and lowercase-hex digests of everything fed.
    pub fn finish(self) -> FileDigest {
        let mut d = self.rest.finish();
        d.size = self.size;
        if let Some(c) = self.sha512 {
            let hex: String = c.finish().iter().map(|b| format!("{b:02x}")).collect();
            d.digests.insert(Algorithm::Sha512, hex);
        }
        d
    }

    /// Hashes a whole byte string.
    pub fn digest(algorithms: &[Algorithm], bytes: &[u8]) -> FileDigest {
        let mut h = Self::new(algorithms);
        h.update(bytes);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_digests_as_the_core() {
        let all = [
            Algorithm::Md5,
            Algorithm::Sha1,
            Algorithm::Sha256,
            Algorithm::Sha512,
        ];
        for len in [0usize, 1, 111, 112, 128, 1000, 70_000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let ours = MultiHasher::digest(&all, &data);
            let core = bag::MultiHasher::digest(&all, &data);
            assert_eq!(ours.size, core.size);
            assert_eq!(ours.digests, core.digests, "length {len}");
        }
    }
}
