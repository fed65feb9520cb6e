//! Intensity images and masks from files: every format's variants, round trips of the
//! writers, and bad input (truncated or corrupt files, unsupported bit depths and types), each
//! an `Err` naming the file.
//!
//! JPEG fixtures are embedded below; they were written with Pillow 13.0.0 (libjpeg-turbo) by:
//!
//! ```python
//! g = [[(x * 16 + y * 8) % 256 for x in range(8)] for y in range(4)]            # uint8
//! Image.fromarray(g, "L").save(f, "JPEG", quality=95, optimize=True)            # GRAY_4X8
//! rgb[..., 0] = 200; rgb[..., 1] = arange(6) * 40; rgb[..., 2] = 30; rgb[2:, :, 2] = 220
//! Image.fromarray(rgb, "RGB").save(f, "JPEG", quality=95, subsampling=0, optimize=True)  # RGB_444_4X6
//! Image.fromarray(full((16, 16, 3), (250, 20, 120))).save(f, "JPEG", quality=90, subsampling=2,
//!     progressive=True, optimize=True)                                           # RGB_420_PROGRESSIVE_16X16
//! Image.new("CMYK", (8, 8), (10, 20, 30, 40)).save(f, "JPEG", quality=90)        # CMYK_8X8
//! ```
//!
//! The expected pixel values are Pillow 13.0.0's decoding of the same bytes
//! (`np.asarray(Image.open(f))`), written here as literals; zune-jpeg must agree within 2.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use dicekit_data::image::{
    PngDepth, TiffSamples, read_image, write_image_nifti, write_image_png, write_image_tiff,
};
use dicekit_data::mask::{MaskDecoding, UnknownColour, read_mask};
use dicekit_data::{
    DataError, DataErrorKind, Volume, read_label_map, write_label_map_nifti, write_label_map_png,
};
use ndarray::{Array2, Array3, Array4, ArrayD, IxDyn, array};

const GRAY_4X8: &[u8] = &[
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02,
    0x01, 0x01, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04,
    0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06, 0x07, 0x09, 0x08, 0x06,
    0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08,
    0x0b, 0x0c, 0x0b, 0x0a, 0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x04,
    0x00, 0x08, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0xff, 0xc4, 0x00, 0x1b,
    0x10, 0x00, 0x01, 0x04, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x06, 0x00, 0x01, 0x09, 0x24, 0x41, 0x52, 0xd1, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00,
    0x00, 0x3f, 0x00, 0x13, 0xc6, 0xd8, 0x28, 0xdd, 0x0a, 0x5a, 0xe5, 0xb8, 0xbf, 0xff, 0xd9,
];
const RGB_444_4X6: &[u8] = &[
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02,
    0x01, 0x01, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04,
    0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06, 0x07, 0x09, 0x08, 0x06,
    0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08,
    0x0b, 0x0c, 0x0b, 0x0a, 0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x05, 0x03, 0x03, 0x05, 0x0a, 0x07, 0x06, 0x07, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0xff, 0xc0,
    0x00, 0x11, 0x08, 0x00, 0x04, 0x00, 0x06, 0x03, 0x01, 0x11, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
    0x01, 0xff, 0xc4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0xff, 0xc4, 0x00, 0x1e, 0x10, 0x00, 0x00, 0x04, 0x07,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x06,
    0x07, 0x09, 0x25, 0x43, 0x44, 0x51, 0x62, 0xff, 0xc4, 0x00, 0x15, 0x01, 0x01, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x08, 0xff, 0xc4,
    0x00, 0x21, 0x11, 0x00, 0x01, 0x02, 0x04, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x03, 0x15, 0x41, 0x61, 0x04, 0x05, 0x22, 0x25, 0x42, 0x43,
    0xd3, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0x63,
    0x95, 0x83, 0x21, 0xae, 0x50, 0xd5, 0x54, 0xcc, 0x34, 0xde, 0x5e, 0xcb, 0xa0, 0xb5, 0xdf, 0x61,
    0x5a, 0x79, 0xa8, 0xdb, 0xaa, 0x7b, 0xa3, 0xfa, 0xaa, 0x19, 0xf8, 0xcd, 0x31, 0xf3, 0xa1, 0xaf,
    0x91, 0xa0, 0xbd, 0x97, 0xff, 0xd9,
];
const RGB_420_PROGRESSIVE_16X16: &[u8] = &[
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x03, 0x02, 0x02, 0x03, 0x02, 0x02, 0x03,
    0x03, 0x03, 0x03, 0x04, 0x03, 0x03, 0x04, 0x05, 0x08, 0x05, 0x05, 0x04, 0x04, 0x05, 0x0a, 0x07,
    0x07, 0x06, 0x08, 0x0c, 0x0a, 0x0c, 0x0c, 0x0b, 0x0a, 0x0b, 0x0b, 0x0d, 0x0e, 0x12, 0x10, 0x0d,
    0x0e, 0x11, 0x0e, 0x0b, 0x0b, 0x10, 0x16, 0x10, 0x11, 0x13, 0x14, 0x15, 0x15, 0x15, 0x0c, 0x0f,
    0x17, 0x18, 0x16, 0x14, 0x18, 0x12, 0x14, 0x15, 0x14, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x03, 0x04,
    0x04, 0x05, 0x04, 0x05, 0x09, 0x05, 0x05, 0x09, 0x14, 0x0d, 0x0b, 0x0d, 0x14, 0x14, 0x14, 0x14,
    0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14,
    0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14,
    0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0x14, 0xff, 0xc2,
    0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
    0x01, 0xff, 0xc4, 0x00, 0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0xff, 0xc4, 0x00, 0x15, 0x01, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x08, 0xff,
    0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x10, 0x03, 0x10, 0x00, 0x00, 0x01, 0x99, 0x0e, 0xa3,
    0xbf, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x05,
    0x02, 0x1f, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x03, 0x01, 0x01,
    0x3f, 0x01, 0x7f, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08, 0x01, 0x02, 0x01,
    0x01, 0x3f, 0x01, 0x7f, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01,
    0x00, 0x06, 0x3f, 0x02, 0x1f, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xff, 0xda, 0x00, 0x08, 0x01,
    0x01, 0x00, 0x01, 0x3f, 0x21, 0x1f, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x00, 0x03,
    0x00, 0x00, 0x00, 0x10, 0xff, 0x00, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00, 0x08,
    0x01, 0x03, 0x01, 0x01, 0x3f, 0x10, 0x7f, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00,
    0x08, 0x01, 0x02, 0x01, 0x01, 0x3f, 0x10, 0x7f, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xff, 0xda,
    0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x10, 0x1f, 0xff, 0xd9,
];
const CMYK_8X8: &[u8] = &[
    0xff, 0xd8, 0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x03, 0x02, 0x02, 0x03, 0x02, 0x02, 0x03, 0x03, 0x03,
    0x03, 0x04, 0x03, 0x03, 0x04, 0x05, 0x08, 0x05, 0x05, 0x04, 0x04, 0x05, 0x0a, 0x07, 0x07, 0x06,
    0x08, 0x0c, 0x0a, 0x0c, 0x0c, 0x0b, 0x0a, 0x0b, 0x0b, 0x0d, 0x0e, 0x12, 0x10, 0x0d, 0x0e, 0x11,
    0x0e, 0x0b, 0x0b, 0x10, 0x16, 0x10, 0x11, 0x13, 0x14, 0x15, 0x15, 0x15, 0x0c, 0x0f, 0x17, 0x18,
    0x16, 0x14, 0x18, 0x12, 0x14, 0x15, 0x14, 0xff, 0xc0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x08,
    0x04, 0x43, 0x11, 0x00, 0x4d, 0x11, 0x00, 0x59, 0x11, 0x00, 0x4b, 0x11, 0x00, 0xff, 0xc4, 0x00,
    0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4,
    0x00, 0xb5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00,
    0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13,
    0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15,
    0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46,
    0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86,
    0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4,
    0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2,
    0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9,
    0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5,
    0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xda, 0x00, 0x0e, 0x04, 0x43, 0x00, 0x4d, 0x00, 0x59, 0x00,
    0x4b, 0x00, 0x00, 0x3f, 0x00, 0xfd, 0x38, 0xaf, 0xd1, 0xda, 0xfd, 0x03, 0xaf, 0xba, 0x2b, 0xff,
    0xd9,
];

