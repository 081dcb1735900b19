//! Random access to a stored blob's plaintext: the store's ranged reads
//! under the crypto's [`BlobReader`]. Used wherever part of an original is
//! needed (metadata at `add`), so that what is read is always the sealed
//! bytes themselves and never touches the disk in the clear.

use std::io;

use guwah_store::RangedBlob;

use crate::crypto::{BlobKey, BlobReader, BlobSource};
use crate::error::VaultError;
use crate::vault::Vault;

/// A committed blob as the store hands it out for ranged reads.
pub(crate) struct StoredBlob(Box<dyn RangedBlob>);

impl BlobSource for StoredBlob {
    fn size(&self) -> u64 {
        self.0.size()
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.0.read_exact_at(offset, buf).map_err(io::Error::other)
    }
}

impl Vault {
    /// Opens blob `name` for reads anywhere in its plaintext. The header
    /// and final chunk are checked here; every chunk read later is
    /// authenticated before any of it is returned.
    pub(crate) fn blob_reader(
        &self,
        name: &str,
        key: &BlobKey,
    ) -> Result<BlobReader<StoredBlob>, VaultError> {
        let blob = StoredBlob(self.blobs.open_ranged(name)?);
        BlobReader::open(blob, key)
            .map_err(|e| VaultError::damaged(format!("blob {name}"), e.to_string()))
    }
}
