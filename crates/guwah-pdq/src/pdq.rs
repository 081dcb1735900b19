//! The PDQ algorithm, ported operation for operation from Meta's C++
//! reference (`ThreatExchange/pdq/cpp/hashing/pdqhashing.cpp`,
//! `downscaling/downscaling.cpp`, `hashing/torben.cpp`) so that the same
//! luminance buffer gives the same 256 bits:
//!
//! 1. luminance `Y = 0.299 R + 0.587 G + 0.114 B` (computed in `f64` and
//!    rounded to `f32`, as the PyPI `pdqhash` wrapper does);
//! 2. two passes of the Jarosz box filter (rows, then columns) with window
//!    `ceil(dim / 128)`, then nearest-sample decimation to 64x64 — skipped
//!    when the input already is 64x64;
//! 3. the quality metric (sum of quantised gradients of the 64x64 image);
//! 4. the 2-D DCT-II restricted to coefficients 1..=16 in each direction;
//! 5. one bit per coefficient: greater than the (Torben) median.
//!
//! Every floating-point operation is performed in the reference's order and
//! precision (`f32` accumulations, `f64` where C++ promotes), which is what
//! makes the output bit-exact rather than merely close. Loops are arranged
//! for the cache (the column pass sweeps rows) without changing the
//! per-element sequence of operations.

use std::sync::OnceLock;

use crate::Hash256;

/// Images with a side shorter than this hash to all zeros, quality 0.
pub const MIN_HASHABLE_DIM: usize = 5;

/// A PDQ hash and the reference's quality score (0..=100; upstream treats
/// hashes with quality below 50 as unreliable for matching).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdqHash {
    /// The 256-bit hash.
    pub hash: Hash256,
    /// The image-domain quality metric.
    pub quality: u8,
}

/// Luminance of packed RGB24 pixels, exactly as PyPI `pdqhash.compute`
/// computes it (NumPy `float64`, then cast to `float32`).
pub fn luma_from_rgb(rgb: &[u8], out: &mut Vec<f32>) {
    out.clear();
    out.extend(rgb.chunks_exact(3).map(|p| {
        (f64::from(p[0]) * 0.299 + f64::from(p[1]) * 0.587 + f64::from(p[2]) * 0.114) as f32
    }));
}

/// PDQ of packed RGB24 pixels, `width * height * 3` bytes, row-major.
///
/// # Panics
/// If `rgb` is not `width * height * 3` bytes long.
pub fn hash_rgb(rgb: &[u8], width: usize, height: usize) -> PdqHash {
    assert_eq!(rgb.len(), width * height * 3, "RGB buffer size");
    let mut luma = Vec::with_capacity(width * height);
    luma_from_rgb(rgb, &mut luma);
    hash_luma(&mut luma, width, height)
}

/// PDQ of a luminance buffer (`height` rows of `width` values). The buffer
/// is used as scratch space and is blurred in place.
///
/// # Panics
/// If `luma` is not `width * height` values long.
pub fn hash_luma(luma: &mut [f32], width: usize, height: usize) -> PdqHash {
    assert_eq!(luma.len(), width * height, "luma buffer size");
    if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
        return PdqHash {
            hash: Hash256::ZERO,
            quality: 0,
        };
    }
    let mut b64 = [[0f32; 64]; 64];
    if width == 64 && height == 64 {
        for (i, row) in b64.iter_mut().enumerate() {
            row.copy_from_slice(&luma[i * 64..(i + 1) * 64]);
        }
    } else {
        let wr = jarosz_window(width, 64);
        let wc = jarosz_window(height, 64);
        let mut tmp = vec![0f32; luma.len()];
        for _ in 0..2 {
            box_rows(luma, &mut tmp, height, width, wr);
            box_cols(&tmp, luma, height, width, wc);
        }
        decimate(luma, height, width, &mut b64);
    }
    let quality = quality_metric(&b64);
    let dct = dct64_to_16(&b64);
    PdqHash {
        hash: bits_from_dct(&dct),
        quality,
    }
}

