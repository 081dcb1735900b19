//! Image files to PDQ hashes.
//!
//! Decoding uses the `image` crate built with only the JPEG, PNG, GIF, WebP,
//! TIFF and BMP decoders. Pixels are converted to 8-bit RGB (alpha is
//! dropped, grey is replicated), like `PIL.Image.convert("RGB")` which the
//! PyPI `pdqhash` examples use.
//!
//! **EXIF orientation is not applied**, following the reference: neither
//! Meta's C++ tool (CImg) nor `pdqhash` over PIL rotates by EXIF, so
//! applying it would make our hashes disagree with every other PDQ
//! implementation's for rotated photos.
//!
//! HEIC/HEIF and other formats without a pure-Rust decoder are reported as
//! [`PdqError::Unsupported`]. Files beyond [`DecodeLimits`] are refused
//! before their pixels are allocated ([`PdqError::TooLarge`]).
//!
//! **No decoder can take the caller down.** Every entry point decodes on a
//! worker thread (`guard`): a decoder that panics gives
//! [`PdqError::Panicked`], one still running after
//! [`DecodeLimits::max_time`] is abandoned with [`PdqError::TimedOut`].

use std::io::{BufReader, Cursor, Read};
use std::path::Path;
use std::time::Duration;

use image::{ImageDecoder, ImageReader, Limits};

use crate::{PdqError, PdqHash, guard, pdq};

/// Bounds on what is decoded, against decompression bombs.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Most pixels (width × height) an image may have.
    pub max_pixels: u64,
    /// Most bytes the decoder may allocate.
    pub max_alloc: u64,
    /// Longest one decode (and hash) may take before it is abandoned.
    pub max_time: Duration,
}

impl Default for DecodeLimits {
    /// 100 megapixels, 512 MiB, one minute (sound pictures at the pixel
    /// limit decode in seconds).
    fn default() -> Self {
        DecodeLimits {
            max_pixels: 100_000_000,
            max_alloc: 512 * 1024 * 1024,
            max_time: Duration::from_secs(60),
        }
    }
}

/// Decode an image file into packed RGB24 pixels: `(rgb, width, height)`.
/// The bytes are copied for the decoder's thread.
pub fn decode_rgb(bytes: &[u8], limits: DecodeLimits) -> Result<(Vec<u8>, usize, usize), PdqError> {
    let bytes = bytes.to_vec();
    guard::run(limits.max_time, move || decode_unguarded(&bytes, limits))
}

fn decode_unguarded(
    bytes: &[u8],
    limits: DecodeLimits,
) -> Result<(Vec<u8>, usize, usize), PdqError> {
    decode_from(BufReader::new(Cursor::new(bytes)), limits)
}

/// An image's decoder with `limits` applied and its size checked against
/// the pixel cap, and its format: how this crate opens every picture (for
/// a hash and for a preview).
pub(crate) fn open_decoder<'a, R: std::io::BufRead + std::io::Seek + 'a>(
    reader: R,
    limits: DecodeLimits,
) -> Result<(impl ImageDecoder + 'a, image::ImageFormat), PdqError> {
    let reader = ImageReader::new(reader)
        .with_guessed_format()
        .map_err(PdqError::Io)?;
    let Some(format) = reader.format() else {
        return Err(PdqError::Unsupported(
            "not a recognised image format".into(),
        ));
    };
    let mut lim = Limits::default();
    lim.max_alloc = Some(limits.max_alloc);
    // A side longer than this can only be a bomb at the pixel cap.
    lim.max_image_width = Some(u32::try_from(limits.max_pixels).unwrap_or(u32::MAX));
    lim.max_image_height = Some(u32::try_from(limits.max_pixels).unwrap_or(u32::MAX));
    let mut decoder = reader.into_decoder().map_err(|e| classify(e, format))?;
    decoder.set_limits(lim).map_err(|e| classify(e, format))?;
    let (w, h) = decoder.dimensions();
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels {
        return Err(PdqError::TooLarge(format!(
            "{w}x{h} is {pixels} pixels, more than the limit of {}",
            limits.max_pixels
        )));
    }
    Ok((decoder, format))
}

