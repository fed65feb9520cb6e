"""Writes the seed corpora of the fuzz targets: tiny valid files of every variant the readers
decode. Run from this folder with Pillow 13.0.0, tifffile 2026.3.3, nibabel 5.4.2, numpy 2.4.6:

    python make_seeds.py

Each seed is a few hundred bytes; the fuzzers mutate them (their working corpora go to
../corpus/, which is not committed).
"""
import gzip
import io
import os

import nibabel as nib
import numpy as np
import tifffile
from PIL import Image

rng = np.random.default_rng(4)


def put(target, name, data):
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, name), "wb") as f:
        f.write(data)


def pil(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, format=fmt, **kw)
    return b.getvalue()


u8 = rng.integers(0, 256, (6, 5), dtype=np.uint8)
rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)

# PNG: every colour type and bit depth the readers handle.
put("png", "gray1.png", pil(Image.fromarray(u8 > 127), "PNG"))
put("png", "gray8.png", pil(Image.fromarray(u8, "L"), "PNG"))
put("png", "gray16.png", pil(Image.fromarray(u8.astype(np.uint16) * 257), "PNG"))
put("png", "gray_alpha.png", pil(Image.fromarray(u8, "L").convert("LA"), "PNG"))
put("png", "rgb.png", pil(Image.fromarray(rgb, "RGB"), "PNG"))
put("png", "rgba.png", pil(Image.fromarray(rgb, "RGB").convert("RGBA"), "PNG"))
pal = Image.fromarray((u8 % 4).astype(np.uint8), "P")
pal.putpalette([60, 16, 152, 0, 0, 0, 155, 155, 155, 254, 221, 58])
put("png", "palette2.png", pil(pal, "PNG", bits=2))
put("png", "palette8_trns.png", pil(pal, "PNG", transparency=1))

# JPEG: gray, RGB 4:4:4 and 4:2:0, progressive, CMYK (refused), with restart markers.
put("jpeg", "gray.jpg", pil(Image.fromarray(u8, "L"), "JPEG", quality=90))
put("jpeg", "rgb444.jpg", pil(Image.fromarray(rgb, "RGB"), "JPEG", quality=90, subsampling=0))
big = Image.fromarray(rng.integers(0, 256, (17, 19, 3), dtype=np.uint8), "RGB")
put("jpeg", "rgb420.jpg", pil(big, "JPEG", quality=75, subsampling=2))
put("jpeg", "progressive.jpg", pil(big, "JPEG", quality=75, progressive=True))
put("jpeg", "cmyk.jpg", pil(Image.new("CMYK", (8, 8), (10, 20, 30, 40)), "JPEG"))
put("jpeg", "restart.jpg", pil(big, "JPEG", quality=75, restart_marker_blocks=1))


# TIFF: sample types, contiguous and planar bands, compressions, tiles, 1-bit.
def tif(name, data, **kw):
    b = io.BytesIO()
    tifffile.imwrite(b, data, **kw)
    put("tiff", name, b.getvalue())


tif("u8.tif", u8)
put("tiff", "u16_lzw.tif", pil(Image.fromarray(u8.astype(np.uint16) * 100), "TIFF", compression="tiff_lzw"))
tif("i16_deflate.tif", u8.astype(np.int16) - 128, compression="zlib")
put("tiff", "u8_packbits.tif", pil(Image.fromarray(u8, "L"), "TIFF", compression="packbits"))
tif("f32.tif", u8.astype(np.float32) / 7)
tif("f64.tif", u8.astype(np.float64) - 0.5)
tif("rgb.tif", rgb, photometric="rgb")
tif("bands4_planar.tif", rng.integers(0, 999, (4, 6, 5), dtype=np.uint16), photometric="minisblack", planarconfig="separate")
tif("bands3_contig_f32.tif", rng.random((6, 5, 3), dtype=np.float32), photometric="minisblack", planarconfig="contig")
tif("tiled.tif", rng.integers(0, 256, (20, 20), dtype=np.uint8), tile=(16, 16))
tif("bool.tif", u8 > 127, photometric="minisblack")


# NIfTI-1: integer, scaled, float 3-D and 4-D, gzip.
def nii(name, data, zooms, slope=None, gz=False):
    img = nib.Nifti1Image(data, np.diag(list(zooms[:3]) + [1.0] * (4 - len(zooms[:3]))))
    img.header.set_zooms(zooms)
    if slope is not None:
        img.header.set_slope_inter(*slope)
    b = img.to_bytes()
    put("nifti", name, gzip.compress(b, mtime=0) if gz else b)


nii("u8_3d.nii", rng.integers(0, 4, (4, 3, 2), dtype=np.uint8), (0.75, 0.75, 2.5))
nii("i16_scaled.nii", rng.integers(-50, 50, (3, 3, 2), dtype=np.int16), (1.0, 1.0, 1.0), slope=(2.0, -1.0))
nii("f32_4d.nii", rng.random((3, 2, 2, 2), dtype=np.float32), (1.0, 1.0, 3.0, 1.0))
nii("f64_2d.nii.gz", rng.random((4, 3)), (0.5, 0.5), gz=True)
