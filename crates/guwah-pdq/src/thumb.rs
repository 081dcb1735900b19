//! A small JPEG made from an image: what a web page shows of evidence.
//!
//! The picture is decoded under the same guard and limits as a hash (a
//! thread of its own, a pixel and allocation cap, a deadline), turned the
//! way its EXIF orientation says, scaled down, and encoded afresh — so
//! nothing of the original file reaches a browser: no metadata, no
//! embedded thumbnail, no bytes a browser's decoder would parse.

use std::io::Cursor;

use image::ImageDecoder;

use crate::decode::{classify, open_decoder};
use crate::{DecodeLimits, PdqError, guard};

/// A JPEG of `bytes`' image whose longer side is at most `max_side`
/// pixels (never scaled up), at quality 80.
pub fn thumbnail_jpeg(
    bytes: Vec<u8>,
    max_side: u32,
    limits: DecodeLimits,
) -> Result<Vec<u8>, PdqError> {
    guard::run(limits.max_time, move || {
        thumbnail_unguarded(&bytes, max_side, limits)
    })
}

fn thumbnail_unguarded(
    bytes: &[u8],
    max_side: u32,
    limits: DecodeLimits,
) -> Result<Vec<u8>, PdqError> {
    let (mut decoder, format) = open_decoder(Cursor::new(bytes), limits)?;
    let orientation = decoder.orientation().ok();
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(|e| classify(e, format))?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    let small = if img.width().max(img.height()) > max_side {
        img.thumbnail(max_side, max_side)
    } else {
        img
    };
    let rgb = small.into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&rgb)
        .map_err(|e| PdqError::Decode(format!("encoding the preview: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 7])
        });
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn scales_the_longer_side_and_reencodes() {
        let jpeg = thumbnail_jpeg(png(1200, 300), 480, DecodeLimits::default()).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (480, 120));
        let small = thumbnail_jpeg(png(40, 30), 480, DecodeLimits::default()).unwrap();
        let back = image::load_from_memory(&small).unwrap();
        assert_eq!((back.width(), back.height()), (40, 30));
    }

    #[test]
    fn refuses_what_is_not_an_image_and_bombs() {
        assert!(
            thumbnail_jpeg(
                b"<svg onload=alert(1)>".to_vec(),
                480,
                DecodeLimits::default()
            )
            .is_err()
        );
        let limits = DecodeLimits {
            max_pixels: 100,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            thumbnail_jpeg(png(20, 20), 480, limits),
            Err(PdqError::TooLarge(_))
        ));
    }
}
