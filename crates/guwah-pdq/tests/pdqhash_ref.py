"""Reference PDQ hashes from PyPI `pdqhash` (Meta's C++ reference, wrapped).

usage: python3 pdqhash_ref.py OUTDIR IMAGE...

For each image: decode with PIL (`convert("RGB")`, no EXIF rotation, as the
pdqhash README does), hash with `pdqhash.compute`, write the decoded pixels to
OUTDIR/<n>.rgb and print `n<TAB>width<TAB>height<TAB>hex<TAB>quality<TAB>path`.
An image PIL cannot open prints `n<TAB>-<TAB>reason<TAB>path`.
"""
import os
import sys

import numpy as np
import pdqhash
from PIL import Image

out = sys.argv[1]
for n, path in enumerate(sys.argv[2:]):
    try:
        img = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
    except Exception as e:  # noqa: BLE001 - reported, not hidden
        print(f"{n}\t-\t{type(e).__name__}\t{path}")
        continue
    img = np.ascontiguousarray(img)
    bits, quality = pdqhash.compute(img)
    hexs = np.packbits(bits.astype(np.uint8)).tobytes().hex()
    with open(os.path.join(out, f"{n}.rgb"), "wb") as f:
        f.write(img.tobytes())
    print(f"{n}\t{img.shape[1]}\t{img.shape[0]}\t{hexs}\t{quality}\t{path}")