fn decode_from<R: std::io::BufRead + std::io::Seek>(
    reader: R,
    limits: DecodeLimits,
) -> Result<(Vec<u8>, usize, usize), PdqError> {
    let (decoder, format) = open_decoder(reader, limits)?;
    let img = image::DynamicImage::from_decoder(decoder).map_err(|e| classify(e, format))?;
    let rgb = img.into_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    Ok((rgb.into_raw(), w, h))
}

pub(crate) fn classify(e: image::ImageError, format: image::ImageFormat) -> PdqError {
    match e {
        image::ImageError::Limits(l) => PdqError::TooLarge(l.to_string()),
        image::ImageError::Unsupported(u) => PdqError::Unsupported(format!("{format:?}: {u}")),
        image::ImageError::IoError(io) => PdqError::Io(io),
        other => PdqError::Decode(format!("{format:?}: {other}")),
    }
}

/// PDQ of an image file's bytes (copied for the decoder's thread; see
/// [`hash_image_vec`] to hand them over instead).
pub fn hash_image_bytes(bytes: &[u8], limits: DecodeLimits) -> Result<PdqHash, PdqError> {
    hash_image_vec(bytes.to_vec(), limits)
}

/// PDQ of an image file's bytes, decoded and hashed on a worker thread
/// under `limits`.
pub fn hash_image_vec(bytes: Vec<u8>, limits: DecodeLimits) -> Result<PdqHash, PdqError> {
    guard::run(limits.max_time, move || {
        let (rgb, w, h) = decode_unguarded(&bytes, limits)?;
        Ok(pdq::hash_rgb(&rgb, w, h))
    })
}

/// PDQ of an image file on disk (read whole; see [`hash_image_vec`]).
pub fn hash_image_file(path: &Path, limits: DecodeLimits) -> Result<PdqHash, PdqError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    hash_image_vec(bytes, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_unsupported_not_a_panic() {
        let r = hash_image_bytes(b"definitely not an image", DecodeLimits::default());
        assert!(matches!(r, Err(PdqError::Unsupported(_))), "{r:?}");
    }

    /// A valid tiled TIFF with separate colour planes: the `tiff` crate
    /// (0.11.3) panics on it (image-rs/image-tiff#403). When a fixed
    /// release decodes it, this should expect the pixels' hash instead.
    #[test]
    fn a_decoder_panic_is_an_error() {
        let tiff = include_bytes!("../tests/data/tiled-planar.tif");
        let r = hash_image_bytes(tiff, DecodeLimits::default());
        match r {
            Err(PdqError::Panicked(m)) => assert!(m.contains("assertion failed"), "{m}"),
            other => panic!("expected a caught panic, got {other:?}"),
        }
        let r = decode_rgb(tiff, DecodeLimits::default());
        assert!(matches!(r, Err(PdqError::Panicked(_))), "{r:?}");
        // The same tiles with the planes interleaved decode.
        let contig = include_bytes!("../tests/data/tiled-contig.tif");
        let (_, w, h) = decode_rgb(contig, DecodeLimits::default()).expect("contig decodes");
        assert_eq!((w, h), (96, 80));
    }

    #[test]
    fn bombs_are_refused_before_allocation() {
        // A PNG header claiming 100000 x 100000 pixels.
        let mut png = Vec::new();
        png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(b"IHDR");
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        for chunk in [&b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01"[..], b"IEND"] {
            png.extend_from_slice(&(chunk.len() as u32 - 4).to_be_bytes());
            png.extend_from_slice(chunk);
            png.extend_from_slice(&crc32(chunk).to_be_bytes());
        }
        let r = hash_image_bytes(&png, DecodeLimits::default());
        assert!(matches!(r, Err(PdqError::TooLarge(_))), "{r:?}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
}