/// A fresh temporary folder for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dicekit-images-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `bytes` to `dir/name` and returns the path.
fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A PNG of raw rows, through the `png` encoder (any colour type and depth).
fn png_raw(
    w: u32,
    h: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    palette: Option<Vec<u8>>,
    data: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(color);
    enc.set_depth(depth);
    if let Some(p) = palette {
        enc.set_palette(p);
    }
    let mut wr = enc.write_header().unwrap();
    wr.write_image_data(data).unwrap();
    wr.finish().unwrap();
    out
}

/// A TIFF field value: type (3 SHORT, 4 LONG), count, little-endian bytes.
type IfdValue = (u16, u32, Vec<u8>);

/// A little-endian, uncompressed TIFF written by hand, so that layouts and sample types the
/// `tiff` encoder does not offer can be tested: one strip of interleaved samples, or
/// (`planar`) one strip per sample plane. `data` is the strips' bytes, in order.
#[allow(clippy::too_many_arguments)]
fn tiff_by_hand(
    w: u32,
    h: u32,
    spp: u16,
    bits: u16,
    sample_format: u16,
    photometric: u16,
    planar: bool,
    data: &[u8],
) -> Vec<u8> {
    let n_strips = if planar { usize::from(spp) } else { 1 };
    let strip_len = data.len() / n_strips;
    let shorts = |v: &[u16]| {
        (
            3u16,
            v.len() as u32,
            v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(),
        )
    };
    let longs = |v: &[u32]| {
        (
            4u16,
            v.len() as u32,
            v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(),
        )
    };
    let mut entries: Vec<(u16, IfdValue)> = vec![
        (256, longs(&[w])),
        (257, longs(&[h])),
        (258, shorts(&vec![bits; usize::from(spp)])),
        (259, shorts(&[1])),
        (262, shorts(&[photometric])),
        (273, longs(&vec![0; n_strips])),
        (277, shorts(&[spp])),
        (278, longs(&[h])),
        (279, longs(&vec![strip_len as u32; n_strips])),
        (284, shorts(&[if planar { 2 } else { 1 }])),
    ];
    let colour_samples = if photometric == 2 { 3 } else { 1 };
    if spp > colour_samples {
        entries.push((338, shorts(&vec![0; usize::from(spp - colour_samples)])));
    }
    entries.push((339, shorts(&vec![sample_format; usize::from(spp)])));
    let ifd_len = 2 + 12 * entries.len() + 4;
    let blobs: usize = entries
        .iter()
        .map(|(_, (_, _, b))| {
            if b.len() > 4 {
                b.len().next_multiple_of(2)
            } else {
                0
            }
        })
        .sum();
    let data_at = 8 + ifd_len + blobs;
    entries[5].1.2 = (0..n_strips)
        .flat_map(|s| ((data_at + s * strip_len) as u32).to_le_bytes())
        .collect();
    let mut f = b"II*\0".to_vec();
    f.extend_from_slice(&8u32.to_le_bytes());
    f.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    let mut blob_at = 8 + ifd_len;
    let mut tail = Vec::new();
    for (tag, (typ, count, bytes)) in &entries {
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&typ.to_le_bytes());
        f.extend_from_slice(&count.to_le_bytes());
        if bytes.len() > 4 {
            f.extend_from_slice(&(blob_at as u32).to_le_bytes());
            tail.extend_from_slice(bytes);
            if bytes.len() % 2 == 1 {
                tail.push(0);
            }
            blob_at += bytes.len().next_multiple_of(2);
        } else {
            let mut v = [0u8; 4];
            v[..bytes.len()].copy_from_slice(bytes);
            f.extend_from_slice(&v);
        }
    }
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&tail);
    assert_eq!(f.len(), data_at);
    f.extend_from_slice(data);
    f
}

/// A TIFF through the `tiff` encoder.
fn tiff_encoded<C: tiff::encoder::colortype::ColorType>(
    w: u32,
    h: u32,
    data: &[C::Inner],
) -> Vec<u8>
where
    [C::Inner]: tiff::encoder::TiffValue,
{
    let mut buf = Cursor::new(Vec::new());
    let mut enc = tiff::encoder::TiffEncoder::new(&mut buf).unwrap();
    enc.write_image::<C>(w, h, data).unwrap();
    buf.into_inner()
}

fn assert_close(got: &ArrayD<f32>, want: &ArrayD<f32>, tol: f32) {
    assert_eq!(got.shape(), want.shape());
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "sample {i}: got {g}, want {w} (tolerance {tol})"
        );
    }
}

/// The error must name the file and be one line.
fn assert_names(err: &DataError, path: &Path) {
    assert_eq!(err.path(), path);
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}: ", path.display())), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// Volume conventions

#[test]
fn image_and_label_map_shapes_are_told_apart_by_the_spacing() {
    let image = Volume::channels_first(Array3::<f32>::zeros((3, 4, 5)).into_dyn());
    assert!(image.has_channel_axis());
    assert_eq!((image.channels(), image.spatial_shape()), (3, &[4, 5][..]));
    let labels = Volume::new(Array2::<u32>::zeros((4, 5)).into_dyn());
    assert!(!labels.has_channel_axis());
    assert_eq!(
        (labels.channels(), labels.spatial_shape()),
        (1, &[4, 5][..])
    );
    let scalar = Volume::channels_first(ArrayD::<f32>::zeros(IxDyn(&[])));
    assert_eq!((scalar.channels(), scalar.spatial_shape()), (1, &[][..]));
}