/// The reference's `computeJaroszFilterWindowSize`.
fn jarosz_window(old: usize, new: usize) -> usize {
    old.div_ceil(2 * new)
}

/// The reference's `box1DFloat` along each row.
fn box_rows(input: &[f32], out: &mut [f32], rows: usize, cols: usize, window: usize) {
    for i in 0..rows {
        let inv = &input[i * cols..(i + 1) * cols];
        let outv = &mut out[i * cols..(i + 1) * cols];
        box_1d(inv, outv, window);
    }
}

fn box_1d(inv: &[f32], outv: &mut [f32], window: usize) {
    let n = inv.len() as isize;
    let w = window as isize;
    let half = (w + 2) / 2;
    let p1 = half - 1;
    let p2 = w - half + 1;
    let p3 = n - w;
    let p4 = half - 1;
    let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
    let mut sum = 0f32;
    let mut cur = 0i32;
    for _ in 0..p1 {
        sum += inv[ri];
        cur += 1;
        ri += 1;
    }
    for _ in 0..p2 {
        sum += inv[ri];
        cur += 1;
        outv[oi] = sum / cur as f32;
        ri += 1;
        oi += 1;
    }
    for _ in 0..p3 {
        sum += inv[ri];
        sum -= inv[li];
        outv[oi] = sum / cur as f32;
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..p4 {
        sum -= inv[li];
        cur -= 1;
        outv[oi] = sum / cur as f32;
        li += 1;
        oi += 1;
    }
}

/// The reference's `box1DFloat` down each column, computed for all columns
/// at once (row by row) with the same per-column operation sequence.
fn box_cols(input: &[f32], out: &mut [f32], rows: usize, cols: usize, window: usize) {
    let n = rows as isize;
    let w = window as isize;
    let half = (w + 2) / 2;
    let p1 = half - 1;
    let p2 = w - half + 1;
    let p3 = n - w;
    let p4 = half - 1;
    let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
    let mut sum = vec![0f32; cols];
    let mut cur = 0i32;
    let row = |k: usize| k * cols..(k + 1) * cols;
    for _ in 0..p1 {
        for (s, x) in sum.iter_mut().zip(&input[row(ri)]) {
            *s += *x;
        }
        cur += 1;
        ri += 1;
    }
    for _ in 0..p2 {
        cur += 1;
        let d = cur as f32;
        for ((s, x), o) in sum.iter_mut().zip(&input[row(ri)]).zip(&mut out[row(oi)]) {
            *s += *x;
            *o = *s / d;
        }
        ri += 1;
        oi += 1;
    }
    for _ in 0..p3 {
        let d = cur as f32;
        let (add, sub) = (&input[row(ri)], &input[row(li)]);
        for (((s, a), b), o) in sum.iter_mut().zip(add).zip(sub).zip(&mut out[row(oi)]) {
            *s += *a;
            *s -= *b;
            *o = *s / d;
        }
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..p4 {
        cur -= 1;
        let d = cur as f32;
        for ((s, b), o) in sum.iter_mut().zip(&input[row(li)]).zip(&mut out[row(oi)]) {
            *s -= *b;
            *o = *s / d;
        }
        li += 1;
        oi += 1;
    }
}

/// The reference's `decimateFloat` to 64x64.
fn decimate(input: &[f32], rows: usize, cols: usize, out: &mut [[f32; 64]; 64]) {
    for (oi, orow) in out.iter_mut().enumerate() {
        let ini = (((oi as f64 + 0.5) * rows as f64) / 64.0) as usize;
        for (oj, o) in orow.iter_mut().enumerate() {
            let inj = (((oj as f64 + 0.5) * cols as f64) / 64.0) as usize;
            *o = input[ini * cols + inj];
        }
    }
}

/// The reference's `pdqImageDomainQualityMetric`.
fn quality_metric(b: &[[f32; 64]; 64]) -> u8 {
    let mut sum: i32 = 0;
    let step = |u: f32, v: f32| (((u - v) * 100.0) / 255.0) as i32;
    for (r0, r1) in b.iter().zip(&b[1..]) {
        for (u, v) in r0.iter().zip(r1) {
            sum += step(*u, *v).abs();
        }
    }
    for row in b.iter() {
        for j in 0..63 {
            sum += step(row[j], row[j + 1]).abs();
        }
    }
    (sum / 90).min(100) as u8
}

/// The reference's 16x64 DCT matrix: row `i` is DCT-II basis `i + 1`.
fn dct_matrix() -> &'static [[f32; 64]; 16] {
    static M: OnceLock<[[f32; 64]; 16]> = OnceLock::new();
    M.get_or_init(|| {
        let scale = (2.0f64 / 64.0).sqrt() as f32;
        let mut m = [[0f32; 64]; 16];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                let arg = (std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64;
                *v = (f64::from(scale) * arg.cos()) as f32;
            }
        }
        m
    })
}

/// The reference's `dct64To16`: `B = D A Dᵀ`, summed in the same order.
fn dct64_to_16(a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    let mut t = [[0f32; 64]; 16];
    for (trow, drow) in t.iter_mut().zip(d.iter()) {
        // trow[j] = sum_k d[k] * a[k][j], k ascending, for every j at once.
        for (k, arow) in a.iter().enumerate() {
            let dk = drow[k];
            for (tj, aj) in trow.iter_mut().zip(arow) {
                *tj += dk * *aj;
            }
        }
    }
    let mut b = [[0f32; 16]; 16];
    for (brow, trow) in b.iter_mut().zip(t.iter()) {
        for (bij, drow) in brow.iter_mut().zip(d.iter()) {
            let mut s = 0f32;
            for (x, y) in trow.iter().zip(drow) {
                s += *x * *y;
            }
            *bij = s;
        }
    }
    b
}

/// Torben Mogensen's median, as in the reference's `torben.cpp`.
fn torben(m: &[f32]) -> f32 {
    let n = m.len();
    let (mut min, mut max) = (m[0], m[0]);
    for &x in &m[1..] {
        if x < min {
            min = x;
        }
        if x > max {
            max = x;
        }
    }
    let half = n.div_ceil(2);
    loop {
        let guess = (min + max) / 2.0;
        let (mut less, mut greater, mut equal) = (0usize, 0usize, 0usize);
        let (mut maxlt, mut mingt) = (min, max);
        for &x in m {
            if x < guess {
                less += 1;
                if x > maxlt {
                    maxlt = x;
                }
            } else if x > guess {
                greater += 1;
                if x < mingt {
                    mingt = x;
                }
            } else {
                equal += 1;
            }
        }
        if less <= half && greater <= half {
            return if less >= half {
                maxlt
            } else if less + equal >= half {
                guess
            } else {
                mingt
            };
        } else if less > greater {
            max = maxlt;
        } else {
            min = mingt;
        }
    }
}

/// The reference's `pdqBuffer16x16ToBits`: bit `16 i + j` is set when
/// coefficient `(i, j)` exceeds the median.
fn bits_from_dct(b: &[[f32; 16]; 16]) -> Hash256 {
    let flat: Vec<f32> = b.iter().flatten().copied().collect();
    let median = torben(&flat);
    let mut h = Hash256::ZERO;
    for (k, &v) in flat.iter().enumerate() {
        if v > median {
            h.set_bit(k);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_images_hash_to_zero() {
        let h = hash_rgb(&[7u8; 4 * 4 * 3], 4, 4);
        assert_eq!(h.hash, Hash256::ZERO);
        assert_eq!(h.quality, 0);
    }

    #[test]
    fn torben_is_a_median() {
        let v: Vec<f32> = (0..256).map(|i| ((i * 37) % 256) as f32).collect();
        assert_eq!(torben(&v), 127.0);
    }

    #[test]
    fn window_sizes_match_reference() {
        assert_eq!(jarosz_window(64, 64), 1);
        assert_eq!(jarosz_window(128, 64), 1);
        assert_eq!(jarosz_window(129, 64), 2);
        assert_eq!(jarosz_window(1024, 64), 8);
    }
}