// ---------------------------------------------------------------------------------------------
// PNG

#[test]
fn png_colour_types_give_their_channels_as_stored() {
    use png::{BitDepth as D, ColorType as T};
    let dir = temp_dir("png-types");
    let cases: Vec<(&str, Vec<u8>, ArrayD<f32>)> = vec![
        (
            "gray8.png",
            png_raw(2, 1, T::Grayscale, D::Eight, None, &[0, 255]),
            array![[[0.0, 255.0]]].into_dyn(),
        ),
        (
            "gray16.png",
            png_raw(
                2,
                1,
                T::Grayscale,
                D::Sixteen,
                None,
                &[0x01, 0x02, 0xFF, 0xFF],
            ),
            array![[[258.0, 65535.0]]].into_dyn(),
        ),
        (
            "gray1.png",
            png_raw(3, 1, T::Grayscale, D::One, None, &[0b1010_0000]),
            array![[[1.0, 0.0, 1.0]]].into_dyn(),
        ),
        (
            "gray4.png",
            png_raw(2, 1, T::Grayscale, D::Four, None, &[0x3F]),
            array![[[3.0, 15.0]]].into_dyn(),
        ),
        (
            "gray_alpha.png",
            png_raw(1, 2, T::GrayscaleAlpha, D::Eight, None, &[7, 255, 9, 0]),
            array![[[7.0], [9.0]], [[255.0], [0.0]]].into_dyn(),
        ),
        (
            "rgb.png",
            png_raw(2, 1, T::Rgb, D::Eight, None, &[1, 2, 3, 4, 5, 6]),
            array![[[1.0, 4.0]], [[2.0, 5.0]], [[3.0, 6.0]]].into_dyn(),
        ),
        (
            "rgba16.png",
            png_raw(1, 1, T::Rgba, D::Sixteen, None, &[0, 1, 0, 2, 0, 3, 1, 0]),
            array![[[1.0]], [[2.0]], [[3.0]], [[256.0]]].into_dyn(),
        ),
        (
            "palette2.png",
            // 2-bit indices 0 1 2 1 into a 3-colour palette.
            png_raw(
                4,
                1,
                T::Indexed,
                D::Two,
                Some(vec![60, 16, 152, 0, 0, 0, 254, 221, 58]),
                &[0b0001_1001],
            ),
            array![
                [[60.0, 0.0, 254.0, 0.0]],
                [[16.0, 0.0, 221.0, 0.0]],
                [[152.0, 0.0, 58.0, 0.0]]
            ]
            .into_dyn(),
        ),
    ];
    for (name, bytes, want) in cases {
        let path = file(&dir, name, &bytes);
        let v = read_image(&path).unwrap();
        assert_eq!(v.data, want, "{name}");
        assert!(v.data.is_standard_layout());
        assert_eq!(
            (v.spacing.clone(), v.origin.clone()),
            (vec![1.0, 1.0], vec![0.0, 0.0])
        );
    }
}

#[test]
fn png_palette_index_outside_the_palette_is_a_format_error() {
    let dir = temp_dir("png-palette-index");
    let bytes = png_raw(
        2,
        1,
        png::ColorType::Indexed,
        png::BitDepth::Eight,
        Some(vec![1, 2, 3]),
        &[0, 5],
    );
    let path = file(&dir, "p.png", &bytes);
    let err = read_image(&path).unwrap_err();
    assert_names(&err, &path);
    assert!(
        err.to_string()
            .contains("pixel [0, 1] holds palette index 5, but the palette has 1 entries"),
        "{err}"
    );
}

#[test]
fn png_writer_rounds_and_clamps_and_round_trips_every_channel_count() {
    let dir = temp_dir("png-write");
    for c in 1..=4 {
        for (depth, max) in [(PngDepth::Eight, 255.0f32), (PngDepth::Sixteen, 65535.0)] {
            let data = Array3::from_shape_fn((c, 3, 2), |(k, y, x)| {
                ((k * 97 + y * 31 + x * 7) as f32 * 13.0) % (max + 1.0)
            });
            let v = Volume::channels_first(data.into_dyn());
            let path = dir.join(format!("c{c}_{max}.png"));
            write_image_png(&path, &v, depth).unwrap();
            assert_eq!(read_image(&path).unwrap(), v, "{c} channels, max {max}");
        }
    }
    // Rounding: halves away from zero, then clamping; infinities clamp.
    let v = Volume::channels_first(
        array![[[
            -0.6f32,
            0.49,
            0.5,
            1.5,
            254.5,
            255.4,
            f32::INFINITY,
            f32::NEG_INFINITY
        ]]]
        .into_dyn(),
    );
    let path = dir.join("rounding.png");
    write_image_png(&path, &v, PngDepth::Eight).unwrap();
    assert_eq!(
        read_image(&path).unwrap().data,
        array![[[0.0f32, 0.0, 1.0, 2.0, 255.0, 255.0, 255.0, 0.0]]].into_dyn()
    );
    write_image_png(&path, &v, PngDepth::Sixteen).unwrap();
    assert_eq!(
        read_image(&path).unwrap().data,
        array![[[0.0f32, 0.0, 1.0, 2.0, 255.0, 255.0, 65535.0, 0.0]]].into_dyn()
    );
}

#[test]
fn png_writer_refuses_what_png_cannot_hold() {
    let dir = temp_dir("png-unwritable");
    let path = dir.join("x.png");
    let nan = Volume::channels_first(array![[[1.0f32, f32::NAN]]].into_dyn());
    let five = Volume::channels_first(Array3::<f32>::zeros((5, 2, 2)).into_dyn());
    let no_channel_axis = Volume::new(Array2::<f32>::zeros((2, 2)).into_dyn());
    let three_d = Volume::channels_first(Array4::<f32>::zeros((1, 2, 2, 2)).into_dyn());
    let empty = Volume::channels_first(Array3::<f32>::zeros((1, 0, 2)).into_dyn());
    for v in [nan, five, no_channel_axis, three_d, empty] {
        let err = write_image_png(&path, &v, PngDepth::Eight).unwrap_err();
        assert!(matches!(err.kind(), DataErrorKind::NotWritable(_)), "{err}");
        assert_names(&err, &path);
    }
    let ok = Volume::channels_first(Array3::<f32>::zeros((1, 1, 1)).into_dyn());
    let err = write_image_png(&dir.join("x.jpg"), &ok, PngDepth::Eight).unwrap_err();
    assert!(matches!(
        err.kind(),
        DataErrorKind::UnsupportedExtension { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// JPEG

#[test]
fn jpeg_gray_and_rgb_match_libjpeg_within_two() {
    let dir = temp_dir("jpeg");
    let gray = read_image(&file(&dir, "g.jpg", GRAY_4X8)).unwrap();
    let want_gray = array![[
        [0.0f32, 15.0, 32.0, 47.0, 64.0, 80.0, 96.0, 112.0],
        [9.0, 24.0, 41.0, 56.0, 73.0, 88.0, 105.0, 120.0],
        [15.0, 31.0, 47.0, 63.0, 80.0, 95.0, 112.0, 127.0],
        [25.0, 41.0, 57.0, 73.0, 89.0, 105.0, 121.0, 137.0]
    ]];
    assert_close(&gray.data, &want_gray.into_dyn(), 2.0);

    let rgb = read_image(&file(&dir, "c.JPEG", RGB_444_4X6)).unwrap();
    let want_rgb = array![
        [
            [202.0f32, 197.0, 203.0, 200.0, 200.0, 198.0],
            [200.0, 197.0, 202.0, 200.0, 201.0, 198.0],
            [201.0, 196.0, 202.0, 200.0, 200.0, 198.0],
            [200.0, 195.0, 202.0, 199.0, 199.0, 197.0]
        ],
        [
            [0.0, 41.0, 78.0, 118.0, 160.0, 200.0],
            [0.0, 41.0, 80.0, 118.0, 161.0, 200.0],
            [0.0, 41.0, 79.0, 119.0, 161.0, 200.0],
            [0.0, 40.0, 79.0, 118.0, 160.0, 199.0]
        ],
        [
            [29.0, 29.0, 32.0, 32.0, 26.0, 31.0],
            [29.0, 29.0, 31.0, 32.0, 27.0, 31.0],
            [220.0, 220.0, 222.0, 222.0, 216.0, 221.0],
            [220.0, 219.0, 222.0, 221.0, 215.0, 220.0]
        ]
    ];
    assert_close(&rgb.data, &want_rgb.into_dyn(), 2.0);
    assert_eq!(rgb.spacing, vec![1.0, 1.0]);

    // Progressive, 4:2:0: Pillow decodes every pixel to (250, 20, 119).
    let prog = read_image(&file(&dir, "p.jpg", RGB_420_PROGRESSIVE_16X16)).unwrap();
    assert_eq!(prog.shape(), &[3, 16, 16]);
    let want = Array3::from_shape_fn((3, 16, 16), |(c, _, _)| [250.0f32, 20.0, 119.0][c]);
    assert_close(&prog.data, &want.into_dyn(), 2.0);
}

#[test]
fn cmyk_jpeg_is_unsupported_naming_it() {
    let dir = temp_dir("jpeg-cmyk");
    let path = file(&dir, "cmyk.jpg", CMYK_8X8);
    let err = read_image(&path).unwrap_err();
    assert_names(&err, &path);
    match err.kind() {
        DataErrorKind::UnsupportedType(msg) => {
            assert!(msg.contains("CMYK") || msg.contains("YCCK"), "{msg}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn jpeg_masks_threshold_on_the_red_channel_and_refuse_labels() {
    let dir = temp_dir("jpeg-mask");
    let path = file(&dir, "g.jpg", GRAY_4X8);
    let m = read_mask(
        &path,
        &MaskDecoding::Threshold {
            threshold: 100.0,
            channel: 0,
        },
    )
    .unwrap();
    assert_eq!(m.shape(), &[4, 8]);
    assert_eq!(m.spacing, vec![1.0, 1.0]);
    // Pillow's values above 100: 112 | 105, 120 | 112, 127 | 105, 121, 137.
    let ones: Vec<usize> = m
        .data
        .iter()
        .enumerate()
        .filter(|(_, l)| **l == 1)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(ones, [7, 14, 15, 22, 23, 29, 30, 31]);
    let err = read_mask(&path, &MaskDecoding::Labels).unwrap_err();
    assert_names(&err, &path);
    assert!(err.to_string().contains("JPEG is lossy"), "{err}");
    let err = read_mask(
        &path,
        &MaskDecoding::Threshold {
            threshold: 0.5,
            channel: 1,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("channel 1, but the image has 1 channel"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// TIFF

#[test]
fn tiff_sample_types_read_as_stored() {
    use tiff::encoder::colortype::{
        Gray8, Gray16, Gray32, Gray32Float, Gray64Float, GrayI16, RGB8,
    };
    let dir = temp_dir("tiff-types");
    let cases: Vec<(&str, Vec<u8>, ArrayD<f32>)> = vec![
        (
            "u8.tif",
            tiff_encoded::<Gray8>(2, 1, &[0, 255]),
            array![[[0.0, 255.0]]].into_dyn(),
        ),
        (
            "u16.tif",
            tiff_encoded::<Gray16>(2, 1, &[7, 65535]),
            array![[[7.0, 65535.0]]].into_dyn(),
        ),
        (
            "i16.tif",
            tiff_encoded::<GrayI16>(2, 1, &[-300, 5]),
            array![[[-300.0, 5.0]]].into_dyn(),
        ),
        (
            "u32.tif",
            tiff_encoded::<Gray32>(2, 1, &[1 << 20, 3]),
            array![[[1048576.0, 3.0]]].into_dyn(),
        ),
        (
            "f32.tif",
            tiff_encoded::<Gray32Float>(2, 1, &[-0.25, 1e30]),
            array![[[-0.25, 1e30]]].into_dyn(),
        ),
        (
            "f64.tif",
            tiff_encoded::<Gray64Float>(2, 1, &[0.5, -2.0]),
            array![[[0.5, -2.0]]].into_dyn(),
        ),
        (
            "rgb8.tiff",
            tiff_encoded::<RGB8>(2, 1, &[1, 2, 3, 4, 5, 6]),
            array![[[1.0, 4.0]], [[2.0, 5.0]], [[3.0, 6.0]]].into_dyn(),
        ),
        (
            "gray1.tif",
            tiff_by_hand(3, 2, 1, 1, 1, 1, false, &[0b1010_0000, 0b0110_0000]),
            array![[[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]].into_dyn(),
        ),
    ];
    for (name, bytes, want) in cases {
        let path = file(&dir, name, &bytes);
        assert_eq!(read_image(&path).unwrap().data, want, "{name}");
    }
}

#[test]
fn tiff_multiband_contiguous_and_planar_separate_give_every_plane() {
    let dir = temp_dir("tiff-bands");
    // 2 x 2 pixels, 4 bands of u16: band b of pixel p is 100 * b + p.
    let value = |b: u16, p: u16| 100 * b + p;
    let chunky: Vec<u8> = (0..4)
        .flat_map(|p| (0..4).map(move |b| value(b, p)))
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let planar: Vec<u8> = (0..4)
        .flat_map(|b| (0..4).map(move |p| value(b, p)))
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let want = Array3::from_shape_fn((4, 2, 2), |(b, y, x)| {
        f32::from(value(b as u16, (y * 2 + x) as u16))
    })
    .into_dyn();
    for (name, bytes) in [
        (
            "chunky.tif",
            tiff_by_hand(2, 2, 4, 16, 1, 1, false, &chunky),
        ),
        ("planar.tif", tiff_by_hand(2, 2, 4, 16, 1, 1, true, &planar)),
    ] {
        let v = read_image(&file(&dir, name, &bytes)).unwrap();
        assert_eq!(v.data, want, "{name}");
    }
    // Planar RGB: three planes.
    let rgb = &planar[..planar.len() * 3 / 4];
    let v = read_image(&file(
        &dir,
        "planar_rgb.tif",
        &tiff_by_hand(2, 2, 3, 16, 1, 2, true, rgb),
    ))
    .unwrap();
    assert_eq!(
        v.data,
        want.slice_axis(ndarray::Axis(0), (0..3).into()).to_owned()
    );
    // RGB plus an unspecified extra band: the decoder would drop the band, so it is refused.
    for planar_config in [false, true] {
        let data = if planar_config { &planar } else { &chunky };
        let path = file(
            &dir,
            "rgb_extra.tif",
            &tiff_by_hand(2, 2, 4, 16, 1, 2, planar_config, data),
        );
        let err = read_image(&path).unwrap_err();
        assert!(
            matches!(err.kind(), DataErrorKind::UnsupportedType(_)),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("RGB(16) TIFF with 4 samples per pixel"),
            "{err}"
        );
    }
}

#[test]
fn tiff_writer_round_trips_any_band_count() {
    let dir = temp_dir("tiff-write");
    for c in [1usize, 2, 3, 4, 7] {
        let data = Array3::from_shape_fn((c, 3, 5), |(k, y, x)| {
            k as f32 * 1000.0 + y as f32 * 10.0 + x as f32 + 0.25
        });
        let v = Volume::channels_first(data.into_dyn());
        let path = dir.join(format!("f32_{c}.tif"));
        write_image_tiff(&path, &v, TiffSamples::F32).unwrap();
        assert_eq!(read_image(&path).unwrap(), v, "f32, {c} bands");
        let path = dir.join(format!("u16_{c}.tiff"));
        write_image_tiff(&path, &v, TiffSamples::U16).unwrap();
        assert_eq!(
            read_image(&path).unwrap().data,
            v.data.mapv(f32::round),
            "u16, {c} bands"
        );
    }
    // Many rows: several strips.
    let tall = Volume::channels_first(
        Array3::from_shape_fn((3, 400, 50), |(k, y, x)| (k + y + x) as f32).into_dyn(),
    );
    let path = dir.join("tall.tif");
    write_image_tiff(&path, &tall, TiffSamples::F32).unwrap();
    assert_eq!(read_image(&path).unwrap(), tall);
    // Clamping to u16 and NaN.
    let v = Volume::channels_first(array![[[-5.0f32, 70000.0, 2.5]]].into_dyn());
    write_image_tiff(&path, &v, TiffSamples::U16).unwrap();
    assert_eq!(
        read_image(&path).unwrap().data,
        array![[[0.0f32, 65535.0, 3.0]]].into_dyn()
    );
    let nan = Volume::channels_first(array![[[f32::NAN]]].into_dyn());
    write_image_tiff(&path, &nan, TiffSamples::F32).unwrap();
    assert!(read_image(&path).unwrap().data[[0, 0, 0]].is_nan());
    let err = write_image_tiff(&path, &nan, TiffSamples::U16).unwrap_err();
    assert!(matches!(err.kind(), DataErrorKind::NotWritable(_)), "{err}");
}

#[test]
fn tiff_unsupported_bit_depths_and_types_name_what_was_found() {
    let dir = temp_dir("tiff-unsupported");
    let cases = [
        (
            "12bit.tif",
            tiff_by_hand(2, 1, 1, 12, 1, 1, false, &[0, 0, 0]),
            "12-bit TIFF samples",
        ),
        (
            "2bit_rgb.tif",
            tiff_by_hand(4, 1, 3, 2, 1, 2, false, &[0, 0, 0]),
            "2-bit TIFF samples (3 per pixel)",
        ),
        (
            "24bit_float.tif",
            tiff_by_hand(1, 1, 1, 24, 3, 1, false, &[0, 0, 0]),
            "24",
        ),
        (
            "palette.tif",
            tiff_by_hand(2, 1, 1, 8, 1, 3, false, &[0, 1]),
            "Palette",
        ),
        (
            "cmyk.tif",
            tiff_by_hand(1, 1, 4, 8, 1, 5, false, &[0, 1, 2, 3]),
            "CMYK",
        ),
    ];
    for (name, bytes, want) in cases {
        let path = file(&dir, name, &bytes);
        let err = read_image(&path).unwrap_err();
        assert_names(&err, &path);
        match err.kind() {
            DataErrorKind::UnsupportedType(msg) => assert!(msg.contains(want), "{name}: {msg}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn multi_page_tiff_is_refused() {
    use tiff::encoder::{TiffEncoder, colortype::Gray8};
    let mut buf = Cursor::new(Vec::new());
    let mut enc = TiffEncoder::new(&mut buf).unwrap();
    enc.write_image::<Gray8>(1, 1, &[1]).unwrap();
    enc.write_image::<Gray8>(1, 1, &[2]).unwrap();
    let dir = temp_dir("tiff-pages");
    let path = file(&dir, "pages.tif", &buf.into_inner());
    let err = read_image(&path).unwrap_err();
    assert!(err.to_string().contains("multi-page"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// NIfTI

fn ramp4(c: usize, x: usize, y: usize, z: usize) -> Array4<f32> {
    Array4::from_shape_fn((c, x, y, z), |(c, x, y, z)| {
        (c * 1000 + x * 100 + y * 10 + z) as f32 - 0.5
    })
}

#[test]
fn nifti_images_round_trip_3d_and_4d_with_geometry() {
    let dir = temp_dir("nifti-write");
    let one = Volume::channels_first(ramp4(1, 4, 3, 2).into_dyn())
        .with_spacing(vec![0.5, 0.75, 2.5])
        .with_origin(vec![-10.0, 20.5, 3.0]);
    let two = Volume::channels_first(ramp4(2, 4, 3, 2).into_dyn())
        .with_spacing(vec![0.5, 0.75, 2.5])
        .with_origin(vec![-10.0, 20.5, 3.0]);
    for (name, v) in [
        ("one.nii", &one),
        ("one.nii.gz", &one),
        ("two.nii", &two),
        ("two.NII.GZ", &two),
    ] {
        let path = dir.join(name);
        write_image_nifti(&path, v).unwrap();
        assert_eq!(&read_image(&path).unwrap(), v, "{name}");
    }
    // A 3-D single-channel image reads back as a label map of the same spatial shape.
    let labels = Volume::channels_first(
        Array4::from_shape_fn((1, 2, 2, 2), |(_, x, y, z)| (x + y + z) as f32).into_dyn(),
    )
    .with_spacing(vec![1.0, 1.0, 3.0]);
    write_image_nifti(&dir.join("l.nii"), &labels).unwrap();
    let lm = read_label_map(&dir.join("l.nii")).unwrap();
    assert_eq!(lm.shape(), labels.spatial_shape());
    assert_eq!(lm.spacing, labels.spacing);
    // 2-D, two channels: written with z = 1.
    let flat = Volume::channels_first(
        Array3::from_shape_fn((2, 3, 2), |(c, x, y)| (c * 10 + x + y) as f32).into_dyn(),
    );
    write_image_nifti(&dir.join("flat.nii"), &flat).unwrap();
    let back = read_image(&dir.join("flat.nii")).unwrap();
    assert_eq!(back.shape(), &[2, 3, 2, 1]);
    assert_eq!(
        back.data.into_shape_with_order(IxDyn(&[2, 3, 2])).unwrap(),
        flat.data
    );
}

#[test]
fn nifti_integer_types_scaling_and_five_d_vectors() {
    let dir = temp_dir("nifti-types");
    // uint16 label map written by the label writer, read as an image.
    let lm =
        Volume::new(array![[[0u32, 300], [7, 65535]]].into_dyn()).with_spacing(vec![1.0, 2.0, 3.0]);
    let path = dir.join("u16.nii.gz");
    write_label_map_nifti(&path, &lm).unwrap();
    let v = read_image(&path).unwrap();
    assert_eq!(
        v.data,
        array![[[[0.0f32, 300.0], [7.0, 65535.0]]]].into_dyn()
    );
    assert_eq!(v.spacing, vec![1.0, 2.0, 3.0]);

    // scl_slope 2, scl_inter -1 on a float32 image.
    let img = Volume::channels_first(ramp4(1, 2, 2, 1).into_dyn());
    let path = dir.join("scaled.nii");
    write_image_nifti(&path, &img).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[112..116].copy_from_slice(&2f32.to_le_bytes());
    bytes[116..120].copy_from_slice(&(-1f32).to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        read_image(&path).unwrap().data,
        img.data.mapv(|x| 2.0 * x - 1.0)
    );

    // 5-D (x, y, z, 1, C): the NIfTI vector convention; C channels.
    let two = Volume::channels_first(ramp4(2, 2, 2, 2).into_dyn());
    let path = dir.join("vec.nii");
    write_image_nifti(&path, &two).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    for (i, d) in [5i16, 2, 2, 2, 1, 2].iter().enumerate() {
        bytes[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(read_image(&path).unwrap().data, two.data);

    // 5-D with dim[4] > 1 is not an image this reader knows.
    bytes[48..50].copy_from_slice(&2i16.to_le_bytes()); // dim[4] = 2
    bytes[50..52].copy_from_slice(&1i16.to_le_bytes()); // dim[5] = 1
    std::fs::write(&path, &bytes).unwrap();
    let err = read_image(&path).unwrap_err();
    assert!(
        matches!(err.kind(), DataErrorKind::UnsupportedType(_)),
        "{err}"
    );
}

#[test]
fn nifti_complex_and_rgb_datatypes_are_unsupported_naming_them() {
    let dir = temp_dir("nifti-datatypes");
    let img = Volume::channels_first(ramp4(1, 2, 2, 1).into_dyn());
    let path = dir.join("t.nii");
    write_image_nifti(&path, &img).unwrap();
    let base = std::fs::read(&path).unwrap();
    for (code, name) in [(32i16, "complex64"), (128, "RGB24"), (1536, "float128")] {
        let mut bytes = base.clone();
        bytes[70..72].copy_from_slice(&code.to_le_bytes());
        bytes.resize(352 + 64, 0);
        std::fs::write(&path, &bytes).unwrap();
        let err = read_image(&path).unwrap_err();
        assert_names(&err, &path);
        match err.kind() {
            DataErrorKind::UnsupportedType(msg) => {
                assert!(msg.contains(name) && msg.contains("images need"), "{msg}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn nifti_image_writer_refuses_what_it_cannot_write() {
    let dir = temp_dir("nifti-unwritable");
    let path = dir.join("x.nii");
    let bad_spacing =
        Volume::channels_first(ramp4(1, 2, 2, 2).into_dyn()).with_spacing(vec![1.0, 0.0, 1.0]);
    let err = write_image_nifti(&path, &bad_spacing).unwrap_err();
    assert!(
        matches!(err.kind(), DataErrorKind::BadSpacing { axis: 1, .. }),
        "{err}"
    );
    let four_spatial = Volume::channels_first(ArrayD::<f32>::zeros(IxDyn(&[1, 2, 2, 2, 2])));
    let label_shaped = Volume::new(ArrayD::<f32>::zeros(IxDyn(&[2, 2, 2])));
    for v in [four_spatial, label_shaped] {
        let err = write_image_nifti(&path, &v).unwrap_err();
        assert!(matches!(err.kind(), DataErrorKind::NotWritable(_)), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Masks

#[test]
fn one_bit_and_palette_png_masks_decode() {
    use png::{BitDepth as D, ColorType as T};
    let dir = temp_dir("masks");
    let one_bit = file(
        &dir,
        "vessels.png",
        &png_raw(4, 1, T::Grayscale, D::One, None, &[0b1001_0000]),
    );
    let threshold = MaskDecoding::Threshold {
        threshold: 0.5,
        channel: 0,
    };
    assert_eq!(
        read_mask(&one_bit, &threshold).unwrap().data,
        array![[1u32, 0, 0, 1]].into_dyn()
    );
    assert_eq!(
        read_mask(&one_bit, &MaskDecoding::Labels).unwrap().data,
        array![[1u32, 0, 0, 1]].into_dyn()
    );

    let palette = vec![0x3C, 0x10, 0x98, 0, 0, 0, 0x9B, 0x9B, 0x9B, 1, 2, 3];
    let pal = file(
        &dir,
        "land.png",
        &png_raw(4, 1, T::Indexed, D::Eight, Some(palette), &[2, 0, 1, 0]),
    );
    let table = MaskDecoding::ColourTable {
        colours: vec![
            ([0x3C, 0x10, 0x98], 0),
            ([0x9B, 0x9B, 0x9B], 5),
            ([0, 0, 0], 255),
        ],
        unknown: UnknownColour::Error,
    };
    assert_eq!(
        read_mask(&pal, &table).unwrap().data,
        array![[5u32, 0, 255, 0]].into_dyn()
    );
    // `labels` gives palette indices.
    assert_eq!(
        read_mask(&pal, &MaskDecoding::Labels).unwrap().data,
        array![[2u32, 0, 1, 0]].into_dyn()
    );

    // A colour-table mask with 16-bit values is refused.
    let wide = file(
        &dir,
        "wide.png",
        &png_raw(1, 1, T::Grayscale, D::Sixteen, None, &[1, 0]),
    );
    let err = read_mask(&wide, &table).unwrap_err();
    assert_names(&err, &wide);
    assert!(err.to_string().contains("8-bit samples"), "{err}");

    // NIfTI probability map thresholded, keeping the geometry.
    let prob = Volume::channels_first(array![[[[0.1f32, 0.9]]]].into_dyn())
        .with_spacing(vec![1.5, 1.5, 4.0]);
    write_image_nifti(&dir.join("p.nii.gz"), &prob).unwrap();
    let m = read_mask(&dir.join("p.nii.gz"), &threshold).unwrap();
    assert_eq!(
        (m.data.clone(), m.spacing.clone()),
        (array![[[0u32, 1]]].into_dyn(), vec![1.5, 1.5, 4.0])
    );
    // Label maps written by this crate read back as masks unchanged.
    let lm = Volume::new(array![[0u32, 3], [1, 2]].into_dyn());
    write_label_map_png(&dir.join("lm.png"), &lm).unwrap();
    assert_eq!(
        read_mask(&dir.join("lm.png"), &MaskDecoding::Labels).unwrap(),
        lm
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input: every reader, every format, an Err naming the file.

/// Valid small files of every format, for truncation and corruption.
fn valid_files(dir: &Path) -> Vec<PathBuf> {
    let img = Volume::channels_first(
        Array3::from_shape_fn((3, 6, 5), |(c, y, x)| (c * 40 + y * 5 + x) as f32).into_dyn(),
    );
    let vol = Volume::channels_first(ramp4(2, 4, 3, 2).into_dyn());
    let mut files = vec![
        file(dir, "gray.jpg", GRAY_4X8),
        file(dir, "rgb.jpg", RGB_444_4X6),
        file(dir, "prog.jpg", RGB_420_PROGRESSIVE_16X16),
    ];
    for (name, write) in [
        ("rgb.png", 0),
        ("rgb16.png", 1),
        ("bands.tif", 2),
        ("bands16.tif", 3),
        ("vol.nii", 4),
        ("vol.nii.gz", 4),
    ] {
        let path = dir.join(name);
        match write {
            0 => write_image_png(&path, &img, PngDepth::Eight).unwrap(),
            1 => write_image_png(&path, &img, PngDepth::Sixteen).unwrap(),
            2 => write_image_tiff(&path, &img, TiffSamples::F32).unwrap(),
            3 => write_image_tiff(&path, &img, TiffSamples::U16).unwrap(),
            _ => write_image_nifti(&path, &vol).unwrap(),
        }
        files.push(path);
    }
    files
}

#[test]
fn truncated_and_corrupt_files_of_every_format_are_errors_naming_the_file() {
    let dir = temp_dir("truncated");
    let decodings = [
        MaskDecoding::Labels,
        MaskDecoding::Threshold {
            threshold: 0.5,
            channel: 0,
        },
        MaskDecoding::ColourTable {
            colours: vec![([0, 0, 0], 0)],
            unknown: UnknownColour::Ignore(1),
        },
    ];
    for path in valid_files(&dir) {
        let good = std::fs::read(&path).unwrap();
        read_image(&path).unwrap_or_else(|e| panic!("{e}"));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut variants: Vec<(String, Vec<u8>)> = vec![
            ("empty".into(), Vec::new()),
            (
                "garbage".into(),
                b"this is not an image file at all, not even close".to_vec(),
            ),
        ];
        for keep in [4, 16, 100, good.len() / 2, good.len() - 8, good.len() - 1] {
            if keep < good.len() {
                variants.push((format!("first {keep} bytes"), good[..keep].to_vec()));
            }
        }
        // Flip bytes in the middle (data, not header).
        let mut flipped = good.clone();
        let mid = good.len() * 2 / 3;
        for b in &mut flipped[mid..(mid + 8).min(good.len())] {
            *b ^= 0xA5;
        }
        variants.push(("flipped bytes".into(), flipped));
        for (what, bytes) in variants {
            let bad = dir.join(format!("bad_{name}"));
            std::fs::write(&bad, &bytes).unwrap();
            let results: Vec<(&str, Result<(), DataError>)> = vec![
                ("read_image", read_image(&bad).map(|_| ())),
                ("read_label_map", read_label_map(&bad).map(|_| ())),
                (
                    "read_mask labels",
                    read_mask(&bad, &decodings[0]).map(|_| ()),
                ),
                (
                    "read_mask threshold",
                    read_mask(&bad, &decodings[1]).map(|_| ()),
                ),
                (
                    "read_mask colours",
                    read_mask(&bad, &decodings[2]).map(|_| ()),
                ),
            ];
            for (reader, r) in results {
                // Flipped bytes inside sample data may still decode; so may a file cut
                // after its last sample (JPEG without its 2-byte end marker, PNG without its
                // 12-byte IEND chunk).
                let may_decode =
                    what == "flipped bytes" || bytes.len() + trailer_of(&path) >= good.len();
                match r {
                    Ok(()) => assert!(may_decode, "{name}, {what}: {reader} succeeded"),
                    Err(e) => assert_names(&e, &bad),
                }
            }
            if !(what == "flipped bytes" || bytes.len() + trailer_of(&path) >= good.len()) {
                let err = read_image(&bad).unwrap_err();
                assert!(
                    matches!(
                        err.kind(),
                        DataErrorKind::Format(_) | DataErrorKind::UnsupportedType(_)
                    ),
                    "{name}, {what}: {err}"
                );
            }
        }
    }
}

fn trailer_of(path: &Path) -> usize {
    match path.extension().and_then(|e| e.to_str()) {
        Some("jpg") => 2,
        Some("png") => 12,
        _ => 0,
    }
}

#[test]
fn missing_files_and_unknown_extensions_name_the_file() {
    let dir = temp_dir("missing");
    let missing = dir.join("nope.png");
    let err = read_image(&missing).unwrap_err();
    assert_names(&err, &missing);
    assert!(matches!(err.kind(), DataErrorKind::Io(_)));
    let bmp = file(&dir, "x.bmp", b"BM");
    for err in [
        read_image(&bmp).unwrap_err(),
        read_mask(&bmp, &MaskDecoding::Labels).unwrap_err(),
    ] {
        assert_names(&err, &bmp);
        match err.kind() {
            DataErrorKind::UnsupportedExtension { found, expected } => {
                assert_eq!(found, ".bmp");
                assert!(expected.contains(".jpg"), "{expected}");
            }
            other => panic!("{other:?}"),
        }
    }
}

/// The fuzz seeds (`fuzz/seeds/`, written by Pillow, tifffile and nibabel with
/// `fuzz/seeds/make_seeds.py`) are real files of other writers: each must decode, with the
/// shape its writer gave it.
#[test]
fn fuzz_seed_files_from_other_writers_decode() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    if !seeds.is_dir() {
        println!("skipped: fuzz/seeds not found");
        return;
    }
    let cases: &[(&str, &[usize])] = &[
        ("png/gray1.png", &[1, 6, 5]),
        ("png/gray8.png", &[1, 6, 5]),
        ("png/gray16.png", &[1, 6, 5]),
        ("png/gray_alpha.png", &[2, 6, 5]),
        ("png/rgb.png", &[3, 6, 5]),
        ("png/rgba.png", &[4, 6, 5]),
        ("png/palette2.png", &[3, 6, 5]),
        ("png/palette8_trns.png", &[3, 6, 5]),
        ("jpeg/gray.jpg", &[1, 6, 5]),
        ("jpeg/rgb444.jpg", &[3, 6, 5]),
        ("jpeg/rgb420.jpg", &[3, 17, 19]),
        ("jpeg/progressive.jpg", &[3, 17, 19]),
        ("jpeg/restart.jpg", &[3, 17, 19]),
        ("tiff/u8.tif", &[1, 6, 5]),
        ("tiff/u16_lzw.tif", &[1, 6, 5]),
        ("tiff/i16_deflate.tif", &[1, 6, 5]),
        ("tiff/u8_packbits.tif", &[1, 6, 5]),
        ("tiff/f32.tif", &[1, 6, 5]),
        ("tiff/f64.tif", &[1, 6, 5]),
        ("tiff/rgb.tif", &[3, 6, 5]),
        ("tiff/bands4_planar.tif", &[4, 6, 5]),
        ("tiff/bands3_contig_f32.tif", &[3, 6, 5]),
        ("tiff/tiled.tif", &[1, 20, 20]),
        ("tiff/bool.tif", &[1, 6, 5]),
        ("nifti/u8_3d.nii", &[1, 4, 3, 2]),
        ("nifti/i16_scaled.nii", &[1, 3, 3, 2]),
        ("nifti/f32_4d.nii", &[2, 3, 2, 2]),
        ("nifti/f64_2d.nii.gz", &[1, 4, 3]),
    ];
    for (name, shape) in cases {
        let v = read_image(&seeds.join(name)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.shape(), *shape, "{name}");
        assert!(v.data.iter().all(|x| x.is_finite()), "{name}");
    }
    // The same 6 x 5 uint8 array went into gray8.png, gray.jpg, u8.tif and u8_packbits.tif.
    let gray = read_image(&seeds.join("png/gray8.png")).unwrap().data;
    assert_eq!(read_image(&seeds.join("tiff/u8.tif")).unwrap().data, gray);
    assert_eq!(
        read_image(&seeds.join("tiff/u8_packbits.tif"))
            .unwrap()
            .data,
        gray
    );
    // ... and times 100 as uint16 into u16_lzw.tif; its 1-bit form (> 127) into gray1.png.
    assert_eq!(
        read_image(&seeds.join("tiff/u16_lzw.tif")).unwrap().data,
        gray.mapv(|x| x * 100.0)
    );
    let bits = read_image(&seeds.join("png/gray1.png")).unwrap().data;
    assert_eq!(bits, gray.mapv(|x| f32::from(x > 127.0)));
    assert_eq!(read_image(&seeds.join("tiff/bool.tif")).unwrap().data, bits);
    // nibabel's scl_slope 2, scl_inter -1 on int16 values in -50..50: odd results.
    let scaled = read_image(&seeds.join("nifti/i16_scaled.nii")).unwrap();
    assert!(
        scaled.data.iter().all(|x| x.rem_euclid(2.0) == 1.0),
        "{:?}",
        scaled.data
    );
    let err = read_image(&seeds.join("jpeg/cmyk.jpg")).unwrap_err();
    assert!(
        matches!(err.kind(), DataErrorKind::UnsupportedType(_)),
        "{err}"
    );
}

/// A PNG chunk with its length and CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc.sum().to_be_bytes());
    c
}

/// Regression (fuzz/png, out-of-memory): a header declaring a 3 x 2^31 - 1 16-bit gray
/// image made the readers zero-fill a 13 GB buffer before reading any pixel.
#[test]
fn png_header_declaring_gigabytes_is_refused_before_allocating() {
    let dir = temp_dir("png-huge");
    let mut ihdr = 3u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
    ihdr.extend_from_slice(&[16, 0, 0, 0, 0]); // 16-bit gray, no interlace: 13 GB
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(png_chunk(b"IHDR", &ihdr));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &[0; 35]).unwrap(); // the first 5 rows
    bytes.extend(png_chunk(b"IDAT", &z.finish().unwrap()));
    bytes.extend(png_chunk(b"IEND", &[]));
    let path = file(&dir, "huge.png", &bytes);
    for err in [
        read_image(&path).unwrap_err(),
        read_label_map(&path).unwrap_err(),
        read_mask(&path, &MaskDecoding::Labels).unwrap_err(),
    ] {
        assert_names(&err, &path);
        assert!(err.to_string().contains("3x2147483647 PNG needs"), "{err}");
    }
}

#[test]
fn jpeg_round_trip_is_close_and_bad_jpeg_writes_are_errors() {
    use dicekit_data::image::{read_image, write_image_jpeg};
    let dir = std::env::temp_dir().join(format!("dicekit-jpeg-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A smooth RGB gradient and a gray ramp survive quality 100 within a few levels.
    let rgb = dicekit_data::Volume::channels_first(
        ndarray::Array3::from_shape_fn((3, 16, 24), |(c, y, x)| (40 * c + 4 * y + 3 * x) as f32)
            .into_dyn(),
    );
    let gray = dicekit_data::Volume::channels_first(
        ndarray::Array3::from_shape_fn((1, 9, 7), |(_, y, x)| (10 * y + 5 * x) as f32).into_dyn(),
    );
    for (name, v) in [("rgb.jpg", &rgb), ("gray.jpeg", &gray)] {
        write_image_jpeg(&dir.join(name), v, 100).unwrap();
        let back = read_image(&dir.join(name)).unwrap();
        assert_eq!(back.data.shape(), v.data.shape(), "{name}");
        let worst = back
            .data
            .iter()
            .zip(v.data.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst <= 4.0, "{name}: max error {worst}");
    }
    let two =
        dicekit_data::Volume::channels_first(ndarray::Array3::<f32>::zeros((2, 4, 4)).into_dyn());
    assert!(write_image_jpeg(&dir.join("two.jpg"), &two, 90).is_err());
    assert!(write_image_jpeg(&dir.join("q.jpg"), &gray, 0).is_err());
    assert!(write_image_jpeg(&dir.join("x.png"), &gray, 90).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
